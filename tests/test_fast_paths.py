"""The fast paths of `wf run`, tried as a hostile user would, on real `python -m wflang`
processes, real SQLite journals, the fake backend and a cache folder of each test's own:
the checked-program cache (wflang/dsl/program_cache.py) must never serve a tree that does
not belong to the text being run, nor one that runs differently from a fresh check; the
process's fast exit (cli._end_process) must lose no output and no journal row."""

from __future__ import annotations

import json
import os
import re
import shutil
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


def test_two_first_runs_at_once_both_store_and_neither_is_hurt(tmp_path: Path) -> None:
    """Two `wf run`s of a workflow nobody ran before, started together: both miss, both
    store; each gets its own result and journal, one entry is left and no temporary file."""
    cache = tmp_path / "cache"
    wss = []
    for i in range(2):
        (tmp_path / f"p{i}").mkdir()
        wss.append(workspace(tmp_path / f"p{i}"))
    env = _env(cache)
    procs = [subprocess.Popen([sys.executable, "-m", "wflang", "run", "w.wf", "--args-json", '{"xs": [4, 5]}',
                               "--fake", "fake.json", "--yes", "--json"], cwd=ws, env=env, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for ws in wss]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
    records = [json.loads(o[0]) for o in outs]
    assert records[0]["result"] == records[1]["result"] and len(records[0]["result"]) == 2
    assert len(entries(cache)) == 1
    assert [p.name for p in (cache / "wflang").iterdir() if p.name.endswith(".tmp")] == []
    third = run_simple(wss[0], cache, args='{"xs": [4, 5]}')
    assert third.returncode == 0 and json.loads(third.stdout)["result"] == records[0]["result"]


def test_an_entry_of_another_program_under_this_name_is_never_served(tmp_path: Path) -> None:
    """A valid entry, ours, of another workflow, copied over this workflow's entry (a
    backup restored, a sync tool): the key inside differs, the load checks from scratch."""
    cache = tmp_path / "cache"
    ws = workspace(tmp_path)
    (ws / "other.wf").write_text(SIMPLE.replace('"item {x}" -> int', '"other {x}" -> str'), encoding="utf-8")
    assert run_simple(ws, cache).returncode == 0
    [mine] = entries(cache)
    assert run_simple(ws, cache, file="other.wf").returncode == 0
    [theirs] = [e for e in entries(cache) if e != mine]
    shutil.copyfile(theirs, mine)
    again = run_simple(ws, cache)
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)["result"]
    assert len(result) == 3 and all(isinstance(v, int) for v in result)  # this program's type, not str
    assert any(p.startswith("item ") for p in prompts(ws)) and mine.read_bytes() != theirs.read_bytes()


def test_a_one_character_edit_that_keeps_the_size_and_time_is_a_miss(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    ws = workspace(tmp_path)
    wfile = ws / "w.wf"
    assert run_simple(ws, cache).returncode == 0
    st = wfile.stat()
    wfile.write_text(SIMPLE.replace('"item {x}"', '"itex {x}"'), encoding="utf-8")
    os.utime(wfile, ns=(st.st_atime_ns, st.st_mtime_ns))  # same size, same mtime
    assert wfile.stat().st_size == st.st_size
    again = run_simple(ws, cache)
    assert again.returncode == 0, again.stderr
    assert sum(p.startswith("itex ") for p in prompts(ws)) == 3 and len(entries(cache)) == 2


def test_a_run_workflow_child_edited_between_two_runs_is_read_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    parent = 'workflow p:\n    description: "d"\nr = run "child.wf" with {n: 2}\nreturn r\n'
    child = 'workflow c:\n    description: "c"\ninput n: int max 5\na = agent "child {n}" -> int\nreturn a\n'
    ws = workspace(tmp_path, parent)
    (ws / "child.wf").write_text(child, encoding="utf-8")
    first = run_simple(ws, cache, args="{}")
    assert first.returncode == 0, first.stderr
    (ws / "child.wf").write_text(child.replace('"child {n}" -> int', '"kid {n}" -> str'), encoding="utf-8")
    second = run_simple(ws, cache, args="{}")
    assert second.returncode == 0, second.stderr
    assert isinstance(json.loads(second.stdout)["result"], str) and "kid 2" in prompts(ws)
    # A child that no longer checks: the cached parent must not hide it.
    (ws / "child.wf").write_text(child.replace("return a", "return nope"), encoding="utf-8")
    third = run_simple(ws, cache, args="{}")
    assert third.returncode == 1 and "nope" in third.stderr


def test_resume_of_an_edited_workflow_after_cached_runs_serves_the_unchanged_agents(tmp_path: Path) -> None:
    """Issue 11's resume after an edit, with the cache in the way: the first run stores,
    the second is served from the cache; after an edit that adds an agent the resume
    serves the three unchanged agents from the journal and runs the new one."""
    cache = tmp_path / "cache"
    ws = workspace(tmp_path)
    assert run_simple(ws, cache).returncode == 0
    second = run_simple(ws, cache)
    assert second.returncode == 0
    run_id = json.loads(second.stdout)["run_id"]
    edited = SIMPLE.replace("return r\n", 'extra = agent "one more" -> int\nreturn r\n')
    (ws / "w.wf").write_text(edited, encoding="utf-8")
    resumed = run_simple(ws, cache, "--resume", run_id)
    assert resumed.returncode == 0, resumed.stderr
    assert "resume: 3 agents served from the journal, 1 ran fresh" in resumed.stderr
    assert json.loads(resumed.stdout)["status"] == "done"
    (ws / "w.wf").write_text(SIMPLE, encoding="utf-8")  # back: the cached tree, all served
    back = run_simple(ws, cache, "--resume", run_id)
    assert back.returncode == 0 and "resume: 3 agents served from the journal, 0 ran fresh" in back.stderr


@pytest.mark.parametrize("where", ["relative", "a file", "a dangling link"])
def test_an_unusable_cache_home_changes_nothing_but_the_time(tmp_path: Path, where: str) -> None:
    ws = workspace(tmp_path)
    if where == "relative":
        home: str = "rel-cache"
    elif where == "a file":
        (tmp_path / "file").write_text("not a folder")
        home = str(tmp_path / "file")
    else:
        (tmp_path / "link").symlink_to(tmp_path / "nowhere" / "deeper")
        home = str(tmp_path / "link")
    outs = [run_simple(ws, home) for _ in range(2)]
    for out in outs:
        assert out.returncode == 0, out.stderr
        assert "cache" not in out.stderr.lower()
    assert outs[0].stdout.replace(json.loads(outs[0].stdout)["run_id"], "R") \
        .split('"journal"')[0] == outs[1].stdout.replace(json.loads(outs[1].stdout)["run_id"], "R").split('"journal"')[0]
    assert not (ws / "rel-cache").exists() and not (tmp_path / "rel-cache").exists()


# ---------------------------------------------------------------- the engine's and the fake's fast paths

SECRET_WF = '''workflow s:
    description: "secrets everywhere"
input note: str max 500
type R:
    echo: str
    items: list[str] max 5
log "the note is {note}"
a = agent "repeat this: {note}" -> R
b = agent "free text about {note}" -> str
c = agent "this one fails" -> str else "fallback {note}"
log "got {a.echo} and {b}"
return {a: a, b: b, c: c, note: note}
'''
KEY_IN_ARGS = "sk-ant-api03-AAAABBBBccccDDDD_eeee-1234567890"
KEY_IN_REPLY = "sk-ant-admin01-ZZZZyyyyXXXX-9876"


def test_key_shaped_secrets_never_reach_the_journal_on_the_fast_paths(tmp_path: Path) -> None:
    """A key in the arguments (so in prompts, logs and the result) and in fake replies and
    failures: the journal's bytes hold none, fresh or from the program cache; the rows say
    where each was (the same rows as on 81d1a1c, compared by hand when this was written)."""
    ws = workspace(tmp_path, SECRET_WF, "s.wf")
    (ws / "fake.json").write_text(json.dumps({"rules": [
        {"label": "a", "reply": {"echo": f"here is {KEY_IN_REPLY} again", "items": [KEY_IN_REPLY, "x"]}},
        {"label": "b", "reply": f"free {KEY_IN_REPLY} text"},
        {"label": "c", "fail": f"upstream said {KEY_IN_REPLY}"}]}), encoding="utf-8")
    cache = tmp_path / "cache"
    for _ in range(2):  # a miss, then a hit
        out = run_simple(ws, cache, "--concurrency", "1", file="s.wf", args=json.dumps({"note": f"key {KEY_IN_ARGS}"}))
        assert out.returncode == 0, out.stderr
    for f in (ws / ".wf").iterdir():
        assert b"sk-ant-" not in f.read_bytes(), f.name
    with sqlite3.connect(ws / ".wf" / "journal.sqlite") as db:
        rows = db.execute("SELECT label, prompt, result_json, error FROM agents ORDER BY label, id").fetchall()
        logs = db.execute("SELECT message FROM logs ORDER BY run_id, seq").fetchall()
    r = "[redacted API key]"
    assert rows[:3] == [
        ("a", f"repeat this: key {r}", json.dumps({"echo": f"here is {r} again", "items": [r, "x"]}), None),
        ("a", f"repeat this: key {r}", json.dumps({"echo": f"here is {r} again", "items": [r, "x"]}), None),
        ("b", f"free text about key {r}", json.dumps({"value": f"free {r} text"}), None)]
    assert rows[-1] == ("c", "this one fails", None, f"upstream said {r}")
    assert logs[:2] == [(f"the note is key {r}",), (f"got here is {r} again and free {r} text",)]


REFUSED = '''workflow t:
    description: "one reply, many schemas"
type Small:
    n: int max 2
type Big:
    n: int max 9
a = agent "big one" -> Big
b = agent "small one" -> Small
e = agent "int" -> int max 2
f = agent "int" -> int max 9
g = agent "str" -> str
xs = fanout i in [1, 2, 3]:
    agent "item {i}" -> Small
return {a: a, b: b, e: e, f: f, g: g, xs: xs}
'''


def test_explicit_replies_that_do_not_fit_are_refused_in_the_old_words(tmp_path: Path) -> None:
    """The same reply under several schemas (checked once per schema and reply now): each
    site fits or is refused on its own, in the words of 81d1a1c (recorded from it)."""
    ws = workspace(tmp_path, REFUSED, "t.wf")
    (ws / "fake.json").write_text(json.dumps({"rules": [
        {"label": "a", "reply": {"n": 5}}, {"label": "b", "reply": {"n": 5}}, {"label": "e", "reply": 5},
        {"label": "f", "reply": 5}, {"label": "g", "reply": 5},
        {"label": "xs *", "replies": [{"n": 1}, {"n": 7}, {"n": 1}]}]}), encoding="utf-8")
    out = run_simple(ws, tmp_path / "cache", "--concurrency", "1", file="t.wf", args="{}")
    assert out.returncode == 0, out.stderr
    failed = [line for line in out.stderr.splitlines() if line.startswith("failed ")]
    assert failed == [
        "failed b: fake: rules[1] gives a reply that does not match the schema at /n: 5 is greater than the maximum of 2",
        "failed e: fake: rules[2] gives a reply that does not match the schema at /value: 5 is greater than the "
        "maximum of 2",
        "failed g: fake: rules[4] gives a reply that does not match the schema at /value: 5 is not of type 'string'",
        "failed xs · i 2: fake: rules[5] gives a reply that does not match the schema at /n: 7 is greater than the "
        "maximum of 2"]
    assert json.loads(out.stdout)["result"] == {"a": {"n": 5}, "b": None, "e": None, "f": 5, "g": None,
                                                "xs": [{"n": 1}, {"n": 1}]}
