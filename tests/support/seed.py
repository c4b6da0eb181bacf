"""Enrol many people straight through the repositories: for fault tests and benchmarks
that need a crowd, where enrolling each through Telegram would only cost time."""

from __future__ import annotations

from collections.abc import Sequence

from bot.__main__ import load_keys
from bot.domain.checkin import Watch
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


async def seed_watches(
    settings: Settings,
    watches: Sequence[tuple[int, Watch]],
    clock: Clock | None = None,
    *,
    per_transaction: int = 2_000,
) -> None:
    """Give people already seeded (by Telegram id) a check-in row each, holding `watch`
    as it is, and the watch's zone as theirs when it is not UTC. Nothing is sent."""
    now = (clock or SystemClock()).now()
    services = await Services.open(
        settings, load_keys(settings).ring, clock or SystemClock(), bot_username="seed_bot"
    )
    try:
        people = services.people.people
        ids = {p.telegram_id: p.id for p in await people.list_all(services.db)}
        for start in range(0, len(watches), per_transaction):
            async with services.db.transaction() as tx:
                for telegram_id, watch in watches[start : start + per_transaction]:
                    person_id = ids[telegram_id]
                    if watch.tz != "UTC":
                        await people.set_tz(tx, person_id, watch.tz)
                    await services.checkins.repo.save(tx, person_id, watch, now, version=None)
    finally:
        await services.close()
