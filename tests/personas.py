"""The people every end-to-end scenario uses (pytest fixtures, loaded from conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.clock import FakeClock
from tests.factories import T0
from tests.harness import BotHarness, enrol, invite, token_from
from tests.telegram_emulator import Emulator, SimUser

# Distinctive names and ids, so a scan of the database for them cannot hit by chance.
COORDINATOR = (700100001, "Olga Nabatova-Koordinatorova")
RESPONDERS = [(700200001, "Anna Advokatova-Pervaya"), (700200002, "Boris Zashchitnikov-Vtoroy")]
CONTACTS = [(700300001, "K-17 Kontaktnaya"), (700300002, "K-42 Kontaktny")]
STRANGER = (700900009, "Stefan Neznakomets")


@dataclass
class Cast:
    coordinator: SimUser
    responders: list[SimUser]
    contacts: list[SimUser]
    stranger: SimUser


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def harness(
    emulator: Emulator, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[BotHarness]:
    h = BotHarness(emulator, tmp_path, clock)
    await h.start()
    try:
        yield h
    finally:
        await h.stop()


@pytest.fixture
def cast(emulator: Emulator) -> Cast:
    return Cast(
        coordinator=emulator.user(COORDINATOR[0], COORDINATOR[1].split()[0],
                                  last_name=COORDINATOR[1].split()[1]),
        responders=[emulator.user(i, n.split()[0], last_name=n.split()[1]) for i, n in RESPONDERS],
        contacts=[emulator.user(i, n.split()[0], last_name=n.split()[1]) for i, n in CONTACTS],
        stranger=emulator.user(STRANGER[0], STRANGER[1].split()[0], last_name=STRANGER[1].split()[1]),
    )


@pytest.fixture
async def enrolled(harness: BotHarness, cast: Cast) -> Cast:
    """The coordinator bootstrapped from the shell; they invite everyone else in Telegram."""
    result = await harness.cli("invite", "--role", "coordinator", "--name", COORDINATOR[1])
    assert result.code == 0, result.out
    await enrol(harness, cast.coordinator, token_from(result.out))
    for user, (_, name) in zip(cast.responders, RESPONDERS, strict=True):
        await enrol(harness, user, await invite(harness, cast.coordinator, "responder", name))
    for user, (_, name) in zip(cast.contacts, CONTACTS, strict=True):
        await enrol(harness, user, await invite(harness, cast.coordinator, "contact", name))
    return cast
