"""Small helpers for tests that drive the emulator: a hand-moved clock, a PTB Bot, raw calls."""

from __future__ import annotations

import warnings
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import telegram
from telegram.error import RetryAfter
from telegram.request import HTTPXRequest

from tests.telegram_emulator.server import Emulator


class ManualClock:
    """A zero-argument callable clock for `Emulator(clock=...)` that moves only when told."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 1, 15, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: float | timedelta) -> datetime:
        self.now += delta if isinstance(delta, timedelta) else timedelta(seconds=delta)
        return self.now


def ptb_bot(emu: Emulator, token: str | None = None, read_timeout: float = 3.0) -> telegram.Bot:
    """A real python-telegram-bot Bot pointed at the emulator; use `async with`."""
    return telegram.Bot(
        token or emu.token,
        base_url=emu.base_url,
        base_file_url=emu.base_file_url,
        request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=2.0),
        get_updates_request=HTTPXRequest(read_timeout=read_timeout, connect_timeout=2.0),
    )


async def raw_call(
    emu: Emulator,
    method: str,
    data: dict[str, Any] | None = None,
    *,
    json_body: Any = None,
    token: str | None = None,
    http_method: str = "POST",
) -> tuple[int, dict[str, Any]]:
    """One HTTP request without PTB in between: (status, decoded JSON body)."""
    url = f"{emu.base_url}{token or emu.token}/{method}"
    async with aiohttp.ClientSession() as session:
        if http_method == "GET":
            request = session.get(url, params=data)
        elif json_body is not None:
            request = session.post(url, json=json_body)
        else:
            request = session.post(url, data=data or {})
        async with request as response:
            return response.status, await response.json()


def retry_seconds(error: RetryAfter) -> float:
    """RetryAfter.retry_after as seconds, without PTB's int-vs-timedelta deprecation noise."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
