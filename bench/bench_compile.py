"""Emitter cost: compile throughput on the generated ~5,000-line workflow, as a ratio to
parse + check alone (the emitter should not dominate). Prints figures, no pass/fail.

    python bench/bench_compile.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import generate  # noqa: E402
from wflang.dsl.checker import check_program  # noqa: E402
from wflang.dsl.parser import parse  # noqa: E402
from wflang.transpiler.emit import compile_js  # noqa: E402


def best_of(n: int, fn) -> float:
    best = float("inf")
    for _ in range(n):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def main() -> None:
    source = generate(5000)
    lines = source.count("\n")
    result = check_program(parse(source, "big.wf"))
    assert result.ok, result.diagnostics
    t_front = best_of(5, lambda: check_program(parse(source, "big.wf")))
    t_emit = best_of(5, lambda: compile_js(result.program, bound=result.bound, source_name="big.wf"))
    js = compile_js(result.program, bound=result.bound, source_name="big.wf")
    print(f"generated workflow: {lines} lines → {js.count(chr(10))} lines of JS ({len(js) // 1024} KiB)")
    print(f"parse+check: {t_front * 1000:.0f} ms   emit: {t_emit * 1000:.0f} ms   "
          f"emit / (parse+check): {t_emit / t_front:.2f}")
    print(f"whole compile (parse+check+emit): {lines / (t_front + t_emit):,.0f} lines/s")


if __name__ == "__main__":
    main()
