"""The people every end-to-end scenario uses (pytest fixtures, loaded from conftest.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.domain.clock import FakeClock
from bot.domain.models import Role
from tests.support.harness import BotHarness, enrol
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
        coordinator=emulator.user(
            COORDINATOR[0], COORDINATOR[1].split()[0], last_name=COORDINATOR[1].split()[1]
        ),
        responders=[emulator.user(i, n.split()[0], last_name=n.split()[1]) for i, n in RESPONDERS],
        contacts=[emulator.user(i, n.split()[0], last_name=n.split()[1]) for i, n in CONTACTS],
        stranger=emulator.user(
            STRANGER[0], STRANGER[1].split()[0], last_name=STRANGER[1].split()[1]
        ),
    )


@pytest.fixture
async def enrolled(harness: BotHarness, cast: Cast) -> Cast:
    """Everyone enrolled with invitations made as `nabat invite` makes them (the same
    service call, in process: the command line itself is tested in test_cli.py).

    (Inviting from Telegram is its own test; here it would only cost the coordinator's
    chat a second per reply.)
    """
    people = [(cast.coordinator, Role.COORDINATOR, COORDINATOR[1])]
    people += [
        (u, Role.RESPONDER, n) for u, (_, n) in zip(cast.responders, RESPONDERS, strict=True)
    ]
    people += [(u, Role.CONTACT, n) for u, (_, n) in zip(cast.contacts, CONTACTS, strict=True)]
    for user, role, name in people:
        made = await harness.services.people.invite(None, role, name)
        await enrol(harness, user, made.token)
    # Let the contacts' greetings expire, so each scenario starts with clean chats.
    await harness.advance(harness.services.settings.contact_reply_ttl.total_seconds())
    assert all(not c.visible for c in cast.contacts)
    return cast
