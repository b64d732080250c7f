"""Issue 11, item 2, in both targets: a `fix` body reads the check's answer (`last`) and
the attempt number (`attempt`); a step whose value is a legitimate None (a vote without
quorum, a repeat a `stop when` ended) does not fail its fan-out item, only an agent's
failure does; and the log says which, word for word the same in Python and JavaScript."""

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
from wflang.dsl.loader import load
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, Scheduler
from wflang.transpiler.emit import compile_js

ROOT = Path(__file__).resolve().parent.parent
HOST = ROOT / "wflang" / "transpiler" / "host.mjs"
HEADER = 'workflow t:\n    description: "d"\n'


def both(tmp_path: Path, body: str, fake: dict[str, Any], args: Any = None) -> dict[str, Any]:
    wf = tmp_path / "t.wf"
    wf.write_text(HEADER + textwrap.dedent(body), encoding="utf-8")
    loaded = load(str(wf))
    assert loaded.ok, [(d.code, d.message) for d in loaded.diagnostics]
    values, problems = validate_args(loaded.program, args)
    assert not problems
    backend = FakeBackend(fake)
    outcome = trio.run(run_program, loaded.program, values, Scheduler(backend, str(tmp_path), Limits()))
    py = {"value": outcome.value, "logs": [m for _, m in outcome.logs], "prompts": [c["prompt"] for c in backend.calls]}
    if shutil.which("node") is None:
        return {"py": py, "js": None}
    script = tmp_path / "t.js"
    script.write_text(compile_js(loaded.program, bound=loaded.result.bound, source_name="t.wf"), encoding="utf-8")
    (tmp_path / "fake.json").write_text(json.dumps(fake), encoding="utf-8")
    (tmp_path / "args.json").write_text(json.dumps(args), encoding="utf-8")
    done = subprocess.run(["node", str(HOST), "--script", str(script), "--fake", str(tmp_path / "fake.json"),
                           "--args", str(tmp_path / "args.json")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["error"] is None, out["error"]
    js = {"value": out["result"], "logs": out["logs"], "prompts": [c["prompt"] for c in out["calls"]]}
    return {"py": py, "js": js}


def same(result: dict[str, Any]) -> dict[str, Any]:
    """The Python side, after asserting the JS side says exactly the same."""
    py, js = result["py"], result["js"]
    if js is not None:
        assert js["value"] == py["value"]
        assert js["logs"] == py["logs"]
        assert sorted(js["prompts"]) == sorted(py["prompts"])
    return py


FIX = """
    outcome = fix max 3:
        agent "Attempt {attempt}: the tests said: {last.details}. Passed before? {last.passed}"
    until check "Run the tests"
    return outcome.attempts
"""
CHECKS = {"rules": [{"prompt": "^Run the tests", "replies": [
    {"passed": False, "details": "2 failed"}, {"passed": False, "details": "1 failed"},
    {"passed": True, "details": "all passed"}]}], "default": "schema"}


def test_a_fix_body_reads_the_last_check_and_the_attempt(tmp_path: Path) -> None:
    py = same(both(tmp_path, FIX, CHECKS))
    assert py["value"] == 2
    fixes = [p for p in py["prompts"] if p.startswith("Attempt")]
    assert fixes == ["Attempt 1: the tests said: 2 failed. Passed before? false",
                     "Attempt 2: the tests said: 1 failed. Passed before? false"]
    assert py["logs"] == ["fix (line 4): the check failed, then passed after 2 attempts"]


@pytest.mark.parametrize("replies, log", [
    ([{"passed": True, "details": "ok"}], "fix (line 4): the check passed at once"),
    ([{"passed": False, "details": "no"}], "fix (line 4): the check still fails after 3 attempts"),
])
def test_the_fix_log_line_tells_how_the_check_went(tmp_path: Path, replies: list[Any], log: str) -> None:
    fake = {"rules": [{"prompt": "^Run the tests", "replies": replies}], "default": "schema"}
    assert same(both(tmp_path, FIX, fake))["logs"] == [log]


def test_a_stalled_fix_says_so(tmp_path: Path) -> None:
    body = FIX.replace("fix max 3:", "fix max 3 stall 1:")
    fake = {"rules": [{"prompt": "^Run the tests", "reply": {"passed": False, "details": "same"}}]}
    py = same(both(tmp_path, body, fake))
    assert py["logs"] == ["fix (line 4): the check still fails after 1 attempt (stalled: the same result again)"]


def test_a_failed_check_agent_is_none_in_last(tmp_path: Path) -> None:
    # the first check's answer does not fit its schema: that check agent failed
    fake = {"rules": [{"prompt": "^Run the tests", "replies": [{"passed": "maybe"}, {"passed": True, "details": "ok"}]},
                      {"prompt": "^Attempt", "reply": "done"}], "default": "schema"}
    py = same(both(tmp_path, FIX, fake))
    assert py["prompts"][1] == "Attempt 1: the tests said: null. Passed before? null"


CLAIMS = """
    input claims: list[str] max 10
    checked = fanout c in claims:
        verdict = vote 3 quorum 3:
            agent "Is {c} true?" -> bool
        agent "Write up {c}: {verdict}"
    return checked
"""


def test_a_vote_without_quorum_does_not_fail_its_item(tmp_path: Path) -> None:
    # claim b: one true and two false answers, in whatever order: no quorum of 3 -> None,
    # and the item goes on
    fake = {"rules": [{"prompt": "^Is b true", "replies": [True, False]}, {"prompt": "^Write up", "reply": "written"},
                      {"prompt": "true\\?$", "reply": True}]}
    py = same(both(tmp_path, CLAIMS, fake, {"claims": ["a", "b", "c"]}))
    assert py["value"] == ["written", "written", "written"]
    assert "Write up b: null" in py["prompts"]
    assert not any("items failed" in line for line in py["logs"])


def test_an_agent_failure_still_ends_the_item_and_the_log_says_which(tmp_path: Path) -> None:
    body = """
        input claims: list[str] max 10
        checked = fanout c in claims:
            a = agent "Look at {c}"
            none if c == "b" else a
        return checked
    """
    fake = {"rules": [{"prompt": "Look at c", "fail": "down"}, {"prompt": "Look", "reply": "seen"}]}
    py = same(both(tmp_path, body, fake, {"claims": ["a", "b", "c", "d"]}))
    assert py["value"] == ["seen", "seen"]
    assert py["logs"] == ["fanout c in claims (line 5): 1 of 4 items failed, 1 gave none"]


def test_a_repeat_ended_by_stop_when_is_not_a_failure(tmp_path: Path) -> None:
    body = """
        input xs: list[int] max 5
        r = fanout x in xs:
            found = agent "find {x}"
            repeat max 2:
                stop when x > 1
                agent "again {x}"
        return r
    """
    py = same(both(tmp_path, body, {"rules": [], "default": "schema"}, {"xs": [1, 2]}))
    assert len(py["value"]) == 1
    assert py["logs"] == ["repeat (line 7): stopped in round 1 of 2 (stop when x > 1)",
                          "fanout x in xs (line 5): 1 of 2 items gave none (not a failure)"]
