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


SIMPLE = '''workflow w:
    description: "d"
input xs: list[int] max 10
r = fanout x in xs:
    agent "item {x}" -> int
return r
'''
FAKE = {"rules": [], "default": "schema"}


def workspace(tmp_path: Path, source: str = SIMPLE, name: str = "w.wf") -> Path:
    ws = tmp_path / "ws"
    ws.mkdir(exist_ok=True)
    (ws / name).write_text(source, encoding="utf-8")
    (ws / "fake.json").write_text(json.dumps(FAKE), encoding="utf-8")
    return ws


def run_simple(ws: Path, cache: Path | str | None, *extra: str, file: str = "w.wf",
               args: str = '{"xs": [1, 2, 3]}') -> subprocess.CompletedProcess[str]:
    return wf(ws, cache, "run", file, "--args-json", args, "--fake", "fake.json", "--yes", "--json", *extra)


def prompts(ws: Path) -> list[str]:
    with sqlite3.connect(ws / ".wf" / "journal.sqlite") as db:
        return sorted(r[0] for r in db.execute("SELECT prompt FROM agents"))


# A pickle that, if it were ever unpickled, would leave a file behind.
class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


def _plant(path: Path, blob: bytes, owner_nobody: bool, mode: int) -> None:
    path.unlink(missing_ok=True)
    path.write_bytes(blob)
    os.chmod(path, mode)
    if owner_nobody:
        os.chown(path, 65534, 65534)


PLANTS = [("world-writable", False, 0o666), ("group-writable", False, 0o620)]
if hasattr(os, "geteuid") and os.geteuid() == 0:  # changing a file's owner needs root
    PLANTS.append(("another user's", True, 0o644))


@pytest.mark.parametrize("what,nobody,mode", PLANTS, ids=[p[0] for p in PLANTS])
def test_a_planted_program_in_a_shared_cache_folder_is_never_unpickled(tmp_path: Path, what: str, nobody: bool,
                                                                       mode: int) -> None:
    """The cache folder is a symlink to a folder everybody can write (a shared /tmp
    folder, another user's home): a pickle planted there under the very name of the
    workflow's entry is not read."""
    import pickle

    ws = workspace(tmp_path)
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "wflang").symlink_to(shared)
    assert run_simple(ws, cache).returncode == 0
    [entry] = entries(cache)
    marker = tmp_path / "unpickled"
    _plant(entry, pickle.dumps(_Payload(marker)), nobody, mode)
    again = run_simple(ws, cache)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["status"] == "done"
    assert not marker.exists()


@pytest.mark.parametrize("what,nobody,mode", PLANTS, ids=[p[0] for p in PLANTS])
def test_planted_parser_tables_in_a_shared_cache_folder_are_never_run(tmp_path: Path, what: str, nobody: bool,
                                                                      mode: int) -> None:
    """The parser's tables (wflang/dsl/lalr.py) live in the same folder and hold a code
    object that the loader executes: the same owner and mode checks as the programs."""
    import marshal

    ws = workspace(tmp_path)
    cache = tmp_path / "cache"
    assert wf(ws, cache, "check", "w.wf").returncode == 0
    [tables] = (cache / "wflang").glob("lalr-*.marshal")
    fmt, grammar, *_ = marshal.loads(tables.read_bytes())
    marker = tmp_path / "executed"
    code = compile(f"open({str(marker)!r}, 'w').close()", "<planted>", "exec")
    _plant(tables, marshal.dumps((fmt, grammar, code, {}, {}, b"")), nobody, mode)
    checked = wf(ws, cache, "check", "w.wf")
    assert checked.returncode == 0, checked.stderr
    assert not marker.exists()
