"""Check-ins as a pure state machine: schedules, quiet hours, trip timers, and what is due.

After healthchecks.io (period, grace, late -> down, sticky pause) and Kitestring (trip
timer with capped extensions). Every function takes `now`; nothing here reads a clock.

One contact's check-in state is a `Watch`. Its clock has two sources of deadlines:
- the schedule: an interval from the last check-in ("every 12h"), or daily local times
  ("09:00, 21:00") in the contact's zone, moved out of quiet hours;
- a trip timer ("check on me in 2 hours"), a one-off deadline, never moved.
The earlier active one is the *cycle*: at its due time one reminder goes out (state
`late`), at due + reprompt one silent re-prompt, at due + grace the state is `down` and
the caller opens a missed-check-in alert. A check-in returns to `up`, ends any trip and
computes the next due time. While paused the schedule sends nothing; a trip still runs,
because the contact asked for it. A check-in does not lift a pause (sticky).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.rota import localize

MIN_EVERY = timedelta(minutes=30)
MAX_EVERY = timedelta(days=14)
MIN_GRACE = timedelta(minutes=5)
MAX_GRACE = timedelta(days=2)
MAX_TIMES = 12
MAX_QUIET = timedelta(hours=16)
MAX_WORD = 32
MIN_GAP = timedelta(hours=1)  # between two daily times
# A check-in this long before a daily time counts for it: "09:00" is met at 08:40.
EARLY = timedelta(minutes=30)
TRIP_GRACE = timedelta(minutes=15)  # a trip without a schedule
MAX_TRIP = timedelta(days=7)
TRIP_CAP = timedelta(hours=1)  # the contact's own extensions, past the first deadline
WRONG_PINS_DOWN = 3


class Kind(enum.StrEnum):
    INTERVAL = "interval"
    DAILY = "daily"


class State(enum.StrEnum):
    UP = "up"
    LATE = "late"
    DOWN = "down"


class Cycle(enum.StrEnum):
    """What the current deadline came from."""

    SCHEDULE = "schedule"
    TRIP = "trip"
    PINS = "pins"  # three wrong PINs in a row: down without a deadline


class Action(enum.StrEnum):
    REMIND = "remind"
    REPROMPT = "reprompt"
    DOWN = "down"
    UNPAUSE = "unpause"


class ScheduleError(ValueError):
    """A schedule the rules refuse; the message says which field and why (in English,
    for files and logs; the service maps `field` to a catalogue key for people)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


@dataclass(frozen=True, slots=True)
class Quiet:
    """Local hours with no reminder; start > end wraps past midnight (22:00-07:00)."""

    start: time
    end: time

    def __post_init__(self) -> None:
        if self.start == self.end:
            raise ScheduleError("quiet", "start and end are the same time")

    def contains(self, local: time) -> bool:
        local = local.replace(tzinfo=None)
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end

    @property
    def length(self) -> timedelta:
        minutes = _minutes(self.end) - _minutes(self.start)
        return timedelta(minutes=minutes % (24 * 60))


@dataclass(frozen=True, slots=True)
class Schedule:
    kind: Kind
    grace: timedelta
    every: timedelta | None = None  # INTERVAL
    times: tuple[time, ...] = ()  # DAILY, local wall times, sorted
    reprompt: timedelta | None = None  # after due; None: half the grace
    quiet: Quiet | None = None
    pin_required: bool = False
    word: str | None = None  # a word that checks in, besides /ok and the button

    def __post_init__(self) -> None:
        if self.word is not None and not (
            1 <= len(self.word) <= MAX_WORD
            and self.word.isalnum()
            and self.word == self.word.casefold()
        ):
            raise ScheduleError("word", "one word of letters or digits, in lower case")
        if self.kind is Kind.INTERVAL:
            if self.every is None or self.times:
                raise ScheduleError("every", "an interval schedule needs 'every' and no times")
            if not MIN_EVERY <= self.every <= MAX_EVERY:
                raise ScheduleError("every", "must be between 30m and 14d")
        else:
            if self.every is not None or not self.times:
                raise ScheduleError("times", "a daily schedule needs times and no 'every'")
            if len(self.times) > MAX_TIMES:
                raise ScheduleError("times", f"at most {MAX_TIMES} times a day")
            if list(self.times) != sorted(set(self.times)):
                raise ScheduleError("times", "times must be different and in order")
            gaps = [
                timedelta(minutes=(_minutes(b) - _minutes(a)) % (24 * 60))
                for a, b in zip(self.times, (*self.times[1:], self.times[0]), strict=True)
            ]
            if len(self.times) > 1 and min(gaps) < MIN_GAP:
                raise ScheduleError("times", "times must be at least 1h apart")
        if self.quiet is not None and self.quiet.length > MAX_QUIET:
            # Most of the day without a reminder is no schedule at all.
            raise ScheduleError("quiet", "quiet hours can be at most 16h")
        if not MIN_GRACE <= self.grace <= MAX_GRACE:
            raise ScheduleError("grace", "must be between 5m and 2d")
        if self.reprompt is not None and not timedelta(0) < self.reprompt < self.grace:
            raise ScheduleError("reprompt", "must be after the due time and before the grace ends")

    @property
    def reprompt_after(self) -> timedelta:
        return self.reprompt if self.reprompt is not None else self.grace / 2

    def next_due(self, tz: str, after: datetime, *, early: bool = False) -> datetime:
        """The first due time after `after` (UTC), out of quiet hours.

        `early`: `after` is a check-in, which also counts for a daily time up to EARLY
        ahead of it (a daily schedule only; an interval runs from the check-in itself).
        """
        zone = ZoneInfo(tz)
        if self.kind is Kind.INTERVAL:
            assert self.every is not None
            due = after + self.every
        else:
            due = _next_daily(self.times, zone, after + (EARLY if early else timedelta(0)))
        return self._out_of_quiet(due, zone)

    def _out_of_quiet(self, due: datetime, zone: ZoneInfo) -> datetime:
        if self.quiet is None:
            return due
        local = due.astimezone(zone)
        if not self.quiet.contains(local.timetz()):
            return due
        return _next_daily((self.quiet.end,), zone, due)


@dataclass(frozen=True, slots=True)
class Watch:
    """One contact's check-in state (a row of storage/checkins.py, as plain values)."""

    tz: str
    schedule: Schedule | None = None
    state: State = State.UP
    next_due_at: datetime | None = None  # the schedule's next due time
    trip_due_at: datetime | None = None
    trip_limit_at: datetime | None = None  # the latest the contact may move the trip to
    trip_note: str | None = None  # what the contact said they were doing
    cycle: Cycle | None = None  # set while late or down
    late_since: datetime | None = None  # the due time that went unanswered
    reprompted: bool = False
    last_checkin_at: datetime | None = None
    paused_until: datetime | None = None
    wrong_pins: int = 0

    # -- reading -------------------------------------------------------------------------

    def paused(self, now: datetime) -> bool:
        return self.paused_until is not None and now < self.paused_until

    def due(self, now: datetime) -> tuple[datetime, Cycle] | None:
        """The next deadline that will start a cycle, and where it comes from."""
        options: list[tuple[datetime, Cycle]] = []
        if self.trip_due_at is not None:
            options.append((self.trip_due_at, Cycle.TRIP))
        if self.schedule is not None and self.next_due_at is not None and not self.paused(now):
            options.append((self.next_due_at, Cycle.SCHEDULE))
        return min(options, key=lambda o: o[0]) if options else None

    @property
    def grace(self) -> timedelta:
        return self.schedule.grace if self.schedule is not None else TRIP_GRACE

    @property
    def reprompt_after(self) -> timedelta:
        return self.schedule.reprompt_after if self.schedule is not None else TRIP_GRACE / 2

    def down_at(self) -> datetime | None:
        if self.state is not State.LATE or self.late_since is None:
            return None
        return self.late_since + self.grace

    def wake_at(self, now: datetime) -> datetime | None:
        """When `step` next has something to do; None: only a person can change this."""
        times: list[datetime] = []
        if self.paused_until is not None and self.paused_until > now:
            times.append(self.paused_until)
        if self.state is State.UP:
            due = self.due(now)
            if due is not None:
                times.append(due[0])
        elif self.state is State.LATE and self.late_since is not None:
            if not self.reprompted:
                times.append(self.late_since + self.reprompt_after)
            times.append(self.late_since + self.grace)
        return min(times) if times else None

    # -- moving --------------------------------------------------------------------------

    def step(self, now: datetime) -> tuple[Watch, list[Action]]:
        """Everything due at `now`, in order. After a restart several steps may be due at
        once (reminder, re-prompt and down): all of them come back, each exactly once,
        except a re-prompt that its own down time has overtaken."""
        w, actions = self, []
        if w.paused_until is not None and w.paused_until <= now:
            w, actions = w._unpaused(w.paused_until), [Action.UNPAUSE]
        if w.state is State.UP:
            due = w.due(now)
            if due is not None and due[0] <= now:
                w = replace(w, state=State.LATE, cycle=due[1], late_since=due[0], reprompted=False)
                actions.append(Action.REMIND)
        since = w.late_since
        if w.state is State.LATE and since is not None:
            if now >= since + w.grace:
                w = replace(w, state=State.DOWN, reprompted=True)
                actions.append(Action.DOWN)
            elif not w.reprompted and now >= since + w.reprompt_after:
                w = replace(w, reprompted=True)
                actions.append(Action.REPROMPT)
        return w, actions

    def _unpaused(self, at: datetime) -> Watch:
        # The schedule starts again as if the contact had checked in when the pause ended.
        next_due = self.schedule.next_due(self.tz, at) if self.schedule is not None else None
        return replace(self, paused_until=None, next_due_at=next_due)

    def checked_in(self, now: datetime) -> Watch:
        """A check-in (safe or duress: the two must never differ here)."""
        next_due = (
            self.schedule.next_due(self.tz, now, early=True) if self.schedule is not None else None
        )
        return replace(
            self,
            state=State.UP,
            next_due_at=next_due,
            trip_due_at=None,
            trip_limit_at=None,
            trip_note=None,
            cycle=None,
            late_since=None,
            reprompted=False,
            last_checkin_at=now,
            wrong_pins=0,
        )

    def wrong_pin(self, now: datetime) -> tuple[Watch, bool]:
        """A wrong PIN; True when this one makes three in a row and the contact is down."""
        count = self.wrong_pins + 1
        if count < WRONG_PINS_DOWN or self.state is State.DOWN:
            return replace(self, wrong_pins=count), False
        return (
            replace(
                self,
                wrong_pins=0,
                state=State.DOWN,
                cycle=Cycle.PINS,
                late_since=self.late_since or now,
                reprompted=True,
            ),
            True,
        )

    def scheduled(self, schedule: Schedule | None, now: datetime) -> Watch:
        """A new schedule (or none) from `now`. A cycle already late or down stays so:
        changing the schedule must not hide a contact who has not answered."""
        next_due = schedule.next_due(self.tz, now) if schedule is not None else None
        w = replace(self, schedule=schedule, next_due_at=next_due)
        if w.state is State.LATE and w.cycle is Cycle.SCHEDULE and schedule is None:
            w = replace(w, state=State.UP, cycle=None, late_since=None, reprompted=False)
        return w

    def moved_to(self, tz: str, now: datetime) -> Watch:
        """The contact's zone changed: daily times are now read in the new zone."""
        w = replace(self, tz=tz)
        if w.schedule is not None and w.schedule.kind is Kind.DAILY:
            anchor = w.last_checkin_at or now
            w = replace(w, next_due_at=w.schedule.next_due(tz, max(anchor, now)))
        return w

    def pause(self, until: datetime | None, now: datetime) -> Watch:
        """Pause until `until`, or lift the pause (None). A late schedule cycle is let go
        (the coordinator knows where the contact is); a down one stays down until they
        check in, and its alert stays open for whoever holds it."""
        if until is None:
            return self._unpaused(now) if self.paused_until is not None else self
        w = replace(self, paused_until=until)
        if w.state is State.LATE and w.cycle is Cycle.SCHEDULE:
            w = replace(w, state=State.UP, cycle=None, late_since=None, reprompted=False)
        return w

    def trip(
        self,
        length: timedelta,
        now: datetime,
        *,
        by_coordinator: bool,
        note: str | None = None,
        cap: timedelta = TRIP_CAP,
    ) -> Watch:
        """Start a trip, or move a running one. The contact may move it to at most `cap`
        past the first deadline they set; a coordinator may move it anywhere.
        TripTooLong says how far the contact may go."""
        if not timedelta(minutes=1) <= length <= MAX_TRIP:
            raise TripTooLong(None)
        due = now + length
        if self.trip_due_at is None or self.trip_limit_at is None:
            limit = due + cap
        else:
            limit = self.trip_limit_at
            if not by_coordinator and due > limit:
                raise TripTooLong(limit)
            if by_coordinator:
                limit = max(limit, due)
        w = replace(self, trip_due_at=due, trip_limit_at=limit, trip_note=note or self.trip_note)
        if w.state is State.LATE and w.cycle is Cycle.TRIP:
            # Moving a trip that has run out is the contact answering it.
            w = replace(w, state=State.UP, cycle=None, late_since=None, reprompted=False)
        return w


class TripTooLong(ValueError):
    """A trip the contact may not set; `limit` is the latest deadline they may choose
    (None: the length itself is out of bounds)."""

    def __init__(self, limit: datetime | None) -> None:
        super().__init__("trip too long" if limit else "trip length out of bounds")
        self.limit = limit


def upcoming(watch: Watch, now: datetime, count: int = 3) -> list[tuple[datetime, datetime]]:
    """The next `count` (due, down) pairs of the schedule from `now`, for a preview."""
    schedule = watch.schedule
    if schedule is None:
        return []
    out: list[tuple[datetime, datetime]] = []
    start = watch.paused_until if watch.paused(now) and watch.paused_until else now
    due = watch.next_due_at if watch.next_due_at and not watch.paused(now) else None
    due = due or schedule.next_due(watch.tz, start)
    for _ in range(count):
        out.append((due, due + schedule.grace))
        # As if the contact checked in on time: the next due time after this one.
        due = schedule.next_due(watch.tz, due)
    return out


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _next_daily(times: Sequence[time], zone: ZoneInfo, after: datetime) -> datetime:
    """The first of the local `times` strictly after `after`, by the same gap/overlap
    rules as rota handoffs: a time skipped by a spring-forward is the instant the clocks
    jump; a repeated one is its first occurrence."""
    local_day: date = after.astimezone(zone).date()
    for offset in range(-1, 3):
        day = local_day + timedelta(days=offset)
        for t in times:
            wall = datetime.combine(day, t.replace(tzinfo=None))
            instant = localize(wall, zone.key)
            if instant > after:
                return instant.astimezone(UTC)
    raise AssertionError("a daily time recurs within two days")  # pragma: no cover
