"""Shift reminders, handoffs, coverage gaps and unreachable responders, end to end."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support.harness import BotHarness
from tests.support.personas import RESPONDERS, Cast
from tests.support.steps import (
    ANNA,
    BORIS,
    confirm_last,
    make_rotation,
    panic,
    route_step_one_to,
    texts,
)


async def at(h: BotHarness, when: datetime) -> None:
    """Move the clock to `when` and let the scheduler's minute tick run."""
    await h.advance((when - h.clock.now()).total_seconds())
    await h.services.watch.tick()
    await h.settle()


async def test_a_responder_is_reminded_before_their_shift_and_both_sides_hear_the_handoff(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}, {BORIS}"
    )
    await panic(harness, enrolled.contacts[0])
    await anna.press_button("Acknowledge")
    await harness.settle()
    await at(harness, datetime(2026, 3, 2, 4, 59, tzinfo=UTC))
    assert not any(t.startswith("Reminder") for t in texts(boris))
    await at(harness, datetime(2026, 3, 2, 5, 0, tzinfo=UTC))
    assert texts(boris)[-1] == (
        "Reminder: your shift in Moscow day starts Mon 2026-03-02 06:00 UTC (in 60 min)."
    )
    await at(harness, datetime(2026, 3, 2, 5, 30, tzinfo=UTC))
    assert sum(t.startswith("Reminder") for t in texts(boris)) == 1
    await at(harness, datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    for person in (anna, boris):
        handoff = texts(person)[-1]
        assert handoff.startswith(f"Handoff in Moscow day: now on call: {BORIS} (before: {ANNA}).")
        assert f"Open alert #1 (PANIC) is held by {ANNA}." in handoff
    # A restart within the grace period does not repeat it.
    await harness.services.watch.tick()
    await harness.settle()
    assert sum(t.startswith("Handoff") for t in texts(boris)) == 1


async def test_a_coverage_gap_is_reported_right_after_the_change_that_makes_it(
    harness: BotHarness, enrolled: Cast
) -> None:
    coordinator = enrolled.coordinator
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1w | 2026-03-01 09:00 | {ANNA}"
    )
    await route_step_one_to(harness, "Moscow day")
    await harness.reply_to(
        coordinator, f"/override Moscow day | remove | {ANNA} | 2026-03-03 10:00 | +8h"
    )
    await confirm_last(harness, coordinator)
    await harness.settle()
    assert "Override #1 is in place." in texts(coordinator)
    (report,) = [t for t in texts(coordinator) if t.startswith("Coverage gaps")]
    assert report.startswith("Coverage gaps in the next 7 days (no one would be paged):")
    assert "policy 'default' step 1: Tue 2026-03-03 10:00 UTC - Tue 2026-03-03 18:00 UTC" in report
    # The daily report says it once a day, not once a tick.
    count = len(texts(coordinator))
    await harness.services.watch.tick()
    await harness.services.watch.tick()
    await harness.settle()
    assert len(texts(coordinator)) == count + 1
    assert texts(coordinator)[-1] == report


async def test_a_responder_who_blocked_the_bot_is_flagged_with_the_rotations_that_need_them(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna = enrolled.responders[0]
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1w | 2026-03-01 09:00 | {ANNA}"
    )
    anna.block()
    await panic(harness, enrolled.contacts[0])
    await harness.emu.wait_for(
        lambda: any("cannot be reached" in t for t in texts(enrolled.coordinator)),
        what="the coordinator told",
    )
    flag = next(t for t in texts(enrolled.coordinator) if "cannot be reached" in t)
    assert flag.startswith(f"{RESPONDERS[0][1]} cannot be reached")
    assert flag.endswith("Rotations that depend on them: Moscow day.")


async def test_shifts_lists_a_responders_next_shifts_and_remind_sets_when_they_hear(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}, {BORIS}"
    )
    await harness.reply_to(boris, "/tz Europe/Moscow")
    listing = await harness.reply_to(boris, "/shifts")
    assert listing.startswith(
        "Your next shifts:\nMon 2026-03-02 09:00 MSK - Tue 2026-03-03 09:00 MSK"
    )
    assert await harness.reply_to(boris, "/remind 2h") == (
        "You will be reminded 120 min before each shift."
    )
    assert (await harness.reply_to(boris, "/remind soon")).startswith("Usage: /remind")
    await at(harness, datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    assert texts(boris)[-1] == (
        "Reminder: your shift in Moscow day starts Mon 2026-03-02 09:00 MSK (in 120 min)."
    )
    assert await harness.reply_to(anna, "/remind off") == (
        "Shift reminders are off. Turn them on with /remind 60m."
    )
    await at(harness, datetime(2026, 3, 3, 5, 30, tzinfo=UTC))
    assert not any(t.startswith("Reminder") for t in texts(anna))


async def test_a_berlin_handoff_stays_at_nine_local_across_the_spring_change(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Berlin day | Europe/Berlin | 1d | 2026-03-27 09:00 | {ANNA}, {BORIS}"
    )
    # Saturday 28 March, 09:00 CET = 08:00 UTC: Anna hands over to Boris.
    await at(harness, datetime(2026, 3, 28, 7, 59, tzinfo=UTC))
    assert not any(t.startswith("Handoff") for t in texts(boris))
    await at(harness, datetime(2026, 3, 28, 8, 0, tzinfo=UTC))
    assert texts(boris)[-1].startswith(f"Handoff in Berlin day: now on call: {BORIS}")
    # Sunday 29 March the clocks go forward: 09:00 CEST = 07:00 UTC, a 23-hour shift.
    await at(harness, datetime(2026, 3, 29, 6, 59, tzinfo=UTC))
    assert not texts(anna)[-1].startswith(f"Handoff in Berlin day: now on call: {ANNA}")
    await at(harness, datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    assert texts(anna)[-1].startswith(f"Handoff in Berlin day: now on call: {ANNA}")
    await harness.reply_to(anna, "/tz Europe/Berlin")
    listing = await harness.reply_to(anna, "/oncall")
    assert f"now: {ANNA}, until Mon 2026-03-30 09:00 CEST" in listing


async def test_a_vladivostok_night_handoff_reaches_both_sides(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness,
        enrolled,
        f"Vladivostok night | Asia/Vladivostok | 1d | 2026-03-01 21:00 | {ANNA}, {BORIS}",
    )
    # 21:00 in Vladivostok (UTC+10) is 11:00 UTC.
    await at(harness, datetime(2026, 3, 2, 11, 0, tzinfo=UTC))
    for person in (anna, boris):
        assert texts(person)[-1].startswith(
            f"Handoff in Vladivostok night: now on call: {BORIS} (before: {ANNA})."
        )
