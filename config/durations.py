"""Durations as people write them in settings: "90s", "45m", "72h", "7d", "2w", "1h30m".

A bare number means seconds. `format_duration` writes the same compact form back, so
a value shown in a log or a help text can be pasted into a setting unchanged.
"""

from __future__ import annotations

import re
from datetime import timedelta

MAX_DURATION = timedelta(days=366)


class DurationTooLong(ValueError):
    """A well-formed duration longer than the maximum asked for (a reply can say so)."""


_UNITS: dict[str, int] = {"w": 7 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}
_EXAMPLE = "e.g. '72h', '1h30m', '45m' or '90s'"
_PART = re.compile(r"\s*(\d+)\s*([A-Za-z]*)", re.ASCII)
# More digits than this is past any maximum, and int() refuses 4300 with its own message.
_DIGITS = 15


def parse_duration(
    text: str, *, allow_zero: bool = False, maximum: timedelta = MAX_DURATION
) -> timedelta:
    """Parse "1h30m"-style text; ValueError says what is wrong and shows a valid value.

    Units: w(eeks), d(ays), h(ours), m(inutes), s(econds); each at most once, any
    order, case-insensitive. A bare integer is seconds.
    """
    if not isinstance(text, str):
        raise ValueError(f"expected a duration as text, {_EXAMPLE}")
    shown = _shown(text)
    stripped = text.strip()
    if not stripped:
        raise ValueError(f"is empty; expected a duration, {_EXAMPLE}")
    if stripped.startswith("-"):
        raise ValueError(f"{shown} is negative; expected a positive duration, {_EXAMPLE}")
    if "." in stripped or "," in stripped:
        raise ValueError(f"{shown} has a fraction; use whole units instead, {_EXAMPLE}")
    too_long = f"{shown} is longer than the maximum of {format_duration(maximum)}; {_EXAMPLE}"
    if stripped.isascii() and stripped.isdigit():
        significant = stripped.lstrip("0") or "0"
        if len(significant) > _DIGITS:
            raise DurationTooLong(too_long)
        total = int(significant)
    else:
        total = 0
        seen: set[str] = set()
        position = 0
        while position < len(stripped):
            match = _PART.match(stripped, position)
            if match is None:
                raise ValueError(
                    f"{shown} is not a duration: expected whole numbers each followed by "
                    f"a unit (w, d, h, m, s), {_EXAMPLE}"
                )
            number, unit = match.group(1), match.group(2).lower()
            if unit not in _UNITS:
                problem = "a number without a unit" if not unit else f"unknown unit {unit!r}"
                raise ValueError(f"{shown} has {problem}; units are w, d, h, m, s, {_EXAMPLE}")
            if unit in seen:
                raise ValueError(f"{shown} gives unit {unit!r} twice; {_EXAMPLE}")
            seen.add(unit)
            significant = number.lstrip("0") or "0"
            if len(significant) > _DIGITS:
                raise DurationTooLong(too_long)
            total += int(significant) * _UNITS[unit]
            position = match.end()
    if total > maximum.total_seconds():
        raise DurationTooLong(too_long)
    if total == 0 and not allow_zero:
        raise ValueError(f"{shown} is zero; expected a positive duration, {_EXAMPLE}")
    return timedelta(seconds=total)


def format_duration(value: timedelta) -> str:
    """The compact form, largest units first: 5400s -> "1h30m", 0 -> "0s".

    Weeks are not used ("14d" reads better than "2w"). Only whole, non-negative
    seconds can be written; anything else is a ValueError.
    """
    if value < timedelta(0):
        raise ValueError("cannot format a negative duration")
    if value.microseconds:
        raise ValueError("cannot format a duration with a fraction of a second")
    remaining = int(value.total_seconds())
    if remaining == 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        count, remaining = divmod(remaining, _UNITS[unit])
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def _shown(text: str) -> str:
    # Settings errors echo the value; keep a pasted novel out of the message.
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    # repr spells an unusual character as up to ten ("\U0001d246"): bound that too.
    return shown if len(shown) <= 60 else shown[:56] + "...'"
