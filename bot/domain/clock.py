"""The one source of "now". Domain code takes `now` as an argument; services ask a Clock.

Two kinds of time: `now()`, the wall clock every deadline is measured on, and
`monotonic()`, seconds that only go forward, for pacing (the outbox's messages per second
and Telegram's flood waits). Tests inject FakeClock: its wall clock moves only when the
test says so, and its pacing clock also when the harness lets the outbox's pacing pass,
so no test waits for real time.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware, in UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back, for pacing; its zero means nothing."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start")
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, delta: timedelta | float) -> datetime:
        """Move both clocks: time that passes for deadlines passes for pacing too."""
        if not isinstance(delta, timedelta):
            delta = timedelta(seconds=delta)
        self._now += delta
        self._mono += max(0.0, delta.total_seconds())
        return self._now

    def let_pacing_pass(self, seconds: float) -> None:
        """Move the pacing clock only: a paced message may go, and no deadline comes
        nearer (what a second between two messages to one chat costs in a test)."""
        self._mono += max(0.0, seconds)

    def set(self, when: datetime) -> None:
        if when.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware time")
        self._now = when.astimezone(UTC)
