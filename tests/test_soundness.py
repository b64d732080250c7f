"""The proven bound holds at the edges, in both targets (issue 8).

Each reproduction of the issue is either refused before any agent starts, with the same
words in `wf check --args`, `wf run` and the compiled script, or runs within the bound in
`wf run` and under the node host; and the live guard stops a run that would go past its
bound in both targets, saying it is a wflang bug.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import trio

from wflang.cli import check_command
from wflang.dsl.arguments import validate_args
from wflang.dsl.bounds import Bound, Term
from wflang.dsl.loader import load
from wflang.dsl.sizes import Const
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.run_cli import run_command
from wflang.runtime.scheduler import BoundExceeded, Limits, Scheduler
from wflang.transpiler.emit import compile_js

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

NEGATIVE_START = '''workflow neg:
    description: "a range from an int input"

input a: int max 3 = 0

phase "P":
    xs = fanout i in range(a, 5):
        agent "item {i}"
return xs
'''

RECORD_KEYS = '''workflow rec:
    description: "one agent per field of a record input"

type Cfg:
    name: str

input cfg: Cfg

phase "P":
    xs = fanout k in keys(cfg):
        agent "key {k}"
return xs
'''

ANSWER_KEYS = '''workflow ans:
    description: "one agent per field of an answer"

type Three:
    a: str
    b: str
    c: str

phase "P":
    r = agent "give three" -> Three with label="three"
    xs = fanout k in keys(r):
        agent "key {k}"
return {r: r, xs: xs}
'''

LIST_MAX = '''workflow lmax:
    description: "a list result sized by an int input"

input n: int max 5 = 2

phase "P":
    found = agent "find" -> list[str] max n with label="find"
    xs = fanout f in found:
        agent "look at {f}"
return xs
'''


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def wf_check(wf: Path, args: Any) -> tuple[int, str]:
    a = write(wf.parent, "check-args.json", json.dumps(args))
    out = io.StringIO()
    status = check_command([str(wf)], str(a), False, out, io.StringIO())
    return status, out.getvalue()


def wf_run(wf: Path, args: Any, fake: dict[str, Any]) -> tuple[int, str, str]:
    a = write(wf.parent, "run-args.json", json.dumps(args))
    f = write(wf.parent, "run-fake.json", json.dumps(fake))
    out, err = io.StringIO(), io.StringIO()
    status = run_command(str(wf), args_file=str(a), fake=str(f), yes=True, json_out=True,
                         workspace=str(wf.parent), stdout=out, stderr=err)
    text = out.getvalue()  # --json: one record; the result is in it
    return status, json.dumps(json.loads(text)["result"]) if text.strip() else text, err.getvalue()


def host(wf: Path, args: Any, fake: dict[str, Any], bound: Any = "checked") -> dict[str, Any]:
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    script = write(wf.parent, wf.stem + ".js", compile_js(
        loaded.program, bound=loaded.result.bound if bound == "checked" else bound, source_name=wf.name))
    a = write(wf.parent, "host-args.json", json.dumps(args))
    f = write(wf.parent, "host-fake.json", json.dumps(fake))
    proc = subprocess.run(["node", str(HOST), "--script", str(script), "--args", str(a), "--fake", str(f)],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode in (0, 1), proc.stderr
    report = json.loads(proc.stdout)
    report["exit"] = proc.returncode
    return report


# ---------------------------------------------------------------- 1. negative ints


@needs_node
@pytest.mark.parametrize("decl", ["int max 3 = 0", "int = 0"])
def test_a_negative_int_argument_is_refused_in_every_target(decl: str, tmp_path: Path) -> None:
    wf = write(tmp_path, "neg.wf", NEGATIVE_START.replace("int max 3 = 0", decl))
    message = "args.a: -30 is less than 0, the least an int input allows unless it declares `min`"
    status, out = wf_check(wf, {"a": -30})
    assert status == 1 and message in out and "at most" not in out
    status, _, err = wf_run(wf, {"a": -30}, {})
    assert status == 1 and message in err and "run r-" not in err  # refused before the run started (as check)
    report = host(wf, {"a": -30}, {})
    assert report["exit"] == 1 and report["agents_started"] == 0
    assert report["error"] == f"Error: the arguments do not fit the workflow's inputs: {message}"


@needs_node
def test_a_declared_negative_min_runs_within_its_bound(tmp_path: Path) -> None:
    wf = write(tmp_path, "neg.wf", NEGATIVE_START.replace("int max 3 = 0", "int min -30 max 3 = 0"))
    status, out = wf_check(wf, {"a": -30})
    assert status == 0
    assert "(a: -30): at most 35" in out  # the actual value, not a clamped size
    status, stdout, err = wf_run(wf, {"a": -30}, {})
    assert status == 0, err
    assert len(json.loads(stdout)) == 35
    report = host(wf, {"a": -30}, {})
    assert report["error"] is None and report["agents_started"] == 35


def test_a_range_start_without_a_lower_bound_is_refused(tmp_path: Path) -> None:
    src = NEGATIVE_START.replace("range(a, 5)", "range(len(a2) - 9, 5)").replace(
        "input a: int max 3 = 0", "input a2: list[str] max 3")
    loaded = load(str(write(tmp_path, "r.wf", src)))
    codes = [d.code for d in loaded.diagnostics]
    assert codes == ["WF309"]
    assert "range(max(len(a2) - 9, 0), ...)" in (loaded.diagnostics[0].hint or "")
    fixed = load(str(write(tmp_path, "r2.wf", src.replace("range(len(a2) - 9, 5)", "range(max(len(a2) - 9, 0), 5)"))))
    assert fixed.ok and fixed.result.bound.total == 5


# ---------------------------------------------------------------- 2. closed records


@needs_node
def test_a_record_argument_with_undeclared_fields_is_refused_in_every_target(tmp_path: Path) -> None:
    wf = write(tmp_path, "rec.wf", RECORD_KEYS)
    args = {"cfg": {"name": "x", **{f"k{i}": i for i in range(50)}}}
    message = "args.cfg: unknown fields `k0`, `k1`, `k10` and 47 more; a Cfg record has only: name"
    status, out = wf_check(wf, args)
    assert status == 1 and message in out
    status, _, err = wf_run(wf, args, {})
    assert status == 1 and message in err
    report = host(wf, args, {})
    assert report["agents_started"] == 0 and report["error"].endswith(message)
    # the declared fields alone: one agent, as proven
    status, stdout, err = wf_run(wf, {"cfg": {"name": "x"}}, {})
    assert status == 0 and len(json.loads(stdout)) == 1


@needs_node
@pytest.mark.parametrize("validate", [True, False])
def test_answers_with_extra_properties_keep_only_the_declared_fields(validate: bool, tmp_path: Path) -> None:
    wf = write(tmp_path, "ans.wf", ANSWER_KEYS)
    reply = {"c": "3", "a": "1", "b": "2", **{f"x{i}": "y" for i in range(40)}}
    fake = {"rules": [{"label": "three", "reply": reply}], "validate": validate}
    assert load(str(wf)).result.bound.total == 4
    status, stdout, err = wf_run(wf, {}, fake)
    assert status == (1 if validate else 0), err  # every agent failed: exit 1 (docs/cli.md)
    py = json.loads(stdout)
    report = host(wf, {}, fake)
    assert report["error"] is None
    assert report["result"] == py
    if validate:  # the schema says additionalProperties: false, so the fake refuses the reply
        assert py == {"r": None, "xs": []} and report["agents_started"] == 1
    else:  # a host that does not enforce the schema: the answer is fitted, in declared order
        assert py["r"] == {"a": "1", "b": "2", "c": "3"} and len(py["xs"]) == 3
        assert report["agents_started"] == 4


# ---------------------------------------------------------------- 3. a negative list max


@needs_node
def test_a_negative_list_max_is_refused_and_long_answers_are_cut(tmp_path: Path) -> None:
    wf = write(tmp_path, "lmax.wf", LIST_MAX)
    message = "args.n: -1 is less than 0, the least an int input allows unless it declares `min`"
    assert message in wf_check(wf, {"n": -1})[1]
    assert message in wf_run(wf, {"n": -1}, {})[2]
    assert host(wf, {"n": -1}, {})["error"].endswith(message)
    # a host that accepts any answer: 20 items are cut to n = 2, in both targets
    fake = {"rules": [{"label": "find", "reply": [f"f{i}" for i in range(20)]}], "validate": False}
    status, stdout, err = wf_run(wf, {"n": 2}, fake)
    assert status == 0 and len(json.loads(stdout)) == 2, err
    report = host(wf, {"n": 2}, fake)
    assert report["agents_started"] == 3 and "find: kept 2 of 20 items (declared max 2)" in report["logs"]


def test_a_size_that_can_be_negative_is_refused(tmp_path: Path) -> None:
    loaded = load(str(write(tmp_path, "m.wf", LIST_MAX.replace("int max 5 = 2", "int min -1 max 5 = 2"))))
    assert [d.code for d in loaded.diagnostics] == ["WF308"]
    assert "`n` can be negative (its min is -1)" in loaded.diagnostics[0].message


@pytest.mark.parametrize("change, code", [
    ("input n: int max 5 = 2\nn = 50", "WF219"),  # an int input is never reassigned
    ("input n: int min 6 max 5 = 2", "WF308"),  # no value fits
    ("input n: int max 5 = 7", "WF213"),  # the default must fit the range
    ("input n: int max 5 = -1", "WF213"),  # ... including the default min 0
    ("input n: int max 5 = 2\ninput s: bool min 1", "WF212"),  # `min` is for numbers, strings, lists
])
def test_int_ranges_are_checked(change: str, code: str, tmp_path: Path) -> None:
    loaded = load(str(write(tmp_path, "m.wf", LIST_MAX.replace("input n: int max 5 = 2", change))))
    assert code in [d.code for d in loaded.diagnostics], [d.message for d in loaded.diagnostics]


def test_a_loop_variable_cannot_shadow_an_int_input(tmp_path: Path) -> None:
    src = LIST_MAX.replace("xs = fanout f in found:\n        agent \"look at {f}\"",
                           "xs = fanout n in [100, 200]:\n        repeat max n:\n            agent \"x\"")
    loaded = load(str(write(tmp_path, "s.wf", src)))
    assert [d.code for d in loaded.diagnostics] == ["WF205"]
    assert "`n` is an int input" in loaded.diagnostics[0].message


# ---------------------------------------------------------------- the live guard


def _too_small(loaded: Any) -> Bound:
    """The checked bound with every term cut to 1 agent: a stand-in for a checker bug."""
    b = loaded.result.bound
    return Bound([Term(t.phase, t.line, t.desc, Const(1), None) for t in b.terms], b.inputs)


GUARDED = '''workflow guarded:
    description: "a fan-out, then one more agent"

input files: list[str] max 10

phase "Scan":
    xs = fanout f in files:
        agent "look at {f}"
    y = agent "sum up {xs}"
return y
'''


@needs_node
def test_the_compiled_guard_throws_before_an_agent_past_the_bound(tmp_path: Path) -> None:
    wf = write(tmp_path, "g.wf", GUARDED)
    loaded = load(str(wf))
    report = host(wf, {"files": ["a", "b", "c", "d"]}, {}, bound=_too_small(loaded))
    # proven (wrongly) 2: the fan-out's third item is refused inside parallel(), the next
    # top-level agent throws again and ends the run
    assert report["exit"] == 1 and report["agents_started"] == 2
    assert report["error"].startswith('WflangBoundError: the proven bound would be broken: agent 3 ("xs · file ')
    assert 'line 8 in "fanout over files (max 10, line 4) × 1 agent" (line 7)' in report["error"]
    assert "past the 2 agents" in report["error"] and "This is a bug in wflang" in report["error"]
    # with the real bound it runs to the end
    ok = host(wf, {"files": ["a", "b", "c", "d"]}, {})
    assert ok["error"] is None and ok["agents_started"] == 5


@needs_node
def test_the_guard_ends_the_run_even_when_parallel_swallowed_it(tmp_path: Path) -> None:
    wf = write(tmp_path, "g.wf", GUARDED.replace('    y = agent "sum up {xs}"\nreturn y', "return xs"))
    report = host(wf, {"files": ["a", "b", "c"]}, {}, bound=_too_small(load(str(wf))))
    assert report["exit"] == 1 and report["agents_started"] == 1
    assert report["error"].startswith("WflangBoundError: the proven bound would be broken: agent 2")


def test_the_python_guard_names_agent_construct_and_bound(tmp_path: Path) -> None:
    loaded = load(str(write(tmp_path, "g.wf", GUARDED)))
    values, _ = validate_args(loaded.program, {"files": ["a", "b", "c"]})
    sched = Scheduler(FakeBackend({}), str(tmp_path), Limits(bound=2))
    with pytest.raises(BoundExceeded) as info:
        trio.run(run_program, loaded.program, values, sched)
    message = str(info.value)
    assert sched.started <= 2  # agents asked for together may be cancelled before they start
    assert message.startswith('the proven bound would be broken: agent 3 ("xs · file ')
    assert 'line 8 in "fanout over files (max 10, line 4) × 1 agent" (line 7)) is past the 2 agents' in message


def test_wf_run_reports_a_guard_trip_as_a_bug_with_exit_3(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wf = write(tmp_path, "g.wf", GUARDED)
    monkeypatch.setattr(Bound, "evaluate", lambda self, sizes: 2)  # a checker bug, simulated
    status, _, err = wf_run(wf, {"files": ["a", "b", "c"]}, {})
    assert status == 3
    assert "the proven bound would be broken: agent 3" in err and "This is a bug in wflang" in err
    assert "internal error" not in err and "Traceback" not in err


CHILD = '''workflow child:
    description: "one agent per field of its record input"

type Cfg:
    name: str

input cfg: Cfg

xs = fanout k in keys(cfg):
    agent "key {k}"
return {cfg: cfg, n: len(xs)}
'''

PARENT = '''workflow parent:
    description: "passes a record with one field more than the child declares"

type Cfg:
    name: str

phase "P":
    c = agent "a config" -> Cfg with label="cfg"
    out = run "child.wf" with {cfg: c | {extra: 1, more: 2}}
return out
'''


@needs_node
def test_a_run_child_drops_the_fields_its_records_do_not_declare(tmp_path: Path) -> None:
    write(tmp_path, "child.wf", CHILD)
    wf = write(tmp_path, "parent.wf", PARENT)
    assert load(str(wf)).result.bound.total == 2
    status, stdout, err = wf_run(wf, {}, {"rules": [{"label": "cfg", "reply": {"name": "n"}}]})
    assert status == 0, err
    py = json.loads(stdout)
    assert py == {"cfg": {"name": "n"}, "n": 1}
    report = host(wf, {}, {"rules": [{"label": "cfg", "reply": {"name": "n"}}]})
    assert report["error"] is None and report["result"] == py and report["agents_started"] == 2


# ---------------------------------------------------------------- 4. item-local writes

ITEM_LOCAL = '''workflow shadow:
    description: "a loop body writes a name that also stands outside it"

input files: list[str] max 50
input flag: bool = false

xs = files
phase "Scan":
    found = fanout f in range(2):
        if flag:
            xs = []
        inner = fanout y in xs:
            agent "check {y}"
        len(inner)
    after = fanout z in xs:
        agent "again {z}"
return [found, len(after)]
'''


@needs_node
@pytest.mark.parametrize("flag", [False, True])
def test_a_write_in_a_loop_body_leaves_the_outer_size_alone(flag: bool, tmp_path: Path) -> None:
    # Found in review: the checker let `xs = []` in an item's body shrink the outer `xs`
    # (bound 0) while both runtimes keep writes item-local (3 + 6 agents started).
    wf = write(tmp_path, "shadow.wf", ITEM_LOCAL)
    args = {"files": ["a", "b", "c"], "flag": flag}
    status, out = wf_check(wf, args)
    assert status == 0 and "at most 9" in out and "2×files + files" in out
    started = 3 if flag else 9
    status, stdout, err = wf_run(wf, args, {})
    assert status == 0, err
    assert json.loads(stdout) == [[0, 0] if flag else [3, 3], 3]
    report = host(wf, args, {})
    assert report["error"] is None and report["agents_started"] == started


# ---------------------------------------------------------------- 5. a function's result as a size

FUNCTION_SIZE = '''workflow fnsize:
    description: "a function's result sizes a fan-out"

input files: list[str] max 6
input n: int max 4 = 4

type Finding:
    file: str
    tags: list[str] max 3

def tagged(fs: list[Finding], k: int) -> list[str]:
    every = flatten([f.tags for f in fs])
    if k > 2:
        return take(every, k)
    return take(every, 2)

phase "P":
    found = fanout f in files:
        agent "Tag {f}" -> Finding
    checked = fanout t in tagged(found, n):
        agent "Check {t}"
return checked
'''


@needs_node
@pytest.mark.parametrize("files,n", [(6, 4), (3, 1), (1, 4), (0, 4)])
def test_a_function_result_sizes_a_fanout_exactly(files: int, n: int, tmp_path: Path) -> None:
    # The body is checked at the call with the arguments' sizes: the bound is
    # files + max(min(3×files, n), min(3×files, 2)), and worst-case answers (every list as
    # long as its max) make both targets start exactly that many agents.
    wf = write(tmp_path, "fnsize.wf", FUNCTION_SIZE)
    args = {"files": [f"f{i}" for i in range(files)], "n": n}
    proven = files + max(min(3 * files, n), min(3 * files, 2))
    status, out = wf_check(wf, args)
    assert status == 0 and f"at most {proven}" in out, out
    status, stdout, err = wf_run(wf, args, {"rules": [], "default": "schema"})
    assert status == 0, err
    assert len(json.loads(stdout)) == proven - files
    report = host(wf, args, {"rules": [], "default": "schema"})
    assert report["error"] is None and report["agents_started"] == proven
