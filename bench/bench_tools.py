"""What confinement by construction costs: the agent tools (descriptor-based walks, fstat
checks, the shell helper process) against the naive path-based way on the same tree in the
same run, as ratios. No pass/fail (shared, noisy machines).

    python bench/bench_tools.py [TREE]     (default: this repository)
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import trio  # noqa: E402

from wflang.runtime.tools import Toolbox  # noqa: E402


def best_of(n: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def naive_grep(tree: Path, pattern: str) -> int:
    """The unsafe baseline: walk by path, read by path (what the tools did before)."""
    regex, hits = re.compile(pattern), 0
    for dirpath, dirnames, filenames in os.walk(tree):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            try:
                data = Path(dirpath, name).read_bytes()
            except OSError:
                continue
            if b"\x00" not in data[:8192]:
                hits += sum(1 for line in data.decode("utf-8", "replace").splitlines() if regex.search(line))
    return hits


def main() -> None:
    tree = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT).resolve()
    tools = Toolbox(tree, {"shell"})

    async def shell(argv: list[str] | None) -> None:
        if argv is None:
            await tools.call("run_shell", {"command": "true"})
        else:
            await trio.run_process(argv, check=False)

    # The handlers themselves (same layer as the baseline); the shell through trio both ways.
    rows = [
        ("grep 'def main' over the tree", lambda: tools._grep({"pattern": "def main"}),
         lambda: naive_grep(tree, "def main")),
        ("glob '**/*.py'", lambda: tools._glob({"pattern": "**/*.py"}),
         lambda: sorted(str(p) for p in tree.rglob("*.py") if ".git" not in p.parts)),
        ("read_file of README.md", lambda: tools._read_file({"path": "README.md"}),
         lambda: (tree / "README.md").read_bytes().decode().splitlines(keepends=True)),
        ("run_shell 'true'", lambda: trio.run(shell, None),
         lambda: trio.run(shell, ["/bin/sh", "-c", "true"])),
    ]
    print(f"tree: {tree}")
    for label, safe, naive in rows:
        t_safe, t_naive = best_of(7, safe), best_of(7, naive)
        print(f"{label:32} safe {t_safe * 1000:8.1f} ms   naive {t_naive * 1000:8.1f} ms   "
              f"ratio {t_safe / t_naive:5.2f}")
    tools.close()


if __name__ == "__main__":
    main()
