"""The fast paths of `wf run`, tried as a hostile user would, on real `python -m wflang`
processes, real SQLite journals, the fake backend and a cache folder of each test's own:
the checked-program cache (wflang/dsl/program_cache.py) must never serve a tree that does
not belong to the text being run, nor one that runs differently from a fresh check; the
process's fast exit (cli._end_process) must lose no output and no journal row."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_DIR = ROOT / "examples"
EXAMPLES = sorted(p.name for p in EXAMPLES_DIR.iterdir() if (p / f"{p.name}.wf").is_file())


def _env(cache: Path | str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "FORCE_COLOR", "PYTHONUNBUFFERED")}
    env["PYTHONPATH"] = str(ROOT)
    if cache is None:
        env.pop("XDG_CACHE_HOME", None)
    else:
        env["XDG_CACHE_HOME"] = str(cache)
    env.update(extra)
    return env


def wf(cwd: Path, cache: Path | str | None, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "wflang", *args], cwd=cwd, env=_env(cache, **extra),
                          capture_output=True, text=True, timeout=120)


def entries(cache: Path) -> list[Path]:
    return sorted((cache / "wflang").glob("program-*.pickle"))


def agent_rows(ws: Path) -> list[tuple]:
    """The journal's agents, less ids and times, in a stable order (agents that run at
    once finish in any order)."""
    with sqlite3.connect(ws / ".wf" / "journal.sqlite") as db:
        cols = [r[1] for r in db.execute("PRAGMA table_info(agents)")
                if r[1] not in ("id", "run_id", "started", "finished", "duration")]
        rows = db.execute(f"SELECT {', '.join(cols)} FROM agents").fetchall()
    return sorted(rows, key=repr)


def plan_lines(stderr: str) -> list[str]:
    """What `wf run` says before its first agent (the bound for these arguments, the
    models, the permissions), less times and ids."""
    head = stderr.split("\nrun r-", 1)[0]
    return re.sub(r"r-\d{8}-\d{6}-[0-9a-f]{4}", "RUN", head).splitlines()


def run_example(name: str, ws: Path, cache: Path) -> subprocess.CompletedProcess[str]:
    d = EXAMPLES_DIR / name
    ws.mkdir(exist_ok=True)
    return wf(ws, cache, "run", str(d / f"{name}.wf"), "--args", str(d / "args.json"), "--fake",
              str(d / "fake.json"), "--allow", "edit,shell", "--yes", "--json", "--workspace", str(ws))


# ---------------------------------------------------------------- the checked-program cache


@pytest.mark.parametrize("name", EXAMPLES)
def test_every_example_runs_from_the_cache_as_it_runs_fresh(name: str, tmp_path: Path) -> None:
    """The second process unpickles the tree and its bound. The size formulas of a bound
    are hash-consed by ids of the process that made them: kept in the pickle, they met the
    formulas the new process builds (`Bound.agents`) under the same ids, and deep-research
    and migration stopped with `internal error: KeyError: '_cache'` on every cached run."""
    cache = tmp_path / "cache"
    fresh = run_example(name, tmp_path / "fresh", cache)
    assert fresh.returncode == 0, fresh.stderr
    [entry] = entries(cache)
    inode = entry.stat().st_ino
    cached = run_example(name, tmp_path / "cached", cache)
    assert cached.returncode == 0, cached.stderr
    assert entries(cache) == [entry] and entry.stat().st_ino == inode  # served, not stored again
    first, second = json.loads(fresh.stdout), json.loads(cached.stdout)
    assert (second["status"], second["result"], second["agents"]) == (first["status"], first["result"],
                                                                      first["agents"])
    assert plan_lines(cached.stderr) == plan_lines(fresh.stderr)
    assert agent_rows(tmp_path / "cached") == agent_rows(tmp_path / "fresh")
