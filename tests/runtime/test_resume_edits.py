"""`wf run --resume` after an edit: the journal serves every agent whose request did not
change, only the rest run; the run's options carry over; a run of another workflow is
refused as such; `wf runs` says which runs can be resumed."""

from __future__ import annotations

import io
import json
import re
import shutil
from pathlib import Path
from typing import Any

from wflang.runtime.journal import Journal
from wflang.runtime.run_cli import run_command, runs_command

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "pr-review"
REVIEWER = "Try hard to refute this finding"


def _workspace(tmp_path: Path, name: str) -> Path:
    ws = tmp_path / name
    shutil.copytree(EXAMPLE, ws)
    return ws


def _wf(ws: Path, *args: str, **kw: Any) -> tuple[int, Any, str]:
    out, err = io.StringIO(), io.StringIO()
    opts: dict[str, Any] = {"workspace": str(ws), "json_out": True, "yes": True}
    opts.update(kw)
    rc = run_command(str(ws / "pr-review.wf"), *args, stdout=out, stderr=err, **opts)
    text = out.getvalue()
    return rc, json.loads(text) if text.strip() else None, err.getvalue()


def _start(ws: Path, **kw: Any) -> tuple[str, Any]:
    rc, result, err = _wf(ws, args_file=str(ws / "args.json"), fake=str(ws / "fake.json"), allow="edit,shell",
                          concurrency=3, **kw)
    assert rc == 0, err
    return _last_run(ws), result


def _last_run(ws: Path) -> str:
    with Journal.open(ws) as j:
        return j.list_runs()[0].id


def _agents(ws: Path, run_id: str) -> list[Any]:
    with Journal.open(ws) as j:
        return j.get_run(run_id).agents


def _edit_reviewer(ws: Path) -> None:
    path = ws / "pr-review.wf"
    text = path.read_text()
    assert text.count(REVIEWER) == 1
    path.write_text(text.replace(REVIEWER, "Try very hard to refute this finding"))


def test_edit_one_reviewer_prompt_then_resume_runs_only_the_reviewers(tmp_path: Path):
    ws = _workspace(tmp_path, "ws")
    run_id, _ = _start(ws)
    first = _agents(ws, run_id)
    reviewers = [a for a in first if a.phase == "Verify"]
    assert reviewers and len(reviewers) < len(first)

    _edit_reviewer(ws)
    # No --fake, --allow or --concurrency: the original run's are kept.
    rc, resumed, err = _wf(ws, resume=run_id)
    assert rc == 0, err
    after = _agents(ws, run_id)[len(first):]
    assert len(after) == len(reviewers)  # only the reviewers ran again
    assert {a.phase for a in after} == {"Verify"}
    assert all("Try very hard" in a.prompt for a in after)
    served = len(first) - len(reviewers)
    assert f"resume: {served} agents served from the journal, {len(reviewers)} ran fresh" in err
    assert re.search(r"the first to run fresh: confirmed · finding 1 · reviewer 1 \(its prompt changed\)", err)
    assert "note: the workflow changed since run" in err
    assert "concurrency 3" in err and "fake answers from" in err

    # The same result as a fresh run of the edited workflow.
    fresh_ws = _workspace(tmp_path, "fresh")
    _edit_reviewer(fresh_ws)
    fresh_id, fresh = _start(fresh_ws)
    assert resumed["result"] == fresh["result"]  # --json: one record; the result is in it
    assert resumed["agents"]["from_journal"] == served and fresh["agents"]["from_journal"] == 0
    assert len(_agents(fresh_ws, fresh_id)) == len(first)


def test_resume_with_changed_arguments_runs_only_the_new_work(tmp_path: Path):
    ws = _workspace(tmp_path, "ws")
    run_id, _ = _start(ws)
    before = {a.key for a in _agents(ws, run_id)}
    args = json.loads((ws / "args.json").read_text())
    (ws / "more.json").write_text(json.dumps({"files": [*args["files"], "m.py"]}))
    rc, _, err = _wf(ws, resume=run_id, args_file=str(ws / "more.json"))
    assert rc == 0, err
    fresh = [a for a in _agents(ws, run_id) if a.key not in before]
    assert [a.label for a in fresh] == ["find m.py"]  # it finds nothing: nothing downstream changes
    assert "note: its arguments changed since run" in err
    with Journal.open(ws) as j:
        assert j.get_run(run_id).run.args["files"][-1] == "m.py"


def test_resuming_an_unchanged_finished_run_is_refused(tmp_path: Path):
    ws = _workspace(tmp_path, "ws")
    run_id, _ = _start(ws)
    rc, _, err = _wf(ws, resume=run_id)
    assert rc == 2
    assert "already finished, and neither the workflow nor its arguments changed" in err


def test_a_run_of_another_workflow_is_refused_as_such(tmp_path: Path):
    ws = _workspace(tmp_path, "ws")
    run_id, _ = _start(ws)
    other = REPO / "examples" / "digest" / "digest.wf"
    out, err = io.StringIO(), io.StringIO()
    rc = run_command(str(other), resume=run_id, workspace=str(ws), yes=True, stdout=out, stderr=err)
    assert rc == 2
    message = err.getvalue()
    assert f"{run_id} is a run of workflow `pr-review`" in message and "is workflow `digest`" in message
    assert "argument" not in message


def test_an_interrupted_run_resumes_with_its_options_and_wf_runs_says_so(tmp_path: Path):
    ws = _workspace(tmp_path, "ws")
    run_id, _ = _start(ws)
    with Journal.open(ws) as j:
        j.resume_run(run_id, (ws / "pr-review.wf").read_text() + "\n# edited\n")
        j.finish_run(run_id, "interrupted", error="interrupted by the user")
        options = j.get_run(run_id).run.options
    assert options["concurrency"] == 3 and options["granted"] == ["edit", "shell"]
    assert options["fake"] == str((ws / "fake.json").resolve())
    assert not any("sk-ant" in json.dumps(v) for v in options.values())

    out = io.StringIO()
    assert runs_command(workspace=str(ws), stdout=out) == 0
    assert f"can be resumed: {run_id} (interrupted)" in out.getvalue()
    assert f"--resume {run_id}" in out.getvalue()
    out = io.StringIO()
    runs_command(workspace=str(ws), json_out=True, stdout=out)
    assert json.loads(out.getvalue())[0]["resumable"] is True

    rc, _, err = _wf(ws, resume=run_id)
    assert rc == 0, err
    assert "granted when the run started" not in err  # a fake run grants by the header, as before
    assert "resume: 33 agents served from the journal, 0 ran fresh" in err
