"""The journal rows of a fixed run, byte for byte, against golden values written by the
code before the per-agent fast paths (issue 11): the content keys (so journals written by
earlier versions keep their hits on --resume), every stored JSON column and every stored
text. A run through the whole engine (interpreter, scheduler, journal), so each agent site
kind is covered: a fan-out with a record, a list and a bool result, a plain-text agent
with options, a tool-less one, the copies of a vote (sample indices), a phase."""

from __future__ import annotations

import json
import os
import textwrap
from pathlib import Path
from typing import Any

import trio

from wflang.dsl.parser import parse
from wflang.runtime.backends.fake import FakeBackend
from wflang.runtime.interpreter import run_program
from wflang.runtime.journal import Journal
from wflang.runtime.scheduler import Limits, Scheduler

GOLDEN = Path(__file__).with_name("journal_golden.json")
SOURCE = textwrap.dedent("""\
    workflow golden:
        description: "every kind of agent site, journaled"
    input xs: list[int] max 10
    input topic: str = "caches"
    defaults effort="low"
    type Note:
        n: int
        tag: "a" | "b"
        text: str?
    notes = fanout i, x in enumerate(xs):
        agent "note {x} of {i} on {topic}" -> Note
    lists = fanout x in xs:
        agent "list {x}" -> list[int] max 3 with label="lists {x}", model="haiku"
    flags = fanout x in xs:
        agent "flag {x}" -> bool with tools=none
    phase "Decide":
        choice = vote 3:
            agent "pick one of {notes}" -> Note with model="sonnet", effort="high"
        text = agent "summarize {lists} {flags} {choice}" with label="summary"
    return {notes: notes, lists: lists, flags: flags, choice: choice, text: text}
""")
ARGS: dict[str, Any] = {"xs": [3, 1, 2], "topic": "caches ü \u2028 \"quoted\" sk-ant-api03-AbC_dEf-123456789"}
COLUMNS = ("key", "sample_index", "label", "phase", "model", "model_id", "effort", "agent_type", "isolation",
           "prompt", "schema_json", "status", "result_json", "error", "input_tokens", "output_tokens",
           "cache_read_tokens", "cache_write_tokens")


def _journaled_rows(ws: Path) -> tuple[Any, list[dict[str, Any]]]:
    journal = Journal.open(ws)
    try:
        run_id = journal.start_run("golden", "golden.wf", SOURCE, ARGS)
        sched = Scheduler(FakeBackend({"rules": [], "default": "schema"}), ws, Limits(bound=100),
                          journal=journal, run_id=run_id)
        outcome = trio.run(run_program, parse(SOURCE, "golden.wf"), dict(ARGS), sched)
        sched.flush_journal()
        with journal._tx(write=False) as conn:
            rows = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM agents WHERE run_id = ? ORDER BY key, "
                                "sample_index, label", (run_id,)).fetchall()
        return outcome.value, [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    finally:
        journal.close()


def test_the_journal_rows_are_the_golden_ones(tmp_path: Path) -> None:
    value, rows = _journaled_rows(tmp_path)
    if os.environ.get("WF_UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps({"value": value, "rows": rows}, indent=1, ensure_ascii=False) + "\n")
    golden = json.loads(GOLDEN.read_text())
    assert len(rows) == len(golden["rows"]) == 13
    for row, want in zip(rows, golden["rows"], strict=True):
        assert row == want
    assert value == golden["value"]


def test_a_journal_of_the_golden_keys_is_served_on_resume(tmp_path: Path) -> None:
    """A journal holding the golden rows (as an earlier version wrote them) answers every
    agent of the same run: no agent reaches the backend."""
    journal = Journal.open(tmp_path)
    golden = json.loads(GOLDEN.read_text())
    try:
        run_id = journal.start_run("golden", "golden.wf", SOURCE, ARGS)
        with journal._tx(write=True) as conn:
            conn.executemany(
                f"INSERT INTO agents (run_id, {', '.join(COLUMNS)}, started, finished, duration) VALUES "
                f"({', '.join('?' * (len(COLUMNS) + 1))}, 1.0, 2.0, 1.0)",
                [(run_id, *(row[c] for c in COLUMNS)) for row in golden["rows"]])

        class Unreachable(FakeBackend):
            async def run_agent(self, request: Any, workspace: Path) -> Any:
                raise AssertionError(f"{request.label} was not served from the journal")

        sched = Scheduler(Unreachable({"rules": [], "default": "schema"}), tmp_path, Limits(bound=100),
                          journal=journal, run_id=run_id, resume=True)
        outcome = trio.run(run_program, parse(SOURCE, "golden.wf"), dict(ARGS), sched)
    finally:
        journal.close()
    assert sched.served == 13 and sched.fresh == 0
    assert outcome.value == golden["value"]
