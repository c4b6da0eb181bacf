"""The gate every update passes first: drop redeliveries, keep strangers at arm's length."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from aiolimiter import AsyncLimiter

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.models import Notice
from storage.db import Database
from storage.gate import GateRepo
from storage.people import PeopleRepo

log = logging.getLogger(__name__)

# A stranger gets at most one neutral line a day, and at most this many updates an hour
# are even looked at (invitation attempts included); the rest are dropped unanswered.
STRANGER_REPLY_EVERY = timedelta(hours=24)
STRANGER_WINDOW = timedelta(hours=1)
STRANGER_MAX_PER_WINDOW = 10
# All strangers together: beyond this rate their updates cost one counter, nothing more.
STRANGERS_PER_SECOND = 20.0


@dataclass(frozen=True, slots=True)
class StrangerVerdict:
    proceed: bool
    may_reply: bool


class GateService:
    def __init__(
        self,
        db: Database,
        repo: GateRepo,
        people: PeopleRepo,
        outbox: Outbox,
        clock: Clock,
        *,
        stranger_reply: bool,
    ) -> None:
        self._db = db
        self._repo = repo
        self._people = people
        self._outbox = outbox
        self._clock = clock
        self._stranger_reply = stranger_reply
        self._stranger_budget = AsyncLimiter(STRANGERS_PER_SECOND, 1.0)

    async def first_time(self, update_id: int) -> bool:
        """Claim the update; False when it was handled before (Telegram redelivered it)."""
        async with self._db.transaction() as tx:
            fresh = await self._repo.claim_update(tx, update_id, self._clock.now())
        if not fresh:
            log.info("update %d seen before: ignored", update_id)
        return fresh

    async def stranger(
        self, telegram_id: int, *, wants_enrolment: bool, lang: str = "en"
    ) -> StrangerVerdict:
        """Count a stranger's update and decide what it gets.

        A plain message gets the neutral line (once a day at most, or never if the
        setting says silence). An enrolment attempt goes on to enrolment, and if that
        fails, `may_reply` says whether it may get the neutral line.
        """
        # Enrolment attempts are exempt from the shared budget (a room full of people
        # enrolling at a training must all get in); each stranger's own hourly limit holds.
        if not wants_enrolment:
            if not self._stranger_budget.has_capacity():
                return StrangerVerdict(proceed=False, may_reply=False)
            await self._stranger_budget.acquire()
        key = self._people.telegram_index(telegram_id)
        async with self._db.transaction() as tx:
            count, reply_due = await self._repo.stranger_knock(
                tx, key, self._clock.now(), window=STRANGER_WINDOW, reply_every=STRANGER_REPLY_EVERY
            )
            if count > STRANGER_MAX_PER_WINDOW:
                log.info("stranger over the hourly limit: dropped")
                return StrangerVerdict(proceed=False, may_reply=False)
            may_reply = reply_due and self._stranger_reply
            if wants_enrolment:
                return StrangerVerdict(proceed=True, may_reply=may_reply)
            if may_reply:
                await self._outbox.send(tx, telegram_id, Notice("neutral", lang=lang))
        return StrangerVerdict(proceed=False, may_reply=False)

    async def neutral(self, telegram_id: int, lang: str = "en") -> None:
        """The one line a stranger gets, in their Telegram's language if nabat has it."""
        async with self._db.transaction() as tx:
            await self._outbox.send(tx, telegram_id, Notice("neutral", lang=lang))

    async def enrolled(self, telegram_id: int) -> None:
        """A stranger became a person: forget that they were ever counted."""
        async with self._db.transaction() as tx:
            await self._repo.forget_stranger(tx, self._people.telegram_index(telegram_id))

    async def housekeeping(self) -> None:
        now = self._clock.now()
        async with self._db.transaction() as tx:
            await self._repo.forget_old_updates(tx, now)
            await self._repo.forget_old_strangers(tx, now - STRANGER_REPLY_EVERY)
