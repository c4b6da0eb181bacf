"""Shared fixtures: the Bot API emulator on the test's clock, and the personas."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.domain.clock import FakeClock
from tests.support.factories import T0
from tests.support.personas import cast, enrolled, harness  # noqa: F401 - fixtures
from tests.telegram_emulator import Emulator


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def emulator(clock: FakeClock) -> AsyncIterator[Emulator]:
    """A running emulator; the test fails if the bot made a call Telegram would only ignore."""
    emu = Emulator(
        token="123456:TEST-token-abcdefghijklmnopqrstuvwxyz",
        bot_username="nabat_test_bot",
        clock=clock.now,
    )
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()
    if emu.violations:
        pytest.fail("Bot API emulator violations:\n" + "\n".join(f"- {v}" for v in emu.violations))
