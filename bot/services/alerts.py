"""The alert lifecycle: triggered → acknowledged → resolved, and the escalation between.

Deadlines are columns (`next_escalation_at`, `ack_deadline_at`); `tick()` selects what is
due and claims each move with `UPDATE … WHERE position = old position`, so two ticks or
a restart never page a step twice. Every page is an outbox row written in the same
transaction as the move that caused it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from bot.delivery.outbox import Delivered, Outbox
from bot.domain import rota
from bot.domain.clock import Clock
from bot.domain.errors import DeliveryError, InvalidInput, NotAllowed, NotFound
from bot.domain.escalation import (
    START,
    OnCall,
    Plan,
    Position,
    deadline,
    next_position,
    pageable,
    plan_from,
    rotations_of,
)
from bot.domain.limits import split_text
from bot.domain.models import (
    Alert,
    AlertEvent,
    AlertKind,
    AlertPage,
    AlertState,
    Button,
    EventKind,
    GroupChat,
    Location,
    Notice,
    OutboxItem,
    PageDelivery,
    Person,
    Policy,
    Priority,
    Role,
)
from bot.words import alert_text
from bot.words.alert_text import GroupReader
from bot.words.catalogue import chunk_lines, text
from storage.alerts import AlertRepo
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.groups import GroupRepo
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo

log = logging.getLogger(__name__)

AlertStep = Callable[[Transaction, Alert, datetime], Awaitable[bool]]
MAX_NOTE = 1000
NOTE_DRAFT = "resolve_note"  # a note asked for after a Resolve button
NOTE_WAIT = timedelta(minutes=15)
HELD_STEP = -1  # a message after a resolution, waiting for the resolver (see _hold)
MAX_BATCHES_PER_TICK = 50  # 200 alerts a batch; a guard, never reached in practice
RETRY_FAILED_TICK = timedelta(seconds=60)


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


class AlertService:
    def __init__(
        self,
        db: Database,
        alerts: AlertRepo,
        policies: PolicyRepo,
        people: PeopleRepo,
        rota_repo: RotaRepo,
        groups: GroupRepo,
        outbox: Outbox,
        clock: Clock,
        drafts: DraftRepo,
        *,
        delete_contact_messages: bool,
        panic_on_plain_text: bool,
        resolved_grace: timedelta = timedelta(hours=1),
    ) -> None:
        self.db = db
        self.alerts = alerts
        self.policies = policies
        self.people = people
        self.rota = rota_repo
        self.groups = groups
        self.drafts = drafts
        self.outbox = outbox
        self.clock = clock
        self.delete_contact_messages = delete_contact_messages
        self.panic_on_plain_text = panic_on_plain_text
        self.resolved_grace = resolved_grace
        self._tick_staff: list[Person] | None = None
        outbox.on_delivered.append(self._delivered)
        outbox.on_failure.append(self._failed)

    # -- contacts ------------------------------------------------------------------------

    async def forget(self, contact: Person, message_id: int) -> None:
        """Delete a contact's own message from their chat, when the setting says so."""
        if not self.delete_contact_messages:
            return
        async with self.db.transaction() as tx:
            await self.outbox.delete(
                tx, contact.chat_id, message_id=message_id, person_id=contact.id
            )

    async def open_alert_of(self, contact: Person) -> Alert | None:
        return await self.alerts.open_for_contact(self.db, contact.id)

    async def contact_message(self, contact: Person, msg: ContactMessage) -> Alert | None:
        """A contact wrote: open an alert, or add to the open one. None if neither."""
        now = self.clock.now()
        escalate = False
        async with self.db.transaction() as tx:
            alert = await self.alerts.open_for_contact(tx, contact.id)
            if alert is None:
                opens = msg.panic or (
                    self.panic_on_plain_text and msg.what is not Incoming.LIVE_EDIT
                )
                if not opens:
                    if msg.what is not Incoming.LIVE_EDIT:
                        await self._to_contact(tx, contact, "contact.hint", now)
                    return None
                alert = None if msg.panic else await self._hold(tx, contact, msg, now)
                if alert is None:
                    alert = await self._open(tx, contact, msg, now)
            else:
                await self._follow_up(tx, alert, contact, msg, now)
                # Pressing panic again while no one has acknowledged is a signal: the
                # next step is paged now rather than when this one's wait runs out.
                escalate = (
                    msg.panic
                    and alert.state is AlertState.TRIGGERED
                    and await self.alerts.escalate_now(tx, alert.id, now)
                )
            if msg.what is not Incoming.LIVE_EDIT:
                await self._to_contact(tx, contact, "contact.received", now)
            # A live location stops updating if its message is deleted: keep it.
            if self.delete_contact_messages and msg.what not in (
                Incoming.LIVE_LOCATION,
                Incoming.LIVE_EDIT,
            ):
                await self.outbox.delete(
                    tx, contact.chat_id, message_id=msg.message_id, person_id=contact.id
                )
            fresh = await self.alerts.get(tx, alert.id)
        if escalate:
            await self.tick()
        return fresh

    async def _hold(
        self, tx: Transaction, contact: Person, msg: ContactMessage, now: datetime
    ) -> Alert | None:
        """Plain text soon after a resolution ("thank you") goes first to whoever resolved
        it, as an alert held at step 0: they make it an alert or close it; if they do
        neither within the policy's first wait, it pages the policy's step 1 like any
        other. None when there is no one to hold it for: the caller opens it at once."""
        # Only plain words: a typed command ("/sos!", "/help me") is meant as a call.
        if (
            msg.what is not Incoming.TEXT
            or msg.text.lstrip().startswith("/")
            or self.resolved_grace <= timedelta(0)
        ):
            return None
        previous = await self.alerts.resolved_since(tx, contact.id, now - self.resolved_grace)
        resolver = (
            await self.people.get(tx, previous.resolved_by)
            if previous and previous.resolved_by
            else None
        )
        if previous is None or resolver is None or not pageable([resolver]):
            return None
        policy, created = await self._create(tx, contact, msg, now)
        alert_id = created.id
        due = now + timedelta(seconds=policy.steps[0].delay_s)
        # Held before the policy's step 1, which the next escalation pages.
        await self.alerts.move(
            tx, created, step=HELD_STEP, pass_=0, now=now, next_escalation_at=due
        )
        await self.alerts.add_event(
            tx, alert_id, EventKind.HELD, now, detail={"prev": previous.id, "name": resolver.name}
        )
        row = await self.outbox.send(
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
        await self.alerts.add_page(
            tx, alert_id=alert_id, person_id=resolver.id, pass_=0, step=-1, outbox_id=row, now=now
        )
        log.info("alert %d held for the person who resolved alert %d", alert_id, previous.id)
        return await self.alerts.get(tx, alert_id)

    async def _create(
        self, tx: Transaction, contact: Person, msg: ContactMessage, now: datetime
    ) -> tuple[Policy, Alert]:
        """A new alert for what the contact sent, under their policy; not paged yet."""
        policy = await self._policy_for(tx, contact)
        alert_id = await self.alerts.create(
            tx,
            contact_id=contact.id,
            kind=AlertKind.PANIC,
            policy_id=policy.id,
            body=msg.text,
            now=now,
            next_escalation_at=None,
        )
        await self.alerts.add_event(tx, alert_id, EventKind.CREATED, now, actor_id=contact.id)
        created = await self.alerts.get(tx, alert_id)
        assert created is not None
        return policy, created

    async def _open(
        self, tx: Transaction, contact: Person, msg: ContactMessage, now: datetime
    ) -> Alert:
        policy, created = await self._create(tx, contact, msg, now)
        alert_id = created.id
        if msg.location is not None:
            await self.alerts.set_location(tx, alert_id, msg.location)
        if msg.file_id:
            # A voice message or photo that opens the alert: kept like a follow-up that no
            # one has seen, so every page carries it (and its caption) behind a button.
            await self.alerts.add_event(
                tx,
                alert_id,
                EventKind.FOLLOWUP,
                now,
                actor_id=contact.id,
                detail={"what": msg.what.value, "file_id": msg.file_id, "text": msg.text, "to": []},
            )
        alert = await self.alerts.get(tx, alert_id)
        assert alert is not None
        everyone = await self.people.staff(tx)
        await self._enter(
            tx,
            alert,
            policy,
            await self._plan(tx, policy, START, everyone, now),
            everyone,
            now,
            Priority.FIRST_PAGE,
        )
        log.info("alert %d opened (%s)", alert_id, alert.kind.value)
        return alert

    async def _follow_up(
        self, tx: Transaction, alert: Alert, contact: Person, msg: ContactMessage, now: datetime
    ) -> None:
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
            await self.alerts.set_location(tx, alert.id, msg.location)
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
            await self.alerts.add_event(
                tx, alert.id, EventKind.FOLLOWUP, now, actor_id=contact.id, detail=detail
            )

    async def _followers(self, tx: Transaction, alert: Alert) -> list[Person]:
        """The acknowledger if there is one, else everyone paged so far."""
        if alert.state is AlertState.ACKNOWLEDGED and alert.ack_by is not None:
            acker = await self.people.get(tx, alert.ack_by)
            if acker is not None and pageable([acker]):
                return [acker]
        paged = {p.person_id for p in await self.alerts.pages(tx, alert.id) if p.person_id}
        return [p for p in pageable(await self.people.staff(tx)) if p.id in paged]

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
            notice = self._location_notice(alert, contact.name, to, msg.location, live)
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
        return await self.outbox.send(
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
        notices = [
            Notice(
                "followup.text_part",
                {**params, "part": n, "parts": len(parts), "text": part},
                protect=True,
                lang=to.lang,
            )
            for n, part in enumerate(parts, start=1)
        ]
        first = await self.outbox.send(
            tx,
            to.chat_id,
            notices[0],
            priority=Priority.ESCALATION,
            person_id=to.id,
            about_id=alert.contact_id,
        )
        if first is not None:
            await self.outbox.send_after(
                tx,
                to.chat_id,
                first,
                notices[1:],
                Priority.ESCALATION,
                to.id,
                about_id=alert.contact_id,
            )
        return first

    @staticmethod
    def _location_notice(
        alert: Alert,
        contact_name: str,
        to: alert_text.Reader,
        location: Location,
        live_period: int | None,
    ) -> Notice:
        """A relayed location; its button names the alert, since a map pin cannot."""
        media: dict[str, object] = {
            "type": "location",
            "lat": location.latitude,
            "lon": location.longitude,
        }
        if live_period:
            media["live_period"] = live_period
        params = {"id": alert.id, "name": contact_name}
        return Notice(
            "followup.media",
            params,
            protect=True,
            lang=to.lang,
            media=media,
            buttons=((Button("followup.location_button", f"al:{alert.id}", params),),),
        )

    async def _relay_live_edit(
        self, tx: Transaction, alert: Alert, contact_name: str, to: Person, location: Location
    ) -> int | None:
        # Move the live locations we relayed, rather than send a new message per update.
        for event in reversed(await self.alerts.events(tx, alert.id)):
            if event.kind is EventKind.FOLLOWUP and event.detail.get("what") == "live_location":
                for ref in event.detail.get("relayed", []):
                    if await self.outbox.repo.person_of(tx, ref) == to.id:
                        notice = self._location_notice(alert, contact_name, to, location, None)
                        return await self.outbox.edit(
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

    async def _to_contact(self, tx: Transaction, contact: Person, key: str, now: datetime) -> None:
        """A short neutral line to a contact (deleted after the reply TTL, as everything
        the bot says to a contact is: Outbox.to_person)."""
        await self.outbox.to_person(
            tx, contact, Notice(key, lang=contact.lang), priority=Priority.FIRST_PAGE
        )

    # -- escalation ----------------------------------------------------------------------

    async def _enter(
        self,
        tx: Transaction,
        alert: Alert,
        policy: Policy,
        plan: Plan,
        everyone: list[Person],
        now: datetime,
        priority: Priority,
        held_by: tuple[str, datetime] | None = None,
        first: EventKind | None = None,
    ) -> bool:
        """Apply a plan: note skipped steps, page the step that has people, or go UNANSWERED.

        False when another tick moved the alert first (the claim failed): nothing is paged
        and nothing is written. `first`: an event to record before the rest, once claimed.
        """
        paged = plan.paged
        if paged is not None:
            pos = paged.pos
            due: datetime | None = deadline(policy, pos, now)
        else:
            pos, due = Position(alert.pass_, alert.step), None
        claimed = await self.alerts.move(
            tx,
            alert,
            step=pos.step,
            pass_=pos.pass_,
            now=now,
            next_escalation_at=due,
            unanswered=paged is None,
            state=AlertState.TRIGGERED,
        )
        moved = await self.alerts.get(tx, alert.id) if claimed else None
        if moved is None:
            return False
        if first is not None:
            await self.alerts.add_event(tx, alert.id, first, now)
        for skipped in plan.skipped:
            await self.alerts.add_event(
                tx,
                alert.id,
                EventKind.STEP_SKIPPED,
                now,
                detail={"step": skipped.step + 1, "pass": skipped.pass_},
            )
        if paged is not None:
            chats = [g for g in await self.groups.all(tx) if g.id in paged.groups]
            await self._page(
                tx,
                moved,
                policy,
                paged.targets,
                pos,
                now,
                priority,
                EventKind.PAGED,
                groups=chats,
                held_by=held_by,
            )
            return True
        everyone_staff = pageable(everyone)
        if not everyone_staff:
            await self.alerts.add_event(tx, alert.id, EventKind.NOBODY, now)
            log.error("alert %d: no one at all can be paged", alert.id)
            return True
        await self._page(
            tx,
            moved,
            policy,
            everyone_staff,
            Position(moved.pass_, -1),
            now,
            Priority.ESCALATION,
            EventKind.UNANSWERED,
        )
        return True

    async def _page(
        self,
        tx: Transaction,
        alert: Alert,
        policy: Policy | None,
        targets: list[Person],
        pos: Position,
        now: datetime,
        priority: Priority,
        event: EventKind,
        groups: list[GroupChat] | None = None,
        held_by: tuple[str, datetime] | None = None,
    ) -> None:
        """Page `targets` and `groups`; each page is followed by the rest of a long
        message and by what the contact sent that its reader has not seen. `held_by`:
        who had acknowledged it and when, when escalation resumes after them."""
        contact_name = await self._contact_name(tx, alert)
        groups = groups or []
        readers: list[alert_text.Reader] = [*targets, *(GroupReader() for _ in groups)]
        chats = [p.chat_id for p in targets] + [g.chat_id for g in groups]
        owners: list[int | None] = [p.id for p in targets] + [None for _ in groups]
        sends: list[tuple[int, Notice, int | None]] = []
        for reader, chat_id, owner in zip(readers, chats, owners, strict=True):
            body = alert_text.page_body(alert, contact_name, reader, policy)
            if event is EventKind.UNANSWERED:
                body = text("page.unanswered", reader.lang) + "\n\n" + body
            if held_by is not None:
                name, since = held_by
                held = text(
                    "page.was_held", reader.lang, name=name, time=alert_text.when(since, reader)
                )
                body = body + "\n\n" + held
            notice = Notice(
                "text.block",
                {"text": body + "\n\n" + text("page.how", reader.lang, id=alert.id)},
                buttons=(
                    (
                        Button("button.ack", f"ack:{alert.id}"),
                        Button("button.resolve", f"res:{alert.id}"),
                    ),
                ),
                protect=True,
                lang=reader.lang,
            )
            sends.append((chat_id, notice, owner))
        rows = await self.outbox.send_many(tx, sends, priority=priority, about_id=alert.contact_id)
        followups = [
            e for e in await self.alerts.events(tx, alert.id) if e.kind is EventKind.FOLLOWUP
        ]
        seen: dict[int, dict[str, Any]] = {}
        keys = [("to", p.id) for p in targets] + [("groups", g.id) for g in groups]
        for reader, chat_id, owner, row, (field, key) in zip(
            readers, chats, owners, rows, keys, strict=True
        ):
            # The rest of a long message follows the page (bot/words/alert_text.py) ...
            rest = [
                Notice("text.block", {"text": t}, protect=True, lang=reader.lang)
                for t in alert_text.continuations(alert, reader)
            ]
            last = await self.outbox.send_after(
                tx, chat_id, row, rest, priority, owner, about_id=alert.contact_id
            )
            # ... then what the contact sent that this reader has not seen.
            missed = [e for e in followups if key not in e.detail.get(field, [])]
            if missed:
                catch_up = self._catch_up(alert, contact_name, missed, followups, reader)
                await self.outbox.send_after(
                    tx, chat_id, last, catch_up, priority, owner, about_id=alert.contact_id
                )
                for e in missed:
                    detail = seen.setdefault(e.id, dict(e.detail))
                    detail[field] = [*detail.get(field, []), key]
        for event_id, detail in seen.items():
            await self.alerts.set_event_detail(tx, event_id, detail)
        await self.alerts.add_pages(
            tx,
            alert.id,
            [(p.id, row) for p, row in zip(targets, rows, strict=False)],
            pass_=pos.pass_,
            step=pos.step,
            now=now,
        )
        for group, row in zip(groups, rows[len(targets) :], strict=True):
            await self.alerts.add_group_page(
                tx, alert.id, group.id, row, pass_=pos.pass_, step=pos.step, now=now
            )
        names = [p.name for p in targets] + [g.title for g in groups]
        await self.alerts.add_event(
            tx,
            alert.id,
            event,
            now,
            detail={"step": pos.step + 1, "pass": pos.pass_, "names": names},
        )
        log.info(
            "alert %d: %s %d people (pass %d, step %d)",
            alert.id,
            event,
            len(targets),
            pos.pass_,
            pos.step + 1,
        )

    def _catch_up(
        self,
        alert: Alert,
        contact_name: str,
        missed: list[AlertEvent],
        followups: list[AlertEvent],
        reader: alert_text.Reader,
    ) -> list[Notice]:
        """A late page's catch-up: the missed follow-ups as text (the voice messages and
        photos behind a button), then the last location as a pin."""
        lines = alert_text.catch_up(alert, contact_name, missed, reader)
        media = alert_text.media_of(followups)
        blocks = chunk_lines(lines)
        notices = [
            Notice("text.block", {"text": b}, protect=True, lang=reader.lang) for b in blocks
        ]
        if media:
            notices[-1] = Notice(
                "text.block",
                {"text": blocks[-1]},
                buttons=((Button("button.media", f"md:{alert.id}", {"n": len(media)}),),),
                protect=True,
                lang=reader.lang,
            )
        if alert.location is not None and any("lat" in e.detail for e in missed):
            notices.append(self._location_notice(alert, contact_name, reader, alert.location, None))
        return notices

    async def tick(self) -> int:
        """Escalate every alert whose deadline has passed. Returns how many moved."""
        now = self.clock.now()
        moved = 0
        # Batches, until nothing is due: after a long outage of the bot itself, hundreds of
        # deadlines may have passed, and all of them are due now, not over several ticks.
        for due in (self.alerts.due_escalations, self.alerts.due_ack_timeouts):
            step = self._escalate if due == self.alerts.due_escalations else self._ack_timeout
            for _ in range(MAX_BATCHES_PER_TICK):
                batch = await due(self.db, now)
                if not batch:
                    break
                # Who can be paged is read once a batch, not once an alert.
                self._tick_staff = await self.people.staff(self.db)
                try:
                    moved += sum([await self._safely(a, step, now) for a in batch])
                finally:
                    self._tick_staff = None
        return moved

    async def _policy_for(self, tx: Transaction, contact: Person) -> Policy:
        """The contact's own policy if one is assigned and in use, else the default."""
        if contact.policy_id is not None:
            policy = await self.policies.get(tx, contact.policy_id)
            if policy is not None and policy.steps and not policy.retired:
                return policy
        return await self.policies.default(tx)

    async def _plan(
        self,
        tx: Transaction,
        policy: Policy,
        start: Position | None,
        staff: list[Person],
        now: datetime,
    ) -> Plan:
        groups = {g.id for g in await self.groups.all(tx)}
        return plan_from(policy, start, staff, await self._on_call(tx, policy, now), groups)

    async def _on_call(self, tx: Transaction, policy: Policy, now: datetime) -> OnCall:
        """Who is on call now in each rotation the policy names (overrides applied)."""
        result: dict[int, frozenset[int]] = {}
        for rotation_id in rotations_of(policy):
            rotation = await self.rota.rotation(tx, rotation_id)
            if rotation is None:
                continue
            overrides = await self.rota.overrides(tx, rotation_id, ending_after=now)
            result[rotation_id] = rota.on_call(rotation, overrides, now)
        return result

    async def policy_changed(self, tx: Transaction, policy_id: int, now: datetime) -> int:
        """A policy was edited: its open, unacknowledged alerts start again from the new
        step 1 at once, so the old policy's pending steps never fire."""
        policy = await self.policies.get(tx, policy_id)
        if policy is None or not policy.steps:
            return 0
        restarted = 0
        staff = await self.people.staff(tx)
        for alert in await self.alerts.open_alerts(tx):
            if alert.policy_id != policy_id or alert.state is not AlertState.TRIGGERED:
                continue
            await self.alerts.add_event(
                tx, alert.id, EventKind.POLICY_CHANGED, now, detail={"policy": policy.name}
            )
            plan = await self._plan(tx, policy, START, staff, now)
            if await self._enter(tx, alert, policy, plan, staff, now, Priority.ESCALATION):
                restarted += 1
        return restarted

    async def contact_moved(
        self, tx: Transaction, contact_id: int, policy: Policy, now: datetime
    ) -> int:
        """A contact was given another policy: an open, unacknowledged alert of theirs
        moves to it and pages its step 1 at once; the old policy's steps never fire."""
        alert = await self.alerts.open_for_contact(tx, contact_id)
        if alert is None or alert.policy_id == policy.id:
            return 0
        await self.alerts.set_policy(tx, alert.id, policy.id)
        if alert.state is not AlertState.TRIGGERED:
            return 0
        moved = await self.alerts.get(tx, alert.id)
        assert moved is not None
        await self.alerts.add_event(
            tx, alert.id, EventKind.POLICY_CHANGED, now, detail={"policy": policy.name}
        )
        staff = await self.people.staff(tx)
        plan = await self._plan(tx, policy, START, staff, now)
        return int(await self._enter(tx, moved, policy, plan, staff, now, Priority.ESCALATION))

    async def _staff(self, tx: Transaction) -> list[Person]:
        if self._tick_staff is not None:
            return self._tick_staff
        return await self.people.staff(tx)

    async def _safely(self, alert: Alert, step: AlertStep, now: datetime) -> int:
        try:
            async with self.db.transaction() as tx:
                return int(await step(tx, alert, now))
        except Exception as exc:  # one bad alert must not stop the others: retry it later
            log.error(
                "alert %d: escalation failed (%s); retrying in %s",
                alert.id,
                type(exc).__name__,
                RETRY_FAILED_TICK,
            )
            async with self.db.transaction() as tx:
                await self.alerts.postpone(tx, alert.id, now + RETRY_FAILED_TICK)
            return 0

    async def _escalate(self, tx: Transaction, alert: Alert, now: datetime) -> bool:
        policy = await self.policies.get(tx, alert.policy_id) or await self.policies.default(tx)
        everyone = await self._staff(tx)
        nxt = next_position(policy, Position(alert.pass_, alert.step))
        return await self._enter(
            tx,
            alert,
            policy,
            await self._plan(tx, policy, nxt, everyone, now),
            everyone,
            now,
            Priority.ESCALATION,
        )

    async def _ack_timeout(self, tx: Transaction, alert: Alert, now: datetime) -> bool:
        policy = await self.policies.get(tx, alert.policy_id) or await self.policies.default(tx)
        timeout = timedelta(seconds=policy.ack_timeout_s)
        acker = await self.people.get(tx, alert.ack_by) if alert.ack_by else None
        if not alert.ack_reminded and acker is not None and not acker.unreachable:
            if not await self.alerts.ack_reminded(tx, alert, now + timeout):
                return False
            since = alert.ack_at or now
            notice = Notice(
                "text.block",
                {
                    "text": text(
                        "page.reminder",
                        acker.lang,
                        ago=alert_text.ago(now - since),
                        timeout=alert_text.ago(timeout),
                    )
                    + "\n\n"
                    + alert_text.page_body(alert, await self._contact_name(tx, alert), acker, None)
                },
                buttons=(
                    (
                        Button("button.snooze", f"snz:{alert.id}"),
                        Button("button.resolve", f"res:{alert.id}"),
                    ),
                ),
                protect=True,
                lang=acker.lang,
            )
            row = await self.outbox.send(
                tx,
                acker.chat_id,
                notice,
                priority=Priority.ESCALATION,
                person_id=acker.id,
                about_id=alert.contact_id,
            )
            await self.alerts.add_page(
                tx,
                alert_id=alert.id,
                person_id=acker.id,
                pass_=alert.pass_,
                step=-1,
                outbox_id=row,
                now=now,
            )
            await self.alerts.add_event(
                tx, alert.id, EventKind.REMINDER, now, detail={"name": acker.name}
            )
            return True
        everyone = await self._staff(tx)
        held = (acker.name, alert.ack_at) if acker is not None and alert.ack_at else None
        return await self._enter(
            tx,
            alert,
            policy,
            await self._plan(tx, policy, START, everyone, now),
            everyone,
            now,
            Priority.ESCALATION,
            held_by=held,
            first=EventKind.RESUMED,
        )

    # -- responders and coordinators -----------------------------------------------------

    async def visible_alert(
        self, actor: Person, alert_id: int, *, group_chat: int | None = None
    ) -> Alert:
        """The alert, if `actor` may see and act on it (see `_may_act`). `group_chat` is
        the group a button was pressed in; None for a private chat."""
        alert = await self.alerts.get(self.db, alert_id)
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
        if actor.has(Role.COORDINATOR):
            return True
        if not actor.is_staff:
            return False
        if alert.ack_by == actor.id:
            return True
        if group_chat is not None:
            # A page posted in a group is for the staff in that group, pressing there:
            # not for staff anywhere else once some group was paged.
            group = await self.groups.by_chat(self.db, group_chat)
            return group is not None and await self.alerts.paged_to_group(
                self.db, alert.id, group.id
            )
        return alert.id in await self.alerts.alerts_paged_to(self.db, actor.id)

    async def acknowledge(
        self, actor: Person, alert_id: int, *, reply: bool, group_chat: int | None = None
    ) -> Alert:
        await self.visible_alert(actor, alert_id, group_chat=group_chat)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            alert = await self.alerts.get(tx, alert_id)
            assert alert is not None
            if alert.state is not AlertState.TRIGGERED:
                who = await self._name_of(
                    tx,
                    alert.ack_by if alert.state is AlertState.ACKNOWLEDGED else alert.resolved_by,
                )
                key = (
                    "alert.already_acked"
                    if alert.state is AlertState.ACKNOWLEDGED
                    else "alert.already_resolved"
                )
                raise InvalidInput(key, id=alert.id, name=who)
            policy = await self.policies.get(tx, alert.policy_id) or await self.policies.default(tx)
            ack_deadline = now + timedelta(seconds=policy.ack_timeout_s)
            if not await self.alerts.acknowledge(tx, alert.id, actor.id, now, ack_deadline):
                raise InvalidInput("alert.already_acked", id=alert.id, name="?")
            await self._record(tx, alert.id, EventKind.ACKNOWLEDGED, actor, now)
            acked = await self.alerts.get(tx, alert.id)
            assert acked is not None
            await self._edit_pages(tx, acked, "page.acked", actor, now, resolve_button=True)
            if acked.contact_id is not None:
                contact = await self.people.get(tx, acked.contact_id)
                if contact is not None:
                    await self._to_contact(tx, contact, "contact.on_it", now)
            if reply:
                await self.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice("alert.acked_by_you", {"id": alert.id}, lang=actor.lang),
                    person_id=actor.id,
                )
        log.info("alert %d acknowledged by person %d", alert_id, actor.id)
        return acked

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
        note = " ".join(note.split()) if note else None
        if note and len(note) > MAX_NOTE:
            raise InvalidInput("alert.note_too_long", max=MAX_NOTE)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            alert = await self.alerts.get(tx, alert_id)
            assert alert is not None
            if not await self.alerts.resolve(tx, alert.id, actor.id, now, note):
                raise InvalidInput(
                    "alert.already_resolved",
                    id=alert.id,
                    name=await self._name_of(tx, alert.resolved_by),
                )
            detail: dict[str, object] = {"name": actor.name}
            if note:
                detail["note"] = note
            await self.alerts.add_event(
                tx, alert.id, EventKind.RESOLVED, now, actor_id=actor.id, detail=detail
            )
            resolved = await self.alerts.get(tx, alert.id)
            assert resolved is not None
            await self._edit_pages(
                tx,
                resolved,
                "page.resolved_note" if note else "page.resolved",
                actor,
                now,
                resolve_button=False,
                note=note,
            )
            if reply:
                await self.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice("alert.resolved_by_you", {"id": alert.id}, lang=actor.lang),
                    person_id=actor.id,
                )
            if ask_note and not note:
                await self.drafts.drop(tx, actor.id, NOTE_DRAFT)
                await self.drafts.add(tx, actor.id, NOTE_DRAFT, {"alert": alert.id}, now)
                await self.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice(
                        "resolve.ask_note",
                        {"id": alert.id},
                        buttons=((Button("button.no_note", f"nn:{alert.id}"),),),
                        lang=actor.lang,
                    ),
                    person_id=actor.id,
                )
        log.info("alert %d resolved by person %d", alert_id, actor.id)
        return resolved

    async def _record(
        self,
        tx: Transaction,
        alert_id: int,
        kind: EventKind,
        actor: Person,
        now: datetime,
        **detail: object,
    ) -> None:
        """A timeline line for something `actor` did, naming them."""
        await self.alerts.add_event(
            tx, alert_id, kind, now, actor_id=actor.id, detail={"name": actor.name, **detail}
        )

    async def typed_note(self, actor: Person, typed: str) -> bool:
        """Staff's plain text: the note for the alert they just resolved by button, if
        they were asked for one (within NOTE_WAIT). False if it was not that."""
        now = self.clock.now()
        found = await self.drafts.latest(self.db, actor.id, NOTE_DRAFT, now - NOTE_WAIT)
        if found is None:
            return False
        note = " ".join(typed.split())
        if len(note) > MAX_NOTE:
            raise InvalidInput("alert.note_too_long", max=MAX_NOTE)
        draft_id, data = found
        async with self.db.transaction() as tx:
            if await self.drafts.take(tx, draft_id, NOTE_DRAFT, actor.id) is None:
                return False
            alert = await self.alerts.get(tx, int(data["alert"]))
            if alert is None or not await self.alerts.set_resolution(tx, alert.id, note):
                return False
            await self._record(tx, alert.id, EventKind.NOTE, actor, now, note=note)
            resolved = await self.alerts.get(tx, alert.id)
            assert resolved is not None
            resolver = (
                await self.people.get(tx, resolved.resolved_by) if resolved.resolved_by else None
            )
            await self._edit_pages(
                tx,
                resolved,
                "page.resolved_note",
                resolver or actor,
                resolved.resolved_at or now,
                resolve_button=False,
                note=note,
            )
            await self.outbox.tell(tx, actor, "resolve.note_added", id=alert.id)
        return True

    async def no_note(self, actor: Person, alert_id: int) -> None:
        now = self.clock.now()
        found = await self.drafts.latest(self.db, actor.id, NOTE_DRAFT, now - NOTE_WAIT)
        async with self.db.transaction() as tx:
            # An old No note button must not cancel the note asked for a newer alert.
            if found is not None and int(found[1]["alert"]) == alert_id:
                await self.drafts.take(tx, found[0], NOTE_DRAFT, actor.id)
            await self.outbox.tell(tx, actor, "resolve.no_note", id=alert_id)

    async def note_requested(self, actor: Person) -> int | None:
        """The draft id of a note asked of `actor` and not yet given, if any."""
        found = await self.drafts.latest(
            self.db, actor.id, NOTE_DRAFT, self.clock.now() - NOTE_WAIT
        )
        return found[0] if found else None

    async def snooze(self, actor: Person, alert_id: int) -> str:
        """The acknowledger is still on it: the reminder comes again one ack timeout from
        now, and escalation waits. Returns the wait, for the answer."""
        alert = await self.visible_alert(actor, alert_id)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            policy = await self.policies.get(tx, alert.policy_id) or await self.policies.default(tx)
            wait = timedelta(seconds=policy.ack_timeout_s)
            if not await self.alerts.snooze(tx, alert.id, actor.id, now + wait):
                raise InvalidInput("alert.snooze_not_yours", id=alert.id)
            shown = alert_text.ago(wait)
            await self._record(tx, alert.id, EventKind.SNOOZED, actor, now, wait=shown)
        return shown

    async def release_held(self, actor: Person, alert_id: int) -> None:
        """ "New alert" on a held message: the policy pages its step 1 now."""
        await self.visible_alert(actor, alert_id)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            alert = await self.alerts.get(tx, alert_id)
            if (
                alert is None
                or alert.state is not AlertState.TRIGGERED
                or alert.step != HELD_STEP
                or not await self.alerts.escalate_now(tx, alert.id, now)
            ):
                raise InvalidInput("held.not_held", id=alert_id)
            await self._record(tx, alert.id, EventKind.RELEASED, actor, now)
        await self.tick()

    async def dismiss_held(self, actor: Person, alert_id: int) -> None:
        """ "Not an alert" on a held message: it is closed, and no one else is paged."""
        alert = await self.visible_alert(actor, alert_id)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            # Only while still held: a tick that paged step 1 meanwhile has made it an alert.
            if not await self.alerts.close_held(tx, alert.id, actor.id, now, HELD_STEP):
                raise InvalidInput("held.not_held", id=alert_id)
            await self._record(tx, alert.id, EventKind.DISMISSED, actor, now)
            resolved = await self.alerts.get(tx, alert.id)
            assert resolved is not None
            await self._edit_pages(tx, resolved, "page.resolved", actor, now, resolve_button=False)

    async def send_media(
        self, actor: Person, alert_id: int, *, group_chat: int | None = None
    ) -> None:
        """The alert's voice messages and photos, relayed again to `actor` in private."""
        alert = await self.visible_alert(actor, alert_id, group_chat=group_chat)
        async with self.db.transaction() as tx:
            media = alert_text.media_of(await self.alerts.events(tx, alert.id))
            if not media:
                await self.outbox.tell(tx, actor, "media.none", id=alert.id)
                return
            contact_name = await self._contact_name(tx, alert)
            for event in media:
                await self.outbox.send(
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

    async def _edit_pages(
        self,
        tx: Transaction,
        alert: Alert,
        key: str,
        actor: Person,
        now: datetime,
        *,
        resolve_button: bool,
        note: str | None = None,
    ) -> None:
        contact_name = await self._contact_name(tx, alert)
        groups = {g.id: g for g in await self.groups.all(tx)}
        for page in await self.alerts.pages(tx, alert.id):
            if page.outbox_id is None or page.delivery is PageDelivery.FAILED:
                continue
            reader: alert_text.Reader
            if page.person_id is not None:
                person = await self.people.get(tx, page.person_id)
                if person is None:
                    continue
                reader, chat_id, owner = person, person.chat_id, person.id
            elif page.group_id in groups:
                reader, chat_id, owner = GroupReader(), groups[page.group_id].chat_id, None
            else:
                continue
            status = text(
                key,
                reader.lang,
                name=actor.name,
                time=alert_text.when(now, reader),
                note=note or "",
            )
            body = alert_text.page_body(alert, contact_name, reader, None)
            buttons = ((Button("button.resolve", f"res:{alert.id}"),),) if resolve_button else ()
            await self.outbox.edit(
                tx,
                chat_id,
                Notice(
                    "text.block",
                    {"text": f"{body}\n\n{status}"},
                    buttons=buttons,
                    protect=True,
                    lang=reader.lang,
                ),
                ref_id=page.outbox_id,
                priority=Priority.ESCALATION,
                person_id=owner,
                about_id=alert.contact_id,
            )

    async def list_open(self, actor: Person) -> None:
        """Reply with the open alerts `actor` may see."""
        if not actor.is_staff:
            raise NotAllowed("error.not_allowed")
        alerts = await self.alerts.open_alerts(self.db)
        if not actor.has(Role.COORDINATOR):
            mine = await self.alerts.alerts_paged_to(self.db, actor.id)
            alerts = [a for a in alerts if a.id in mine or a.ack_by == actor.id]
        async with self.db.transaction() as tx:
            if not alerts:
                await self.outbox.send(
                    tx, actor.chat_id, Notice("alerts.none", lang=actor.lang), person_id=actor.id
                )
                return
            lines = [text("alerts.header", actor.lang, count=len(alerts))]
            for alert in alerts:
                lines.append(
                    alert_text.alert_line(
                        alert,
                        await self._contact_name(tx, alert),
                        await self._name_of(tx, alert.ack_by) if alert.ack_by else None,
                        actor,
                    )
                )
            await self._send_long(tx, actor, lines)

    async def show_timeline(
        self, actor: Person, alert_id: int, *, group_chat: int | None = None
    ) -> None:
        alert = await self.visible_alert(actor, alert_id, group_chat=group_chat)
        async with self.db.transaction() as tx:
            events = await self.alerts.events(tx, alert.id)
            pages = [
                (p, await self._page_name(tx, p)) for p in await self.alerts.pages(tx, alert.id)
            ]
            body = alert_text.timeline(
                alert,
                await self._contact_name(tx, alert),
                await self._name_of(tx, alert.ack_by) if alert.ack_by else None,
                events,
                pages,
                actor,
            )
            await self._send_long(tx, actor, body.split("\n"))
            media = alert_text.media_of(events)
            if media:
                await self.outbox.send(
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

    async def _send_long(self, tx: Transaction, actor: Person, lines: list[str]) -> None:
        await self.outbox.tell_lines(tx, actor, lines)

    # -- delivery results ----------------------------------------------------------------

    async def _delivered(self, done: Delivered) -> None:
        page = await self.alerts.page_for_outbox(self.db, done.item.id)
        if page is None:
            return
        async with self.db.transaction() as tx:
            await self.alerts.set_delivery(tx, page.id, PageDelivery.DELIVERED)

    async def _failed(self, item: OutboxItem, err: DeliveryError) -> None:
        now = self.clock.now()
        escalate = False
        async with self.db.transaction() as tx:
            person = await self.people.get(tx, item.person_id) if item.person_id else None
            forbidden = err.blocked
            newly_unreachable = (
                person is not None
                and forbidden
                and person.is_staff
                and await self.people.set_unreachable(tx, person.id, now)
            )
            if newly_unreachable and person is not None:
                await self._flag_unreachable(tx, person)
            page = await self.alerts.page_for_outbox(tx, item.id)
            if page is None:
                return
            await self.alerts.set_delivery(tx, page.id, PageDelivery.FAILED)
            name = person.name if person else await self._page_name(tx, page)
            await self.alerts.add_event(
                tx,
                page.alert_id,
                EventKind.DELIVERY_FAILED,
                now,
                detail={"name": name, "reason": err.reason},
            )
            if forbidden:
                await self.alerts.add_event(
                    tx, page.alert_id, EventKind.UNREACHABLE, now, detail={"name": name}
                )
            else:
                # Not a person who left: Telegram refused the page itself, and may refuse
                # every page. Escalating past it is not enough; coordinators must know.
                await self._delivery_broken(tx, page, name, err.reason)
            alert = await self.alerts.get(tx, page.alert_id)
            if (
                alert is not None
                and alert.state is AlertState.TRIGGERED
                and (page.pass_, page.step) == (alert.pass_, alert.step)
            ):
                same_step = [
                    p
                    for p in await self.alerts.pages(tx, alert.id)
                    if (p.pass_, p.step) == (alert.pass_, alert.step)
                ]
                unreached = all(p.delivery is PageDelivery.FAILED for p in same_step)
                if unreached and await self.alerts.escalate_now(tx, alert.id, now):
                    await self.alerts.add_event(
                        tx, alert.id, EventKind.STEP_UNREACHED, now, detail={"step": alert.step + 1}
                    )
                    escalate = True
        if escalate:
            await self.tick()

    async def _delivery_broken(
        self, tx: Transaction, page: AlertPage, name: str, reason: str
    ) -> None:
        """Tell every coordinator, once per alert, that a page was refused for good."""
        alert_id = page.alert_id
        log.error("alert %d: a page was refused for good: %s", alert_id, reason)
        for coordinator in await self.people.staff(tx):
            if not coordinator.has(Role.COORDINATOR):
                continue
            await self.outbox.send(
                tx,
                coordinator.chat_id,
                Notice(
                    "alert.delivery_broken",
                    {"id": alert_id, "name": name, "reason": reason},
                    lang=coordinator.lang,
                ),
                priority=Priority.ESCALATION,
                person_id=coordinator.id,
                dedupe_key=f"delivery-broken:{alert_id}:{coordinator.id}",
                about_id=page.person_id,
            )

    async def person_unreachable(self, person: Person) -> None:
        """Telegram told us the person blocked the bot: skip them from now on, and say so."""
        async with self.db.transaction() as tx:
            if await self.people.set_unreachable(tx, person.id, self.clock.now()):
                await self._flag_unreachable(tx, person)

    async def _flag_unreachable(self, tx: Transaction, person: Person) -> None:
        """Tell coordinators, once, that someone can no longer be paged, and what it costs."""
        rotations = [r.name for r in await self.rota.rotations(tx) if person.id in r.participants]
        for coordinator in await self.people.staff(tx):
            if not coordinator.has(Role.COORDINATOR) or coordinator.id == person.id:
                continue
            await self.outbox.send(
                tx,
                coordinator.chat_id,
                Notice(
                    "rota.unreachable",
                    {
                        "name": person.name,
                        "rotations": ", ".join(rotations)
                        or text("oncall.nobody", coordinator.lang),
                    },
                    lang=coordinator.lang,
                ),
                priority=Priority.ESCALATION,
                about_id=person.id,
                person_id=coordinator.id,
            )

    async def _page_name(self, tx: Transaction, page: AlertPage) -> str:
        if page.person_id is not None:
            return await self._name_of(tx, page.person_id)
        group = next((g for g in await self.groups.all(tx) if g.id == page.group_id), None)
        return group.title if group else "?"

    async def _contact_name(self, tx: Transaction, alert: Alert) -> str:
        return await self._name_of(tx, alert.contact_id)

    async def _name_of(self, tx: Transaction, person_id: int | None) -> str:
        if person_id is None:
            return "?"
        person = await self.people.get(tx, person_id)
        return person.name if person else "?"
