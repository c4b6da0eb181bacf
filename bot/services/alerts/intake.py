"""What a contact sends: the panic path (`Intake.contact_message`), follow-ups relayed to
whoever handles the alert, and a message soon after a resolution held for its resolver.

The panic path persists before it sends: the alert, its first pages and the contact's
receipt are rows of one transaction, delivered by the outbox after it commits.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from bot.domain.escalation import pageable
from bot.domain.limits import split_text
from bot.domain.models import (
    Alert,
    AlertKind,
    AlertState,
    Button,
    EventKind,
    Location,
    Notice,
    Person,
    Policy,
    Priority,
)
from bot.services.alerts.context import (
    HELD_STEP,
    PANIC,
    AlertContext,
    location_notice,
    set_shadow,
    shadow,
)
from bot.services.alerts.escalation import Escalation
from bot.words import alert_text
from storage.db import Transaction

log = logging.getLogger(__name__)


class Incoming(Enum):
    TEXT = "text"
    LOCATION = "location"
    LIVE_LOCATION = "live_location"
    LIVE_EDIT = "live_edit"
    VOICE = "voice"
    PHOTO = "photo"


@dataclass(frozen=True, slots=True)
class ContactMessage:
    """What a contact sent, as plain values."""

    what: Incoming
    message_id: int
    text: str = ""
    location: Location | None = None
    live_period: int | None = None
    file_id: str | None = None
    panic: bool = False  # sent as /panic or /sos


class Intake:
    def __init__(self, ctx: AlertContext, escalation: Escalation) -> None:
        self.ctx = ctx
        self.escalation = escalation

    async def forget(self, contact: Person, message_id: int) -> None:
        """Delete a contact's own message from their chat, when the setting says so."""
        ctx = self.ctx
        if not ctx.delete_contact_messages:
            return
        async with ctx.db.transaction() as tx:
            await ctx.outbox.delete(
                tx, contact.chat_id, message_id=message_id, person_id=contact.id
            )

    async def open_alert_of(self, contact: Person) -> Alert | None:
        return await self.ctx.alerts.open_for_contact(self.ctx.db, contact.id)

    async def contact_message(self, contact: Person, msg: ContactMessage) -> Alert | None:
        """A contact wrote: open an alert, or add to the open one. None if neither."""
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            alert = await ctx.alerts.open_for_contact(tx, contact.id)
            if alert is None:
                opens = msg.panic or (
                    ctx.panic_on_plain_text and msg.what is not Incoming.LIVE_EDIT
                )
                if not opens:
                    if msg.what is not Incoming.LIVE_EDIT:
                        await ctx.to_contact(tx, contact, "contact.hint")
                    return None
                alert = None if msg.panic else await self._hold(tx, contact, msg, now)
                if alert is None:
                    alert = await self._open(tx, contact, msg, now)
            else:
                if alert.kind is AlertKind.DURESS and shadow(alert) is None:
                    # The phone must hear what it would hear with nothing open (the safe
                    # world): people still get the message as a follow-up.
                    opens = msg.panic or (
                        ctx.panic_on_plain_text and msg.what is not Incoming.LIVE_EDIT
                    )
                    if opens:
                        await set_shadow(ctx, tx, alert, PANIC)
                    else:
                        await self.follow_up(tx, alert, contact, msg, now)
                        if msg.what is not Incoming.LIVE_EDIT:
                            await ctx.to_contact(tx, contact, "contact.hint")
                        return await ctx.alerts.get(tx, alert.id)
                await self.follow_up(tx, alert, contact, msg, now)
                # Pressing panic again while no one has acknowledged is a signal: the
                # next step is paged now rather than when this one's wait runs out.
                if (
                    msg.panic
                    and alert.state is AlertState.TRIGGERED
                    and await ctx.alerts.escalate_now(tx, alert.id, now)
                ):
                    ctx.wake_after(tx)
            if msg.what is not Incoming.LIVE_EDIT:
                await ctx.to_contact(tx, contact, "contact.received")
            # A live location stops updating if its message is deleted: keep it.
            if ctx.delete_contact_messages and msg.what not in (
                Incoming.LIVE_LOCATION,
                Incoming.LIVE_EDIT,
            ):
                await ctx.outbox.delete(
                    tx, contact.chat_id, message_id=msg.message_id, person_id=contact.id
                )
            return await ctx.alerts.get(tx, alert.id)

    async def _hold(
        self, tx: Transaction, contact: Person, msg: ContactMessage, now: datetime
    ) -> Alert | None:
        """Plain text soon after a resolution ("thank you") goes first to whoever resolved
        it, as an alert held at step 0: they make it an alert or close it; if they do
        neither within the policy's first wait, it pages the policy's step 1 like any
        other. None when there is no one to hold it for: the caller opens it at once."""
        ctx = self.ctx
        # Only plain words: a typed command ("/sos!", "/help me") is meant as a call.
        if (
            msg.what is not Incoming.TEXT
            or msg.text.lstrip().startswith("/")
            or ctx.resolved_grace <= timedelta(0)
        ):
            return None
        previous = await ctx.alerts.resolved_since(tx, contact.id, now - ctx.resolved_grace)
        resolver = (
            await ctx.people.get(tx, previous.resolved_by)
            if previous and previous.resolved_by
            else None
        )
        if previous is None or resolver is None or not pageable([resolver]):
            return None
        policy, created = await self._create(tx, contact, msg, now)
        alert_id = created.id
        due = now + timedelta(seconds=policy.steps[0].delay_s)
        # Held before the policy's step 1, which the next escalation pages.
        await ctx.alerts.move(tx, created, step=HELD_STEP, pass_=0, now=now, next_escalation_at=due)
        await ctx.alerts.add_event(
            tx, alert_id, EventKind.HELD, now, detail={"prev": previous.id, "name": resolver.name}
        )
        row = await ctx.outbox.send(
            tx,
            resolver.chat_id,
            Notice(
                "held.page",
                {
                    "name": contact.name,
                    "prev": previous.id,
                    "id": alert_id,
                    "text": msg.text,
                    "time": alert_text.when(due, resolver),
                },
                buttons=(
                    (
                        Button("button.new_alert", f"new:{alert_id}"),
                        Button("button.not_alert", f"not:{alert_id}"),
                    ),
                ),
                protect=True,
                lang=resolver.lang,
            ),
            priority=Priority.FIRST_PAGE,
            person_id=resolver.id,
            about_id=contact.id,
        )
        await ctx.alerts.add_page(
            tx, alert_id=alert_id, person_id=resolver.id, pass_=0, step=-1, outbox_id=row, now=now
        )
        log.info("alert %d held for the person who resolved alert %d", alert_id, previous.id)
        return await ctx.alerts.get(tx, alert_id)

    async def _create(
        self, tx: Transaction, contact: Person, msg: ContactMessage, now: datetime
    ) -> tuple[Policy, Alert]:
        """A new alert for what the contact sent, under their policy; not paged yet."""
        alerts = self.ctx.alerts
        policy = await self.escalation.policy_for(tx, contact)
        alert_id = await alerts.create(
            tx,
            contact_id=contact.id,
            kind=AlertKind.PANIC,
            policy_id=policy.id,
            body=msg.text,
            now=now,
            next_escalation_at=None,
        )
        await alerts.add_event(tx, alert_id, EventKind.CREATED, now, actor_id=contact.id)
        created = await alerts.get(tx, alert_id)
        assert created is not None
        return policy, created

    async def _open(
        self, tx: Transaction, contact: Person, msg: ContactMessage, now: datetime
    ) -> Alert:
        """A new alert whose policy pages its step 1 now, in this transaction."""
        alerts = self.ctx.alerts
        policy, created = await self._create(tx, contact, msg, now)
        alert_id = created.id
        if msg.location is not None:
            await alerts.set_location(tx, alert_id, msg.location)
        if msg.file_id:
            # A voice message or photo that opens the alert: kept like a follow-up that no
            # one has seen, so every page carries it (and its caption) behind a button.
            await alerts.add_event(
                tx,
                alert_id,
                EventKind.FOLLOWUP,
                now,
                actor_id=contact.id,
                detail={"what": msg.what.value, "file_id": msg.file_id, "text": msg.text, "to": []},
            )
        alert = await alerts.get(tx, alert_id)
        assert alert is not None
        everyone = await self.ctx.people.staff(tx)
        await self.escalation.start(tx, alert, policy, everyone, now, Priority.FIRST_PAGE)
        log.info("alert %d opened (%s)", alert_id, alert.kind.value)
        return alert

    # -- follow-ups ----------------------------------------------------------------------

    async def follow_up(
        self, tx: Transaction, alert: Alert, contact: Person, msg: ContactMessage, now: datetime
    ) -> None:
        """Relay what the contact sent to whoever handles the alert, and record it."""
        what = {Incoming.LIVE_EDIT: "live_location"}.get(msg.what, msg.what.value)
        if msg.panic:
            what = "panic_again"
        detail: dict[str, object] = {"what": what}
        if msg.text:
            detail["text"] = msg.text
        if msg.file_id:
            detail["file_id"] = msg.file_id
        if msg.location is not None:
            detail["lat"], detail["lon"] = msg.location.latitude, msg.location.longitude
            await self.ctx.alerts.set_location(tx, alert.id, msg.location)
        recipients = await self._followers(tx, alert)
        # Who has seen it: someone paged later is sent what they missed with their page.
        detail["to"] = [p.id for p in recipients]
        relayed: list[int] = []
        for person in recipients:
            row = await self._relay(tx, alert, contact, person, msg)
            if row is not None:
                relayed.append(row)
        if msg.what is Incoming.LIVE_LOCATION:
            detail["relayed"] = relayed
        if msg.what is not Incoming.LIVE_EDIT:
            await self.ctx.alerts.add_event(
                tx, alert.id, EventKind.FOLLOWUP, now, actor_id=contact.id, detail=detail
            )

    async def _followers(self, tx: Transaction, alert: Alert) -> list[Person]:
        """The acknowledger if there is one, else everyone paged so far."""
        ctx = self.ctx
        if alert.state is AlertState.ACKNOWLEDGED and alert.ack_by is not None:
            acker = await ctx.people.get(tx, alert.ack_by)
            if acker is not None and pageable([acker]):
                return [acker]
        paged = {p.person_id for p in await ctx.alerts.pages(tx, alert.id) if p.person_id}
        return [p for p in pageable(await ctx.people.staff(tx)) if p.id in paged]

    async def _relay(
        self, tx: Transaction, alert: Alert, contact: Person, to: Person, msg: ContactMessage
    ) -> int | None:
        params = {"id": alert.id, "name": contact.name}
        if msg.panic:
            key = "followup.panic_again_text" if msg.text else "followup.panic_again"
            notice = Notice(key, {**params, "text": msg.text}, protect=True, lang=to.lang)
        elif msg.what is Incoming.TEXT:
            parts = split_text(msg.text)
            if len(parts) > 1:
                return await self._relay_parts(tx, alert, to, params, parts)
            notice = Notice(
                "followup.text", {**params, "text": msg.text}, protect=True, lang=to.lang
            )
        elif msg.what in (Incoming.LOCATION, Incoming.LIVE_LOCATION) and msg.location:
            live = msg.live_period if msg.what is Incoming.LIVE_LOCATION else None
            notice = location_notice(alert, contact.name, to, msg.location, live)
        elif msg.what is Incoming.LIVE_EDIT and msg.location:
            return await self._relay_live_edit(tx, alert, contact.name, to, msg.location)
        elif msg.what in (Incoming.VOICE, Incoming.PHOTO) and msg.file_id:
            notice = Notice(
                "followup.media_caption" if msg.text else "followup.media",
                {**params, "text": msg.text},
                protect=True,
                lang=to.lang,
                media={"type": msg.what.value, "file_id": msg.file_id},
            )
        else:
            return None
        return await self.ctx.outbox.send(
            tx,
            to.chat_id,
            notice,
            priority=Priority.ESCALATION,
            person_id=to.id,
            about_id=alert.contact_id,
        )

    async def _relay_parts(
        self,
        tx: Transaction,
        alert: Alert,
        to: Person,
        params: dict[str, object],
        parts: list[str],
    ) -> int | None:
        """A long follow-up, as numbered messages that arrive in order."""
        outbox = self.ctx.outbox
        notices = [
            Notice(
                "followup.text_part",
                {**params, "part": n, "parts": len(parts), "text": part},
                protect=True,
                lang=to.lang,
            )
            for n, part in enumerate(parts, start=1)
        ]
        first = await outbox.send(
            tx,
            to.chat_id,
            notices[0],
            priority=Priority.ESCALATION,
            person_id=to.id,
            about_id=alert.contact_id,
        )
        if first is not None:
            await outbox.send_after(
                tx,
                to.chat_id,
                first,
                notices[1:],
                Priority.ESCALATION,
                to.id,
                about_id=alert.contact_id,
            )
        return first

    async def _relay_live_edit(
        self, tx: Transaction, alert: Alert, contact_name: str, to: Person, location: Location
    ) -> int | None:
        # Move the live locations we relayed, rather than send a new message per update.
        ctx = self.ctx
        for event in reversed(await ctx.alerts.events(tx, alert.id)):
            if event.kind is EventKind.FOLLOWUP and event.detail.get("what") == "live_location":
                for ref in event.detail.get("relayed", []):
                    if await ctx.outbox.repo.person_of(tx, ref) == to.id:
                        notice = location_notice(alert, contact_name, to, location, None)
                        return await ctx.outbox.edit(
                            tx,
                            to.chat_id,
                            notice,
                            ref_id=ref,
                            priority=Priority.ESCALATION,
                            person_id=to.id,
                            about_id=alert.contact_id,
                        )
                break
        return None
