from __future__ import annotations

from datetime import timedelta

import pytest

from config.durations import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("72h", timedelta(hours=72)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("30m1h", timedelta(hours=1, minutes=30)),
        ("1h 30m", timedelta(hours=1, minutes=30)),
        ("1H30M", timedelta(hours=1, minutes=30)),
        ("600", timedelta(seconds=600)),
        ("  10m\n", timedelta(minutes=10)),
        ("366d", timedelta(days=366)),
    ],
)
def test_durations_people_write_are_understood(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("0", "zero"),
        ("0m", "zero"),
        ("-5m", "negative"),
        ("5y", "unknown unit 'y'"),
        ("5 minutes", "unknown unit 'minutes'"),
        ("1h30", "without a unit"),
        ("1.5h", "fraction"),
        ("h", "not a duration"),
        ("1h1h", "twice"),
        ("367d", "longer than the maximum of 366d"),
        ("53w", "longer than the maximum"),
        ("99999999999999999999999d", "longer than the maximum"),
    ],
)
def test_bad_durations_say_what_is_wrong_and_show_a_valid_one(text, complaint):
    with pytest.raises(ValueError, match=complaint) as caught:
        parse_duration(text)
    assert "e.g. '72h'" in str(caught.value)


def test_zero_is_accepted_only_when_allowed():
    assert parse_duration("0s", allow_zero=True) == timedelta(0)
    with pytest.raises(ValueError, match="zero"):
        parse_duration("0s")


def test_a_custom_maximum_is_enforced():
    with pytest.raises(ValueError, match="maximum of 2d"):
        parse_duration("49h", maximum=timedelta(days=2))


def test_a_very_long_bad_value_is_shortened_in_the_message():
    with pytest.raises(ValueError) as caught:
        parse_duration("x" * 500)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (timedelta(seconds=45), "45s"),
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(hours=72), "3d"),
        (timedelta(days=14), "14d"),
        (timedelta(days=1, seconds=1), "1d1s"),
        (timedelta(0), "0s"),
    ],
)
def test_durations_are_written_in_the_compact_form(value, expected):
    assert format_duration(value) == expected


@pytest.mark.parametrize("seconds", [1, 59, 60, 61, 3599, 3600, 5400, 86399, 86400, 31622400])
def test_formatting_then_parsing_gives_the_same_duration(seconds):
    value = timedelta(seconds=seconds)
    assert parse_duration(format_duration(value)) == value


@pytest.mark.parametrize("value", [timedelta(seconds=-1), timedelta(milliseconds=1500)])
def test_formatting_refuses_what_it_cannot_write_back(value):
    with pytest.raises(ValueError):
        format_duration(value)
