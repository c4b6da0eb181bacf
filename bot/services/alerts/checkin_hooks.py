"""What check-ins ask of alerts (bot/services/checkins.py, CheckinAlerts), in the caller's
transaction: open a missed-check-in or duress alert, close one when the contact checks
in, cancel one with the PIN, or mark one DURESS.

A contact has at most one open alert: a missed check-in or a duress answer while one is
open is written on that alert instead (and DURESS changes its kind and every page).

What the contact's phone is told must match what it would be told had the PIN been the
safe one, then and later. So a DURESS alert keeps a *shadow* in its detail: the alert the
phone would see open in that safe world — "panic" (a panic it sent, not cancelled),
"missed" (a missed check-in not yet answered) or none. Every later step that the safe
world would answer differently reads and moves the shadow: a message that would open a
panic, a missed check-in, a safe check-in, /cancel, and the acknowledgement ("Someone is
on it." only for a shadowed panic). See `shadow` and `set_shadow`.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.domain.models import Alert, AlertKind, AlertState, EventKind, Person, Priority
from bot.services.alerts.context import (
    MISSED,
    PANIC,
    SHADOW,
    AlertContext,
    block,
    page_buttons,
    set_shadow,
    shadow,
)
from bot.services.alerts.escalation import Escalation
from bot.services.alerts.intake import ContactMessage, Incoming, Intake
from bot.words import alert_text
from storage.db import Transaction

log = logging.getLogger(__name__)


class CheckinHooks:
    def __init__(self, ctx: AlertContext, escalation: Escalation, intake: Intake) -> None:
        self.ctx = ctx
        self.escalation = escalation
        self.intake = intake

    async def words(self, tx: Transaction, contact: Person, words: str, now: datetime) -> None:
        """What the contact wrote in a check-in beside the word or the code ("ok, at the
        office"): a follow-up on their open alert, relayed like any other."""
        alert = await self.ctx.alerts.open_for_contact(tx, contact.id)
        if alert is not None:
            message = ContactMessage(Incoming.TEXT, message_id=0, text=words)
            await self.intake.follow_up(tx, alert, contact, message, now)

    async def missed(
        self, tx: Transaction, contact: Person, detail: dict[str, Any], now: datetime
    ) -> int:
        """Down: a `missed_checkin` alert through the contact's policy, paged like a panic,
        carrying the last location they shared."""
        open_alert = await self.ctx.alerts.open_for_contact(tx, contact.id)
        if open_alert is not None:
            await self.ctx.alerts.add_event(tx, open_alert.id, EventKind.MISSED, now, detail=detail)
            if open_alert.kind is AlertKind.DURESS and shadow(open_alert) is None:
                await set_shadow(self.ctx, tx, open_alert, MISSED)  # the safe world has one
            return open_alert.id
        return await self._open(tx, contact, AlertKind.MISSED_CHECKIN, now, detail)

    async def duress(self, tx: Transaction, contact: Person, now: datetime) -> int:
        open_alert = await self.ctx.alerts.open_for_contact(tx, contact.id)
        if open_alert is not None:
            # A panic it sent stays open in the safe world (a check-in does not close it);
            # a missed check-in the safe check-in would have closed.
            seen: str | None
            if open_alert.kind is AlertKind.PANIC:
                seen = PANIC
            elif open_alert.kind is AlertKind.DURESS:
                seen = shadow(open_alert)
            else:
                seen = None
            await self._mark_duress(tx, open_alert, contact, now, seen=seen)
            return open_alert.id
        return await self._open(tx, contact, AlertKind.DURESS, now, {SHADOW: None})

    async def checked_in(
        self, tx: Transaction, contact: Person, alert_id: int | None, now: datetime
    ) -> None:
        """A safe check-in closes an open missed-check-in alert, and is a line on the
        timeline of any other open alert (a panic is closed by people, or /cancel)."""
        ctx = self.ctx
        alert = await ctx.alerts.open_for_contact(tx, contact.id)
        if alert is None:
            return
        await ctx.alerts.add_event(tx, alert.id, EventKind.CHECKED_IN, now, actor_id=contact.id)
        if alert.kind is AlertKind.DURESS and shadow(alert) == MISSED:
            await set_shadow(ctx, tx, alert, None)  # the safe world's missed alert closes
        if alert.kind is not AlertKind.MISSED_CHECKIN:
            return
        if not await ctx.alerts.resolve(tx, alert.id, contact.id, now, None):
            return
        closed = await ctx.alerts.get(tx, alert.id)
        assert closed is not None
        await ctx.edit_pages(tx, closed, contact.name, now, closed="page.checked_in")
        if alert.ack_by is not None:
            acker = await ctx.people.get(tx, alert.ack_by)
            if acker is not None:
                await ctx.outbox.tell(
                    tx,
                    acker,
                    "alert.checked_in",
                    priority=Priority.ESCALATION,
                    about_id=contact.id,
                    id=alert.id,
                    name=contact.name,
                    time=alert_text.when(now, acker),
                )
        log.info("alert %d closed: the contact checked in", alert.id)

    async def cancel(
        self, tx: Transaction, contact: Person, now: datetime, *, duress: bool
    ) -> bool:
        """`/cancel` with a PIN. False: there was nothing open to cancel."""
        ctx = self.ctx
        alert = await ctx.alerts.open_for_contact(tx, contact.id)
        if alert is None:
            return False
        if alert.kind is AlertKind.DURESS:
            # Once forced, a later "all is well" may be forced too: people close it. The
            # phone hears what it would have heard had every PIN been the safe one.
            seen = shadow(alert)
            await ctx.alerts.add_event(
                tx, alert.id, EventKind.CANCEL_REFUSED, now, actor_id=contact.id
            )
            await set_shadow(ctx, tx, alert, None)
            return seen is not None
        if duress:
            await self._mark_duress(tx, alert, contact, now, seen=None)
            return True
        if not await ctx.alerts.resolve(tx, alert.id, contact.id, now, None):
            return False
        await ctx.alerts.add_event(tx, alert.id, EventKind.CANCELLED, now, actor_id=contact.id)
        closed = await ctx.alerts.get(tx, alert.id)
        assert closed is not None
        await ctx.edit_pages(tx, closed, contact.name, now, closed="page.cancelled")
        log.info("alert %d cancelled by the contact", alert.id)
        return True

    # -- the pieces ----------------------------------------------------------------------

    async def _open(
        self,
        tx: Transaction,
        contact: Person,
        kind: AlertKind,
        now: datetime,
        detail: dict[str, Any] | None,
    ) -> int:
        ctx = self.ctx
        policy = await self.escalation.policy_for(tx, contact)
        alert_id = await ctx.alerts.create(
            tx,
            contact_id=contact.id,
            kind=kind,
            policy_id=policy.id,
            body="",
            now=now,
            next_escalation_at=None,
            detail=detail,
        )
        await ctx.alerts.add_event(tx, alert_id, EventKind.CREATED, now, detail=detail or {})
        if kind is AlertKind.DURESS:
            await ctx.alerts.add_event(tx, alert_id, EventKind.DURESS, now, actor_id=contact.id)
        location = await ctx.alerts.last_location(tx, contact.id)
        if location is not None:
            await ctx.alerts.set_location(tx, alert_id, location)
        alert = await ctx.alerts.get(tx, alert_id)
        assert alert is not None
        staff = await ctx.people.staff(tx)
        priority = Priority.DURESS if kind is AlertKind.DURESS else Priority.FIRST_PAGE
        await self.escalation.start(tx, alert, policy, staff, now, priority)
        log.info("alert %d opened (%s)", alert_id, kind.value)
        return alert_id

    async def _mark_duress(
        self, tx: Transaction, alert: Alert, contact: Person, now: datetime, *, seen: str | None
    ) -> None:
        """The open alert becomes DURESS: its kind, every page, and a new message to whoever
        holds it or was paged; an unacknowledged one pages its next step now."""
        ctx = self.ctx
        await ctx.alerts.add_event(tx, alert.id, EventKind.DURESS, now, actor_id=contact.id)
        if alert.kind is not AlertKind.DURESS:
            await ctx.alerts.set_kind(tx, alert.id, AlertKind.DURESS)
        await set_shadow(ctx, tx, alert, seen)
        marked = await ctx.alerts.get(tx, alert.id)
        assert marked is not None
        await self._repaint(tx, marked)
        if marked.state is AlertState.TRIGGERED and await ctx.alerts.escalate_now(
            tx, alert.id, now
        ):
            ctx.wake_after(tx)
        followers: list[Person] = []
        if marked.ack_by is not None:
            acker = await ctx.people.get(tx, marked.ack_by)
            followers = [acker] if acker else []
        else:
            for page in await ctx.alerts.pages(tx, alert.id):
                if page.person_id is not None and all(p.id != page.person_id for p in followers):
                    person = await ctx.people.get(tx, page.person_id)
                    if person is not None:
                        followers.append(person)
        for person in followers:
            await ctx.outbox.tell(
                tx,
                person,
                "alert.now_duress",
                priority=Priority.DURESS,
                about_id=contact.id,
                id=alert.id,
                name=contact.name,
            )
        log.info("alert %d marked DURESS", alert.id)

    async def _repaint(self, tx: Transaction, alert: Alert) -> None:
        """Every page of an open alert, rewritten with its new kind, buttons kept."""
        ctx = self.ctx
        if alert.state is AlertState.ACKNOWLEDGED and alert.ack_by is not None and alert.ack_at:
            await ctx.edit_pages(tx, alert, await ctx.name_of(tx, alert.ack_by), alert.ack_at)
            return
        contact_name, reads = await ctx.contact_of(tx, alert)
        policy = await ctx.policy_of(tx, alert)
        buttons = page_buttons(alert, case_file=await ctx.has_case_file(tx, alert))
        for page in await ctx.alerts.pages(tx, alert.id):
            if page.outbox_id is None or page.person_id is None:
                continue
            person = await ctx.people.get(tx, page.person_id)
            if person is None:
                continue
            shown = alert_text.page_text(alert, contact_name, person, policy, reads=reads)
            await ctx.outbox.edit(
                tx,
                person.chat_id,
                block(shown, person, buttons),
                ref_id=page.outbox_id,
                priority=Priority.DURESS,
                person_id=person.id,
                about_id=alert.contact_id,
            )
