"""OrderedSlots: agents asked for in the same moment start in program order, the limit
holds, and a cancelled waiter gives its place (or its slot) back."""

from __future__ import annotations

import pytest
import trio
import trio.testing

from tests.runtime.test_interpreter import HEADER, Double
from wflang.dsl.parser import parse
from wflang.runtime.interpreter import run_program
from wflang.runtime.scheduler import Limits, Scheduler
from wflang.runtime.slots import OrderedSlots

FANOUT = HEADER + """
input xs: list[int] max 200
r = fanout x in xs:
    a = agent "first {x}"
    agent "second {x} after {a}"
return r
"""
FIRST = "a · x "  # the first step's labels: `a · x 1`, `a · x 2`, ...


async def _start_times(width: int) -> dict[str, float]:
    """When each agent started, relative to the run's start (latencies 1, 2 or 3 s)."""
    double = Double(latency=lambda r: 1.0 + int(r.prompt.split()[1]) % 3)
    program = parse(FANOUT, "t.wf")
    t0 = trio.current_time()
    await run_program(program, {"xs": list(range(40))}, Scheduler(double, ".", Limits(concurrency=width)))
    return {label: t - t0 for label, t in double.starts.items()} | {"end": trio.current_time() - t0}


@pytest.mark.trio
async def test_a_fanout_starts_its_items_in_item_order_on_every_run(autojump_clock):
    # trio runs the tasks of one batch forwards or reversed at random: over eight runs a
    # start order taken from the task order would differ at least once.
    runs = [await _start_times(4) for _ in range(8)]
    first = runs[0]
    assert sorted(label for label, t in first.items() if t == 0) == [FIRST + "1", FIRST + "2", FIRST + "3", FIRST + "4"]
    firsts = sorted((t, int(label.rsplit(" ", 1)[1])) for label, t in first.items() if label.startswith(FIRST))
    assert [i for _, i in firsts] == list(range(1, 41))  # first steps start in item order
    assert all(r == first for r in runs)  # the same start times, so the same makespan

async def test_the_limit_holds_and_every_waiter_gets_a_slot():
    slots = OrderedSlots(3)
    in_slot = peak = 0
    got: list[int] = []

    async def worker(i: int) -> None:
        nonlocal in_slot, peak
        await slots.acquire((i,))
        try:
            got.append(i)
            in_slot += 1
            peak = max(peak, in_slot)
            await trio.sleep(0.001 * (i % 4))
        finally:
            in_slot -= 1
            slots.release()

    async with trio.open_nursery() as nursery:
        for i in reversed(range(30)):  # asked in reverse: started in order all the same
            nursery.start_soon(worker, i)
    assert peak == 3 and sorted(got) == list(range(30))
    assert sorted(got[:3]) == [0, 1, 2]  # the first three in order (they start in the same moment)
    assert slots.borrowed == 0


async def test_a_cancelled_waiter_leaves_the_queue_and_a_cancelled_holder_frees_its_slot():
    slots = OrderedSlots(1)
    await slots.acquire((0,))
    with trio.move_on_after(0.01):
        await slots.acquire((1,))  # waits: cancelled while queued
    assert slots.borrowed == 1
    slots.release()
    with trio.CancelScope() as scope:
        scope.cancel()
        with pytest.raises(trio.Cancelled):
            await slots.acquire((2,))
    assert slots.borrowed == 0
    await slots.acquire((3,))  # the slot is free again
    assert slots.borrowed == 1
    slots.release()


LIMITED = HEADER + """
input xs: list[int] max 200
r = fanout x in xs with concurrency=3:
    agent "go {x}"
return r
"""


@pytest.mark.trio
async def test_the_fanout_concurrency_option_starts_items_in_item_order_on_every_run(autojump_clock):
    # `with concurrency=3` has its own slots (under the run's 16): ordered as well.
    orders = []
    for _ in range(8):
        double = Double(latency=lambda r: 1.0 + int(r.prompt.split()[1]) % 2)
        await run_program(parse(LIMITED, "t.wf"), {"xs": list(range(24))}, Scheduler(double, "."))
        assert double.max_in_flight == 3
        t0 = min(double.starts.values())
        orders.append({c.prompt: double.starts[c.label] - t0 for c in double.calls})
    assert sorted(p for p, t in orders[0].items() if t == 0) == ["go 0", "go 1", "go 2"]
    by_start = sorted(orders[0], key=lambda p: (orders[0][p], int(p.split()[1])))
    assert by_start == [f"go {i}" for i in range(24)]  # slots handed out in item order
    assert all(o == orders[0] for o in orders)  # the same start times on every run


async def test_wait_idle_returns_once_every_other_task_is_blocked():
    from wflang.runtime.slots import wait_idle

    steps: list[int] = []

    async def busy(n: int) -> None:
        for i in range(n):
            await trio.lowlevel.checkpoint()  # runnable again at once: not idle
            steps.append(i)
        await trio.sleep_forever()

    async with trio.open_nursery() as nursery:
        nursery.start_soon(busy, 50)
        await trio.lowlevel.checkpoint()
        await wait_idle()
        assert len(steps) == 50  # the busy task ran to its sleep before we woke
        nursery.cancel_scope.cancel()
