"""Concurrency slots handed out in a deterministic order.

`trio.CapacityLimiter` is FIFO in the order tasks *ask*, but trio runs the tasks of one
scheduling batch in a random order (forwards or reversed), so the 1,000 items of a
fan-out ask in a different order on every run and the makespan varies with it.

`OrderedSlots` fixes the order: agents that ask in the same moment (before the event
loop next goes idle) are queued sorted by their position in the program (`order`, the
loop indices, outermost first; ties in asking order), behind everyone who asked earlier.
A freed slot goes to the head of that FIFO at once. The JS runtime starts the items of a
fan-out in item order too, so both targets start agents in the same order.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field

import trio

try:
    # The function trio.testing re-exports: importing trio.testing itself also imports
    # pytest when it is installed (0.3 s at every `wf run`).
    from trio._core import wait_all_tasks_blocked
except ImportError:  # pragma: no cover - a trio that moved it
    from trio.testing import wait_all_tasks_blocked


@dataclass(eq=False)  # compared by identity: two waiters are never equal
class _Waiter:
    order: tuple[int, ...]
    seq: int
    event: trio.Event = field(default_factory=trio.Event)
    granted: bool = False
    turn: int = -1  # the how-many-th slot handed out: the deterministic start order


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
                    await wait_all_tasks_blocked()
                finally:
                    self._dispatching = False
                    self._queue_arrivals()
            await waiter.event.wait()
            return waiter.turn
        except BaseException:
            if waiter.granted:
                self.release()
            else:
                self._forget(waiter)
            raise

    def release(self) -> None:
        self.borrowed -= 1
        self._grant()

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def _queue_arrivals(self) -> None:
        wave = sorted(self._arriving, key=lambda w: (w.order, w.seq))
        self._arriving.clear()
        self._fifo.extend(wave)
        self._grant()

    def _grant(self) -> None:
        while self._fifo and self.borrowed < self.total:
            waiter = self._fifo.popleft()
            waiter.granted = True
            waiter.turn = next(self._turns)
            self.borrowed += 1
            waiter.event.set()

    def _forget(self, waiter: _Waiter) -> None:
        if waiter in self._arriving:
            self._arriving.remove(waiter)
        elif waiter in self._fifo:
            self._fifo.remove(waiter)
