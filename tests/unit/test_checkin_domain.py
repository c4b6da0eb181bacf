"""The check-in state machine (bot/domain/checkin.py): due times, quiet hours, DST, trips."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.domain.checkin import (
    Action,
    Cycle,
    Kind,
    Quiet,
    Schedule,
    ScheduleError,
    State,
    TripTooLong,
    Watch,
    upcoming,
)

H = timedelta(hours=1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def every(hours: float, grace: float = 1, **kw: object) -> Schedule:
    return Schedule(Kind.INTERVAL, grace=H * grace, every=H * hours, **kw)  # type: ignore[arg-type]


def daily(*times: str, grace: float = 1, **kw: object) -> Schedule:
    parsed = tuple(time.fromisoformat(t) for t in times)
    return Schedule(Kind.DAILY, grace=H * grace, times=parsed, **kw)  # type: ignore[arg-type]


def test_interval_due_runs_from_the_last_check_in() -> None:
    w = Watch("Europe/Moscow").scheduled(every(12), utc(2026, 1, 1, 8))
    assert w.next_due_at == utc(2026, 1, 1, 20)
    w = w.checked_in(utc(2026, 1, 1, 10, 30))
    assert w.next_due_at == utc(2026, 1, 1, 22, 30)


def test_daily_times_are_local_and_a_check_in_just_before_counts_for_them() -> None:
    s = daily("09:00", "21:00")
    w = Watch("Asia/Vladivostok").scheduled(s, utc(2026, 1, 1, 0))  # 10:00 local
    assert w.next_due_at == utc(2026, 1, 1, 11)  # 21:00 +10
    # 20:40 local is within 30 minutes of 21:00: the next one is 09:00 tomorrow.
    assert w.checked_in(utc(2026, 1, 1, 10, 40)).next_due_at == utc(2026, 1, 1, 23)
    # 20:00 local is not: 21:00 is still due.
    assert w.checked_in(utc(2026, 1, 1, 10)).next_due_at == utc(2026, 1, 1, 11)


def test_daily_time_keeps_its_local_hour_across_the_berlin_spring_change() -> None:
    s = daily("09:00")
    w = Watch("Europe/Berlin").scheduled(s, utc(2026, 3, 28, 9))
    assert w.next_due_at == utc(2026, 3, 29, 7)  # 09:00 CEST, the day clocks go forward
    w = w.checked_in(utc(2026, 3, 29, 7, 5))
    assert w.next_due_at == utc(2026, 3, 30, 7)
    back = Watch("Europe/Berlin").scheduled(s, utc(2026, 10, 24, 8))
    assert back.next_due_at == utc(2026, 10, 25, 8)  # 09:00 CET after the change back


def test_a_daily_time_inside_the_spring_gap_is_the_instant_clocks_jump() -> None:
    w = Watch("Europe/Berlin").scheduled(daily("02:30"), utc(2026, 3, 28, 12))
    assert w.next_due_at == utc(2026, 3, 29, 1)  # 03:00 CEST


def test_a_due_time_inside_quiet_hours_moves_to_their_end() -> None:
    s = every(4, quiet=Quiet(time(22), time(7)))
    w = Watch("Europe/Moscow").scheduled(s, utc(2026, 1, 1, 17))  # 20:00 MSK
    assert w.next_due_at == utc(2026, 1, 2, 4)  # 00:00 MSK -> 07:00 MSK


def test_up_late_reprompt_down_in_order_each_once() -> None:
    w = Watch("UTC").scheduled(every(12, grace=1), utc(2026, 1, 1))
    due = utc(2026, 1, 1, 12)
    assert w.wake_at(utc(2026, 1, 1, 1)) == due
    w, acts = w.step(due)
    assert acts == [Action.REMIND] and w.state is State.LATE and w.cycle is Cycle.SCHEDULE
    assert w.step(due)[1] == []
    w, acts = w.step(due + H / 2)
    assert acts == [Action.REPROMPT]
    w, acts = w.step(due + H)
    assert acts == [Action.DOWN] and w.state is State.DOWN
    assert w.wake_at(due + H) is None
    up = w.checked_in(due + 2 * H)
    assert up.state is State.UP and up.next_due_at == due + 14 * H


def test_after_a_restart_past_the_grace_the_reminder_and_down_come_once_without_reprompt() -> None:
    w = Watch("UTC").scheduled(every(12, grace=1), utc(2026, 1, 1))
    w, acts = w.step(utc(2026, 1, 1, 15))
    assert acts == [Action.REMIND, Action.DOWN]
    assert w.step(utc(2026, 1, 1, 16))[1] == []


def test_pause_is_sticky_and_the_schedule_restarts_at_its_end() -> None:
    w = Watch("UTC").scheduled(every(12), utc(2026, 1, 1))
    w = w.pause(utc(2026, 1, 5), utc(2026, 1, 1, 1))
    assert w.step(utc(2026, 1, 2))[1] == []
    w = w.checked_in(utc(2026, 1, 3))
    assert w.paused(utc(2026, 1, 3, 1))
    w, acts = w.step(utc(2026, 1, 5))
    assert acts == [Action.UNPAUSE] and w.next_due_at == utc(2026, 1, 5, 12)


def test_a_trip_runs_out_like_a_schedule_and_the_contacts_extensions_are_capped() -> None:
    now = utc(2026, 1, 1, 10)
    w = Watch("UTC").trip(2 * H, now, by_coordinator=False)
    assert w.trip_due_at == utc(2026, 1, 1, 12) and w.trip_limit_at == utc(2026, 1, 1, 13)
    w = w.trip(150 * timedelta(minutes=1), now + H / 2, by_coordinator=False)  # 13:00
    with pytest.raises(TripTooLong) as refused:
        w.trip(3 * H, now + H, by_coordinator=False)
    assert refused.value.limit == utc(2026, 1, 1, 13)
    w = w.trip(5 * H, now + H, by_coordinator=True)
    assert w.trip_due_at == utc(2026, 1, 1, 16)
    w, acts = w.step(utc(2026, 1, 1, 16))
    assert acts == [Action.REMIND] and w.cycle is Cycle.TRIP
    w, acts = w.step(utc(2026, 1, 1, 16, 15))
    assert acts == [Action.DOWN]
    assert w.checked_in(utc(2026, 1, 1, 17)).trip_due_at is None


def test_three_wrong_pins_in_a_row_are_down_and_a_right_one_resets_the_count() -> None:
    w = Watch("UTC")
    w, down = w.wrong_pin(utc(2026, 1, 1))
    w, down = w.wrong_pin(utc(2026, 1, 1))
    assert not down
    assert w.checked_in(utc(2026, 1, 1)).wrong_pins == 0
    w, down = w.wrong_pin(utc(2026, 1, 1))
    assert down and w.state is State.DOWN and w.cycle is Cycle.PINS


def test_preview_lists_due_and_down_times() -> None:
    w = Watch("Europe/Moscow").scheduled(daily("09:00", "21:00", grace=2), utc(2026, 1, 1, 7))
    got = upcoming(w, utc(2026, 1, 1, 7), 3)
    assert got[0] == (utc(2026, 1, 1, 18), utc(2026, 1, 1, 20))
    assert [d for d, _ in got][1:] == [utc(2026, 1, 2, 6), utc(2026, 1, 2, 18)]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: every(0.25), "every"),
        (lambda: every(12, grace=0.01), "grace"),
        (lambda: every(12, grace=1, reprompt=2 * H), "reprompt"),
        (lambda: daily("09:00", "09:30"), "times"),
        (lambda: daily("21:00", "09:00"), "times"),
        (lambda: every(4, quiet=Quiet(time(6), time(23))), "quiet"),
    ],
)
def test_schedules_the_rules_refuse_name_the_field(build: object, field: str) -> None:
    with pytest.raises(ScheduleError) as refused:
        build()  # type: ignore[operator]
    assert refused.value.field == field
