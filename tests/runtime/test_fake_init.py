"""`wf fake init`: a skeleton fake-answer file with every label the run produces, taken
from the runtime itself, that `wf run --fake` then answers rule by rule."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from wflang import exits
from wflang.cli import main
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.fake_init import fake_init_command
from wflang.runtime.run_cli import run_command

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLE = ROOT / "examples" / "pr-review"


def _init(*args: str | None, out: str | None = None) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = fake_init_command(str(args[0]), args[1] if len(args) > 1 else None, None, out, stdout, stderr)
    return code, stdout.getvalue(), stderr.getvalue()


def test_the_skeleton_answers_every_call_of_the_run_by_its_label(tmp_path: Path) -> None:
    code, text, err = _init(EXAMPLE / "pr-review.wf", str(EXAMPLE / "args.json"))
    assert code == exits.OK, err
    skeleton = json.loads(text)
    FakeBackend.load(skeleton)  # a valid fake file
    labels = [r["label"] for r in skeleton["rules"]]
    assert len(labels) == len(set(labels)) == 199  # the bound for args.json: every loop to its cap
    assert labels[0] == "find a.py" and all("schema" in r["comment"] for r in skeleton["rules"][:12])
    answers = tmp_path / "answers.json"
    answers.write_text(text)
    out, run_err = io.StringIO(), io.StringIO()
    assert run_command(str(EXAMPLE / "pr-review.wf"), args_file=str(EXAMPLE / "args.json"), fake=str(answers),
                       json_out=True, workspace=str(tmp_path), stdout=out, stderr=run_err) == exits.OK
    record = json.loads(out.getvalue())
    assert record["agents"]["done"] == 199 and record["agents"]["failed"] == 0
    ran = {a["label"] for a in _journal_agents(tmp_path, record["run_id"])}
    assert ran == set(labels)  # each rule is a label the run produced, and the other way round


def _journal_agents(ws: Path, run_id: str) -> list[dict[str, object]]:
    from wflang.runtime.journal import Journal

    with Journal.open(ws) as j:
        return [{"label": a.label} for a in j.get_run(run_id).agents]


def test_the_file_is_the_same_every_time() -> None:
    first = _init(EXAMPLE / "pr-review.wf", str(EXAMPLE / "args.json"))[1]
    assert first == _init(EXAMPLE / "pr-review.wf", str(EXAMPLE / "args.json"))[1]


def test_calls_sharing_a_label_get_replies_in_order(tmp_path: Path) -> None:
    wf = tmp_path / "w.wf"
    wf.write_text('workflow w:\n    description: "d"\no = fix max 2:\n    agent "fix it" with label="fixer"\n'
                  'until check "test it" with label="tests"\nreturn o\n')
    code, text, err = _init(wf)
    assert code == exits.OK, err
    rules = {r["label"]: r for r in json.loads(text)["rules"]}
    assert rules["fixer"]["replies"] == ["text for fixer #0", "text for fixer #0"]
    assert [r["passed"] for r in rules["tests"]["replies"]] == [False, False, False]


def test_bad_input_and_outputs(tmp_path: Path) -> None:
    code, _, err = _init(tmp_path / "nope.wf")
    assert code == exits.USAGE and "no such file" in err
    code, _, err = _init(EXAMPLE / "pr-review.wf")
    assert code == exits.ERRORS and "missing argument `files`" in err and "--args" in err
    existing = tmp_path / "a.json"
    existing.write_text("{}")
    code, _, err = _init(EXAMPLE / "pr-review.wf", str(EXAMPLE / "args.json"), out=str(existing))
    assert code == exits.USAGE and "is not overwritten" in err and existing.read_text() == "{}"
    code, _, err = _init(EXAMPLE / "pr-review.wf", str(EXAMPLE / "args.json"), out=str(tmp_path))
    assert code == exits.USAGE and "is a directory" in err


def test_wf_fake_init_writes_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "answers.json"
    assert main(["fake", "init", str(EXAMPLE / "pr-review.wf"), "--args", str(EXAMPLE / "args.json"),
                 "-o", str(out)]) == exits.OK
    assert "199 rules" in capsys.readouterr().err and json.loads(out.read_text())["default"] == "schema"
