"""On-call rota arithmetic: handoffs across DST, overrides, coverage, gaps and conflicts."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.domain.rota import (
    SEARCH_HORIZON,
    Override,
    OverrideKind,
    Rotation,
    Segment,
    Shift,
    ShiftUnit,
    conflicts,
    coverage,
    describe_local,
    gaps,
    handoff_at,
    next_shifts,
    on_call,
    shift_at,
    shifts_between,
)

H = timedelta(hours=1)
TICK = timedelta(microseconds=1)
ADD, REMOVE, REPLACE = OverrideKind.ADD, OverrideKind.REMOVE, OverrideKind.REPLACE
_ids = itertools.count(1)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    tz: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, *, fold: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz), fold=fold)


def rotation(**fields: Any) -> Rotation:
    values: dict[str, Any] = {
        "id": 1,
        "name": "lawyers",
        "tz": "UTC",
        "unit": ShiftUnit.HOURS,
        "length": 8,
        "start": utc(2026, 3, 2),
        "participants": (1, 2, 3),
    }
    values.update(fields)
    return Rotation(**values)


def override(kind, person, start, end, *, replaces=None, rotation_id=1, id=None) -> Override:
    return Override(
        id=next(_ids) if id is None else id,
        rotation_id=rotation_id,
        kind=kind,
        person_id=person,
        replaces=replaces,
        start=start,
        end=end,
    )


def covering(rota: Rotation, t: datetime) -> Shift:
    shift = shift_at(rota, t)
    assert shift is not None, t
    return shift


def hours_of(shifts) -> list[float]:
    return [(s.end - s.start) / H for s in shifts]


# --- base rotation ------------------------------------------------------------------------


def test_an_eight_hour_rotation_of_three_hands_off_every_eight_hours_for_two_days():
    rota = rotation()
    shifts = shifts_between(rota, utc(2026, 3, 2), utc(2026, 3, 4))

    assert [s.index for s in shifts] == [0, 1, 2, 3, 4, 5]
    assert [s.person_id for s in shifts] == [1, 2, 3, 1, 2, 3]
    assert [s.start for s in shifts] == [utc(2026, 3, 2) + i * 8 * H for i in range(6)]
    assert hours_of(shifts) == [8.0] * 6
    assert covering(rota, utc(2026, 3, 2, 8) - TICK).person_id == 1
    assert covering(rota, utc(2026, 3, 2, 8)).person_id == 2
    assert covering(rota, utc(2026, 3, 3, 23, 59)).index == 5


def test_nobody_is_on_call_before_the_rotation_starts_or_in_an_empty_rotation():
    rota = rotation()
    assert shift_at(rota, utc(2026, 3, 2) - TICK) is None
    assert shifts_between(rota, utc(2026, 3, 1), utc(2026, 3, 2)) == []
    assert on_call(rota, [], utc(2026, 3, 1)) == frozenset()

    empty = rotation(participants=())
    assert shift_at(empty, utc(2026, 3, 5)) is None
    assert shifts_between(empty, utc(2026, 3, 2), utc(2026, 3, 9)) == []


def test_shifts_between_returns_whole_shifts_that_overlap_the_window():
    shifts = shifts_between(rotation(), utc(2026, 3, 2, 7), utc(2026, 3, 2, 9))
    assert [(s.start, s.end) for s in shifts] == [
        (utc(2026, 3, 2, 0), utc(2026, 3, 2, 8)),
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 16)),
    ]
    assert shifts_between(rotation(), utc(2026, 3, 2, 7), utc(2026, 3, 2, 7)) == []


def test_hourly_handoffs_count_elapsed_time_so_dst_moves_their_local_clock_time():
    rota = rotation(tz="Europe/Berlin", start=local("Europe/Berlin", 2026, 3, 28, 22))
    shifts = shifts_between(rota, utc(2026, 3, 28, 21), utc(2026, 3, 29, 21))

    assert hours_of(shifts) == [8.0, 8.0, 8.0]
    local_hours = [s.start.astimezone(ZoneInfo("Europe/Berlin")).hour for s in shifts]
    assert local_hours == [22, 7, 15]  # 06:00 CET would be 07:00 once summer time begins


def test_daily_berlin_handoff_stays_at_nine_across_spring_forward_so_that_shift_lasts_23_hours():
    berlin = ZoneInfo("Europe/Berlin")
    rota = rotation(
        tz="Europe/Berlin",
        unit=ShiftUnit.DAYS,
        length=1,
        start=local("Europe/Berlin", 2026, 3, 27, 9),
    )
    shifts = shifts_between(rota, utc(2026, 3, 27, 8), utc(2026, 3, 30, 7))

    assert hours_of(shifts) == [24.0, 23.0, 24.0]
    assert [s.start.astimezone(berlin).strftime("%d %H:%M %Z") for s in shifts] == [
        "27 09:00 CET",
        "28 09:00 CET",
        "29 09:00 CEST",
    ]
    assert shifts[2].start == utc(2026, 3, 29, 7)
    assert all(s.start.tzinfo is UTC for s in shifts)


def test_daily_berlin_handoff_stays_at_nine_across_fall_back_so_that_shift_lasts_25_hours():
    rota = rotation(
        tz="Europe/Berlin",
        unit=ShiftUnit.DAYS,
        length=1,
        start=local("Europe/Berlin", 2026, 10, 23, 9),
    )
    shifts = shifts_between(rota, utc(2026, 10, 23, 7), utc(2026, 10, 26, 8))

    assert hours_of(shifts) == [24.0, 25.0, 24.0]
    assert [s.start for s in shifts] == [
        utc(2026, 10, 23, 7),
        utc(2026, 10, 24, 7),
        utc(2026, 10, 25, 8),
    ]
    assert covering(rota, utc(2026, 10, 25, 7, 59)).index == 1
    assert covering(rota, utc(2026, 10, 25, 8)).index == 2


def test_a_chicago_handoff_at_a_0230_that_does_not_exist_happens_when_the_gap_ends():
    # On 2026-03-08 Chicago jumps from 02:00 CST to 03:00 CDT: 02:30 never happens.
    chicago = ZoneInfo("America/Chicago")
    rota = rotation(
        tz="America/Chicago",
        unit=ShiftUnit.DAYS,
        length=1,
        start=local("America/Chicago", 2026, 3, 6, 2, 30),
    )
    shifts = shifts_between(rota, utc(2026, 3, 6, 8, 30), utc(2026, 3, 10, 7, 30))

    assert [s.start.astimezone(chicago).strftime("%d %H:%M %Z") for s in shifts] == [
        "06 02:30 CST",
        "07 02:30 CST",
        "08 03:00 CDT",  # the first instant after the gap, the transition itself
        "09 02:30 CDT",
    ]
    assert shifts[2].start == utc(2026, 3, 8, 8)
    assert hours_of(shifts) == [24.0, 23.5, 23.5, 24.0]
    assert covering(rota, utc(2026, 3, 8, 8) - TICK).index == 1
    assert covering(rota, utc(2026, 3, 8, 8)).index == 2


def test_a_chicago_handoff_at_an_ambiguous_0130_happens_at_its_first_occurrence():
    # On 2026-11-01 Chicago goes from 02:00 CDT back to 01:00 CST: 01:30 happens twice.
    rota = rotation(
        tz="America/Chicago",
        unit=ShiftUnit.DAYS,
        length=1,
        start=local("America/Chicago", 2026, 10, 30, 1, 30),
    )
    # PEP 495: an ambiguous local time never equals an instant in another zone, so compare UTC.
    first = local("America/Chicago", 2026, 11, 1, 1, 30, fold=0).astimezone(UTC)
    assert handoff_at(rota, 2) == first
    assert handoff_at(rota, 2) == utc(2026, 11, 1, 6, 30)
    assert handoff_at(rota, 3) - handoff_at(rota, 2) == 25 * H


def test_a_start_in_the_second_occurrence_of_an_ambiguous_hour_is_kept_exactly():
    start = local("America/Chicago", 2026, 11, 1, 1, 30, fold=1)
    rota = rotation(tz="America/Chicago", unit=ShiftUnit.DAYS, length=1, start=start)
    assert handoff_at(rota, 0) == start.astimezone(UTC) == utc(2026, 11, 1, 7, 30)
    assert handoff_at(rota, 1) == utc(2026, 11, 2, 7, 30)


def test_a_weekly_rotation_keeps_its_local_handoff_and_finds_a_far_shift_without_walking():
    rota = rotation(
        tz="Europe/Berlin",
        unit=ShiftUnit.WEEKS,
        length=1,
        participants=(1, 2),
        start=local("Europe/Berlin", 2026, 3, 23, 9),
    )
    shifts = shifts_between(rota, utc(2026, 3, 23, 8), utc(2026, 4, 13, 7))

    assert [s.person_id for s in shifts] == [1, 2, 1]
    assert hours_of(shifts) == [167.0, 168.0, 168.0]
    assert handoff_at(rota, 52) == local("Europe/Berlin", 2027, 3, 22, 9)
    far = shift_at(rota, utc(2030, 6, 5))
    assert far is not None and far.start.astimezone(ZoneInfo("Europe/Berlin")).hour == 9
    assert far.start <= utc(2030, 6, 5) < far.end and far.end - far.start == 168 * H


def test_a_two_week_rotation_hands_off_every_fourteen_days():
    rota = rotation(
        unit=ShiftUnit.WEEKS,
        length=2,
        tz="Europe/Moscow",
        start=local("Europe/Moscow", 2026, 3, 30, 10),
    )
    assert handoff_at(rota, 1) == utc(2026, 4, 13, 7)
    assert covering(rota, utc(2026, 4, 20)).person_id == 2


@pytest.mark.parametrize("tz", ["America/Chicago", "Europe/Berlin", "Australia/Lord_Howe"])
def test_shift_at_agrees_with_handoff_at_for_every_day_across_years_of_dst(tz):
    # 02:15 falls in each zone's spring gap; Lord Howe moves its clocks by half an hour.
    rota = rotation(tz=tz, unit=ShiftUnit.DAYS, length=1, start=local(tz, 2026, 1, 1, 2, 15))
    for index in range(1, 800):
        handoff = handoff_at(rota, index)
        assert handoff > handoff_at(rota, index - 1)
        assert covering(rota, handoff).index == index
        assert covering(rota, handoff - TICK).index == index - 1


def test_a_moscow_day_rotation_and_a_vladivostok_night_rotation_run_side_by_side():
    moscow = rotation(
        id=1,
        tz="Europe/Moscow",
        unit=ShiftUnit.DAYS,
        length=1,
        participants=(1, 2),
        start=local("Europe/Moscow", 2026, 3, 30, 9),
    )
    vladivostok = rotation(
        id=2,
        tz="Asia/Vladivostok",
        unit=ShiftUnit.DAYS,
        length=1,
        participants=(3, 4),
        start=local("Asia/Vladivostok", 2026, 3, 30, 21),
    )
    expected = [  # (UTC instant, Moscow on call, Vladivostok on call)
        (utc(2026, 3, 30, 5, 59), set(), set()),
        (utc(2026, 3, 30, 6), {1}, set()),
        (utc(2026, 3, 30, 11), {1}, {3}),
        (utc(2026, 3, 31, 5, 59), {1}, {3}),
        (utc(2026, 3, 31, 6), {2}, {3}),
        (utc(2026, 3, 31, 10, 59), {2}, {3}),
        (utc(2026, 3, 31, 11), {2}, {4}),
        (utc(2026, 4, 1, 6), {1}, {4}),
        (utc(2026, 4, 1, 11), {1}, {3}),
    ]
    for t, in_moscow, in_vladivostok in expected:
        assert on_call(moscow, [], t) == in_moscow, t
        assert on_call(vladivostok, [], t) == in_vladivostok, t

    assert describe_local(handoff_at(moscow, 0), "Europe/Moscow") == "Mon 2026-03-30 09:00 MSK"
    assert describe_local(handoff_at(vladivostok, 1), "Asia/Vladivostok") == (
        "Tue 2026-03-31 21:00 +10"
    )
    assert describe_local(utc(2026, 3, 31, 11), "Europe/Moscow") == "Tue 2026-03-31 14:00 MSK"


# --- overrides ----------------------------------------------------------------------------


def test_an_add_override_puts_someone_on_call_from_its_start_until_just_before_its_end():
    extra = [override(ADD, 9, utc(2026, 3, 2, 2), utc(2026, 3, 2, 4))]
    rota = rotation()
    assert on_call(rota, extra, utc(2026, 3, 2, 2) - TICK) == {1}
    assert on_call(rota, extra, utc(2026, 3, 2, 2)) == {1, 9}
    assert on_call(rota, extra, utc(2026, 3, 2, 4) - TICK) == {1, 9}
    assert on_call(rota, extra, utc(2026, 3, 2, 4)) == {1}


def test_a_remove_override_takes_someone_off_call_for_its_window_only():
    away = [override(REMOVE, 1, utc(2026, 3, 2, 2), utc(2026, 3, 2, 4))]
    rota = rotation()
    assert on_call(rota, away, utc(2026, 3, 2, 1)) == {1}
    assert on_call(rota, away, utc(2026, 3, 2, 2)) == frozenset()
    assert on_call(rota, away, utc(2026, 3, 2, 4)) == {1}


def test_a_replace_override_swaps_only_while_the_replaced_person_is_on_call():
    cover = [override(REPLACE, 7, utc(2026, 3, 2, 6), utc(2026, 3, 2, 10), replaces=1)]
    rota = rotation()
    assert on_call(rota, cover, utc(2026, 3, 2, 6) - TICK) == {1}
    assert on_call(rota, cover, utc(2026, 3, 2, 6)) == {7}
    assert on_call(rota, cover, utc(2026, 3, 2, 8) - TICK) == {7}
    assert on_call(rota, cover, utc(2026, 3, 2, 8)) == {2}  # person 2's shift: untouched
    assert on_call(rota, cover, utc(2026, 3, 2, 10)) == {2}


def test_replacing_someone_who_is_not_on_call_does_nothing():
    cover = [override(REPLACE, 7, utc(2026, 3, 2, 2), utc(2026, 3, 2, 4), replaces=3)]
    assert on_call(rotation(), cover, utc(2026, 3, 2, 3)) == {1}


def test_overrides_of_another_rotation_are_ignored():
    elsewhere = [override(REMOVE, 1, utc(2026, 3, 2), utc(2026, 3, 3), rotation_id=2)]
    assert on_call(rotation(), elsewhere, utc(2026, 3, 2, 3)) == {1}
    assert coverage(rotation(), elsewhere, utc(2026, 3, 2), utc(2026, 3, 2, 8)) == [
        Segment(utc(2026, 3, 2), utc(2026, 3, 2, 8), frozenset({1}))
    ]


def test_a_chain_of_replacements_resolves_whichever_was_entered_first():
    window = (utc(2026, 3, 2, 2), utc(2026, 3, 2, 4))
    then_by_8 = override(REPLACE, 8, *window, replaces=7)
    first_by_7 = override(REPLACE, 7, *window, replaces=1)
    assert on_call(rotation(), [then_by_8, first_by_7], utc(2026, 3, 2, 3)) == {8}
    assert on_call(rotation(), [first_by_7, then_by_8], utc(2026, 3, 2, 3)) == {8}


def test_someone_added_can_hand_their_time_to_another_and_a_removal_keeps_a_replacement():
    window = (utc(2026, 3, 2, 2), utc(2026, 3, 2, 4))
    added_then_handed_on = [override(ADD, 9, *window), override(REPLACE, 5, *window, replaces=9)]
    assert on_call(rotation(), added_then_handed_on, utc(2026, 3, 2, 3)) == {1, 5}
    replaced_and_removed = [override(REMOVE, 1, *window), override(REPLACE, 7, *window, replaces=1)]
    assert on_call(rotation(), replaced_and_removed, utc(2026, 3, 2, 3)) == {7}


# --- coverage and gaps --------------------------------------------------------------------


def test_coverage_merges_neighbours_with_the_same_people():
    solo = rotation(participants=(1,))
    assert coverage(solo, [], utc(2026, 3, 2), utc(2026, 3, 4)) == [
        Segment(utc(2026, 3, 2), utc(2026, 3, 4), frozenset({1}))
    ]

    pair = rotation(participants=(1, 2))
    help_from_2 = [override(ADD, 2, utc(2026, 3, 2, 6), utc(2026, 3, 2, 12))]
    assert coverage(pair, help_from_2, utc(2026, 3, 2), utc(2026, 3, 2, 16)) == [
        Segment(utc(2026, 3, 2, 0), utc(2026, 3, 2, 6), frozenset({1})),
        Segment(utc(2026, 3, 2, 6), utc(2026, 3, 2, 8), frozenset({1, 2})),
        Segment(utc(2026, 3, 2, 8), utc(2026, 3, 2, 16), frozenset({2})),
    ]


def test_coverage_is_clipped_to_the_window_and_shows_time_before_the_start_as_empty():
    segments = coverage(rotation(), [], utc(2026, 3, 1, 22), utc(2026, 3, 2, 9))
    assert segments == [
        Segment(utc(2026, 3, 1, 22), utc(2026, 3, 2, 0), frozenset()),
        Segment(utc(2026, 3, 2, 0), utc(2026, 3, 2, 8), frozenset({1})),
        Segment(utc(2026, 3, 2, 8), utc(2026, 3, 2, 9), frozenset({2})),
    ]


def test_a_one_minute_override_shows_in_coverage():
    blip = [override(REMOVE, 1, utc(2026, 3, 2, 3), utc(2026, 3, 2, 3, 1))]
    segments = coverage(rotation(), blip, utc(2026, 3, 2), utc(2026, 3, 2, 8))
    assert [s.people for s in segments] == [{1}, set(), {1}]
    assert segments[1].start == utc(2026, 3, 2, 3) and segments[1].end == utc(2026, 3, 2, 3, 1)


def test_an_empty_rotation_is_one_gap():
    empty = rotation(participants=())
    assert gaps(empty, [], utc(2026, 3, 2), utc(2026, 3, 3)) == [(utc(2026, 3, 2), utc(2026, 3, 3))]


def test_removing_the_only_person_leaves_a_gap_for_that_window():
    solo = rotation(participants=(1,))
    away = [override(REMOVE, 1, utc(2026, 3, 2, 10), utc(2026, 3, 2, 14))]
    assert gaps(solo, away, utc(2026, 3, 2), utc(2026, 3, 3)) == [
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 14))
    ]


def test_gaps_count_unreachable_people_as_absent_and_merge_across_handoffs():
    rota = rotation()
    window = (utc(2026, 3, 2), utc(2026, 3, 3))
    assert gaps(rota, [], *window) == []
    assert gaps(rota, [], *window, unreachable=frozenset({2})) == [
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 16))
    ]
    assert gaps(rota, [], *window, unreachable=frozenset({2, 3})) == [
        (utc(2026, 3, 2, 8), utc(2026, 3, 3))
    ]
    help_from_4 = [override(ADD, 4, utc(2026, 3, 2, 10), utc(2026, 3, 2, 12))]
    assert gaps(rota, help_from_4, *window, unreachable=frozenset({2})) == [
        (utc(2026, 3, 2, 8), utc(2026, 3, 2, 10)),
        (utc(2026, 3, 2, 12), utc(2026, 3, 2, 16)),
    ]


# --- next shifts --------------------------------------------------------------------------


def test_next_shifts_include_the_one_in_progress_clipped_to_now():
    assert next_shifts(rotation(), [], 2, utc(2026, 3, 2, 10), 3) == [
        (utc(2026, 3, 2, 10), utc(2026, 3, 2, 16)),
        (utc(2026, 3, 3, 8), utc(2026, 3, 3, 16)),
        (utc(2026, 3, 4, 8), utc(2026, 3, 4, 16)),
    ]
    assert next_shifts(rotation(), [], 2, utc(2026, 3, 2, 10), 0) == []


def test_next_shifts_follow_overrides_and_merge_back_to_back_time():
    changes = [
        override(REPLACE, 1, utc(2026, 3, 3, 8), utc(2026, 3, 3, 12), replaces=2),
        override(ADD, 2, utc(2026, 3, 3, 16), utc(2026, 3, 3, 20)),
        override(ADD, 2, utc(2026, 3, 5, 1), utc(2026, 3, 5, 2)),
    ]
    assert next_shifts(rotation(), changes, 2, utc(2026, 3, 2, 20), 4) == [
        (utc(2026, 3, 3, 12), utc(2026, 3, 3, 20)),
        (utc(2026, 3, 4, 8), utc(2026, 3, 4, 16)),
        (utc(2026, 3, 5, 1), utc(2026, 3, 5, 2)),
        (utc(2026, 3, 5, 8), utc(2026, 3, 5, 16)),
    ]


def test_next_shifts_look_about_a_year_ahead_and_no_further():
    after = utc(2026, 3, 2)
    assert next_shifts(rotation(), [], 99, after, 1) == []
    late = [override(ADD, 99, after + timedelta(days=300), after + timedelta(days=301))]
    assert next_shifts(rotation(), late, 99, after, 1) == [
        (after + timedelta(days=300), after + timedelta(days=301))
    ]
    too_late = [override(ADD, 99, after + timedelta(days=400), after + timedelta(days=401))]
    assert next_shifts(rotation(), too_late, 99, after, 1) == []
    solo = rotation(participants=(1,))
    assert next_shifts(solo, [], 1, after, 2) == [(after, after + SEARCH_HORIZON)]


# --- conflicts ----------------------------------------------------------------------------


def test_a_duplicate_override_for_an_overlapping_window_conflicts():
    first = override(ADD, 9, utc(2026, 3, 2, 2), utc(2026, 3, 2, 6))
    again = override(ADD, 9, utc(2026, 3, 2, 5), utc(2026, 3, 2, 8))
    assert conflicts([first], again) == [first]


def test_two_replacements_of_the_same_person_conflict():
    by_7 = override(REPLACE, 7, utc(2026, 3, 2, 2), utc(2026, 3, 2, 6), replaces=1)
    by_8 = override(REPLACE, 8, utc(2026, 3, 2, 4), utc(2026, 3, 2, 9), replaces=1)
    assert conflicts([by_7], by_8) == [by_7]


def test_removing_someone_another_override_puts_on_call_conflicts():
    window = (utc(2026, 3, 2, 2), utc(2026, 3, 2, 6))
    added = override(ADD, 9, *window)
    taker = override(REPLACE, 9, *window, replaces=1)
    removal = override(REMOVE, 9, *window)
    assert conflicts([added, taker], removal) == [added, taker]
    assert conflicts([removal], taker) == [removal]


def test_overrides_that_do_not_overlap_or_do_not_clash_do_not_conflict():
    early = override(ADD, 9, utc(2026, 3, 2, 2), utc(2026, 3, 2, 6))
    touching = override(ADD, 9, utc(2026, 3, 2, 6), utc(2026, 3, 2, 8))
    other_rotation = override(ADD, 9, utc(2026, 3, 2, 2), utc(2026, 3, 2, 6), rotation_id=2)
    other_person = override(ADD, 8, utc(2026, 3, 2, 2), utc(2026, 3, 2, 6))
    replace_of_other = override(REPLACE, 7, utc(2026, 3, 2, 2), utc(2026, 3, 2, 6), replaces=2)
    assert conflicts([early, other_rotation, other_person, replace_of_other], touching) == []
    assert conflicts([early, other_rotation, replace_of_other], other_person) == []


def test_an_override_does_not_conflict_with_its_own_earlier_version():
    stored = override(ADD, 9, utc(2026, 3, 2, 2), utc(2026, 3, 2, 6), id=41)
    edited = override(ADD, 9, utc(2026, 3, 2, 3), utc(2026, 3, 2, 7), id=41)
    assert conflicts([stored], edited) == []


# --- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tz": "Mars/Olympus"}, "tz"),
        ({"tz": "America"}, "tz"),
        ({"tz": ""}, "tz"),
        ({"start": datetime(2026, 3, 2, 9)}, "start"),  # naive on purpose
        ({"length": 0}, "length"),
        ({"length": 24 * 7 * 4 + 1}, "length"),
        ({"unit": ShiftUnit.DAYS, "length": 367}, "length"),
        ({"unit": ShiftUnit.WEEKS, "length": 53}, "length"),
        ({"unit": "fortnights"}, "unit"),
        ({"participants": (1, 2, 1)}, "participants"),
    ],
)
def test_a_malformed_rotation_is_refused_naming_the_field(fields, field):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        rotation(**fields)


def test_a_rotation_normalises_its_start_to_utc_and_its_unit_from_text():
    rota = rotation(unit="days", length=1, start=local("Europe/Moscow", 2026, 3, 30, 9))
    assert rota.unit is ShiftUnit.DAYS
    assert rota.start == utc(2026, 3, 30, 6) and rota.start.tzinfo is UTC


@pytest.mark.parametrize(
    ("kind", "replaces", "start", "end", "field"),
    [
        (REPLACE, None, utc(2026, 3, 2), utc(2026, 3, 3), "replaces"),
        (REPLACE, 9, utc(2026, 3, 2), utc(2026, 3, 3), "replaces"),
        (ADD, 1, utc(2026, 3, 2), utc(2026, 3, 3), "replaces"),
        (ADD, None, utc(2026, 3, 2), utc(2026, 3, 2), "end"),
        (ADD, None, utc(2026, 3, 3), utc(2026, 3, 2), "end"),
        (ADD, None, datetime(2026, 3, 2), utc(2026, 3, 3), "start"),
        ("swap", None, utc(2026, 3, 2), utc(2026, 3, 3), "kind"),
    ],
)
def test_a_malformed_override_is_refused_naming_the_field(kind, replaces, start, end, field):
    with pytest.raises(ValueError, match=rf"^{field}:"):
        override(kind, 9, start, end, replaces=replaces)


def test_window_queries_refuse_naive_times_and_reversed_windows():
    with pytest.raises(ValueError, match=r"^t:"):
        on_call(rotation(), [], datetime(2026, 3, 2))
    with pytest.raises(ValueError, match=r"^end:"):
        coverage(rotation(), [], utc(2026, 3, 3), utc(2026, 3, 2))
    with pytest.raises(ValueError, match=r"^index:"):
        handoff_at(rotation(), -1)
    with pytest.raises(ValueError, match=r"^count:"):
        next_shifts(rotation(), [], 1, utc(2026, 3, 2), -1)
    with pytest.raises(ValueError, match=r"^tz:"):
        describe_local(utc(2026, 3, 2), "Nowhere/Special")


# --- property: on_call and coverage agree ---------------------------------------------------


def random_overrides(rng: random.Random, start: datetime, days: int) -> list[Override]:
    found = []
    for _ in range(40):
        begin = start + timedelta(minutes=rng.randrange(days * 24 * 60))
        end = begin + timedelta(minutes=rng.randrange(1, 36 * 60))
        kind = rng.choice(list(OverrideKind))
        person = rng.randrange(1, 7)
        replaces = rng.choice([p for p in range(1, 7) if p != person])
        found.append(
            override(
                kind,
                person,
                begin,
                end,
                replaces=replaces if kind is REPLACE else None,
                rotation_id=rng.choice([1, 1, 1, 2]),
            )
        )
    return found


@pytest.mark.parametrize(
    "rota",
    [
        rotation(
            tz="Europe/Berlin",
            unit=ShiftUnit.DAYS,
            length=1,
            start=local("Europe/Berlin", 2026, 3, 20, 9),
        ),
        rotation(
            tz="America/Chicago",
            unit=ShiftUnit.HOURS,
            length=5,
            start=local("America/Chicago", 2026, 3, 21, 2, 30),
        ),
    ],
    ids=["berlin-daily", "chicago-5h"],
)
def test_on_call_at_any_instant_equals_the_coverage_segment_containing_it(rota):
    rng = random.Random(20260329)
    window = (utc(2026, 3, 19), utc(2026, 4, 2))
    changes = random_overrides(rng, window[0], 14)
    segments = coverage(rota, changes, *window)

    assert segments[0].start == window[0] and segments[-1].end == window[1]
    for before, after in itertools.pairwise(segments):
        assert before.end == after.start and before.people != after.people
    span = int((window[1] - window[0]).total_seconds())
    instants = [window[0] + timedelta(seconds=rng.randrange(span)) for _ in range(600)]
    instants += [s.start for s in segments] + [s.end - TICK for s in segments]
    for t in instants:
        (segment,) = [s for s in segments if s.start <= t < s.end]
        assert on_call(rota, changes, t) == segment.people, t
