"""Issue 10, item 5 (Control), in both targets: `fail MESSAGE` ends the run as failed with
the message, wherever it stands, and nothing after it runs; the Python runtime and the
compiled JavaScript under the node host agree on the message, the logs before it and the
agents started."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
import trio

from wflang.dsl.arguments import validate_args
from wflang.dsl.checker import check_program
from wflang.dsl.loader import load
from wflang.dsl.parser import parse
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.progress import RunObserver
from wflang.runtime.scheduler import Limits, RunFailed, Scheduler
from wflang.transpiler.emit import compile_js

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
HEADER = 'workflow t:\n    description: "d"\n'
needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")


def run_py(tmp_path: Path, body: str, fake: dict[str, Any], args: Any = None) -> dict[str, Any]:
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    loaded = load(str(wf))
    assert loaded.ok, [(d.code, d.message) for d in loaded.diagnostics]
    values, problems = validate_args(loaded.program, args)
    assert not problems
    backend = FakeBackend(fake)
    seen = _Logs()
    sched = Scheduler(backend, str(tmp_path), Limits(), observer=seen)
    try:
        value, error = trio.run(run_program, loaded.program, values, sched).value, None
    except RunFailed as exc:
        value, error = None, str(exc)
    return {"value": value, "error": error, "logs": seen.lines, "prompts": sorted(c["prompt"] for c in backend.calls),
            "loaded": loaded}


class _Logs(RunObserver):
    """The run's log lines as they are written, so a failed run still shows them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def log(self, phase: str | None, message: str) -> None:
        self.lines.append(message)


def run_js(tmp_path: Path, loaded: Any, fake: dict[str, Any], args: Any = None) -> dict[str, Any]:
    script = tmp_path / "t.js"
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name="t.wf"), encoding="utf-8")
    (tmp_path / "fake.json").write_text(json.dumps(fake), encoding="utf-8")
    (tmp_path / "args.json").write_text(json.dumps(args), encoding="utf-8")
    done = subprocess.run(["node", str(HOST), "--script", str(script), "--fake", str(tmp_path / "fake.json"),
                           "--args", str(tmp_path / "args.json")], capture_output=True, text=True, timeout=60)
    out = json.loads(done.stdout)
    assert done.returncode == (0 if out["error"] is None else 1), done.stderr
    return {"value": out["result"], "error": out["error"], "logs": out["logs"], "code": done.returncode,
            "prompts": sorted(c["prompt"] for c in out["calls"])}


# ---------------------------------------------------------------- the checker


def bound_of(body: str) -> int:
    result = check_program(parse(HEADER + textwrap.dedent(body), "t.wf"))
    assert not [d for d in result.diagnostics if d.severity == "error"], result.diagnostics
    return result.bound.evaluate({"files": 5})


def test_fail_stands_wherever_a_statement_stands_and_costs_no_agent() -> None:
    body = """
        input files: list[str] max 5
        if len(files) == 0:
            fail "nothing to review"
        phase "Review":
            found = fanout f in files:
                r = agent "Review {f}"
                if r == "":
                    fail "an empty review of {f}"
                r
            if len(found) > 3:
                fail "too many: {len(found)}"
                log "never"
        return found
    """
    assert bound_of(body) == 5


def test_fail_needs_a_message() -> None:
    from wflang.dsl.diagnostics import WfError

    with pytest.raises(WfError) as err:
        parse(HEADER + "fail\n", "t.wf")
    d = err.value.diagnostics[0]
    assert d.code == "WF106" and "fail" in d.hint


# ---------------------------------------------------------------- both targets

TOP = """
    input files: list[str] max 5
    log "checking {len(files)} files"
    if len(files) == 0:
        fail "nothing to review (got {len(files)} files)"
    xs = fanout f in files:
        agent "Review {f}"
    return xs
"""
TEXT = {"rules": [{"prompt": "^Review b", "reply": "bad"}, {"prompt": "^Review", "reply": "ok"}],
        "default": "fail"}


@needs_node
def test_fail_at_the_top_ends_the_run_before_any_agent(tmp_path: Path) -> None:
    py = run_py(tmp_path, TOP, TEXT, {"files": []})
    js = run_js(tmp_path, py["loaded"], TEXT, {"files": []})
    assert py["error"] == "nothing to review (got 0 files)"
    assert js["error"] == "Error: nothing to review (got 0 files)" and js["code"] == 1
    assert py["prompts"] == js["prompts"] == []
    assert py["logs"] == js["logs"] == ["checking 0 files"]


@needs_node
def test_fail_not_reached_changes_nothing(tmp_path: Path) -> None:
    py = run_py(tmp_path, TOP, TEXT, {"files": ["a", "c"]})
    js = run_js(tmp_path, py["loaded"], TEXT, {"files": ["a", "c"]})
    assert py["error"] is None and js["error"] is None
    assert py["value"] == js["value"] == ["ok", "ok"]
    assert py["logs"] == js["logs"] == ["checking 2 files"]


ITEM = """
    input files: list[str] max 5
    xs = for f in files:
        r = agent "Review {f}"
        if r == "bad":
            fail "the review of {f} said {r}"
        r
    log "after the loop"
    agent "Summarise {xs}"
    return xs
"""


@needs_node
def test_fail_in_an_item_ends_the_whole_run(tmp_path: Path) -> None:
    args = {"files": ["a", "b", "c"]}
    py = run_py(tmp_path, ITEM, TEXT, args)
    js = run_js(tmp_path, py["loaded"], TEXT, args)
    assert py["error"] == "the review of b said bad"
    assert js["error"] == "Error: the review of b said bad" and js["code"] == 1
    # one by one: the item after the failing one never starts, nor does anything after the loop
    assert py["prompts"] == js["prompts"] == ["Review a", "Review b"]
    assert py["logs"] == js["logs"] == []


@needs_node
def test_fail_in_a_concurrent_item_is_not_swallowed_by_parallel(tmp_path: Path) -> None:
    body = ITEM.replace("for f in files", "fanout f in files")
    args = {"files": ["a", "b", "c"]}
    py = run_py(tmp_path, body, TEXT, args)
    js = run_js(tmp_path, py["loaded"], TEXT, args)
    assert py["error"] == "the review of b said bad"
    assert js["error"] == "Error: the review of b said bad" and js["code"] == 1
    assert "Summarise" not in " ".join(py["prompts"] + js["prompts"])
    # Claude Code's parallel() logs the throw it caught; nothing of the workflow's own runs after it
    assert py["logs"] == [] and js["logs"] == ["parallel[1] failed: the review of b said bad"]


def test_wf_run_reports_the_message_and_exits_1(tmp_path: Path) -> None:
    from wflang.exits import ERRORS

    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(TOP), encoding="utf-8")
    (tmp_path / "fake.json").write_text(json.dumps(TEXT), encoding="utf-8")
    (tmp_path / "args.json").write_text(json.dumps({"files": []}), encoding="utf-8")
    done = subprocess.run(["python3", "-m", "wflang.cli", "run", str(wf), "--fake", str(tmp_path / "fake.json"),
                           "--args", str(tmp_path / "args.json"), "--json"],
                          capture_output=True, text=True, timeout=120, cwd=tmp_path,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == ERRORS, done.stderr
    assert "failed: nothing to review (got 0 files)" in done.stderr
    record = json.loads(done.stdout)
    assert record["status"] == "failed" and record["error"] == "nothing to review (got 0 files)"


# ---------------------------------------------------------------- agent ... else FALLBACK

FALLBACK = """
    type Finding:
        file: str
        severity: "low" | "high"
    input files: list[str] max 5
    found = fanout f in files:
        agent "Review {f}" -> Finding else {file: f, severity: "low"}
    summaries = fanout f in files:
        s = agent "Summarise {f}" else "no summary of {f}"
        n = agent "Count {f}" -> int
        "{s}: {n}"
    return {found: found, summaries: summaries}
"""
SOME_FAIL = {"rules": [{"prompt": "^Review b", "fail": "boom"}, {"prompt": "^Summarise a", "fail": "x"},
                       {"prompt": "^Count c", "fail": "x"},
                       {"prompt": "^Review", "reply": {"file": "f", "severity": "high"}},
                       {"prompt": "^Summarise", "reply": "short"}, {"prompt": "^Count", "reply": 7}],
             "default": "fail"}


@needs_node
def test_a_fallback_keeps_the_failed_agents_slot_in_both_targets(tmp_path: Path) -> None:
    args = {"files": ["a", "b", "c"]}
    py = run_py(tmp_path, FALLBACK, SOME_FAIL, args)
    js = run_js(tmp_path, py["loaded"], SOME_FAIL, args)
    assert py["error"] is None and js["error"] is None
    assert py["value"] == js["value"] == {
        "found": [{"file": "f", "severity": "high"}, {"file": "b", "severity": "low"},
                  {"file": "f", "severity": "high"}],
        # a: the summary failed, its fallback stands; c: the count (no fallback) failed
        "summaries": ["no summary of a: 7", "short: 7"]}
    # the fallback is not a failure: only the count that had none is counted
    assert py["logs"] == js["logs"] == ["fanout f in files (line 10): 1 of 3 items failed"]
    assert py["prompts"] == js["prompts"]
    assert len(py["prompts"]) == 9  # the agents the fallbacks stood in for did start


def test_a_fallback_changes_no_bound() -> None:
    assert bound_of(FALLBACK) == 15


@needs_node
def test_a_none_fallback_is_a_value_not_a_failure(tmp_path: Path) -> None:
    body = """
        input files: list[str] max 5
        xs = fanout f in files:
            agent "Summarise {f}" else none
        return xs
    """
    args = {"files": ["a", "b"]}
    py = run_py(tmp_path, body, SOME_FAIL, args)
    js = run_js(tmp_path, py["loaded"], SOME_FAIL, args)
    assert py["value"] == js["value"] == ["short"]
    assert py["logs"] == js["logs"] == ["fanout f in files (line 5): 1 of 2 items gave none (not a failure)"]


def test_a_list_fallback_widens_the_size_the_checker_proves() -> None:
    body = """
        input files: list[str] max 5
        input others: list[str] max 30
        picked = agent "Pick some of {files}" -> list[str] max 3 else others
        checked = fanout p in picked:
            agent "Check {p}"
        return checked
    """
    result = check_program(parse(HEADER + textwrap.dedent(body), "t.wf"))
    assert not [d for d in result.diagnostics if d.severity == "error"]
    assert result.bound.evaluate({"files": 5, "others": 30}) == 31  # 1 + 30, not 1 + 3
