"""Telegram's flood limits as token buckets, in real monotonic time.

They are throughput limits of the real service, so they run on the wall clock even when
the emulator's clock is fake: a test that fires messages faster than Telegram allows must
see 429, and one that paces itself must not.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class TokenBucket:
    rate: float  # tokens per second
    burst: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait(self, now: float) -> float:
        """Seconds until one token is available (0 if one is)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodLimits:
    """1 message/s per chat (burst 3), 30/s per bot, 20/min per group, by default."""

    def __init__(
        self,
        chat_rate: float = 1.0,
        chat_burst: int = 3,
        global_rate: float = 30.0,
        global_burst: int = 30,
        group_per_minute: int = 20,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._chat_rate, self._chat_burst = chat_rate, chat_burst
        self._global_rate, self._global_burst = global_rate, global_burst
        self._group_per_minute = group_per_minute
        self._monotonic = monotonic
        now = monotonic()
        self._global = TokenBucket(global_rate, global_burst, global_burst, now)
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, TokenBucket] = {}

    def on_clock(self, monotonic: Callable[[], float]) -> FloodLimits:
        """The same limits, full again, counted on another clock."""
        return FloodLimits(
            self._chat_rate,
            self._chat_burst,
            self._global_rate,
            self._global_burst,
            self._group_per_minute,
            monotonic,
        )

    def _bucket(
        self, table: dict[int, TokenBucket], key: int, rate: float, burst: int
    ) -> TokenBucket:
        if key not in table:
            table[key] = TokenBucket(rate, burst, burst, self._monotonic())
        return table[key]

    def acquire(self, chat_id: int, is_group: bool) -> int | None:
        """Take a token from every bucket that applies, or return retry_after seconds."""
        now = self._monotonic()
        buckets = [
            self._global,
            self._bucket(self._chats, chat_id, self._chat_rate, self._chat_burst),
        ]
        if is_group:
            per_second = self._group_per_minute / 60.0
            buckets.append(self._bucket(self._groups, chat_id, per_second, self._group_per_minute))
        wait = max(bucket.wait(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.tokens -= 1
        return None
