"""On-call rotations as pure arithmetic: whose shift covers an instant, and what overrides do.

The model follows GoAlert's rotations and overrides. A rotation hands off every `length`
units from `start`; shift i belongs to participants[i % len(participants)]; before `start`
nobody is on call. Overrides are temporary changes for a window [start, end).

Time rules (DESIGN.md invariant 3: UTC everywhere, zoneinfo for schedules):

- HOURS count elapsed time. Handoffs are fixed instants in UTC; a DST change moves their
  local clock time, never the handoff.
- DAYS and WEEKS count calendar days in the rotation's zone: every handoff falls at the
  local wall-clock time of `start`, so the shift that contains a DST change lasts 23 or 25
  hours. A wall time that does not exist that day (spring-forward gap) resolves to the first
  instant after the gap, i.e. the transition itself: a 02:30 handoff on the day Chicago
  jumps from 02:00 to 03:00 happens at 03:00 CDT. PEP 495's fold=0 would give 03:30, half
  an hour of the outgoing shift that nobody asked for. A wall time that happens twice
  (fall-back) resolves to its first occurrence (fold=0).

Overrides active at t (start <= t < end) change the base person in a fixed order: ADD, then
REPLACE (only when `replaces` is on call at that point), then REMOVE. The order makes the
combinations that `conflicts` allows come out as people mean them: someone added can hand
their time on with a REPLACE, and removing someone who was replaced keeps the replacement.
Only combinations `conflicts` refuses would depend on the order beyond that.

Every function takes the instants it needs, accepts any aware datetime, and returns UTC.
Nothing here reads a clock, a database or Telegram.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones


class ShiftUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"
    WEEKS = "weeks"


class OverrideKind(StrEnum):
    ADD = "add"
    REMOVE = "remove"
    REPLACE = "replace"


# Four weeks of hours, a leap year of days, a year of weeks: longer shifts are typos.
MAX_LENGTH = {ShiftUnit.HOURS: 24 * 7 * 4, ShiftUnit.DAYS: 366, ShiftUnit.WEEKS: 52}

# How far next_shifts looks; an interval still running there is cut at this horizon.
SEARCH_HORIZON = timedelta(days=366)

# next_shifts walks the horizon in chunks so a near answer does not cost a year of shifts.
_CHUNK = timedelta(days=31)

# The longest IANA name is 32 characters; anything much longer is not a zone.
ZONE_NAME_MAX = 64

# Fixed English names rather than strftime's %a, which follows the process locale.
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


def _zone(tz: str, field: str = "tz") -> ZoneInfo:
    if not isinstance(tz, str) or not tz:
        raise ValueError(f"{field}: needs an IANA time zone name, got {tz!r}")
    if len(tz) > ZONE_NAME_MAX:
        raise ValueError(f"{field}: unknown time zone {tz[:ZONE_NAME_MAX]!r}...")
    if tz.casefold() in _NOT_PLACES:
        raise ValueError(
            f"{field}: {tz!r} is not a place's time zone; name one, like Europe/Moscow"
        )
    try:
        return ZoneInfo(tz)  # ZoneInfo caches by key, so repeated lookups are cheap
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        # zoneinfo reads the key as a path: ValueError for "../x", "/x", "a//b" or a NUL
        # byte, IsADirectoryError for "Europe", OSError for a name too long for a file.
        raise ValueError(f"{field}: unknown time zone {tz!r}") from exc


# Listed by available_timezones() on some systems, but not places: "localtime" is the
# server's own setting (it would reveal it, and change with it), "Factory" means "unset",
# "posixrules" is a template.
_NOT_PLACES = frozenset({"localtime", "factory", "posixrules"})


@cache
def _known_zones() -> dict[str, str]:
    # Read once: available_timezones() walks tzdata on every call.
    return {
        name.casefold(): name
        for name in available_timezones()
        if name.casefold() not in _NOT_PLACES
    }


def zone_name(raw: str) -> str | None:
    """The IANA zone `raw` names, in any case and spelled as tzdata spells it
    ("europe/moscow" -> "Europe/Moscow"); None for anything that is not one.

    Only names tzdata lists count: not its directories, its tables ("zone.tab") or the
    "posix/" and "right/" copies, which zoneinfo would load as well.
    """
    name = raw.strip()
    if not name or len(name) > ZONE_NAME_MAX:
        return None
    known = _known_zones().get(name.casefold())
    if known is None:
        return None
    try:
        _zone(known)
    except ValueError:
        return None
    return known


def _utc(dt: datetime, field: str) -> datetime:
    if not isinstance(dt, datetime) or dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError(f"{field}: needs a timezone-aware datetime, got {dt!r}")
    return dt.astimezone(UTC)


def _window(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    start, end = _utc(start, "start"), _utc(end, "end")
    if end < start:
        raise ValueError(f"end: {end.isoformat()} is before start {start.isoformat()}")
    return start, end


@dataclass(frozen=True, slots=True)
class Rotation:
    id: int
    name: str
    tz: str
    unit: ShiftUnit
    length: int
    start: datetime  # participants[0]'s shift begins here; stored in UTC
    participants: tuple[int, ...]

    def __post_init__(self) -> None:
        _zone(self.tz)
        try:
            unit = ShiftUnit(self.unit)  # storage hands back plain strings
        except ValueError as exc:
            raise ValueError(f"unit: expected hours, days or weeks, got {self.unit!r}") from exc
        most = MAX_LENGTH[unit]
        if isinstance(self.length, bool) or not isinstance(self.length, int):
            raise ValueError(f"length: needs a whole number, got {self.length!r}")
        if not 1 <= self.length <= most:
            raise ValueError(
                f"length: write a whole number of {unit} from 1 to {most}, not {self.length}"
            )
        participants = tuple(self.participants)
        repeated = sorted({p for p in participants if participants.count(p) > 1})
        if repeated:
            raise ValueError(f"participants: each person may appear once, repeated {repeated}")
        # Frozen dataclasses normalise through object.__setattr__; after this, all UTC.
        object.__setattr__(self, "unit", unit)
        object.__setattr__(self, "start", _utc(self.start, "start"))
        object.__setattr__(self, "participants", participants)


@dataclass(frozen=True, slots=True)
class Shift:
    index: int  # shifts since the rotation's start, from 0
    person_id: int
    start: datetime  # UTC
    end: datetime  # UTC, exclusive


@dataclass(frozen=True, slots=True)
class Override:
    id: int
    rotation_id: int
    kind: OverrideKind
    person_id: int  # ADD: who is added; REMOVE: who is removed; REPLACE: who takes over
    replaces: int | None  # REPLACE only: whose time is taken
    start: datetime  # UTC after construction
    end: datetime  # UTC, exclusive

    def __post_init__(self) -> None:
        try:
            kind = OverrideKind(self.kind)
        except ValueError as exc:
            raise ValueError(f"kind: expected add, remove or replace, got {self.kind!r}") from exc
        if kind is OverrideKind.REPLACE:
            if self.replaces is None:
                raise ValueError("replaces: a replace override must name whose time is taken")
            if self.replaces == self.person_id:
                raise ValueError("replaces: a person cannot replace themselves")
        elif self.replaces is not None:
            raise ValueError(f"replaces: only a replace override names one, not {kind}")
        start, end = _utc(self.start, "start"), _utc(self.end, "end")
        if end <= start:
            raise ValueError(f"end: {end.isoformat()} must be after start {start.isoformat()}")
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "end", end)


@dataclass(frozen=True, slots=True)
class Segment:
    """A maximal stretch of time over which the on-call set does not change."""

    start: datetime
    end: datetime
    people: frozenset[int]


# --- base rotation ------------------------------------------------------------------------


def _localize(wall: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant of a naive local wall time, by the gap/overlap rules in the docstring."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first  # exists; in a fall-back overlap fold=0 is the first occurrence
    # In a gap, PEP 495 maps fold=0 with the offset from before the transition (an instant
    # after the gap) and fold=1 with the offset after it (an instant before the gap). The
    # transition lies between them, on a whole second in tzdata, so bisect for it: at most
    # ~17 steps even for Samoa's skipped day.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    lo, hi = math.floor(before.timestamp()), math.ceil(first.timestamp())
    after_offset = datetime.fromtimestamp(hi, zone).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if datetime.fromtimestamp(mid, zone).utcoffset() == after_offset:
            hi = mid
        else:
            lo = mid
    return datetime.fromtimestamp(hi, UTC)


def localize(wall: datetime, tz: str) -> datetime:
    """A naive local wall time in `tz` as a UTC instant, by the same gap/overlap rules as
    handoffs (for reading times people type)."""
    return _localize(wall, _zone(tz))


def _step(rotation: Rotation) -> timedelta:
    if rotation.unit is ShiftUnit.HOURS:
        return timedelta(hours=rotation.length)
    if rotation.unit is ShiftUnit.DAYS:
        return timedelta(days=rotation.length)
    return timedelta(weeks=rotation.length)


def handoff_at(rotation: Rotation, index: int) -> datetime:
    """When shift `index` begins, in UTC. Shift 0 begins exactly at `rotation.start`."""
    if index < 0:
        raise ValueError(f"index: shifts are counted from 0, got {index}")
    if index == 0:
        # Not recomputed from the wall time: a start in the second occurrence of an
        # ambiguous hour would otherwise move to the first.
        return rotation.start
    if rotation.unit is ShiftUnit.HOURS:
        return rotation.start + index * _step(rotation)
    zone = ZoneInfo(rotation.tz)
    wall = rotation.start.astimezone(zone).replace(tzinfo=None)
    return _localize(wall + index * _step(rotation), zone)


def _index_at(rotation: Rotation, t: datetime) -> int | None:
    """Which shift covers UTC instant t, or None before the start."""
    if t < rotation.start:
        return None
    if rotation.unit is ShiftUnit.HOURS:
        return (t - rotation.start) // _step(rotation)
    zone = ZoneInfo(rotation.tz)
    start_day = rotation.start.astimezone(zone).date()
    days = (t.astimezone(zone).date() - start_day).days
    index = days // _step(rotation).days
    # The guess counts local dates, so before the handoff's time of day (or across a DST
    # jump on a handoff day) it is one shift ahead; correct it with a step or two.
    while index > 0 and handoff_at(rotation, index) > t:
        index -= 1
    while handoff_at(rotation, index + 1) <= t:
        index += 1
    return index


def _shift(rotation: Rotation, index: int, start: datetime | None = None) -> Shift:
    return Shift(
        index=index,
        person_id=rotation.participants[index % len(rotation.participants)],
        start=handoff_at(rotation, index) if start is None else start,
        end=handoff_at(rotation, index + 1),
    )


def shift_at(rotation: Rotation, t: datetime) -> Shift | None:
    """The base shift covering t; None before the start or when nobody is in the rotation."""
    t = _utc(t, "t")
    index = _index_at(rotation, t)
    if index is None or not rotation.participants:
        return None
    return _shift(rotation, index)


def shifts_between(rotation: Rotation, start: datetime, end: datetime) -> list[Shift]:
    """Base shifts overlapping [start, end), whole (not clipped to the window), in order."""
    start, end = _window(start, end)
    if start == end or not rotation.participants or end <= rotation.start:
        return []
    index = _index_at(rotation, max(start, rotation.start))
    assert index is not None  # t >= rotation.start by construction
    shifts = [_shift(rotation, index)]
    while shifts[-1].end < end:
        shifts.append(_shift(rotation, shifts[-1].index + 1, start=shifts[-1].end))
    return shifts


# --- overrides ----------------------------------------------------------------------------


def _apply(base: int | None, active: Sequence[Override]) -> frozenset[int]:
    """The on-call set: the base person changed by the overrides active at one instant."""
    people: set[int] = set() if base is None else {base}
    ordered = sorted(active, key=lambda o: (o.start, o.id))  # same answer whatever the input order
    people.update(o.person_id for o in ordered if o.kind is OverrideKind.ADD)
    # Repeat until nothing applies, so a chain (A by B, then B by C) resolves whichever
    # override was entered first; each is used once, so cycles end too.
    pending = [o for o in ordered if o.kind is OverrideKind.REPLACE]
    progressed = True
    while progressed:
        progressed = False
        for o in list(pending):
            if o.replaces in people:
                people.discard(o.replaces)
                people.add(o.person_id)
                pending.remove(o)
                progressed = True
    people.difference_update(o.person_id for o in ordered if o.kind is OverrideKind.REMOVE)
    return frozenset(people)


def _relevant(
    rotation: Rotation, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Override]:
    return [
        o for o in overrides if o.rotation_id == rotation.id and o.start < end and start < o.end
    ]


def on_call(rotation: Rotation, overrides: Sequence[Override], t: datetime) -> frozenset[int]:
    """Who is on call at t: the base shift's person, then the overrides active at t."""
    t = _utc(t, "t")
    shift = shift_at(rotation, t)
    active = [o for o in overrides if o.rotation_id == rotation.id and o.start <= t < o.end]
    return _apply(None if shift is None else shift.person_id, active)


def coverage(
    rotation: Rotation, overrides: Sequence[Override], start: datetime, end: datetime
) -> list[Segment]:
    """Maximal segments of [start, end) with a constant on-call set, empty sets included.

    Built from change points (handoffs, override starts and ends) and a sweep, not by
    sampling, so a one-minute override is never missed.
    """
    start, end = _window(start, end)
    if start == end:
        return []
    relevant = sorted(_relevant(rotation, overrides, start, end), key=lambda o: o.start)
    shifts = shifts_between(rotation, start, end)
    cuts = {start, end}
    cuts.update(s.start for s in shifts if start < s.start < end)
    for o in relevant:
        cuts.update(x for x in (o.start, o.end) if start < x < end)
    points = sorted(cuts)

    segments: list[Segment] = []
    active: list[Override] = []
    next_shift = next_override = 0
    for a, b in pairwise(points):
        while next_shift < len(shifts) and shifts[next_shift].end <= a:
            next_shift += 1
        covering = shifts[next_shift] if next_shift < len(shifts) else None
        base = covering.person_id if covering and covering.start <= a else None
        active = [o for o in active if o.end > a]
        while next_override < len(relevant) and relevant[next_override].start <= a:
            if relevant[next_override].end > a:
                active.append(relevant[next_override])
            next_override += 1
        people = _apply(base, active)
        if segments and segments[-1].people == people:
            segments[-1] = Segment(segments[-1].start, b, people)
        else:
            segments.append(Segment(a, b, people))
    return segments


def gaps(
    rotation: Rotation,
    overrides: Sequence[Override],
    start: datetime,
    end: datetime,
    *,
    unreachable: frozenset[int] = frozenset(),
) -> list[tuple[datetime, datetime]]:
    """Merged intervals of [start, end) when nobody reachable is on call."""
    found: list[tuple[datetime, datetime]] = []
    for seg in coverage(rotation, overrides, start, end):
        if seg.people - unreachable:
            continue
        if found and found[-1][1] == seg.start:
            found[-1] = (found[-1][0], seg.end)
        else:
            found.append((seg.start, seg.end))
    return found


def next_shifts(
    rotation: Rotation,
    overrides: Sequence[Override],
    person_id: int,
    after: datetime,
    count: int,
) -> list[tuple[datetime, datetime]]:
    """The person's next `count` on-call intervals from `after`, overrides included.

    An interval in progress at `after` counts, clipped to start there. Back-to-back time
    (two own shifts in a row, a shift extended by an ADD) is one interval. The search stops
    SEARCH_HORIZON after `after`; an interval still running there ends at the horizon.
    """
    after = _utc(after, "after")
    if count < 0:
        raise ValueError(f"count: needs 0 or more, got {count}")
    horizon = after + SEARCH_HORIZON
    relevant = _relevant(rotation, overrides, after, horizon)
    found: list[tuple[datetime, datetime]] = []
    open_since: datetime | None = None
    chunk = after
    while chunk < horizon and len(found) < count:
        chunk_end = min(chunk + _CHUNK, horizon)
        for seg in coverage(rotation, relevant, chunk, chunk_end):
            if person_id in seg.people:
                open_since = seg.start if open_since is None else open_since
            elif open_since is not None:
                found.append((open_since, seg.start))
                open_since = None
                if len(found) == count:
                    return found
        chunk = chunk_end
    if open_since is not None and len(found) < count:
        found.append((open_since, horizon))
    return found


def _removes_taker(a: Override, b: Override) -> bool:
    return (
        a.kind is OverrideKind.REMOVE
        and b.kind in (OverrideKind.ADD, OverrideKind.REPLACE)
        and a.person_id == b.person_id
    )


def conflicts(existing: Sequence[Override], new: Override) -> list[Override]:
    """Overrides that overlap `new` in time and together with it would be ambiguous.

    Ambiguous: a duplicate (same kind, same person), two REPLACEs of the same person, or a
    REMOVE of someone another override puts on call. The caller refuses `new` when this is
    not empty, so of two concurrent requests for one window the first stored wins. An
    existing override with `new`'s id is its earlier version (an edit) and is skipped.
    """
    found: list[Override] = []
    for o in existing:
        if o.rotation_id != new.rotation_id or o.id == new.id:
            continue
        if not (o.start < new.end and new.start < o.end):
            continue  # windows are half-open: touching is not overlapping
        duplicate = o.kind is new.kind and o.person_id == new.person_id
        same_victim = o.kind is new.kind is OverrideKind.REPLACE and o.replaces == new.replaces
        if duplicate or same_victim or _removes_taker(o, new) or _removes_taker(new, o):
            found.append(o)
    return found


def describe_local(dt: datetime, tz: str) -> str:
    """An instant as people in `tz` read it, e.g. "Mon 2026-03-30 09:00 MSK"."""
    local = _utc(dt, "dt").astimezone(_zone(tz))
    return f"{_WEEKDAYS[local.weekday()]} {local:%Y-%m-%d %H:%M} {local.tzname()}"
