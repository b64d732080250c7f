"""The journal: runs, the content-keyed cache, resume checks, durability under SIGKILL,
concurrent writers, API-key scrubbing, refusal of foreign files, and the run views."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st
from rich.console import Console

from wflang.runtime.backend import AgentRequest, AgentResult, Usage
from wflang.runtime.journal import (
    Journal,
    JournalError,
    agent_row,
    content_key,
    journal_path,
    source_sha256,
)
from wflang.runtime.run_views import render_run, render_runs, run_json, runs_json

REPO = Path(__file__).resolve().parents[2]
SOURCE = 'workflow review\nagent "hello"\n'
FAKE_KEY = "sk-ant-api03-AbC_dEf-123456789"


@pytest.fixture
def journal(tmp_path: Path):
    j = Journal.open(tmp_path)
    yield j
    j.close()


def request(prompt: str = "review the diff", **kw) -> AgentRequest:
    return AgentRequest(prompt=prompt, schema=kw.pop("schema", None), label=kw.pop("label", "rev"), **kw)


def done(j: Journal, run_id: str, req: AgentRequest, value, out: int = 10, t: float = 100.0) -> str:
    key = content_key(req)
    usage = Usage(input_tokens=out * 3, output_tokens=out, cache_read_tokens=1, cache_write_tokens=2)
    j.record_agent(run_id, key, req, "done", AgentResult(value, usage, "claude-x"), None, None, t, t + 2.5)
    return key


def failed(j: Journal, run_id: str, req: AgentRequest, error: str = "boom") -> str:
    key = content_key(req)
    j.record_agent(run_id, key, req, "failed", None, error, Usage(input_tokens=5), 100.0, 101.0)
    return key


# ---------------------------------------------------------------------------- runs


def test_open_creates_the_journal_under_dot_wf(tmp_path: Path) -> None:
    with Journal.open(tmp_path / "ws") as j:
        assert j.path == tmp_path / "ws" / ".wf" / "journal.sqlite"
        assert j.path.exists()
    with closing(sqlite3.connect(journal_path(tmp_path / "ws"))) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_start_and_finish_run(journal: Journal) -> None:
    run_id = journal.start_run("review", "flows/review.wf", SOURCE, {"files": ["a.py"]}, {"agents": 7})
    assert re.fullmatch(r"r-\d{8}-\d{6}-[0-9a-f]{4}", run_id)
    record = journal.get_run(run_id).run
    assert (record.workflow, record.status, record.args, record.bound) == (
        "review",
        "running",
        {"files": ["a.py"]},
        {"agents": 7},
    )
    assert record.finished is None and record.pid == os.getpid()

    journal.finish_run(run_id, "done", {"verdict": "ok"})
    record = journal.get_run(run_id).run
    assert record.status == "done" and record.result == {"verdict": "ok"} and record.finished is not None

    other = journal.start_run("review", "flows/review.wf", SOURCE, {}, None)
    journal.finish_run(other, "failed", error="budget exceeded")
    assert journal.get_run(other).run.error == "budget exceeded"
    assert [r.id for r in journal.list_runs(limit=10)][0] == other  # newest first
    assert len(journal.list_runs(limit=1)) == 1


def test_bad_arguments_are_refused(journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {}, None)
    with pytest.raises(ValueError):
        journal.finish_run(run_id, "running")
    with pytest.raises(ValueError):
        journal.record_agent(run_id, "k", request(), "done", None, None, None, 0.0, 1.0)
    with pytest.raises(JournalError, match="not plain JSON"):
        done(journal, run_id, request(), {1, 2})
    with pytest.raises(JournalError, match="no run"):
        journal.get_run("r-nope")
    with pytest.raises(JournalError, match="no run"):
        done(journal, "r-nope", request(), 1)


# ---------------------------------------------------------------------------- cache


def test_cache_hits_only_finished_agents(journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {}, None)
    ok, bad = request("good"), request("bad")
    assert journal.cached(run_id, content_key(ok)) is None
    done(journal, run_id, ok, {"score": 3}, out=42)
    failed(journal, run_id, bad)

    hit = journal.cached(run_id, content_key(ok))
    assert hit is not None and hit.value == {"score": 3} and hit.usage.output_tokens == 42
    assert hit.as_result() == AgentResult({"score": 3}, hit.usage, "claude-x")
    assert journal.cached(run_id, content_key(bad)) is None  # failures are retried

    # another run never sees this run's agents
    other = journal.start_run("w", "w.wf", SOURCE, {}, None)
    assert journal.cached(other, content_key(ok)) is None


def test_cache_occurrences_of_the_same_call(journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {}, None)
    req = request("same")
    failed(journal, run_id, req)
    done(journal, run_id, req, "first")
    done(journal, run_id, req, "second")
    key = content_key(req)
    assert [journal.cached(run_id, key, n).value for n in (0, 1)] == ["first", "second"]
    assert journal.cached(run_id, key, 2) is None


def _reference_key(request: AgentRequest) -> str:
    """The content key as it was first written (json.dumps of the fields): journals made
    before the key was written out field by field must keep their hits."""
    import hashlib

    fields = {"v": 1, "prompt": request.prompt, "schema": request.schema, "model": request.model,
              "effort": request.effort, "agent_type": request.agent_type, "isolation": request.isolation,
              "sample_index": request.sample_index}
    if request.toolless:
        fields["tools"] = "none"
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_texts = st.text(st.characters(codec="utf-8"), max_size=12)
_json = st.recursive(st.none() | st.booleans() | st.integers() | _texts,
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_texts, inner, max_size=3),
                     max_leaves=8)


@settings(max_examples=200, deadline=None)
@given(_texts, st.none() | st.dictionaries(_texts, _json, max_size=4), st.none() | _texts, st.none() | _texts,
       st.none() | _texts, st.none() | _texts, st.integers(0, 99), st.booleans())
def test_content_key_is_the_original_canonical_json(prompt, schema, model, effort, agent_type, isolation,
                                                    sample, toolless) -> None:
    req = AgentRequest(prompt=prompt, schema=schema, label="l", model=model, effort=effort, agent_type=agent_type,
                       isolation=isolation, sample_index=sample, toolless=toolless)
    assert content_key(req) == _reference_key(req)
    assert content_key(req) == _reference_key(req)  # the schema's cached part too


def test_content_key_ignores_label_and_phase_only() -> None:
    base = request("p", schema={"type": "object", "properties": {"a": {"type": "string"}, "b": {}}})
    key = content_key(base)
    assert content_key(replace(base, label="other", phase="fix")) == key
    assert content_key(replace(base, max_output_tokens=99, permissions=frozenset({"edit"}))) == key
    # key order inside the schema does not matter
    reordered = {"properties": {"b": {}, "a": {"type": "string"}}, "type": "object"}
    assert content_key(replace(base, schema=reordered)) == key
    for changed in [
        replace(base, sample_index=1),
        replace(base, schema={"type": "object"}),
        replace(base, schema=None),
        replace(base, model="opus"),
        replace(base, effort="high"),
        replace(base, agent_type="reviewer"),
        replace(base, isolation="worktree"),
        replace(base, prompt="p "),
    ]:
        assert content_key(changed) != key, changed


# ---------------------------------------------------------------------------- resume


def test_resume(journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {"n": 1}, None)
    key = done(journal, run_id, request(), "v")
    journal.finish_run(run_id, "interrupted")

    with pytest.raises(JournalError, match="no run r-unknown"):
        journal.resume_run("r-unknown", SOURCE)
    with pytest.raises(JournalError, match="is a run of workflow `w`.*this file is workflow `other`"):
        journal.resume_run(run_id, SOURCE, workflow="other", source_path="other.wf")

    record = journal.resume_run(run_id, SOURCE, workflow="w")
    assert (record.status, record.resumes, record.args) == ("running", 1, {"n": 1})
    assert journal.cached(run_id, key).value == "v"  # finished agents survive the resume

    journal.finish_run(run_id, "done", 1)
    with pytest.raises(JournalError, match="already finished, and neither the workflow nor its arguments"):
        journal.resume_run(run_id, SOURCE, args={"n": 1})


def test_resume_after_an_edit_records_the_new_source_arguments_and_options(journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {"n": 1}, None, options={"concurrency": 4})
    key = done(journal, run_id, request(), "v")
    journal.finish_run(run_id, "done", 1)
    assert journal.get_run(run_id).run.options == {"concurrency": 4}

    edited = SOURCE + "# edited\n"
    record = journal.resume_run(run_id, edited, workflow="w", source_path="w2.wf", args={"n": 2},
                                options={"concurrency": 2, "fake": None, "granted": []})
    assert (record.status, record.resumes, record.args, record.source_path) == ("running", 1, {"n": 2}, "w2.wf")
    assert record.source_sha256 == source_sha256(edited)
    assert record.options == {"concurrency": 2, "fake": None, "granted": []}
    assert journal.cached(run_id, key).value == "v"
    # a finished run with a changed workflow resumes; the same one again does not
    journal.finish_run(run_id, "done", 2)
    with pytest.raises(JournalError, match="already finished"):
        journal.resume_run(run_id, edited)


def test_a_group_of_agents_is_one_transaction(journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {}, None)
    rows = [agent_row(run_id, content_key(request(f"p{i}")), request(f"p{i}"), "done",
                      AgentResult(i, Usage(input_tokens=1, output_tokens=2)), None, None, 0.0, 1.0)
            for i in range(5)]
    changes = journal._conn.total_changes
    journal.record_agents(run_id, rows)
    assert journal._conn.total_changes - changes == 6  # five rows and one update of the run's tokens
    detail = journal.get_run(run_id)
    assert [a.result for a in detail.agents] == [0, 1, 2, 3, 4]
    assert (detail.run.usage.input_tokens, detail.run.usage.output_tokens) == (5, 10)


def test_resume_refuses_a_run_whose_process_is_alive(tmp_path: Path, journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {}, None)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        with closing(sqlite3.connect(journal.path, isolation_level=None)) as raw:
            raw.execute("UPDATE runs SET pid = ? WHERE id = ?", (sleeper.pid, run_id))
        with pytest.raises(JournalError, match=f"still running \\(process {sleeper.pid}\\)"):
            journal.resume_run(run_id, SOURCE)
        assert journal.list_runs()[0].status == "running"
    finally:
        sleeper.kill()
        sleeper.wait()
    # its process is gone: reported as interrupted, and resumable
    assert journal.list_runs()[0].status == "interrupted"
    assert journal.resume_run(run_id, SOURCE).status == "running"


# ---------------------------------------------------------------------------- durability

CHILD = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from wflang.runtime.backend import AgentRequest, AgentResult, Usage
    from wflang.runtime.journal import Journal, content_key

    journal = Journal.open(Path(sys.argv[1]))
    run_id = journal.start_run("w", "w.wf", sys.argv[2], {}, None)
    print(run_id, flush=True)
    i = 0
    while True:
        req = AgentRequest(prompt=f"item {i}", schema=None, label=f"agent {i}")
        key = content_key(req)
        result = AgentResult(value={"i": i}, usage=Usage(output_tokens=1))
        journal.record_agent(run_id, key, req, "done", result, None, None, 0.0, 1.0)
        print(key, flush=True)  # only after record_agent returned
        i += 1
    """
)


def test_agents_recorded_before_sigkill_survive(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), SOURCE], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        run_id = child.stdout.readline().strip()
        keys = [child.stdout.readline().strip() for _ in range(40)]
    finally:
        child.send_signal(signal.SIGKILL)  # mid-way: the child is writing without pause
        child.wait()
        child.stdout.close()
    assert child.returncode == -signal.SIGKILL and all(keys)

    with Journal.open(tmp_path) as j:
        detail = j.get_run(run_id)
        journaled = {a.key for a in detail.agents}
        assert set(keys) <= journaled  # none lost; a few more may have committed before the kill
        assert all(j.cached(run_id, k) is not None for k in keys)
        assert detail.run.status == "interrupted"  # its process is dead
        assert j.resume_run(run_id, SOURCE).status == "running"


# ---------------------------------------------------------------------------- concurrency


async def test_concurrent_writes_from_trio_tasks(journal: Journal) -> None:
    run_id = journal.start_run("w", "w.wf", SOURCE, {}, None)
    n = 60

    async def one(i: int) -> None:
        req = request(f"item {i}", label=f"item {i}", phase="map")
        res = AgentResult(value=i, usage=Usage(output_tokens=i))
        await trio.to_thread.run_sync(
            journal.record_agent, run_id, content_key(req), req, "done", res, None, None, 1.0, 2.0
        )
        await trio.to_thread.run_sync(journal.add_log, run_id, "map", f"finished {i}")
        journal.add_log(run_id, None, f"direct {i}")  # calling directly from trio is fine too

    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(one, i)

    detail = journal.get_run(run_id)
    assert sorted(a.result for a in detail.agents) == list(range(n))
    assert [line.seq for line in detail.logs] == list(range(1, 2 * n + 1))
    assert detail.usage.output_tokens == sum(range(n)) == detail.run.usage.output_tokens


# ---------------------------------------------------------------------------- secrets


def test_api_keys_are_scrubbed_from_errors_logs_and_prompts(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as j:
        run_id = j.start_run("w", "w.wf", SOURCE, {}, None)
        failed(j, run_id, request(f"use {FAKE_KEY} please"), error=f"401 invalid x-api-key {FAKE_KEY}")
        j.add_log(run_id, "p", f"key was {FAKE_KEY}!")
        j.finish_run(run_id, "failed", error=f"auth failed for {FAKE_KEY}")
        detail = j.get_run(run_id)
        assert detail.agents[0].error == "401 invalid x-api-key [redacted API key]"
        assert detail.logs[0].message == "key was [redacted API key]!"
        assert "sk-ant-" not in detail.run.error + detail.agents[0].prompt
    # nowhere on disk either (the WAL is checkpointed into the file on close)
    for f in (tmp_path / ".wf").iterdir():
        assert b"sk-ant-" not in f.read_bytes(), f


# ---------------------------------------------------------------------------- bad files


def test_corrupt_file_gives_a_clear_error(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir()
    path.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(JournalError) as err:
        Journal.open(tmp_path)
    assert str(path) in str(err.value) and "Hint: " in str(err.value)


def test_journal_from_another_version_is_refused(tmp_path: Path) -> None:
    Journal.open(tmp_path).close()
    with closing(sqlite3.connect(journal_path(tmp_path), isolation_level=None)) as raw:
        raw.execute("PRAGMA user_version = 99")
    with pytest.raises(JournalError, match="another version of wflang") as err:
        Journal.open(tmp_path)
    assert str(journal_path(tmp_path)) in str(err.value)


def test_foreign_sqlite_file_is_refused(tmp_path: Path) -> None:
    path = journal_path(tmp_path)
    path.parent.mkdir()
    with closing(sqlite3.connect(path, isolation_level=None)) as raw:
        raw.execute("CREATE TABLE notes (x)")
    with pytest.raises(JournalError, match="not a wflang journal"):
        Journal.open(tmp_path)


def test_a_damaged_json_column_gives_a_clear_error(tmp_path: Path) -> None:
    with Journal.open(tmp_path) as j:
        run_id = j.start_run("w", "w.wf", SOURCE, {}, None)
        key = done(j, run_id, request(), {"ok": True})
    with closing(sqlite3.connect(journal_path(tmp_path), isolation_level=None)) as raw:
        raw.execute("UPDATE agents SET result_json = '{bad'")
    with Journal.open(tmp_path) as j:
        for read in (lambda: j.cached(run_id, key), lambda: j.get_run(run_id)):
            with pytest.raises(JournalError, match="not valid JSON") as err:
                read()
            assert str(journal_path(tmp_path)) in str(err.value) and "Hint: " in str(err.value)


def test_closed_journal(tmp_path: Path) -> None:
    j = Journal.open(tmp_path)
    j.close()
    with pytest.raises(JournalError, match="closed"):
        j.list_runs()


# ---------------------------------------------------------------------------- totals and views


def populated(j: Journal) -> str:
    run_id = j.start_run("pr-review", "pr.wf", SOURCE, {"pr": 17}, {"agents": 5, "output_tokens": 9000})
    done(j, run_id, request("a", label="review a.py", phase="review"), {"ok": True}, out=1200)
    done(j, run_id, request("b", label="review [bold]b.py[/bold]", phase="review"), {"ok": False}, out=800)
    failed(j, run_id, request("c", label="review c.py", phase="review"), error="timed out")
    done(j, run_id, request("s", label="summarize", phase="summary"), "all good", out=345)
    j.add_log(run_id, "review", "2 of 3 reviews done")
    j.finish_run(run_id, "done", {"verdict": "approve", "notes": ["n1"]})
    return run_id


def test_usage_totals_per_run_and_phase(journal: Journal) -> None:
    run_id = populated(journal)
    detail = journal.get_run(run_id)
    assert detail.usage.output_tokens == 2345 == detail.run.usage.output_tokens
    assert detail.usage.input_tokens == 3 * 2345 + 5
    phases = {p.phase: p for p in detail.phases}
    assert list(phases) == ["review", "summary"]
    assert (phases["review"].agents_done, phases["review"].agents_failed) == (2, 1)
    assert phases["review"].usage.output_tokens == 2000
    assert phases["summary"].agent_seconds == pytest.approx(2.5)
    [summary] = journal.list_runs()
    assert (summary.agents_done, summary.agents_failed, summary.usage.output_tokens) == (3, 1, 2345)


def test_views_render(journal: Journal) -> None:
    run_id = populated(journal)
    console = Console(record=True, width=100)
    render_runs(console, journal.list_runs())
    text = console.export_text()
    assert run_id in text and "pr-review" in text and "done" in text
    row = next(line for line in text.splitlines() if run_id in line)
    assert row.split()[-2:] == ["3/1", "2,345"]  # agents done/failed, output tokens

    console = Console(record=True, width=100)
    render_run(console, journal.get_run(run_id))
    text = console.export_text()
    for expected in [
        run_id,
        "review a.py",
        "review [bold]b.py[/bold]",  # user text is not parsed as markup
        "review c.py",
        "timed out",
        "summarize",
        "1,200",
        "2,345",
        "2 of 3 reviews done",
        '"verdict": "approve"',
        '"pr": 17',
    ]:
        assert expected in text, expected

    empty = Console(record=True, width=100)
    render_runs(empty, [])
    assert "No runs" in empty.export_text()


def test_views_json(journal: Journal) -> None:
    run_id = populated(journal)
    listed = runs_json(journal.list_runs())
    assert listed[0]["id"] == run_id and listed[0]["usage"]["output_tokens"] == 2345
    shown = run_json(journal.get_run(run_id))
    assert shown["result"] == {"verdict": "approve", "notes": ["n1"]}
    assert [a["label"] for a in shown["agents"]][:1] == ["review a.py"]
    assert shown["phases"][0]["agents_failed"] == 1
    json.dumps(listed), json.dumps(shown)  # plain data all the way down
