"""Answering the contact: a phrasebook phrase by button, or free text (`/say 12 ...`, or a
reply to the page), from whoever acknowledged the alert or a coordinator.

What reaches the contact is in the contact's language, names no one, and leaves their
chat after the reply TTL like everything the bot says to them (Outbox.to_person). It is
on the alert's timeline, with who sent it. Nothing is sent for a DURESS alert: whoever
holds the phone would see it.
"""

from __future__ import annotations

import logging

from bot.domain.errors import InvalidInput, NotAllowed
from bot.domain.models import (
    Alert,
    AlertKind,
    AlertState,
    Button,
    EventKind,
    Notice,
    Person,
    Priority,
    Role,
)
from bot.services.alerts.actions import Actions
from bot.services.alerts.context import AlertContext
from bot.words.catalogue import msg
from bot.words.locales import language_name
from bot.words.phrases import Phrasebook
from config.durations import format_duration
from storage.db import Transaction

log = logging.getLogger(__name__)

MAX_SAY = 1000  # a few lines on a phone; the contact may be reading in a hurry
LABEL = 60  # a phrase's button shows this much of it


class Answers:
    def __init__(self, ctx: AlertContext, actions: Actions, phrasebook: Phrasebook) -> None:
        self.ctx = ctx
        self.actions = actions
        self.phrasebook = phrasebook

    async def menu(self, actor: Person, alert_id: int) -> None:
        """The phrase buttons for this alert, labelled in the actor's language."""
        ctx = self.ctx
        async with ctx.db.transaction() as tx:
            alert, contact = await self._target(tx, actor, alert_id)
            buttons = tuple(
                (Button("button.raw", f"phr:{alert.id}:{i}", {"label": _label(label)}),)
                for i, label in enumerate(
                    self.phrasebook.text(i, actor.lang) for i in range(len(self.phrasebook.ids))
                )
            )
            await ctx.outbox.send(
                tx,
                actor.chat_id,
                Notice(
                    # A missed check-in may mean the phone is in other hands: say so first.
                    "phrase.menu_missed"
                    if alert.kind is AlertKind.MISSED_CHECKIN
                    else "phrase.menu",
                    {
                        "id": alert.id,
                        "name": contact.name,
                        "language": language_name(contact.lang, actor.lang),
                        "ttl": format_duration(ctx.outbox.contact_ttl),
                    },
                    buttons=buttons,
                    protect=True,
                    lang=actor.lang,
                ),
                person_id=actor.id,
                about_id=contact.id,
            )

    async def phrase(self, actor: Person, alert_id: int, index: int) -> None:
        if not 0 <= index < len(self.phrasebook.ids):
            raise InvalidInput("callback.expired")
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            alert, contact = await self._target(tx, actor, alert_id)
            shown = self.phrasebook.text(index, contact.lang)
            await self._deliver(tx, actor, alert, contact, shown)
            await ctx.record(
                tx,
                alert.id,
                EventKind.PHRASE,
                actor,
                now,
                phrase=self.phrasebook.ids[index],
                text=shown,
            )
        log.info("alert %d: phrase %d sent to the contact by person %d", alert_id, index, actor.id)

    async def say(self, actor: Person, alert_id: int, words: str) -> None:
        """Free text, relayed as written."""
        words = words.strip()
        if not words:
            raise InvalidInput("say.usage")
        if len(words) > MAX_SAY:
            raise InvalidInput("say.too_long", max=MAX_SAY)
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            alert, contact = await self._target(tx, actor, alert_id)
            await self._deliver(tx, actor, alert, contact, words)
            await ctx.record(tx, alert.id, EventKind.SAID, actor, now, text=words)
        log.info("alert %d: words sent to the contact by person %d", alert_id, actor.id)

    async def alert_of_reply(self, actor: Person, message_id: int) -> int | None:
        """The alert whose page `actor` replied to, if the message replied to is one."""
        return await self.ctx.alerts.alert_of_message(self.ctx.db, actor.id, message_id)

    async def _target(self, tx: Transaction, actor: Person, alert_id: int) -> tuple[Alert, Person]:
        alert = await self.actions.visible_alert(actor, alert_id)
        fresh = await self.ctx.alerts.get(tx, alert.id)
        assert fresh is not None
        if fresh.contact_id is None:
            raise InvalidInput("say.no_contact", id=fresh.id)
        if fresh.state is AlertState.RESOLVED:
            raise InvalidInput("say.closed", id=fresh.id)
        if fresh.ack_by != actor.id and not actor.has(Role.COORDINATOR):
            raise NotAllowed("say.not_holder", id=fresh.id)
        if fresh.kind is AlertKind.DURESS:
            raise InvalidInput("say.duress", id=fresh.id)
        contact = await self.ctx.people.get(tx, fresh.contact_id)
        if contact is None:
            raise InvalidInput("say.no_contact", id=fresh.id)
        return fresh, contact

    async def _deliver(
        self, tx: Transaction, actor: Person, alert: Alert, contact: Person, words: str
    ) -> None:
        ctx = self.ctx
        await ctx.outbox.to_person(
            tx,
            contact,
            Notice("text.block", {"text": words}, lang=contact.lang),
            priority=Priority.ESCALATION,
        )
        await ctx.outbox.send(
            tx,
            actor.chat_id,
            Notice(
                "phrase.sent",
                {
                    "name": contact.name,
                    "id": alert.id,
                    "language": msg(f"lang.name.{contact.lang}"),
                    "text": words,
                },
                protect=True,
                lang=actor.lang,
            ),
            person_id=actor.id,
            about_id=contact.id,
        )


def _label(phrase: str) -> str:
    return phrase if len(phrase) <= LABEL else phrase[: LABEL - 1] + "…"
