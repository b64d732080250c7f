"""`wf show RUN`: every agent with label, phase, status, tokens and the beginning of its
prompt and answer (`--full`: all of it); a check that did not pass is marked."""

from __future__ import annotations

import io
import json
from pathlib import Path

from wflang import exits
from wflang.runtime.run_cli import run_command, show_command

WF = '''workflow story:
    description: "d"
phase "Work":
    a = agent "Summarise this long document, which goes on and on: {LONG}"
outcome = fix max 1:
    agent "Fix it"
until check "Run the tests"
return outcome.passed
'''.replace("{LONG}", " ".join(f"word{i}" for i in range(60)))
FAKE = {"rules": [{"prompt": "^Summarise", "reply": "A short summary."},
                  {"prompt": "^Run the tests", "replies": [{"passed": False, "details": "3 failing"},
                                                             {"passed": True, "details": "all green"}]}],
        "default": "schema"}


def _run(tmp_path: Path) -> str:
    (tmp_path / "w.wf").write_text(WF)
    (tmp_path / "fake.json").write_text(json.dumps(FAKE))
    out = io.StringIO()
    assert run_command(str(tmp_path / "w.wf"), fake=str(tmp_path / "fake.json"), json_out=True,
                       workspace=str(tmp_path), stdout=out, stderr=io.StringIO()) == exits.OK
    return json.loads(out.getvalue())["run_id"]


def _show(tmp_path: Path, run_id: str, full: bool = False) -> str:
    out = io.StringIO()
    assert show_command(run_id, workspace=str(tmp_path), full=full, stdout=out, stderr=io.StringIO()) == exits.OK
    return out.getvalue()


def test_show_lists_every_agent_with_its_prompt_and_answer(tmp_path: Path) -> None:
    text = _show(tmp_path, _run(tmp_path))
    assert "agents: Work" in text and "\n  a  done" in text and "outcome · check 0  check failed" in text
    assert "prompt:   Summarise this long document, which goes on and on: word0 word1" in text
    assert "word59" not in text  # only the beginning without --full
    assert "answer:   A short summary." in text
    assert "check failed" in text and '"details": "3 failing"' in text  # the failing check is marked
    lines = text.splitlines()
    passed = next(i for i, line in enumerate(lines) if "all green" in line)
    assert "check failed" not in lines[passed - 2]  # the check that passed is not
    assert "fix (line 5): the check failed, then passed after 1 attempt" in text


def test_show_full_gives_whole_prompts(tmp_path: Path) -> None:
    text = _show(tmp_path, _run(tmp_path), full=True)
    assert "word59" in text
