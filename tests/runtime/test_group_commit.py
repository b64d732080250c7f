"""Group commit: agents that finish in the same moment share one transaction, every row
is durable before its agent's result is used, and a failed write reaches every member."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
import trio

from tests.runtime.test_interpreter import HEADER, Double
from wflang.dsl.parser import parse
from wflang.runtime.backend import AgentRequest, AgentResult
from wflang.runtime.group_commit import GroupCommit
from wflang.runtime.interpreter import run_program
from wflang.runtime.journal import Journal, JournalError, agent_row, content_key
from wflang.runtime.scheduler import Limits, Scheduler

TWO_STEPS = HEADER + """
input xs: list[int] max 500
r = fanout x in xs:
    a = agent "first {x}"
    agent "second {x} after {a}"
return r
"""


class SlowJournal(Journal):
    """Each transaction takes 20 ms (a slow disk's fsync) and is logged with its rows."""

    def record_agents(self, run_id: str, rows: list, logs: list | None = None) -> None:
        assert threading.current_thread() is not threading.main_thread()  # off the event loop
        time.sleep(0.02)
        super().record_agents(run_id, rows, logs)
        self.committed.extend(r.params[1] for r in rows)
        self.groups.append(len(rows))


def _open_slow(tmp_path: Path) -> SlowJournal:
    j = Journal.open(tmp_path)
    slow = SlowJournal(j.path, j._conn)
    slow.committed, slow.groups = [], []
    return slow


async def test_agents_finishing_together_share_one_transaction(tmp_path: Path):
    journal = _open_slow(tmp_path)
    run_id = journal.start_run("t", "t.wf", TWO_STEPS, {})
    sched = Scheduler(Double(), tmp_path, Limits(concurrency=16), journal=journal, run_id=run_id)
    out = await run_program(parse(TWO_STEPS, "t.wf"), {"xs": list(range(200))}, sched)
    assert len(out.value) == 200
    rows = journal.get_run(run_id).agents
    assert len(rows) == 400 and all(a.status == "done" for a in rows)
    assert sum(journal.groups) == 400
    # 400 agents, 16 at a time: one transaction per agent would be 400 of them.
    assert len(journal.groups) < 400 / 4 and max(journal.groups) > 16
    journal.close()


async def test_a_result_is_used_only_after_its_row_is_committed(tmp_path: Path):
    journal = _open_slow(tmp_path)
    run_id = journal.start_run("t", "t.wf", TWO_STEPS, {})

    class Checking(Double):
        async def run_agent(self, request: AgentRequest, workspace: Path) -> AgentResult:
            if request.prompt.startswith("second"):
                # The first step's answer is in this prompt: its row must be on disk.
                x = request.prompt.split()[1]
                first = AgentRequest(prompt=f"first {x}", schema=None, label="", sample_index=0)
                assert content_key(first) in journal.committed
            return await super().run_agent(request, workspace)

    double = Checking()
    sched = Scheduler(double, tmp_path, Limits(concurrency=8), journal=journal, run_id=run_id)
    await run_program(parse(TWO_STEPS, "t.wf"), {"xs": list(range(40))}, sched)
    assert len(double.calls) == 80
    journal.close()


async def test_a_failed_write_fails_every_member_of_the_group(tmp_path: Path):
    journal = Journal.open(tmp_path)
    run_id = journal.start_run("t", "t.wf", "src", {})
    commits = GroupCommit(journal, "r-missing")  # no such run: the write is refused
    req = AgentRequest(prompt="p", schema=None, label="l")
    errors: list[str] = []

    async def member(i: int) -> None:
        try:
            await commits.commit(agent_row(run_id, f"k{i}", req, "failed", None, "x", None, 0.0, 1.0))
        except JournalError as exc:
            errors.append(str(exc))

    async with trio.open_nursery() as nursery:
        for i in range(5):
            nursery.start_soon(member, i)
    assert len(errors) == 5 and all("no run r-missing" in e for e in errors)
    journal.close()


async def test_a_row_handed_over_is_written_even_when_the_run_is_cancelled(tmp_path: Path):
    journal = _open_slow(tmp_path)
    run_id = journal.start_run("t", "t.wf", "src", {})
    commits = GroupCommit(journal, run_id)
    req = AgentRequest(prompt="p", schema=None, label="l")
    with trio.CancelScope() as scope:
        scope.cancel()  # already cancelled when the row is handed over
        await commits.commit(agent_row(run_id, "k", req, "failed", None, "x", None, 0.0, 1.0))
    assert journal.committed == ["k"]
    assert [a.key for a in journal.get_run(run_id).agents] == ["k"]
    journal.close()


async def test_a_member_cancelled_while_it_waits_stops_waiting_and_its_row_is_still_written(tmp_path: Path):
    journal = _open_slow(tmp_path)
    run_id = journal.start_run("t", "t.wf", "src", {})
    commits = GroupCommit(journal, run_id)
    req = AgentRequest(prompt="p", schema=None, label="l")
    scopes = {key: trio.CancelScope() for key in ("a", "b")}
    outcome: list[str] = []

    async def agent(key: str) -> None:
        with scopes[key]:
            await commits.commit(agent_row(run_id, key, req, "failed", None, "x", None, 0.0, 1.0))
            outcome.append(f"{key} written")
            return
        outcome.append(f"{key} cancelled")

    async with trio.open_nursery() as nursery:
        await commits._writer.acquire()  # held: both rows wait in one group, unwritten
        nursery.start_soon(agent, "a")
        nursery.start_soon(agent, "b")
        while commits._open is None or len(commits._open.rows) < 2:
            await trio.sleep(0)
        leader, member = (row.params[1] for row in commits._open.rows)
        scopes[member].cancel()  # the member is parked, waiting for the write
        while len(outcome) < 1:
            await trio.sleep(0)
        commits._writer.release()
    assert outcome == [f"{member} cancelled", f"{leader} written"]
    assert sorted(journal.committed) == ["a", "b"]  # handed over: written all the same
    journal.close()


@pytest.mark.parametrize("n", [1, 7])
async def test_counts(tmp_path: Path, n: int):
    journal = Journal.open(tmp_path)
    run_id = journal.start_run("t", "t.wf", "src", {})
    commits = GroupCommit(journal, run_id)
    req = AgentRequest(prompt="p", schema=None, label="l")
    async with trio.open_nursery() as nursery:
        for i in range(n):
            nursery.start_soon(commits.commit, agent_row(run_id, f"k{i}", req, "failed", None, "x", None, 0, 1))
    assert (commits.groups, commits.rows) == (1, n)  # finished in the same moment: one transaction
    journal.close()


async def test_log_lines_ride_with_the_next_group_and_flush_writes_the_rest(tmp_path: Path):
    journal = _open_slow(tmp_path)
    run_id = journal.start_run("t", "t.wf", "src", {})
    commits = GroupCommit(journal, run_id)
    req = AgentRequest(prompt="p", schema=None, label="l")
    commits.log("A", "first")
    commits.log(None, "second")
    assert journal.get_run(run_id).logs == []  # not written on the event loop
    await commits.commit(agent_row(run_id, "k", req, "failed", None, "x", None, 0.0, 1.0))
    assert journal.groups == [1]  # the row and both lines: one transaction
    commits.log("B", "third")
    commits.flush()
    logs = journal.get_run(run_id).logs
    assert [(line.seq, line.phase, line.message) for line in logs] == [
        (1, "A", "first"), (2, None, "second"), (3, "B", "third")]
    journal.close()
