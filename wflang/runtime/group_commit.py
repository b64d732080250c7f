"""Group commit: journal finished agents off the event loop, many per fsync.

A commit with `synchronous=FULL` costs one fsync (0.07 ms on a fast local disk, 4 ms and
more on a laptop's or a cloud volume's). Made on the event loop, every commit would stall
every other agent; made one per agent, 1,000 agents would cost 1,000 fsyncs.

`GroupCommit.commit(row)` returns once the row is durable. The first agent of a group
yields once, so every agent that finished in the same moment joins the group, then waits
for the single writer (a `trio.Lock`: one transaction in flight at a time) and writes the
whole group in a worker thread: one transaction and one fsync. Agents finishing while a
group is being written form the next group. The caller awaits its group, so an agent's
result is still used only after it is on disk.

Log lines (`log`) do not wait: they ride along with the next group, or are written by
`flush` at the end of the run, so a log line never costs an fsync of its own on the
event loop. A SIGKILL can lose the lines logged since the last group, never an agent.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from trio.lowlevel import Task

    from wflang.runtime.journal import AgentRow, Journal


class _Group:
    """The rows of one transaction, and the members parked until it is written."""

    __slots__ = ("rows", "parked", "written", "error")

    def __init__(self) -> None:
        self.rows: list[AgentRow] = []
        # The members waiting for the write: trio's low-level wait (what an Event does
        # inside, without its parking lot), one wake-up each when the group is written.
        self.parked: list[Task] = []
        self.written = False
        self.error: BaseException | None = None

    async def wait_written(self) -> None:
        """Return once the leader has written the group (a cancellation point, as
        `Event.wait`: a member cancelled while it waits leaves the group's wake-ups)."""
        if self.written:
            await trio.lowlevel.checkpoint()
            return
        task = trio.lowlevel.current_task()
        self.parked.append(task)

        def abort(_: object) -> trio.lowlevel.Abort:
            self.parked.remove(task)
            return trio.lowlevel.Abort.SUCCEEDED

        await trio.lowlevel.wait_task_rescheduled(abort)

    def set_written(self) -> None:
        self.written = True
        parked, self.parked = self.parked, []
        for task in parked:
            trio.lowlevel.reschedule(task)


class GroupCommit:
    def __init__(self, journal: Journal, run_id: str) -> None:
        self.journal = journal
        self.run_id = run_id
        self.groups = 0  # transactions made, for the benchmark and tests
        self.rows = 0
        self._open: _Group | None = None
        self._writer = trio.Lock()
        # One thread at a time touches the connection (the Journal's lock serialises it
        # too); a limiter of one keeps trio from starting a second worker for it.
        self._thread = trio.CapacityLimiter(1)
        self._logs: list[tuple[float, str | None, str]] = []

    def log(self, phase: str | None, message: str) -> None:
        """Journal a log line with the next group (or at `flush`); returns at once."""
        self._logs.append((time.time(), phase, message))

    def flush(self) -> None:
        """Write the log lines still waiting; call it outside the event loop, at the end."""
        if self._logs:
            logs, self._logs = self._logs, []
            self.journal.add_logs(self.run_id, logs)

    async def commit(self, row: AgentRow) -> None:
        """Return when `row` is committed; raise the journal's error if the write failed."""
        group = self._open
        leader = group is None
        if group is None:
            group = self._open = _Group()
        group.rows.append(row)
        if leader:
            # Shielded: a row handed over is written even when the run is being cancelled
            # (Ctrl-C), so what finished is not lost; the wait is one transaction at most.
            with trio.CancelScope(shield=True):
                await trio.sleep(0)  # let the agents that finished in the same moment join
                async with self._writer:
                    if self._open is group:
                        self._open = None  # later rows form the next group
                    logs, self._logs = self._logs, []
                    try:
                        await trio.to_thread.run_sync(self.journal.record_agents, self.run_id, group.rows, logs,
                                                      limiter=self._thread)
                        self.groups += 1
                        self.rows += len(group.rows)
                    except BaseException as exc:  # the members re-raise it
                        group.error = exc
                    finally:
                        group.set_written()
        else:
            # A member's row is written by its leader, shielded; a member cancelled while
            # it waits only never uses its result (no scope per agent: they cost).
            await group.wait_written()
        if group.error is not None:
            if leader:
                raise group.error
            from wflang.runtime.journal import JournalError

            # One exception object per task: the members of a group do not share one.
            raise JournalError(str(group.error)) from None
