"""Enrol many people straight through the repositories: for fault tests and benchmarks
that need a crowd, where enrolling each through Telegram would only cost time."""

from __future__ import annotations

from collections.abc import Sequence

from bot.__main__ import load_keys
from bot.domain.clock import Clock, SystemClock
from bot.domain.models import Role
from bot.wiring import Services
from config import Settings


async def seed_people(
    settings: Settings,
    people: Sequence[tuple[int, str, Role]],
    clock: Clock | None = None,
) -> None:
    now = (clock or SystemClock()).now()
    services = await Services.open(
        settings, load_keys(settings).ring, clock or SystemClock(), bot_username="seed_bot"
    )
    try:
        async with services.db.transaction() as tx:
            for telegram_id, name, role in people:
                await services.people.people.create(
                    tx, telegram_id=telegram_id, name=name, lang="en", role=role, now=now
                )
    finally:
        await services.close()
