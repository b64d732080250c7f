"""The large run of the adversarial soundness suite (tests/adversarial.py): N random
well-formed programs (default 10,000) × hostile arguments × hostile answers × failure
patterns, each case in the Python runtime and under the node host (one node process per
chunk of programs). Prints how many programs, cases and agents were run, how close any
run came to its bound, and every disagreement or run over its bound (there must be none);
exits 1 if there was one.

    python bench/bench_soundness.py [N] [--seed S] [--chunk C] [--cases K] [--hashes FILE]

`--cases K` runs K of each program's cases, drawn at random (default: all of them, about
ten); `--hashes FILE` writes a hash of each program's source, so that runs with different
seeds can be counted together without counting a program twice.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402

from tests.adversarial import Tally, check_programs  # noqa: E402
from tests.strategies import programs  # noqa: E402


def generate(n: int, seed: int) -> list[Any]:
    """N distinct programs from the hypothesis strategy (generation only, no shrinking)."""
    found: dict[str, Any] = {}

    @settings(max_examples=n * 3, deadline=None, database=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(programs())
    def collect(p: Any) -> None:
        if len(found) < n:
            found.setdefault(p.source, p)

    collect._hypothesis_internal_use_seed = seed  # type: ignore[attr-defined]
    collect()
    return list(found.values())


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("n", type=int, nargs="?", default=10_000)
    ap.add_argument("--seed", type=int, default=8)
    ap.add_argument("--chunk", type=int, default=250)
    ap.add_argument("--cases", type=int, default=None)
    ap.add_argument("--hashes", default=None)
    ns = ap.parse_args()
    t0 = time.perf_counter()
    generated = generate(ns.n, ns.seed)
    t1 = time.perf_counter()
    print(f"generated {len(generated)} distinct programs in {t1 - t0:.0f} s", flush=True)
    if ns.hashes:
        Path(ns.hashes).write_text("".join(hashlib.sha256(p.source.encode()).hexdigest() + "\n"
                                           for p in generated), encoding="utf-8")
    tally = Tally()
    with tempfile.TemporaryDirectory() as tmp:
        for start in range(0, len(generated), ns.chunk):
            work = Path(tmp) / f"chunk{start}"
            work.mkdir()
            check_programs(generated[start:start + ns.chunk], work, ns.seed * 1_000_003 + start, tally, keep=50,
                           per_program=ns.cases)
            print(f"  {start + len(generated[start:start + ns.chunk])} programs, {tally.runs} cases, "
                  f"{len(tally.failures)} problems ({time.perf_counter() - t1:.0f} s)", flush=True)
    elapsed = time.perf_counter() - t1
    print(f"programs: {tally.programs}   cases (each in both targets): {tally.runs}   "
          f"refused before any agent: {tally.refused}   agents started: {tally.agents}")
    print(f"most agents any run started, as a share of its proven bound: {tally.max_ratio:.2f}")
    print(f"problems (disagreements, runs over the bound, guard trips): {len(tally.failures)}   "
          f"in {elapsed:.0f} s ({tally.runs / max(elapsed, 1e-9):.0f} cases/s)")
    for f in tally.failures[:10]:
        print("\n" + f)
    return 1 if tally.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
