"""`wf run` end to end, as a user runs it. Prints numbers and ratios; no pass/fail.

1. Process wall time of `wf run` (fake backend, SQLite journal) against the node test host
   running the compiled script of the same workflow: with no agent (startup), and with
   1,000 instant agents in one fan-out, run before (its checked program cached) and just
   edited (parsed and checked again). Goal: at most 2× node for 1,000 agents. The two
   sides take turns, so a change of the machine's load falls on both.
2. The journal's group commit in process: transactions per 1,000 agents, and the wall time
   when every transaction costs a simulated 4 ms fsync (a laptop's or cloud volume's).
3. Real-time makespan under 50-200 ms fake latencies (16 at once, journal on): one
   fan-out of 400 agents, and the design example (examples/pr-review, 200 files), as
   lower bound / makespan, the bound being max(critical path, total agent time / 16).
   Goal: at least 0.95. The journal's own timestamps give the agents' times. Two more
   figures split the gap: barrier-aware (each phase waits for the one before: `top()`
   needs every finding), and the item-order schedule (the same agents, in their start
   order, with no engine overhead at all) over the makespan: what the engine itself costs.
   For pr-review, the same agents in zero-overhead schedules that keep the phases in
   order (the program's data dependencies): in item order (what wflang does, and must:
   the start order is deterministic), in random orders, and longest first, which only a
   scheduler that knew every duration in advance could use; bound/schedule for each
   shows how close any engine could come to the bound (docs/decisions.md, Runtime).

Python runs as a user's install does: with its bytecode cache (PYTHONDONTWRITEBYTECODE is
unset for the child processes; the cache goes to a temporary PYTHONPYCACHEPREFIX).

Run: python bench/bench_run.py
     python bench/bench_run.py --instructions   (part 1 in instructions, with valgrind: for
                                                 a busy machine, where wall times wander)
"""

from __future__ import annotations

import heapq
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import trio

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from wflang.dsl.parser import parse  # noqa: E402
from wflang.runtime.backends.fake import FakeBackend  # noqa: E402
from wflang.runtime.interpreter import run_program  # noqa: E402
from wflang.runtime.journal import Journal  # noqa: E402
from wflang.runtime.scheduler import Limits, Scheduler  # noqa: E402

NODE = shutil.which("node")
HOST = REPO / "wflang" / "transpiler" / "host.mjs"
N = 1000
REPEATS = 7

FANOUT = f"""workflow bench:
    description: "{N} instant agents"
input xs: list[int] max {N}
type R:
    n: int
r = fanout x in xs:
    agent "item {{x}}" -> R
return len(r)
"""
NO_AGENT = f"""workflow startup:
    description: "no agent at all"
input xs: list[int] max {N}
return len(xs)
"""
TIMED = """workflow timed:
    description: "one fan-out, 50-200 ms per agent"
type Item:
    n: int
    c: int
input items: list[Item] max 1000
r = fanout x in items:
    agent "work {x.n}" with label="work {x.n} class {x.c}"
return len(r)
"""


def _env(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPATH"] = str(REPO)
    env["PYTHONPYCACHEPREFIX"] = str(tmp / "pycache")
    env["XDG_CACHE_HOME"] = str(tmp / "cache")  # the parser's tables and checked programs, warmed below
    return env


def _timed(cmd: list[str], cwd: Path, env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return wall


def _best(cmd: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    walls = [_timed(cmd, cwd, env) for _ in range(REPEATS)]
    return min(walls), statistics.median(walls)


def _alternating(first: Callable[[int], float], second: Callable[[int], float]) -> tuple[list[float], list[float]]:
    """REPEATS walls of each, taken in turn: on a shared machine a change of load then
    falls on both sides of a ratio, not on one."""
    a, b = [], []
    for i in range(REPEATS):
        a.append(first(i))
        b.append(second(i))
    return a, b


def _edited(wf: Path, source: str, run: list[str], cwd: Path, env: dict[str, str]) -> Callable[[int], float]:
    """A run of a source edited just before (a comment line more): no cached check, as
    the first run after a user's edit; the compiled script node runs is unchanged."""
    def timed(i: int) -> float:
        wf.write_text(f"{source}# edit {i} {time.time_ns()}\n")
        return _timed(run, cwd, env)
    return timed


def _workloads(tmp: Path, env: dict[str, str]) -> Iterator[tuple[str, list[str], list[str]]]:
    """(name, `wf run` command, node host command) for each workload, compiled and warmed
    (bytecode and parser caches, as an installed wflang has them; the checked program's
    cache too, as for a workflow run before)."""
    (tmp / "xs.json").write_text(json.dumps({"xs": list(range(N))}))
    (tmp / "fake.json").write_text(json.dumps({"rules": [], "default": "schema"}))
    for name, source in (("no agent", NO_AGENT), (f"{N} instant agents", FANOUT)):
        wf = tmp / f"{name.split()[0]}.wf"
        wf.write_text(source)
        js = wf.with_suffix(".js")
        _timed([sys.executable, "-m", "wflang", "compile", str(wf), "-o", str(js)], tmp, env)
        run = [sys.executable, "-m", "wflang", "run", str(wf), "--args", "xs.json", "--fake", "fake.json",
               "--yes", "--workspace", str(tmp)]
        _timed(run, tmp, env)
        host = [str(NODE), str(HOST), "--script", str(js), "--fake", "fake.json", "--args", "xs.json",
                "--out", str(tmp / "host.json")]
        yield name, run, host


def versus_node(tmp: Path) -> None:
    env = _env(tmp)
    print(f"wf run vs the node host on the same compiled workflow (best / median of {REPEATS} runs each, "
          "taken in turn):")
    for name, run, host in _workloads(tmp, env):
        cases = [(name, lambda i, run=run: _timed(run, tmp, env))]
        if name != "no agent":  # the first run after an edit: parsed and checked again
            wf = Path(run[4])
            cases.append((f"{name}, just edited", _edited(wf, wf.read_text(), run, tmp, env)))
        for label, py_run in cases:
            if NODE is None:
                walls = [py_run(i) for i in range(REPEATS)]
                print(f"  {label:<34} wf run {min(walls):6.3f} s / {statistics.median(walls):6.3f} s"
                      "   (node is not installed)")
                continue
            py, node = _alternating(py_run, lambda i, host=host: _timed(host, tmp, env))
            print(f"  {label:<34} wf run {min(py):6.3f} s / {statistics.median(py):6.3f} s   "
                  f"node {min(node):6.3f} s / {statistics.median(node):6.3f} s   "
                  f"ratio {min(py) / min(node):5.2f}× (medians {statistics.median(py) / statistics.median(node):5.2f}×)")
    imports = subprocess.run([sys.executable, "-X", "importtime", "-m", "wflang", "run", str(tmp / "no.wf"),
                              "--args", "xs.json", "--fake", "fake.json", "--yes", "--workspace", str(tmp)],
                             cwd=tmp, env=env, capture_output=True, text=True, timeout=120)
    top = sorted(((int(p[1]), p[2].strip()) for p in
                  (line.split("|") for line in imports.stderr.splitlines() if line.startswith("import time:"))
                  if p[1].strip().isdigit() and not p[2].startswith("  ")), reverse=True)[:6]
    print("  biggest top-level imports of `wf run` (cumulative ms): "
          + ", ".join(f"{name} {us / 1000:.0f}" for us, name in top))


class SlowFsync(Journal):
    """Every transaction of agents costs 4 ms more, as one fsync does on a slow disk."""

    transactions = 0

    def record_agents(self, run_id: str, rows: list[Any], logs: list[Any] | None = None) -> None:
        time.sleep(0.004)
        type(self).transactions += 1
        super().record_agents(run_id, rows, logs)


def group_commit(tmp: Path) -> None:
    print(f"group commit, {N} instant agents in process (concurrency 16):")
    program = parse(FANOUT, "bench.wf")
    values = {"xs": list(range(N))}
    for name, slow in (("real fsync", False), ("fsync + 4 ms", True)):
        ws = tmp / f"gc-{slow}"
        opened = Journal.open(ws)
        journal: Journal = SlowFsync(opened.path, opened._conn) if slow else opened
        run_id = journal.start_run("bench", "bench.wf", FANOUT, values)
        sched = Scheduler(FakeBackend({"rules": [], "default": "schema"}), ".", Limits(bound=N),
                          journal=journal, run_id=run_id)
        t0 = time.perf_counter()
        trio.run(run_program, program, values, sched)
        wall = time.perf_counter() - t0
        commits = sched._commits
        assert commits is not None and commits.rows == N
        journal.close()
        per_agent = f"   one commit per agent would add {N * 4 / 1000:.1f} s" if slow else ""
        print(f"  {name:<14} wall {wall:6.3f} s   {commits.groups:4d} transactions for {N} agents "
              f"({N / commits.groups:5.1f} per fsync){per_agent}")


def _journal_times(ws: Path) -> list[tuple[str | None, float, float]]:
    with Journal.open(ws) as j:
        run = j.list_runs()[0]
        return [(a.phase, a.started, a.finished) for a in j.get_run(run.id).agents]


def _item_order(durations: list[float], slots: int = 16) -> float:
    """The makespan of these agents started in this order on `slots` slots with no overhead
    at all (each next agent takes the first slot to free up): what item order allows."""
    free = [0.0] * slots
    for d in durations:
        heapq.heappush(free, heapq.heappop(free) + d)
    return max(free)


def _longest_first(durations: list[float], slots: int = 16) -> float:
    """The same on `slots` slots, longest agent first (LPT): what a scheduler that knew
    every agent's duration in advance could do; wflang knows none of them."""
    return _item_order(sorted(durations, reverse=True), slots)


def _random_orders(durations: list[float], slots: int = 16, k: int = 200) -> float:
    """The mean over `k` random start orders: what order-blind list scheduling expects."""
    rng = random.Random(11)
    total = 0.0
    for _ in range(k):
        order = list(durations)
        rng.shuffle(order)
        total += _item_order(order, slots)
    return total / k


def _schedules_line(phases: list[list[float]], serial: float, bound: float) -> None:
    """Zero-overhead schedules of the run's own agents, each phase after the one before
    (the program's data dependencies: `top()` needs every finding, the fix loop every
    verdict), and the bound over each: how close any engine could come."""
    cols = []
    for name, plan in (("item order", _item_order), ("random order (mean)", _random_orders),
                       ("longest first (knows every duration)", _longest_first)):
        span = sum(plan(p) for p in phases) + serial
        cols.append(f"{name} {span:6.3f} s -> {bound / span:5.3f}")
    print("    zero-overhead schedules, phases in order, bound/schedule: " + ";  ".join(cols))


def _makespan_line(name: str, agents: list[tuple[str | None, float, float]], critical: float,
                   phased: float | None = None, ideal: float | None = None) -> None:
    span = max(f for _, _, f in agents) - min(s for _, s, _ in agents)
    total = sum(f - s for _, s, f in agents)
    bound = max(critical, total / 16)
    line = (f"  {name:<26} agents {len(agents):4d}   makespan {span:6.3f} s   critical path {critical:6.3f} s   "
            f"work/16 {total / 16:6.3f} s   bound/makespan {bound / span:5.3f}")
    if phased is not None:
        line += f"   barrier-aware {phased / span:5.3f}"
    if ideal is not None:  # what is lost to the engine itself, not to the order or the barriers
        line += f"   item-order schedule {ideal:6.3f} s = {ideal / span:5.3f} of makespan"
    print(line)


def _in_start_order(agents: list[tuple[str | None, float, float]]) -> list[float]:
    return [f - s for _, s, f in sorted(agents, key=lambda a: a[1])]


def real_makespan(tmp: Path) -> None:
    env = _env(tmp)
    print("real-time makespan, fake latencies 50-200 ms, 16 at once, journal on:")
    # One fan-out: 400 agents in 16 latency classes, 50 to 200 ms.
    ws = tmp / "timed"
    ws.mkdir()
    (ws / "timed.wf").write_text(TIMED)
    (ws / "args.json").write_text(json.dumps({"items": [{"n": i, "c": (i * 7) % 16} for i in range(400)]}))
    rules = [{"label": f"work * class {c}", "latency": 0.05 + 0.01 * c} for c in range(16)]
    (ws / "fake.json").write_text(json.dumps({"rules": rules, "default": "schema"}))
    _timed([sys.executable, "-m", "wflang", "run", "timed.wf", "--args", "args.json", "--fake", "fake.json",
            "--yes"], ws, env)
    agents = _journal_times(ws)
    _makespan_line("one fan-out", agents, max(f - s for _, s, f in agents), ideal=_item_order(_in_start_order(agents)))

    # The design example: Find (200 finders) -> top() -> Verify (60 x 3 skeptics) -> Fix.
    ws = tmp / "pr"
    shutil.copytree(REPO / "examples" / "pr-review", ws)
    names = [f"src/mod{i:03d}.py" for i in range(200)]
    (ws / "args.json").write_text(json.dumps({"files": names}))
    rules = [{"label": f"find {n}", "latency": 0.05 + 0.01 * ((i * 37) % 16),
              "reply": [{"file": n, "line": 1, "issue": f"issue in {n}", "severity": "medium"}]}
             for i, n in enumerate(names)]
    rules += [{"label": f"confirmed · finding {k} · *", "latency": 0.05 + 0.01 * ((k * 13) % 16)} for k in range(1, 61)]
    rules += [{"prompt": "^Fix these", "latency": 0.2}, {"prompt": "^Run `pytest", "latency": 0.1,
                                                          "reply": {"passed": True, "details": "ok"}}]
    (ws / "fake.json").write_text(json.dumps({"rules": rules, "default": "schema"}))
    _timed([sys.executable, "-m", "wflang", "run", "pr-review.wf", "--args", "args.json", "--fake", "fake.json",
            "--yes", "--allow", "edit,shell"], ws, env)
    agents = _journal_times(ws)
    by_phase: dict[str | None, list[float]] = {}
    for phase, s, f in agents:
        by_phase.setdefault(phase, []).append(f - s)
    find, verify, fix = by_phase["Find"], by_phase["Verify"], by_phase["Fix"]
    critical = max(find) + max(verify) + sum(fix)  # the fix loop is sequential
    phased = max(max(find), sum(find) / 16) + max(max(verify), sum(verify) / 16) + sum(fix)
    ideal = sum(_item_order(_in_start_order([a for a in agents if a[0] == p])) for p in ("Find", "Verify")) + sum(fix)
    _makespan_line("pr-review, 200 files", agents, critical, phased, ideal)
    total = sum(f - s for _, s, f in agents)
    in_order = [_in_start_order([a for a in agents if a[0] == p]) for p in ("Find", "Verify")]
    _schedules_line(in_order, sum(fix), max(critical, total / 16))


def _instructions(cmd: list[str], cwd: Path, env: dict[str, str], tries: int = 1) -> int:
    """User-space instructions of one process (valgrind's callgrind): unlike wall time, the
    same on a busy machine, so two versions can be compared while others run. The best of
    `tries` runs that succeed (the node host gives its script's `meta` 1 s, which a
    50-times-slower process under valgrind can miss on a loaded machine)."""
    counts, err = [], ""
    for _ in range(tries):
        proc = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *cmd], cwd=cwd,
                              env=env, capture_output=True, text=True, timeout=1800)
        found = [line for line in proc.stderr.splitlines() if "Collected :" in line]
        if proc.returncode == 0 and found:
            counts.append(int(found[-1].split(":")[-1].replace(",", "").strip()))
        else:
            err = proc.stderr[-2000:]
    if not counts:
        raise SystemExit(f"valgrind {' '.join(cmd)} failed {tries} times:\n{err}")
    return min(counts)


def instructions_versus_node(tmp: Path) -> None:
    """`python bench/bench_run.py --instructions`: the first comparison in instructions."""
    if shutil.which("valgrind") is None or NODE is None:
        raise SystemExit("--instructions needs valgrind and node")
    env = _env(tmp)
    _timed([sys.executable, "-c", "pass"], tmp, env)  # site's bytecode into the fresh cache
    base = _instructions([sys.executable, "-c", "pass"], tmp, env)
    print(f"wf run vs the node host, user-space instructions (callgrind; `python -c pass` is {base / 1e6:.0f} M):")
    for name, run, host in _workloads(tmp, env):
        py = _instructions(run, tmp, env)
        # V8's compiler and collector threads vary by a tenth from run to run: node's best of 3
        node = _instructions(host, tmp, env, tries=3)
        print(f"  {name:<20} wf run {py / 1e6:7.0f} M   node {node / 1e6:7.0f} M   ratio {py / node:5.2f}×")


def main() -> None:
    with tempfile.TemporaryDirectory() as raw:
        tmp = Path(raw)
        if sys.argv[1:2] == ["--instructions"]:
            instructions_versus_node(tmp)
            return
        versus_node(tmp)
        group_commit(tmp)
        real_makespan(tmp)


if __name__ == "__main__":
    main()
