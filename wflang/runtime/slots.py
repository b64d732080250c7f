"""Concurrency slots handed out in a deterministic order.

`trio.CapacityLimiter` is FIFO in the order tasks *ask*, but trio runs the tasks of one
scheduling batch in a random order (forwards or reversed), so the 1,000 items of a
fan-out ask in a different order on every run and the makespan varies with it.

`OrderedSlots` fixes the order: agents that ask in the same moment (before the event
loop next goes idle) are queued sorted by their position in the program (`order`, the
loop indices, outermost first; ties in asking order), behind everyone who asked earlier.
A freed slot goes to the head of that FIFO at once. The JS runtime starts the items of a
fan-out in item order too, so both targets start agents in the same order.

"The event loop next goes idle" is found with trio's public instrument API
(`trio.lowlevel.add_instrument`): the run loop calls `before_io_wait` once per pass, and
when no task is runnable then, every task that could ask has asked. (The private
`trio._core.wait_all_tasks_blocked` did the same; `trio.testing`'s public copy imports
pytest when it is installed, 50 ms at every `wf run`.)
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from collections import deque
from typing import TYPE_CHECKING

import trio

if TYPE_CHECKING:
    from trio.lowlevel import Task


class _Idle(trio.abc.Instrument):
    """Sets `event` once the run loop finds no runnable task before it waits for I/O."""

    def __init__(self) -> None:
        self.event = trio.Event()
        self._token = trio.lowlevel.current_trio_token()
        self._asked = False

    def before_io_wait(self, timeout: float) -> None:
        if self._asked:
            return
        try:
            idle = trio.lowlevel.current_statistics().tasks_runnable == 0
        except Exception:  # pragma: no cover - never leave the waiter hanging
            idle = True
        if idle:
            self._asked = True
            # Not `event.set()` here: the loop has already chosen how long to sleep; a
            # callback wakes it at once and runs in the next pass.
            self._token.run_sync_soon(self.event.set)


async def wait_idle() -> None:
    """Return once every other task of the run is blocked (waiting, not runnable)."""
    idle = _Idle()
    trio.lowlevel.add_instrument(idle)
    try:
        await idle.event.wait()
    finally:
        with contextlib.suppress(KeyError):
            trio.lowlevel.remove_instrument(idle)


class _Waiter:
    """One agent waiting for a slot; compared by identity (two waiters are never equal)."""

    __slots__ = ("order", "seq", "task", "granted", "turn")

    def __init__(self, order: tuple[int, ...], seq: int) -> None:
        self.order = order
        self.seq = seq
        self.task: Task | None = None  # set while it is parked (waiting to be rescheduled)
        self.granted = False
        self.turn = -1  # the how-many-th slot handed out: the deterministic start order


_ORDER = operator.attrgetter("order", "seq")  # a wave's sort key: program order, then asking order


class OrderedSlots:
    def __init__(self, total: int) -> None:
        self.total = max(1, total)
        self.borrowed = 0
        self._fifo: deque[_Waiter] = deque()
        self._arriving: list[_Waiter] = []
        self._dispatching = False
        self._seq = itertools.count()
        self._turns = itertools.count()

    async def acquire(self, order: tuple[int, ...] = ()) -> int:
        """Wait for a slot; return its turn (0, 1, 2 ...: the order slots were handed out,
        which is the same on every run, unlike the order the tasks then run in)."""
        waiter = _Waiter(order, next(self._seq))
        self._arriving.append(waiter)
        try:
            if not self._dispatching:
                # The first of a wave waits until every task that can run has run, so the
                # whole wave is queued, sorted, before any of it gets a slot.
                self._dispatching = True
                try:
                    await wait_idle()
                finally:
                    self._dispatching = False
                    self._queue_arrivals()
            if waiter.granted:
                await trio.lowlevel.checkpoint()  # a cancellation point all the same
            else:
                # Parked until `_grant` reschedules it: trio's low-level wait, as an Event
                # does it, without an Event and its parking lot per agent.
                waiter.task = trio.lowlevel.current_task()
                await trio.lowlevel.wait_task_rescheduled(lambda _: self._abort(waiter))
            return waiter.turn
        except BaseException:
            if waiter.granted:
                self.release()
            else:
                self._forget(waiter)
            raise

    def _abort(self, waiter: _Waiter) -> trio.lowlevel.Abort:
        """A parked waiter is cancelled: it leaves the queue (it was not granted, or it
        would no longer be parked)."""
        waiter.task = None
        self._forget(waiter)
        return trio.lowlevel.Abort.SUCCEEDED

    def release(self) -> None:
        self.borrowed -= 1
        self._grant()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def _queue_arrivals(self) -> None:
        wave = sorted(self._arriving, key=_ORDER)
        self._arriving.clear()
        self._fifo.extend(wave)
        self._grant()

    def _grant(self) -> None:
        while self._fifo and self.borrowed < self.total:
            waiter = self._fifo.popleft()
            waiter.granted = True
            waiter.turn = next(self._turns)
            self.borrowed += 1
            if waiter.task is not None:  # parked; else it sees `granted` before it would park
                trio.lowlevel.reschedule(waiter.task)
                waiter.task = None

    def _forget(self, waiter: _Waiter) -> None:
        if waiter in self._arriving:
            self._arriving.remove(waiter)
        elif waiter in self._fifo:
            self._fifo.remove(waiter)
