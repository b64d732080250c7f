"""Arguments as Claude Code delivers them (issue 10, item 2), the same in every target.

`/NAME some text` passes its text as a string `args`; a `raw` input receives it. Numbers and
booleans written as text are read for number and bool inputs, a blank string counts as
null, and `require COND, MESSAGE` lines refuse arguments before any agent starts. For each
case `wf check --args`, `wf run` and the compiled script (under the node host) must accept
the same arguments, build the same prompt from them, and refuse the others with the same
message (docs/semantics.md "Arguments")."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import trio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from wflang.cli import EXIT_ERRORS, EXIT_OK, check_command
from wflang.dsl.arguments import ARGS_PROBLEM, validate_args
from wflang.dsl.loader import load
from wflang.runtime import requirements
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import ArgumentsRefused, run_program
from wflang.runtime.run_cli import run_command
from wflang.runtime.scheduler import Limits, RunError, Scheduler
from wflang.transpiler.emit import compile_js

HOST = Path(__file__).resolve().parent.parent / "wflang" / "transpiler" / "host.mjs"
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")

RESEARCH = '''workflow research:
    description: "Research a topic"

input topic: str raw = ""
input depth: int max 5 = 2
input ratio: float = 0.5
input deep: bool = false
input tags: list[int] max 3 = []
input mode: "quick" | "full" = "quick"
input note: str? = none
LEVELS = ["shallow", "medium", "deep"]
require topic != "", "usage: /research TOPIC (or the JSON of {{topic, depth, ...}})"
require depth >= 2 or not deep, "a deep run needs depth 2 or more, got {depth}"
require len(tags) <= depth, "{len(tags)} tags for depth {depth}: give at most one per level"

r = agent "Research {topic}: depth {depth}, ratio {ratio}, deep {deep}, tags {tags}, mode {mode}, note {note}"
return r
'''

USAGE = "usage: /research TOPIC (or the JSON of {topic, depth, ...})"


def outcome_py(wf: Path, args: Any) -> tuple[str, Any]:
    """("refused", the messages) or ("ran", the prompts the agents got), as `wf run` sees it."""
    loaded = load(str(wf))
    assert loaded.ok, [d.message for d in loaded.diagnostics]
    values, diags = validate_args(loaded.program, args)
    if not diags:
        diags = requirements.diagnostics(loaded.program, values)
    if diags:
        return "refused", "; ".join(d.message for d in diags)
    backend = FakeBackend({"rules": [], "default": "schema"})
    trio.run(run_program, loaded.program, values, Scheduler(backend, str(wf.parent), Limits()))
    return "ran", [c["prompt"] for c in backend.calls]


def outcomes_js(wf: Path, many_args: list[Any]) -> list[tuple[str, Any]]:
    """The same for the compiled script, every argument set in one node process."""
    loaded = load(str(wf))
    script = wf.with_suffix(".js")
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name), encoding="utf-8")
    jobs = wf.parent / "jobs.json"
    jobs.write_text(json.dumps([{"script": str(script), "args": a} for a in many_args]), encoding="utf-8")
    out = wf.parent / "reports.json"
    proc = subprocess.run(["node", str(HOST), "--batch", str(jobs), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    results = []
    for r in json.loads(out.read_text(encoding="utf-8")):
        error = r["error"]
        if error is None:
            results.append(("ran", [c["prompt"] for c in r["calls"]]))
        else:
            assert error.startswith("Error: " + ARGS_PROBLEM), error
            assert r["agents_started"] == 0
            results.append(("refused", error[len("Error: " + ARGS_PROBLEM):]))
    return results


def prompt(topic: str, depth: int = 2, ratio: str = "0.5", deep: str = "false", tags: str = "[]",
           mode: str = "quick", note: str = "null") -> list[str]:
    return [f"Research {topic}: depth {depth}, ratio {ratio}, deep {deep}, tags {tags}, mode {mode}, note {note}"]


CASES: list[tuple[str, Any, tuple[str, Any]]] = [
    ("raw text", "quantum error correction", ("ran", prompt("quantum error correction"))),
    ("raw text is stripped", "  \n quantum error correction\t ", ("ran", prompt("quantum error correction"))),
    ("text that is not JSON", "{braces} and [brackets]", ("ran", prompt("{braces} and [brackets]"))),
    ("a JSON list is text too", "[1, 2]", ("ran", prompt("[1, 2]"))),
    ("the JSON of an object", '{"topic": "tides", "depth": "4", "deep": "true"}',
     ("ran", prompt("tides", 4, deep="true"))),
    ("an object", {"topic": "tides", "depth": 3, "ratio": "0.25", "tags": ["1", " 2 "]},
     ("ran", prompt("tides", 3, ratio="0.25", tags="[\n  1,\n  2\n]"))),
    ("a float written as text", {"topic": "t", "ratio": "1e3"}, ("ran", prompt("t", ratio="1000"))),
    ("blank takes the default", {"topic": "t", "depth": "", "mode": " ", "note": ""}, ("ran", prompt("t"))),
    ("no text at all", "", ("refused", USAGE)),
    ("only spaces", "   ", ("refused", USAGE)),
    ("no arguments", None, ("refused", USAGE)),
    ("a number as text over the max", {"topic": "t", "depth": "9"},
     ("refused", "args.depth: 9 is more than the declared max 5")),
    ("a fraction for an int", {"topic": "t", "depth": "2.5"},
     ("refused", "args.depth: expected a whole number, got 2.5")),
    ("a word for an int", {"topic": "t", "depth": "two"},
     ("refused", "args.depth: expected a number, got a string")),
    ("a word for a bool", {"topic": "t", "deep": "yes"},
     ("refused", "args.deep: expected true or false, got a string")),
    ("a number is not text", {"topic": 5}, ("refused", "args.topic: expected a string, got a number")),
    ("two requirements fail", {"deep": True, "depth": 1},
     ("refused", USAGE + "; a deep run needs depth 2 or more, got 1")),
    ("a requirement over a list", {"topic": "t", "depth": "1", "tags": [1, 2]},
     ("refused", "2 tags for depth 1: give at most one per level")),
]


@needs_node
def test_every_target_reads_the_arguments_alike(tmp_path: Path) -> None:
    wf = tmp_path / "research.wf"
    wf.write_text(RESEARCH, encoding="utf-8")
    js = outcomes_js(wf, [args for _, args, _ in CASES])
    for (name, args, expected), in_js in zip(CASES, js, strict=True):
        assert outcome_py(wf, args) == expected, name
        assert in_js == expected, name


@pytest.mark.parametrize("name, args, expected", [c for c in CASES if c[2][0] == "refused"][:4])
def test_check_and_run_refuse_with_the_message(name: str, args: Any, expected: tuple[str, str],
                                               tmp_path: Path) -> None:
    wf = tmp_path / "research.wf"
    wf.write_text(RESEARCH, encoding="utf-8")
    (tmp_path / "args.json").write_text(json.dumps(args), encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert check_command([str(wf)], str(tmp_path / "args.json"), False, out, err) == EXIT_ERRORS
    assert expected[1].split("; ")[0] in out.getvalue()
    out, err = io.StringIO(), io.StringIO()
    status = run_command(str(wf), args_file=str(tmp_path / "args.json"), fake=None, yes=True,
                         workspace=str(tmp_path), stdout=out, stderr=err)
    assert status == EXIT_ERRORS
    assert ARGS_PROBLEM.rstrip() in err.getvalue() and expected[1].split("; ")[0] in err.getvalue()
    assert not (tmp_path / ".wf").exists(), "refused before the run started: nothing journaled"


def test_check_accepts_raw_text_and_shows_the_bound(tmp_path: Path) -> None:
    wf = tmp_path / "research.wf"
    wf.write_text(RESEARCH, encoding="utf-8")
    (tmp_path / "args.json").write_text(json.dumps("tides"), encoding="utf-8")
    out = io.StringIO()
    assert check_command([str(wf)], str(tmp_path / "args.json"), False, out, io.StringIO()) == EXIT_OK
    assert "(depth: 2, tags: 0): at most 1" in out.getvalue()


def test_the_interpreter_checks_requirements_itself(tmp_path: Path) -> None:
    """run_program, whoever calls it, refuses what `wf run` refuses, before any agent."""
    wf = tmp_path / "research.wf"
    wf.write_text(RESEARCH, encoding="utf-8")
    program = load(str(wf)).program
    values, diags = validate_args(program, "")
    assert not diags
    backend = FakeBackend({"rules": [], "default": "schema"})
    with pytest.raises(ArgumentsRefused) as caught:
        trio.run(run_program, program, values, Scheduler(backend, str(tmp_path), Limits()))
    assert str(caught.value) == ARGS_PROBLEM + USAGE
    assert backend.calls == []


CHILD = '''workflow child:
    description: "c"
input n: int max 5
require n % 2 == 0, "n must be even, got {n}"
return agent "child {n}"
'''


@needs_node
@pytest.mark.parametrize("n, expected", [(3, 'run "child.wf": n must be even, got 3'), (4, None)])
def test_a_child_checks_its_own_requirements(n: int, expected: str | None, tmp_path: Path) -> None:
    (tmp_path / "child.wf").write_text(CHILD, encoding="utf-8")
    wf = tmp_path / "top.wf"
    wf.write_text(f'''workflow top:
    description: "t"
x = run "child.wf" with {{n: {n}}}
return x
''', encoding="utf-8")
    program = load(str(wf)).program
    backend = FakeBackend({"rules": [], "default": "schema"})
    try:
        trio.run(run_program, program, {}, Scheduler(backend, str(tmp_path), Limits()))
        py_error = None
    except RunError as exc:
        py_error = str(exc)
    [(kind, value)] = outcomes_js_raw(wf, [{}])
    if expected is None:
        assert py_error is None and kind is None and value == ["child 4"]
    else:
        assert py_error == f"line 3: {expected}" and backend.calls == []
        assert kind == f"Error: {expected}" and value == []


def outcomes_js_raw(wf: Path, many_args: list[Any]) -> list[tuple[str | None, list[str]]]:
    loaded = load(str(wf))
    script = wf.with_suffix(".js")
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name=wf.name), encoding="utf-8")
    jobs = wf.parent / "jobs.json"
    jobs.write_text(json.dumps([{"script": str(script), "args": a} for a in many_args]), encoding="utf-8")
    out = wf.parent / "reports.json"
    proc = subprocess.run(["node", str(HOST), "--batch", str(jobs), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [(r["error"], [c["prompt"] for c in r["calls"]]) for r in json.loads(out.read_text(encoding="utf-8"))]


# ---------------------------------------------------------------- random arguments

_TEXTS = st.one_of(
    st.sampled_from(["", " ", "\t\n", "5", " 5 ", "-3", "+2", "2.0", "2.5", "1e3", "1e999", ".5", "5.", "0x10",
                     "007", "true", "false", " true", "True", "none", "null", "quick", "full", "NaN", "Infinity",
                     "١٢", "1_000", '{"topic": "x"}', "[1]"]),
    st.text(max_size=8),
)
_VALUES = st.one_of(_TEXTS, st.integers(-10, 10), st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.booleans(), st.none(), st.lists(st.one_of(_TEXTS, st.integers(-3, 9)), max_size=4))
_ARGS = st.one_of(
    _TEXTS,
    st.dictionaries(st.sampled_from(["topic", "depth", "ratio", "deep", "tags", "mode", "note"]), _VALUES,
                    max_size=7),
)


@needs_node
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(batch=st.lists(_ARGS, min_size=10, max_size=10))
def test_random_arguments_mean_the_same_in_both_targets(batch: list[Any], tmp_path_factory: Any) -> None:
    work = tmp_path_factory.mktemp("args")
    wf = work / "research.wf"
    wf.write_text(RESEARCH, encoding="utf-8")
    for args, in_js in zip(batch, outcomes_js(wf, batch), strict=True):
        assert outcome_py(wf, args) == in_js, args
