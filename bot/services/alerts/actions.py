"""What responders and coordinators do with an alert: see it, acknowledge, resolve (and
the note asked for after a Resolve button), say they are still on it, decide on a held
message, fetch its voice messages and photos, list open alerts, read a timeline.

Every action checks anew that the actor may act on that alert (`visible_alert`).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import (
    Alert,
    AlertKind,
    AlertState,
    Button,
    DraftKind,
    EventKind,
    Notice,
    Person,
    Role,
)
from bot.services.alerts.context import HELD_STEP, PANIC, AlertContext, shadow
from bot.words import alert_text
from storage.db import Transaction

log = logging.getLogger(__name__)

MAX_NOTE = 1000
NOTE_WAIT = timedelta(minutes=15)  # how long a note asked for after a Resolve button waits


class Actions:
    def __init__(self, ctx: AlertContext) -> None:
        self.ctx = ctx

    async def visible_alert(
        self, actor: Person, alert_id: int, *, group_chat: int | None = None
    ) -> Alert:
        """The alert, if `actor` may see and act on it (see `_may_act`). `group_chat` is
        the group a button was pressed in; None for a private chat."""
        alert = await self.ctx.alerts.get(self.ctx.db, alert_id)
        if alert is None or not await self._may_act(actor, alert, group_chat):
            if alert is not None:
                log.warning(
                    "person %d refused on alert %d: not paged, not a coordinator",
                    actor.id,
                    alert_id,
                )
            raise NotFound("alert.not_found", id=alert_id)
        return alert

    async def _may_act(self, actor: Person, alert: Alert, group_chat: int | None) -> bool:
        """Coordinators always; responders who were paged themselves or acknowledged it;
        and, pressing in a group the alert was paged to, any responder there."""
        ctx = self.ctx
        if actor.has(Role.COORDINATOR):
            return True
        if not actor.is_staff:
            return False
        if alert.ack_by == actor.id:
            return True
        if group_chat is not None:
            # A page posted in a group is for the staff in that group, pressing there:
            # not for staff anywhere else once some group was paged.
            group = await ctx.groups.by_chat(ctx.db, group_chat)
            return group is not None and await ctx.alerts.paged_to_group(ctx.db, alert.id, group.id)
        return alert.id in await ctx.alerts.alerts_paged_to(ctx.db, actor.id)

    async def acknowledge(
        self, actor: Person, alert_id: int, *, reply: bool, group_chat: int | None = None
    ) -> Alert:
        await self.visible_alert(actor, alert_id, group_chat=group_chat)
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            alert = await ctx.alerts.get(tx, alert_id)
            assert alert is not None
            if alert.state is not AlertState.TRIGGERED:
                acked = alert.state is AlertState.ACKNOWLEDGED
                who = await ctx.name_of(tx, alert.ack_by if acked else alert.resolved_by)
                key = "alert.already_acked" if acked else "alert.already_resolved"
                raise InvalidInput(key, id=alert.id, name=who)
            policy = await ctx.policy_of(tx, alert)
            ack_deadline = now + timedelta(seconds=policy.ack_timeout_s)
            if not await ctx.alerts.acknowledge(tx, alert.id, actor.id, now, ack_deadline):
                raise InvalidInput("alert.already_acked", id=alert.id, name="?")
            await ctx.record(tx, alert.id, EventKind.ACKNOWLEDGED, actor, now)
            taken = await ctx.alerts.get(tx, alert.id)
            assert taken is not None
            await ctx.edit_pages(tx, taken, actor.name, now)
            # Only a contact who asked for help hears that someone is on it. A duress alert
            # or a missed check-in tells their chat nothing: the phone may be in other
            # hands, and must not learn that anyone is watching.
            heard = taken.kind is AlertKind.PANIC or (
                # A DURESS alert says it only where the safe world has a panic open.
                taken.kind is AlertKind.DURESS and shadow(taken) == PANIC
            )
            if taken.contact_id is not None and heard:
                contact = await ctx.people.get(tx, taken.contact_id)
                if contact is not None:
                    await ctx.to_contact(tx, contact, "contact.on_it")
            if reply:
                await ctx.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice("alert.acked_by_you", {"id": alert.id}, lang=actor.lang),
                    person_id=actor.id,
                )
        log.info("alert %d acknowledged by person %d", alert_id, actor.id)
        return taken

    async def resolve(
        self,
        actor: Person,
        alert_id: int,
        note: str | None,
        *,
        reply: bool,
        group_chat: int | None = None,
        ask_note: bool = False,
    ) -> Alert:
        """Close the alert. `ask_note`: it was closed by a button, with no note, so the
        presser is asked, in private, for one (a typed reply, or No note)."""
        await self.visible_alert(actor, alert_id, group_chat=group_chat)
        ctx = self.ctx
        note = " ".join(note.split()) if note else None
        if note and len(note) > MAX_NOTE:
            raise InvalidInput("alert.note_too_long", max=MAX_NOTE)
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            alert = await ctx.alerts.get(tx, alert_id)
            assert alert is not None
            if not await ctx.alerts.resolve(tx, alert.id, actor.id, now, note):
                raise InvalidInput(
                    "alert.already_resolved",
                    id=alert.id,
                    name=await ctx.name_of(tx, alert.resolved_by),
                )
            detail: dict[str, object] = {"note": note} if note else {}
            await ctx.record(tx, alert.id, EventKind.RESOLVED, actor, now, **detail)
            resolved = await ctx.alerts.get(tx, alert.id)
            assert resolved is not None
            await ctx.edit_pages(tx, resolved, actor.name, now, note or None)
            if reply:
                await ctx.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice("alert.resolved_by_you", {"id": alert.id}, lang=actor.lang),
                    person_id=actor.id,
                )
            if ask_note and not note:
                await self._ask_note(tx, actor, alert.id, now)
        log.info("alert %d resolved by person %d", alert_id, actor.id)
        return resolved

    # -- the note asked for after a Resolve button ---------------------------------------

    async def _ask_note(self, tx: Transaction, actor: Person, alert_id: int, now: datetime) -> None:
        ctx = self.ctx
        await ctx.drafts.drop(tx, actor.id, DraftKind.RESOLVE_NOTE)
        await ctx.drafts.add(tx, actor.id, DraftKind.RESOLVE_NOTE, {"alert": alert_id}, now)
        await ctx.outbox.send(
            tx,
            actor.chat_id,
            Notice(
                "resolve.ask_note",
                {"id": alert_id},
                buttons=((Button("button.no_note", f"nn:{alert_id}"),),),
                lang=actor.lang,
            ),
            person_id=actor.id,
        )

    async def _note_asked(self, actor: Person, now: datetime) -> tuple[int, dict[str, Any]] | None:
        """The note asked of `actor` within NOTE_WAIT and not yet given: (draft id, data)."""
        since = now - NOTE_WAIT
        return await self.ctx.drafts.latest(self.ctx.db, actor.id, DraftKind.RESOLVE_NOTE, since)

    async def typed_note(self, actor: Person, typed: str) -> bool:
        """Staff's plain text: the note for the alert they just resolved by button, if
        they were asked for one (within NOTE_WAIT). False if it was not that."""
        ctx = self.ctx
        now = ctx.clock.now()
        found = await self._note_asked(actor, now)
        if found is None:
            return False
        note = " ".join(typed.split())
        if len(note) > MAX_NOTE:
            raise InvalidInput("alert.note_too_long", max=MAX_NOTE)
        draft_id, data = found
        async with ctx.db.transaction() as tx:
            if await ctx.drafts.take(tx, draft_id, DraftKind.RESOLVE_NOTE, actor.id) is None:
                return False
            alert = await ctx.alerts.get(tx, int(data["alert"]))
            if alert is None or not await ctx.alerts.set_resolution(tx, alert.id, note):
                return False
            await ctx.record(tx, alert.id, EventKind.NOTE, actor, now, note=note)
            resolved = await ctx.alerts.get(tx, alert.id)
            assert resolved is not None
            resolver = (
                await ctx.people.get(tx, resolved.resolved_by) if resolved.resolved_by else None
            )
            by = (resolver or actor).name
            await ctx.edit_pages(tx, resolved, by, resolved.resolved_at or now, note)
            await ctx.outbox.tell(tx, actor, "resolve.note_added", id=alert.id)
        return True

    async def no_note(self, actor: Person, alert_id: int) -> None:
        ctx = self.ctx
        found = await self._note_asked(actor, ctx.clock.now())
        async with ctx.db.transaction() as tx:
            # An old No note button must not cancel the note asked for a newer alert.
            if found is not None and int(found[1]["alert"]) == alert_id:
                await ctx.drafts.take(tx, found[0], DraftKind.RESOLVE_NOTE, actor.id)
            await ctx.outbox.tell(tx, actor, "resolve.no_note", id=alert_id)

    async def note_requested(self, actor: Person) -> int | None:
        """The draft id of a note asked of `actor` and not yet given, if any."""
        found = await self._note_asked(actor, self.ctx.clock.now())
        return found[0] if found else None

    # -- acknowledged, held ---------------------------------------------------------------

    async def snooze(self, actor: Person, alert_id: int) -> str:
        """The acknowledger is still on it: the reminder comes again one ack timeout from
        now, and escalation waits. Returns the wait, for the answer."""
        alert = await self.visible_alert(actor, alert_id)
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            policy = await ctx.policy_of(tx, alert)
            wait = timedelta(seconds=policy.ack_timeout_s)
            if not await ctx.alerts.snooze(tx, alert.id, actor.id, now + wait):
                raise InvalidInput("alert.snooze_not_yours", id=alert.id)
            shown = alert_text.ago(wait)
            await ctx.record(tx, alert.id, EventKind.SNOOZED, actor, now, wait=shown)
        return shown

    async def release_held(self, actor: Person, alert_id: int) -> None:
        """ "New alert" on a held message: the policy pages its step 1 now (the held
        alert is made due, and the tick that pages it is woken)."""
        await self.visible_alert(actor, alert_id)
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            alert = await ctx.alerts.get(tx, alert_id)
            if (
                alert is None
                or alert.state is not AlertState.TRIGGERED
                or alert.step != HELD_STEP
                or not await ctx.alerts.escalate_now(tx, alert.id, now)
            ):
                raise InvalidInput("held.not_held", id=alert_id)
            await ctx.record(tx, alert.id, EventKind.RELEASED, actor, now)
            ctx.wake_after(tx)

    async def dismiss_held(self, actor: Person, alert_id: int) -> None:
        """ "Not an alert" on a held message: it is closed, and no one else is paged."""
        alert = await self.visible_alert(actor, alert_id)
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            # Only while still held: a tick that paged step 1 meanwhile has made it an alert.
            if not await ctx.alerts.close_held(tx, alert.id, actor.id, now, HELD_STEP):
                raise InvalidInput("held.not_held", id=alert_id)
            await ctx.record(tx, alert.id, EventKind.DISMISSED, actor, now)
            resolved = await ctx.alerts.get(tx, alert.id)
            assert resolved is not None
            await ctx.edit_pages(tx, resolved, actor.name, now)

    # -- reading -------------------------------------------------------------------------

    async def send_media(
        self, actor: Person, alert_id: int, *, group_chat: int | None = None
    ) -> None:
        """The alert's voice messages and photos, relayed again to `actor` in private."""
        alert = await self.visible_alert(actor, alert_id, group_chat=group_chat)
        ctx = self.ctx
        async with ctx.db.transaction() as tx:
            media = alert_text.media_of(await ctx.alerts.events(tx, alert.id))
            if not media:
                await ctx.outbox.tell(tx, actor, "media.none", id=alert.id)
                return
            contact_name = await ctx.contact_name(tx, alert)
            for event in media:
                await ctx.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice(
                        "followup.media_caption" if event.detail.get("text") else "followup.media",
                        {
                            "id": alert.id,
                            "name": contact_name,
                            "text": event.detail.get("text", ""),
                        },
                        protect=True,
                        lang=actor.lang,
                        media={"type": event.detail["what"], "file_id": event.detail["file_id"]},
                    ),
                    person_id=actor.id,
                    about_id=alert.contact_id,
                )

    async def list_open(self, actor: Person) -> None:
        """Reply with the open alerts `actor` may see."""
        if not actor.is_staff:
            raise NotAllowed("error.not_allowed")
        ctx = self.ctx
        alerts = await ctx.alerts.open_alerts(ctx.db)
        if not actor.has(Role.COORDINATOR):
            mine = await ctx.alerts.alerts_paged_to(ctx.db, actor.id)
            alerts = [a for a in alerts if a.id in mine or a.ack_by == actor.id]
        async with ctx.db.transaction() as tx:
            if not alerts:
                await ctx.outbox.send(
                    tx, actor.chat_id, Notice("alerts.none", lang=actor.lang), person_id=actor.id
                )
                return
            rows = [
                (
                    alert,
                    await ctx.contact_name(tx, alert),
                    await ctx.name_of(tx, alert.ack_by) if alert.ack_by else None,
                )
                for alert in alerts
            ]
            await ctx.outbox.tell_lines(tx, actor, alert_text.open_alerts(rows, actor))

    async def show_timeline(
        self, actor: Person, alert_id: int, *, group_chat: int | None = None
    ) -> None:
        alert = await self.visible_alert(actor, alert_id, group_chat=group_chat)
        ctx = self.ctx
        async with ctx.db.transaction() as tx:
            events = await ctx.alerts.events(tx, alert.id)
            pages = [(p, await ctx.page_name(tx, p)) for p in await ctx.alerts.pages(tx, alert.id)]
            contact_name, reads = await ctx.contact_of(tx, alert)
            body = alert_text.timeline(
                alert,
                contact_name,
                await ctx.name_of(tx, alert.ack_by) if alert.ack_by else None,
                events,
                pages,
                actor,
                reads=reads,
            )
            # Whoever holds it, or a coordinator, can answer the contact from here too.
            may_answer = (
                alert.state is not AlertState.RESOLVED
                and alert.contact_id is not None
                and alert.kind is not AlertKind.DURESS
                and (alert.ack_by == actor.id or actor.has(Role.COORDINATOR))
            )
            buttons = ((Button("button.answer", f"ans:{alert.id}"),),) if may_answer else ()
            await ctx.outbox.tell_lines(tx, actor, body.split("\n"), buttons=buttons)
            media = alert_text.media_of(events)
            if media:
                await ctx.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice(
                        "timeline.media",
                        {"id": alert.id, "n": len(media)},
                        buttons=((Button("button.media", f"md:{alert.id}", {"n": len(media)}),),),
                        lang=actor.lang,
                    ),
                    person_id=actor.id,
                )
