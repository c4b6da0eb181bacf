"""Group chats as page targets: only a coordinator can put the bot in one.

Anyone can add a bot to a group; a group a coordinator did not add it to is left at
once, so a stranger cannot make nabat post pages, or anything else, into their chat.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.models import GroupChat, Notice, Person, Role
from storage.audit import AuditRepo
from storage.db import Database, Transaction
from storage.groups import GroupRepo

log = logging.getLogger(__name__)


class GroupService:
    def __init__(
        self, db: Database, groups: GroupRepo, audit: AuditRepo, outbox: Outbox, clock: Clock
    ) -> None:
        self.db = db
        self.groups = groups
        self.audit = audit
        self.outbox = outbox
        self.clock = clock
        # Called in the removal's transaction: what else must forget the group.
        self.on_removed: list[Callable[[Transaction, int], Awaitable[list[str]]]] = []
        # Called after a removal that changed a policy (the coverage check).
        self.after_change: list[Callable[[], Awaitable[object]]] = []

    async def added(self, chat_id: int, title: str, by: Person | None) -> GroupChat | None:
        """The bot joined a group. None (leave it) unless a coordinator added it."""
        if by is None or not by.has(Role.COORDINATOR):
            log.warning("added to a group by someone who is not a coordinator: leaving it")
            return None
        now = self.clock.now()
        async with self.db.transaction() as tx:
            group = await self.groups.add(tx, chat_id, title[:128] or "?", now)
            await self.audit.record(
                tx,
                actor_id=by.id,
                action="group.add",
                now=now,
                detail={"group": group.id, "title": group.title},
            )
            await self.outbox.send(
                tx, chat_id, Notice("group.welcome", {"title": group.title}, lang=by.lang)
            )
            await self.outbox.send(
                tx,
                by.chat_id,
                Notice("group.registered", {"title": group.title}, lang=by.lang),
                person_id=by.id,
            )
        log.info("group %d registered", group.id)
        return group

    async def removed(self, chat_id: int) -> None:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            group = await self.groups.by_chat(tx, chat_id)
            if group is None:
                return
            await self.groups.remove(tx, chat_id)
            policies = [name for hook in self.on_removed for name in await hook(tx, group.id)]
            await self.audit.record(
                tx,
                actor_id=None,
                action="group.remove",
                now=now,
                detail={"group": group.id, "title": group.title, "policies": policies},
            )
        log.info("group %d removed: the bot is no longer in it", group.id)
        if policies:
            for hook in self.after_change:
                await hook()
