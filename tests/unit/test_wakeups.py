"""Early ticks (bot/wiring.py, Wakeups): a service asks for one, the scheduler's job runs
the one tick, and a tick never runs twice at once."""

from __future__ import annotations

import asyncio

from bot.wiring import MAX_ROUNDS, Wakeups


def asking(wakeups: Wakeups) -> list[int]:
    asked: list[int] = []
    wakeups.run_now = lambda: asked.append(1)
    return asked


async def test_a_request_while_idle_asks_the_scheduler_and_is_pending_until_a_tick_runs() -> None:
    wakeups = Wakeups()
    asked = asking(wakeups)
    wakeups.request()
    wakeups.request()  # the scheduler makes both one run (bot/app.py, _run_now)
    assert asked == [1, 1] and wakeups.pending
    ran: list[int] = []

    async def tick() -> None:
        ran.append(1)

    await wakeups.run(tick)
    assert ran == [1] and not wakeups.pending


async def test_a_request_during_a_tick_is_served_by_that_run() -> None:
    wakeups = Wakeups()
    asked = asking(wakeups)
    ran: list[int] = []

    async def tick() -> None:
        ran.append(1)
        if len(ran) == 1:
            wakeups.request()  # a page refused for good while this run pages

    await wakeups.run(tick)
    assert ran == [1, 1] and asked == [] and not wakeups.pending


async def test_a_request_before_the_scheduler_is_connected_waits_for_the_next_tick() -> None:
    wakeups = Wakeups()
    wakeups.request()
    assert wakeups.pending

    async def tick() -> None:
        pass

    await wakeups.run(tick)
    assert not wakeups.pending


async def test_two_runs_never_overlap() -> None:
    wakeups = Wakeups()
    inside = 0
    most = 0

    async def tick() -> None:
        nonlocal inside, most
        inside += 1
        most = max(most, inside)
        await asyncio.sleep(0.01)
        inside -= 1

    await asyncio.gather(wakeups.run(tick), wakeups.run(tick))
    assert most == 1


async def test_a_tick_that_wakes_itself_every_time_stops_and_leaves_it_to_the_next_run() -> None:
    wakeups = Wakeups()
    ran: list[int] = []

    async def tick() -> None:
        ran.append(1)
        wakeups.request()

    await wakeups.run(tick)
    assert len(ran) == MAX_ROUNDS and wakeups.pending
