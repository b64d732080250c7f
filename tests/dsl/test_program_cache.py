"""The checked program cached per source for `wf run` (wflang/dsl/program_cache.py): a hit
only for the same text and the same files the check read, with the same wflang; every
problem a silent miss; a run from the cache the same as a fresh one."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from wflang.dsl import loader, program_cache
from wflang.dsl.loader import load_cached

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "pr-review"

SIMPLE = 'workflow w:\n    description: "d"\ninput xs: list[int] max 10\nr = fanout x in xs:\n' \
         '    agent "item {x}" -> int\nreturn r\n'
PARENT = 'workflow parent:\n    description: "d"\nr = run "child.wf" with {n: 2}\nreturn r\n'
CHILD = 'workflow child:\n    description: "c"\ninput n: int max 5\na = agent "child {n}"\nreturn a\n'
TYPED = 'workflow t:\n    description: "d"\na = agent "hi" with agent_type="reviewer"\nreturn a\n'
AGENT_FILE = "---\nname: reviewer\ndescription: reviews\n---\nYou review.\n"


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache-home"
    home.mkdir()
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home


def entries(home: Path) -> list[Path]:
    return sorted((home / "wflang").glob("program-*.pickle"))


def hit(loaded: loader.Loaded) -> bool:
    """Whether the load came from the cache (a fresh one carries the checker's own result)."""
    return isinstance(loaded.result, program_cache.Checked)


def write(path: Path, text: str) -> str:
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_second_load_of_the_same_source_is_a_hit(tmp_path: Path, cache_home: Path) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    first = load_cached(wf)
    assert first.ok and not hit(first)
    [entry] = entries(cache_home)
    assert entry.stat().st_mode & 0o777 == 0o600  # nobody else reads or writes it
    second = load_cached(wf)
    assert second.ok and hit(second)
    assert second.source == first.source and second.diagnostics == first.diagnostics
    assert second.program.file == wf and second.program.header.name == "w"
    assert second.result is not None and first.result is not None and second.result.bound is not None
    assert first.result.bound is not None
    assert second.result.bound.formula() == first.result.bound.formula()
    assert second.result.bound.evaluate({"xs": 7}) == first.result.bound.evaluate({"xs": 7}) == 7


PROGRAMS = sorted([*ROOT.glob("examples/*/*.wf"), *ROOT.glob("tests/dsl/valid/*.wf")])


@pytest.mark.parametrize("wf", PROGRAMS, ids=[p.stem for p in PROGRAMS])
def test_every_example_is_served_as_the_tree_a_fresh_check_builds(wf: Path) -> None:
    fresh = load_cached(str(wf))
    assert fresh.ok and not hit(fresh)
    cached = load_cached(str(wf))
    assert hit(cached), "the tree did not pickle"
    assert repr(cached.program) == repr(fresh.program)  # every node, span, type, attached child
    assert cached.result is not None and fresh.result is not None
    assert repr(cached.result.result) == repr(fresh.result.result) and cached.diagnostics == fresh.diagnostics
    assert cached.result.bound is not None and fresh.result.bound is not None
    assert cached.result.bound.formula() == fresh.result.bound.formula()
    assert repr(cached.result.bound) == repr(fresh.result.bound)


def test_only_the_run_path_reads_the_cache(tmp_path: Path) -> None:
    """`load` (wf check, compile, graph) always checks from scratch: it is the proof."""
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    assert hit(load_cached(wf)) and not hit(loader.load(wf))


def test_a_program_with_errors_is_not_cached(tmp_path: Path, cache_home: Path) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE.replace("return r", "return nope"))
    assert not load_cached(wf).ok
    assert entries(cache_home) == [] and not load_cached(wf).ok


def test_editing_the_source_is_a_miss(tmp_path: Path) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    write(tmp_path / "w.wf", SIMPLE.replace("item {x}", "thing {x}"))
    again = load_cached(wf)
    assert not hit(again) and "thing {x}" in again.source  # type: ignore[operator]
    write(tmp_path / "w.wf", SIMPLE.replace("return r", "return nope"))
    assert not load_cached(wf).ok  # an edit that breaks the check is reported, never served


def test_the_path_as_given_is_part_of_the_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The path is in the tree (`Program.file`) and in every diagnostic."""
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    monkeypatch.chdir(tmp_path)
    other = load_cached("w.wf")
    assert not hit(other) and other.program.file == "w.wf"


def test_editing_a_workflow_it_runs_is_a_miss(tmp_path: Path) -> None:
    wf = write(tmp_path / "parent.wf", PARENT)
    write(tmp_path / "child.wf", CHILD)
    assert load_cached(wf).ok and hit(load_cached(wf))
    write(tmp_path / "child.wf", CHILD.replace("child {n}", "edited {n}"))
    again = load_cached(wf)
    assert again.ok and not hit(again)
    assert hit(load_cached(wf))
    (tmp_path / "child.wf").unlink()  # gone: the check fails, and so must the cache
    assert not load_cached(wf).ok
    write(tmp_path / "child.wf", CHILD.replace("n", "m"))  # its input renamed: the call no longer fits
    assert not load_cached(wf).ok


def test_a_run_workflow_resolved_from_another_folder_is_a_miss(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A relative path names other files from another working folder: the files read are
    checked again, by what they hold."""
    for folder, text in (("a", CHILD), ("b", CHILD.replace("n", "m"))):
        (tmp_path / folder).mkdir()
        write(tmp_path / folder / "parent.wf", PARENT)
        write(tmp_path / folder / "child.wf", text)
    monkeypatch.chdir(tmp_path / "a")
    assert load_cached("parent.wf").ok and hit(load_cached("parent.wf"))
    monkeypatch.chdir(tmp_path / "b")
    assert not load_cached("parent.wf").ok


def test_agent_type_warnings_follow_the_agent_files_on_a_hit(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """The warnings about agent types are looked up again on every load, cached or not:
    an agent file added or removed under an unchanged source is seen."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    wf = write(tmp_path / "t.wf", TYPED)
    first = load_cached(wf)
    assert [d.code for d in first.diagnostics] == ["WF260"] and first.ok
    second = load_cached(wf)
    assert hit(second) and second.diagnostics == first.diagnostics
    agents = tmp_path / ".claude" / "agents"
    agents.mkdir(parents=True)
    write(agents / "reviewer.md", AGENT_FILE)
    third = load_cached(wf)
    assert hit(third) and third.diagnostics == []
    (agents / "reviewer.md").unlink()
    assert [d.code for d in load_cached(wf).diagnostics] == ["WF260"]


def test_a_change_to_wflang_itself_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Simulated on a copy of the package's files: the fingerprint reads sizes and mtimes."""
    package = tmp_path / "pkg"
    shutil.copytree(ROOT / "wflang" / "dsl", package / "dsl", ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(program_cache, "PACKAGE_ROOT", str(package))
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    assert hit(load_cached(wf))
    checker = package / "dsl" / "checker.py"
    checker.write_text(checker.read_text() + "\n# edited\n")
    assert not hit(load_cached(wf))
    assert hit(load_cached(wf))
    grammar = package / "dsl" / "grammar.lark"
    stat = grammar.stat()
    os.utime(grammar, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # touched: same size
    assert not hit(load_cached(wf))


def test_a_package_whose_files_cannot_be_listed_is_never_cached(tmp_path: Path, cache_home: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """(wflang run from a zip, say): no fingerprint, no key, no cache, and no error."""
    monkeypatch.setattr(program_cache, "PACKAGE_ROOT", str(tmp_path / "no-such-folder"))
    wf = write(tmp_path / "w.wf", SIMPLE)
    assert program_cache.key(wf, SIMPLE) is None
    assert load_cached(wf).ok and not hit(load_cached(wf)) and entries(cache_home) == []


def test_another_python_is_a_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    before = program_cache.key(wf, SIMPLE)
    monkeypatch.setattr(sys.implementation, "cache_tag", "other-99", raising=False)
    assert program_cache.key(wf, SIMPLE) != before


@pytest.mark.parametrize("damage", [b"", b"not a pickle", b"cnonexistent_module\nThing\n.",
                                    b"\x80\x05K\x63."])  # a bare 99: another format
def test_a_damaged_entry_is_a_silent_miss_and_is_replaced(tmp_path: Path, cache_home: Path, damage: bytes) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    [entry] = entries(cache_home)
    entry.write_bytes(damage)
    again = load_cached(wf)
    assert again.ok and not hit(again)
    assert hit(load_cached(wf))  # written anew


def test_an_entry_for_another_text_under_the_same_name_is_refused(tmp_path: Path, cache_home: Path) -> None:
    """The file repeats the key and the tree holds its source: a copied file is no proof."""
    one = write(tmp_path / "one.wf", SIMPLE)
    two = write(tmp_path / "two.wf", SIMPLE.replace("item", "other"))
    load_cached(one)
    load_cached(two)
    first, second = entries(cache_home)
    shutil.copyfile(first, second)
    assert not hit(load_cached(one)) or not hit(load_cached(two))
    assert all(load_cached(p).ok for p in (one, two))
    assert "other" in load_cached(two).program.source


def test_a_file_others_can_write_is_refused(tmp_path: Path, cache_home: Path) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    [entry] = entries(cache_home)
    for mode in (0o620, 0o602, 0o666):
        entry.chmod(mode)
        assert program_cache.lookup(wf, SIMPLE) is None
    entry.chmod(0o600)
    assert program_cache.lookup(wf, SIMPLE) is not None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="changing a file's owner needs root")
def test_a_file_of_another_user_is_refused(tmp_path: Path, cache_home: Path) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    [entry] = entries(cache_home)
    os.chown(entry, 4242, -1)
    assert program_cache.lookup(wf, SIMPLE) is None
    assert load_cached(wf).ok


def test_a_symlink_in_the_cache_is_refused(tmp_path: Path, cache_home: Path) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    load_cached(wf)
    [entry] = entries(cache_home)
    real = tmp_path / "elsewhere.pickle"
    entry.rename(real)
    entry.symlink_to(real)
    assert program_cache.lookup(wf, SIMPLE) is None


@pytest.mark.parametrize("where", ["a file", "relative", "unset"])
def test_no_usable_cache_folder_is_a_silent_miss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str) -> None:
    wf = write(tmp_path / "w.wf", SIMPLE)
    if where == "a file":  # the folder cannot be made
        monkeypatch.setenv("XDG_CACHE_HOME", write(tmp_path / "plain-file", "x"))
    elif where == "relative":  # as the parser's cache: only an absolute folder
        monkeypatch.chdir(tmp_path)
        monkeypatch.setenv("XDG_CACHE_HOME", "rel")
    else:  # no home either
        monkeypatch.delenv("XDG_CACHE_HOME")
        monkeypatch.setenv("HOME", "")
        monkeypatch.setattr(os.path, "expanduser", lambda p: p)
    for _ in range(2):
        loaded = load_cached(wf)
        assert loaded.ok and not hit(loaded)
    assert not (tmp_path / "rel").exists()


def test_a_read_only_folder_is_a_silent_miss(tmp_path: Path, cache_home: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kw: object) -> int:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(program_cache.os, "open", refuse)  # root ignores a folder's mode bits
    wf = write(tmp_path / "w.wf", SIMPLE)
    assert load_cached(wf).ok and not hit(load_cached(wf))
    assert entries(cache_home) == []


def test_a_tree_that_does_not_pickle_is_a_silent_miss(tmp_path: Path, cache_home: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    real = loader.load

    def load(path: str, source: str | None = None, reads: list | None = None) -> loader.Loaded:
        loaded = real(path, source, reads)
        loaded.program.header.unpicklable = lambda: None  # type: ignore[attr-defined]
        return loaded

    monkeypatch.setattr(loader, "load", load)
    wf = write(tmp_path / "w.wf", SIMPLE)
    assert load_cached(wf).ok and entries(cache_home) == []
    assert not list((cache_home / "wflang").glob("*.tmp"))  # no half-written file left


def test_old_entries_are_pruned(tmp_path: Path, cache_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(program_cache, "_KEEP", 3)
    for i in range(5):
        load_cached(write(tmp_path / f"w{i}.wf", SIMPLE.replace("item", f"item{i}")))
    assert len(entries(cache_home)) == 3
    assert hit(load_cached(str(tmp_path / "w4.wf")))


# ---------------------------------------------------------------- a run from the cache


def _run(src: Path, ws: Path, resume: str | None = None, args: str = "args.json") -> tuple[int, dict, str]:
    from wflang.runtime.run_cli import run_command

    out, err = io.StringIO(), io.StringIO()
    code = run_command(str(src / "pr-review.wf"), args_file=str(src / args), fake=str(src / "fake.json"),
                       allow="edit,shell", yes=True, json_out=True, workspace=str(ws), resume=resume,
                       stdout=out, stderr=err)
    return code, json.loads(out.getvalue()) if out.getvalue() else {}, err.getvalue()


def _journal(ws: Path) -> list[tuple]:
    with sqlite3.connect(ws / ".wf" / "journal.sqlite") as db:
        rows = db.execute("SELECT key, sample_index, label, phase, model, agent_type, prompt, schema_json, status, "
                          "result_json, error, input_tokens, output_tokens FROM agents").fetchall()
        runs = db.execute("SELECT workflow, source_path, source_sha256, args_json, bound_json, status, result_json "
                          "FROM runs").fetchall()
    return sorted(rows) + runs


def test_a_run_from_the_cache_is_the_same_as_a_fresh_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from wflang.dsl import checker

    src = tmp_path / "src"
    src.mkdir()
    for f in ("pr-review.wf", "args.json", "fake.json"):
        shutil.copy(EXAMPLE / f, src / f)
    fresh, cached = tmp_path / "fresh", tmp_path / "cached"
    fresh.mkdir()
    cached.mkdir()
    code, first, err_first = _run(src, fresh)
    assert code == 0, err_first
    monkeypatch.setattr(checker, "check_program", lambda *a, **k: pytest.fail("checked again"))
    code, second, err_second = _run(src, cached)
    assert code == 0, err_second
    def story(err: str, run_id: str) -> str:  # the plan, the log and the summary, less times and ids
        return re.sub(r"\d+\.\ds\b", "T", err.replace(run_id, "RUN"))

    assert story(err_second, second["run_id"]) == story(err_first, first["run_id"])
    assert second["result"] == first["result"] and second["status"] == first["status"] == "done"
    assert second["agents"] == first["agents"]
    assert _journal(cached) == _journal(fresh)
    # A resume with other arguments loads the same way: every agent of the kept files is served.
    (src / "fewer.json").write_text(json.dumps({"files": ["a.py", "b.py"]}))
    code, resumed, err = _run(src, cached, resume=second["run_id"], args="fewer.json")
    assert code == 0, err
    assert resumed["status"] == "done" and "served" in err


# ---------------------------------------------------------------- what a hit imports

PROBE = """
import json, os, sys
sys.argv = ["wf", *json.loads(sys.argv[1])]
watched = ("lark", "wflang.dsl.parser", "wflang.dsl.checker", "wflang.dsl.lexer", "wflang.dsl._lalr_standalone",
           "wflang.dsl.strings", "pickle")
def report(code):
    loaded = sorted(m for m in sys.modules if m in watched or m.startswith("lark."))
    print(json.dumps({"code": code, "loaded": loaded}), file=sys.stderr)
exit_now = os._exit
os._exit = lambda code: (report(code), sys.stderr.flush(), exit_now(code))  # a finished run ends the process
from wflang.cli import main
report(main())  # as the console script calls it
"""


def test_a_hit_imports_neither_the_parser_nor_the_checker(tmp_path: Path, cache_home: Path) -> None:
    args = ["run", str(EXAMPLE / "pr-review.wf"), "--args", str(EXAMPLE / "args.json"), "--fake",
            str(EXAMPLE / "fake.json"), "--allow", "edit,shell", "--yes", "--workspace", str(tmp_path)]
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home), PYTHONPATH=str(ROOT))

    def probe(argv: list[str] = args) -> dict:
        out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(argv)], env=env, capture_output=True,
                             text=True, timeout=120, cwd=tmp_path)
        return json.loads(out.stderr.strip().splitlines()[-1])

    miss = probe()
    assert miss["code"] == 0 and "wflang.dsl.checker" in miss["loaded"]
    assert probe() == {"code": 0, "loaded": []}
    check = probe(["check", str(EXAMPLE / "pr-review.wf")])  # the proof checks from scratch, always
    assert check["code"] == 0 and {"wflang.dsl.checker", "wflang.dsl.parser"} <= set(check["loaded"])
