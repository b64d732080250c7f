"""Kill `wf run` in the middle of a fan-out (SIGKILL, and Ctrl-C), resume it with
`--resume RUN_ID`, and prove: no agent that finished before the kill is called again, none
is lost, and the final result equals an uninterrupted run's."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path

import pytest

from wflang.runtime.journal import Journal

REPO = Path(__file__).resolve().parents[2]
ITEMS = 24
WORKFLOW = textwrap.dedent("""\
    workflow sweep:
        description: "a fan-out of two steps per item, then a summary"
    input files: list[str] max 50
    type Note:
        file: str
        score: int
    phase "Scan":
        notes = fanout f in files:
            n = agent "Scan {f}" -> Note
            agent "Rate {n.file} scored {n.score}" -> int
    phase "Sum":
        total = agent "Summarize {len(notes)} ratings: {notes}" -> int
    return {notes: notes, total: total}
""")
# Real seconds per agent: the run lasts long enough to be killed mid-fan-out.
FAKE = {"rules": [{"label": "*", "latency": 0.15}], "default": "schema"}


def _setup(ws: Path) -> list[str]:
    ws.mkdir()
    (ws / "sweep.wf").write_text(WORKFLOW)
    (ws / "args.json").write_text(json.dumps({"files": [f"src/m{i}.py" for i in range(ITEMS)]}))
    (ws / "fake.json").write_text(json.dumps(FAKE))
    return ["sweep.wf", "--args", "args.json", "--fake", "fake.json", "--json", "--workspace", ".",
            "--concurrency", "4"]


def _wf(ws: Path, args: list[str]) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.Popen([sys.executable, "-m", "wflang.cli", "run", *args], cwd=ws, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _journal_rows(ws: Path) -> tuple[str | None, list[tuple[str, str]]]:
    """(the run id, [(content key, status)] of every journaled agent, in order)."""
    if not (ws / ".wf" / "journal.sqlite").exists():
        return None, []
    with Journal.open(ws) as j:
        runs = j.list_runs()
        if not runs:
            return None, []
        detail = j.get_run(runs[0].id)
        return runs[0].id, [(a.key, a.status) for a in detail.agents]


def _wait_for_done(ws: Path, proc: subprocess.Popen[str], at_least: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, rows = _journal_rows(ws)
        if sum(1 for _, s in rows if s == "done") >= at_least:
            return
        if proc.poll() is not None:
            raise AssertionError(f"wf run ended early: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("the run did not get far enough")


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, int]:
    ws = tmp_path_factory.mktemp("clean") / "ws"
    proc = _wf(ws, _setup(ws))
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    _, rows = _journal_rows(ws)
    return json.loads(out)["result"], len(rows)


def _resume_and_check(ws: Path, args: list[str], run_id: str, before: list[tuple[str, str]],
                      uninterrupted: tuple[object, int]) -> None:
    expected_result, expected_agents = uninterrupted
    finished_before = {k for k, s in before if s == "done"}
    assert 0 < len(finished_before) < expected_agents  # killed mid-run, after some agents finished

    proc = _wf(ws, [*args, "--resume", run_id])
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert json.loads(out)["result"] == expected_result  # the same result as an uninterrupted run

    _, after = _journal_rows(ws)
    called_again = [k for k, s in after[len(before):] if k in finished_before]
    assert called_again == []  # no agent finished before the kill was called again
    done = Counter(k for k, s in after if s == "done")
    assert sum(done.values()) == expected_agents  # none lost
    assert all(n == 1 for n in done.values())  # each agent answered exactly once
    assert f"{len(finished_before)} from the journal" in err
    with Journal.open(ws) as j:
        run = j.get_run(run_id).run
        assert run.status == "done" and run.resumes == 1


def test_sigkill_mid_fanout_then_resume(tmp_path: Path, uninterrupted: tuple[object, int]):
    ws = tmp_path / "ws"
    args = _setup(ws)
    proc = _wf(ws, args)
    _wait_for_done(ws, proc, at_least=9)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL
    run_id, before = _journal_rows(ws)
    assert run_id is not None
    with Journal.open(ws) as j:
        assert j.get_run(run_id).run.status == "interrupted"  # its process is gone
    _resume_and_check(ws, args, run_id, before, uninterrupted)


def test_ctrl_c_marks_the_run_interrupted_and_says_how_to_resume(tmp_path: Path,
                                                                   uninterrupted: tuple[object, int]):
    ws = tmp_path / "ws"
    args = _setup(ws)
    proc = _wf(ws, args)
    _wait_for_done(ws, proc, at_least=5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert out == "" and "Traceback" not in err
    run_id, before = _journal_rows(ws)
    assert run_id is not None
    assert f"--resume {run_id}" in err
    with Journal.open(ws) as j:
        assert j.get_run(run_id).run.status == "interrupted"
    _resume_and_check(ws, args, run_id, before, uninterrupted)
