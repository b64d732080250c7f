"""Front-end throughput: parse + check lines per second on a generated ~5,000-line
workflow, and the wall time of `wf check` on the design example, interpreter start
included. Prints figures and ratios to the goals; no pass/fail (shared, noisy machines).

Then the checker's growth: check time for generated programs of 1k, 5k and 20k lines
(goal: linear, so the time ratio equals the size ratio), and for a `repeat` of 10, 50
and 200 rounds that updates list state under `if` branches (goal: 200 rounds < 1 s).

    python bench/bench_check.py
    python bench/bench_check.py --cli 21     # only the fresh-process `wf check`, 21 runs
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from wflang.dsl.checker import check_program  # noqa: E402
from wflang.dsl.parser import parse  # noqa: E402

GOAL_LINES_PER_S = 20_000
GOAL_CLI_MS = 300
GOAL_REPEAT_200_S = 1.0

REPEAT = '''workflow rounds:
    description: "list state through if branches, every round"

input files: list[str] max 10
budget agents <= 1000

phase "Loop":
    seen = []
    extra = take(files, 3)
    out = repeat max {rounds}:
        found = fanout x in take(extra, 4):
            agent "check {{x}}" -> list[str] max 2
        if len(found) > 2:
            seen = take(seen + flatten(found), 50)
        else:
            extra = take(extra + seen, 40)
        found

return {{seen: seen}}
'''


def best_of(n: int, fn) -> float:
    """Best CPU seconds of n runs: on a shared, loaded machine CPU time is what the
    checker costs; wall time there is mostly waiting for a core."""
    times = []
    for _ in range(n):
        t = time.process_time()
        fn()
        times.append(time.process_time() - t)
    return min(times)


def growth() -> None:
    print("check CPU time by program size (parse excluded; goal: time ratio = size ratio)")
    base: tuple[int, float] | None = None
    for n in (1000, 5000, 20000):
        source = generate(n)
        lines = source.count("\n")
        program = parse(source, "big.wf")
        t = best_of(3, lambda program=program: check_program(program))
        if base is None:
            base = (lines, t)
        print(f"  {lines:>6} lines: check {t:.3f} s   size ×{lines / base[0]:.1f}, time ×{t / base[1]:.1f}")
    print("repeat with list state under `if` (parse + check, CPU time)")
    first: float | None = None
    for rounds in (10, 50, 200):
        source = REPEAT.format(rounds=rounds)
        result = check_program(parse(source, "rounds.wf"))
        assert result.ok and result.bound is not None, result.diagnostics
        t = best_of(3, lambda source=source: check_program(parse(source, "rounds.wf")))
        first = first or t
        goal = f"   (goal {GOAL_REPEAT_200_S:.0f} s: ratio {t / GOAL_REPEAT_200_S:.2f})" if rounds == 200 else ""
        print(f"  {rounds:>4} rounds: {t:.3f} s, bound {result.bound.total}   time ×{t / first:.1f}{goal}")


def main() -> None:
    source = generate(5000)
    lines = source.count("\n")
    parse(source, "big.wf")  # warm the parser (built once per process)
    t_parse = best_of(5, lambda: parse(source, "big.wf"))
    t_all = best_of(5, lambda: check_program(parse(source, "big.wf")))
    result = check_program(parse(source, "big.wf"))
    assert result.ok, result.diagnostics
    rate = lines / t_all
    print(f"generated workflow: {lines} lines, {result.bound.total} agents worst case")
    print(f"parse: {t_parse * 1000:.0f} ms   parse+check: {t_all * 1000:.0f} ms   "
          f"check share: {(t_all - t_parse) / t_all:.0%}")
    print(f"parse+check throughput: {rate:,.0f} lines/s   (goal {GOAL_LINES_PER_S:,}: ratio {rate / GOAL_LINES_PER_S:.2f})")

    # The examples are what teams write: long prompts, fewer tokens per line.
    examples = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "examples").glob("*/*.wf"))]
    ex_lines = sum(e.count("\n") for e in examples)
    t_ex = best_of(5, lambda: [check_program(parse(e, "ex.wf")) for e in examples])
    print(f"the {len(examples)} examples ({ex_lines} lines): parse+check {t_ex * 1000:.0f} ms, "
          f"{ex_lines / t_ex:,.0f} lines/s   (ratio to goal {ex_lines / t_ex / GOAL_LINES_PER_S:.2f})")

    cli_startup(9)


def cli_startup(runs: int) -> None:
    """`wf check` of the design example from a fresh process, `runs` times: wall and CPU
    medians beside the same for `python3 -c pass`, and the ratio of the two."""
    # The `wf` script installed beside this interpreter; a version manager's shim on PATH
    # (pyenv's is a bash script that runs `pyenv exec`) would add its own start-up.
    beside = Path(sys.executable).parent / "wf"
    cmd = [str(beside)] if beside.exists() else [sys.executable, "-m", "wflang.cli"]
    example = str(ROOT / "examples" / "pr-review" / "pr-review.wf")
    # A normal install writes bytecode; these machines set PYTHONDONTWRITEBYTECODE, which
    # would make every run compile every module from source. Measure as a user's machine.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(ROOT)  # this checkout, also when an editable install points elsewhere
    subprocess.run([*cmd, "check", example], check=True, capture_output=True, env=env, cwd="/")  # warm

    def once(argv: list[str]) -> tuple[float, float]:
        t, c = time.perf_counter(), _child_cpu()
        subprocess.run(argv, check=True, capture_output=True, env=env, cwd="/")
        return time.perf_counter() - t, _child_cpu() - c

    # Interleaved, so a change in the machine's load weighs on both alike.
    pairs = [(once([*cmd, "check", example]), once([sys.executable, "-c", "pass"])) for _ in range(runs)]
    med, cpu, bare, bare_cpu = (statistics.median(x) * 1000 for x in (
        [w[0] for w, _ in pairs], [w[1] for w, _ in pairs], [b[0] for _, b in pairs], [b[1] for _, b in pairs]))
    load = os.getloadavg()[0]
    print(f"`wf check` on the design example ({' '.join(Path(c).name for c in cmd)}), median of {runs} "
          f"fresh processes: wall {med:.0f} ms, CPU {cpu:.0f} ms   "
          f"(goal {GOAL_CLI_MS} ms wall: ratio {med / GOAL_CLI_MS:.2f})")
    print(f"  `python3 -c pass`: wall {bare:.0f} ms, CPU {bare_cpu:.0f} ms;   "
          f"`wf check` / bare interpreter: ×{med / bare:.1f} wall, ×{cpu / bare_cpu:.1f} CPU   "
          f"(load average {load:.1f} on {os.cpu_count()} cores; a loaded machine inflates wall, CPU less)")


def _child_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


if __name__ == "__main__":
    if sys.argv[1:2] == ["--cli"]:  # start-up only: `python bench/bench_check.py --cli [RUNS]`
        cli_startup(int(sys.argv[2]) if len(sys.argv) > 2 else 21)
    else:
        main()
        growth()
