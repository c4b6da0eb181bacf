"""Check-ins from the contact's side, and the tick that turns silence into an alert.

The state machine is bot/domain/checkin.py; this module stores it, says the neutral words
to the contact, and asks the alert service to page. What the contact's chat shows never
depends on which PIN was typed: a duress check-in, cancel or PIN change writes exactly
the messages a safe one writes, and the difference lives only in alerts.

Every change happens inside one transaction that reads the row, moves the Watch, and
claims the row at the version it read (storage/checkins.py), so a tick and a contact's
button press cannot both act on the same deadline, and a restart sends nothing twice.
"""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.delivery.outbox import Outbox
from bot.domain.checkin import Action, Cycle, TripTooLong, Watch
from bot.domain.clock import Clock
from bot.domain.models import Button, DraftKind, Notice, Person, Priority
from bot.words.alert_text import when
from config.durations import parse_duration
from storage.checkins import CheckinRepo, CheckinRow, PinMatch
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.people import PeopleRepo

log = logging.getLogger(__name__)

CHECKIN_BUTTON = "ck"  # the reminder's one button; carries no id: the presser is the contact
PIN_WAIT = timedelta(minutes=10)  # a prompt for a PIN is answered within this, or dropped
MAX_NOTE = 200
_PIN = re.compile(r"[0-9]{4,8}", re.ASCII)
_WORD = re.compile(r"\w+")
BATCH = 500
MAX_BATCHES = 20


class CheckinAlerts(Protocol):
    """What check-ins ask of the alert service (bot/services/alerts), in the caller's
    transaction."""

    async def missed(
        self, tx: Transaction, contact: Person, detail: dict[str, Any], now: datetime
    ) -> int: ...

    async def duress(self, tx: Transaction, contact: Person, now: datetime) -> int: ...

    async def checked_in(
        self, tx: Transaction, contact: Person, alert_id: int | None, now: datetime
    ) -> None: ...

    async def cancel(
        self, tx: Transaction, contact: Person, now: datetime, *, duress: bool
    ) -> bool: ...

    async def words(self, tx: Transaction, contact: Person, words: str, now: datetime) -> None: ...


def is_pin(text: str) -> bool:
    return _PIN.fullmatch(text.strip()) is not None


class CheckinService:
    def __init__(
        self,
        db: Database,
        repo: CheckinRepo,
        people: PeopleRepo,
        drafts: DraftRepo,
        outbox: Outbox,
        clock: Clock,
        alerts: CheckinAlerts,
        *,
        trip_cap: timedelta,
    ) -> None:
        self.db = db
        self.repo = repo
        self.people = people
        self.drafts = drafts
        self.outbox = outbox
        self.clock = clock
        self.alerts = alerts
        self.trip_cap = trip_cap

    # -- what the contact sends ----------------------------------------------------------

    async def ok(self, contact: Person, args: str, message_id: int | None, via: str) -> None:
        """`/ok [PIN] [words]`, the check-in word, or the button (no message to delete)."""
        words = args.split()
        pin = words[0] if words and is_pin(words[0]) else None
        rest = words[1:] if pin else words
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self._forget(tx, contact, message_id)
            row = await self.repo.ensure(tx, contact.id, contact.tz, now)
            if row.secrets.pins is not None and pin is None:
                await self._ask_pin(tx, contact, "checkin", now, words=rest, via=via)
                return
            await self._check_in(tx, contact, row, pin, rest, via, now)

    async def typed(self, contact: Person, text: str, message_id: int) -> bool:
        """Plain text: a PIN that was asked for, or the check-in word. False: neither,
        and the caller treats it as it treats any other message."""
        stripped = text.strip()
        now = self.clock.now()
        if is_pin(stripped):
            pending = await self.drafts.latest(
                self.db, contact.id, DraftKind.CONTACT_PIN, now - PIN_WAIT
            )
            if pending is not None:
                await self._pin_answer(contact, pending[0], stripped, message_id, now)
                return True
        row = await self.repo.get(self.db, contact.id, contact.tz)
        # A PIN typed after its prompt expired (or without one) is still a check-in when
        # it is theirs; it must never go on to a page as words.
        if (
            row is not None
            and is_pin(stripped)
            and row.secrets.pins is not None
            and self.repo.match_pin(contact.id, row.secrets, stripped) is not PinMatch.WRONG
        ):
            await self.ok(contact, stripped, message_id, "pin")
            return True
        word = row.watch.schedule.word if row and row.watch.schedule else None
        tokens = stripped.split()
        if word and tokens and tokens[0].casefold() == word:
            await self.ok(contact, " ".join(tokens[1:]), message_id, "word")
            return True
        return False

    async def ok_command(self, contact: Person, args: str, message_id: int) -> None:
        await self.ok(contact, args, message_id, "command")

    async def button(self, contact: Person) -> None:
        await self.ok(contact, "", None, "button")

    async def trip(self, contact: Person, args: str, message_id: int) -> None:
        """`/trip 2h [note]`: check on me in 2 hours; again to move it (capped)."""
        length_text, _, note = args.strip().partition(" ")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self._forget(tx, contact, message_id)
            try:
                length = parse_duration(length_text, maximum=timedelta(days=7))
            except ValueError:
                await self._say(tx, contact, "checkin.trip_usage")
                return
            row = await self.repo.ensure(tx, contact.id, contact.tz, now)
            try:
                watch = row.watch.trip(
                    length,
                    now,
                    by_coordinator=False,
                    note=note.strip()[:MAX_NOTE] or None,
                    cap=self.trip_cap,
                )
            except TripTooLong as refused:
                if refused.limit is None:
                    await self._say(tx, contact, "checkin.trip_usage")
                else:
                    await self._say(
                        tx, contact, "checkin.trip_limit", time=when(refused.limit, contact)
                    )
                return
            await self.repo.save(tx, contact.id, watch, now, version=row.version)
            await self.repo.add_event(
                tx, contact.id, "trip", now, actor_id=contact.id, detail=_trip_detail(watch)
            )
            assert watch.trip_due_at is not None
            await self._say(tx, contact, "checkin.trip_set", time=when(watch.trip_due_at, contact))

    async def cancel(self, contact: Person, args: str, message_id: int) -> None:
        """`/cancel [PIN]`: take back one's own open alert (a false alarm)."""
        pin = args.strip() if is_pin(args) else ""  # "/cancel please" asks for the code
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self._forget(tx, contact, message_id)
            row = await self.repo.ensure(tx, contact.id, contact.tz, now)
            if row.secrets.pins is None:
                await self._say(tx, contact, "checkin.cancel_needs_pin")
                return
            if not pin:
                await self._ask_pin(tx, contact, "cancel", now)
                return
            await self._cancel(tx, contact, row, pin, now)

    async def pin(self, contact: Person, args: str, message_id: int) -> None:
        """`/pin`: set (or change) the safe and the duress PIN, one message at a time."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self._forget(tx, contact, message_id)
            row = await self.repo.ensure(tx, contact.id, contact.tz, now)
            if args.strip():
                # PINs are never typed on the command line: it would sit in the chat
                # with the command until the deletion went through.
                await self._say(tx, contact, "checkin.pin_usage")
                return
            if row.secrets.pins is not None:
                await self._ask_pin(tx, contact, "pin_current", now)
            else:
                await self._ask_pin(tx, contact, "pin_first", now, say="checkin.pin_first")

    async def word(self, contact: Person, args: str, message_id: int) -> None:
        """`/word WORD` sets the duress word; `/word off` removes it."""
        word = args.strip().casefold()
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self._forget(tx, contact, message_id)
            if not word or len(word.split()) != 1 or len(word) > 32 or not word.isalnum():
                await self._say(tx, contact, "checkin.word_usage")
                return
            await self.repo.ensure(tx, contact.id, contact.tz, now)
            await self.repo.set_word(tx, contact.id, None if word == "off" else word)
            await self.repo.add_event(tx, contact.id, "word_set", now, actor_id=contact.id)
            await self._say(tx, contact, "checkin.saved")

    # -- the pieces ----------------------------------------------------------------------

    async def _check_in(
        self,
        tx: Transaction,
        contact: Person,
        row: CheckinRow,
        pin: str | None,
        words: list[str],
        via: str,
        now: datetime,
    ) -> None:
        match = PinMatch.SAFE
        if row.secrets.pins is not None:
            match = self.repo.match_pin(contact.id, row.secrets, pin or "")
        if match is PinMatch.WRONG:
            await self._wrong_pin(tx, contact, row, now, retry="checkin")
            return
        duress = match is PinMatch.DURESS or self.repo.has_word(
            contact.id, row.secrets, [w.casefold() for w in _WORD.findall(" ".join(words))]
        )
        watch = row.watch.checked_in(now)
        await self.repo.save(tx, contact.id, watch, now, version=row.version)
        # The log is the same for both: which it was is the alert's to say.
        await self.repo.add_event(
            tx, contact.id, "checked_in", now, actor_id=contact.id, detail={"via": via}
        )
        if duress:
            await self.alerts.duress(tx, contact, now)
        else:
            await self.alerts.checked_in(tx, contact, row.alert_id, now)
        if words:
            # Nothing a contact writes falls silent: beside a check-in it goes to whoever
            # handles their open alert (the same with either code).
            await self.alerts.words(tx, contact, " ".join(words), now)
        await self.repo.set_alert(tx, contact.id, None)
        await self.drafts.drop(tx, contact.id, DraftKind.CONTACT_PIN)
        # A coordinator asked for a PIN the contact has not set: the check-in counts (no
        # one is locked out), and the answer asks for the codes.
        schedule = row.watch.schedule
        unset = schedule is not None and schedule.pin_required and row.secrets.pins is None
        await self._say(tx, contact, "checkin.done_set_pin" if unset else "checkin.done")
        log.info("contact %d checked in (%s)", contact.id, via)

    async def _cancel(
        self, tx: Transaction, contact: Person, row: CheckinRow, pin: str, now: datetime
    ) -> None:
        match = self.repo.match_pin(contact.id, row.secrets, pin)
        if match is PinMatch.WRONG:
            await self._wrong_pin(tx, contact, row, now, retry="cancel")
            return
        if row.watch.wrong_pins:
            await self.repo.save(
                tx, contact.id, replace(row.watch, wrong_pins=0), now, version=row.version
            )
        cancelled = await self.alerts.cancel(tx, contact, now, duress=match is PinMatch.DURESS)
        await self.drafts.drop(tx, contact.id, DraftKind.CONTACT_PIN)
        # "Nothing to cancel" only when there was nothing, whatever the PIN was.
        await self._say(tx, contact, "checkin.cancelled" if cancelled else "checkin.nothing")

    async def _wrong_pin(
        self, tx: Transaction, contact: Person, row: CheckinRow, now: datetime, *, retry: str
    ) -> None:
        watch, down = row.watch.wrong_pin(now)
        await self.repo.save(tx, contact.id, watch, now, version=row.version)
        await self.repo.add_event(tx, contact.id, "wrong_pin", now, actor_id=contact.id)
        if down:
            await self._down(tx, contact, row, watch, now)
        # The same answer the third time as the first: nothing says an alert went out.
        await self._ask_pin(tx, contact, retry, now, say="checkin.wrong_pin")

    async def _ask_pin(
        self,
        tx: Transaction,
        contact: Person,
        purpose: str,
        now: datetime,
        *,
        say: str = "checkin.ask_pin",
        **payload: Any,
    ) -> None:
        await self.drafts.drop(tx, contact.id, DraftKind.CONTACT_PIN)
        await self.drafts.add(
            tx, contact.id, DraftKind.CONTACT_PIN, {"for": purpose, **payload}, now
        )
        await self._say(tx, contact, say)

    async def _pin_answer(
        self, contact: Person, draft_id: int, pin: str, message_id: int, now: datetime
    ) -> None:
        async with self.db.transaction() as tx:
            await self._forget(tx, contact, message_id)
            taken = await self.drafts.take(tx, draft_id, DraftKind.CONTACT_PIN, contact.id)
            if taken is None:
                return
            payload = taken[1]
            purpose = payload.get("for")
            row = await self.repo.ensure(tx, contact.id, contact.tz, now)
            if purpose == "checkin":
                await self._check_in(
                    tx,
                    contact,
                    row,
                    pin,
                    list(payload.get("words", [])),
                    str(payload.get("via", "command")),
                    now,
                )
            elif purpose == "cancel":
                await self._cancel(tx, contact, row, pin, now)
            elif purpose == "pin_current":
                match = self.repo.match_pin(contact.id, row.secrets, pin)
                if match is PinMatch.WRONG:
                    await self._wrong_pin(tx, contact, row, now, retry="pin_current")
                    return
                if match is PinMatch.DURESS:
                    await self.alerts.duress(tx, contact, now)
                await self._ask_pin(tx, contact, "pin_first", now, say="checkin.pin_first")
            elif purpose == "pin_first":
                safe = self.repo.pin_hash(contact.id, pin, duress=False).hex()
                await self._ask_pin(
                    tx,
                    contact,
                    "pin_second",
                    now,
                    say="checkin.pin_second",
                    safe=safe,
                    length=len(pin),
                )
            elif purpose == "pin_second":
                same = self.repo.pin_hash(contact.id, pin, duress=False).hex() == payload["safe"]
                if same or len(pin) != payload["length"]:
                    await self._say(tx, contact, "checkin.pin_mismatch")
                    return
                await self.repo.set_pins(
                    tx,
                    contact.id,
                    bytes.fromhex(payload["safe"]),
                    self.repo.pin_hash(contact.id, pin, duress=True),
                )
                await self.repo.add_event(tx, contact.id, "pins_set", now, actor_id=contact.id)
                await self._say(tx, contact, "checkin.saved")

    async def _forget(self, tx: Transaction, contact: Person, message_id: int | None) -> None:
        # Check-ins, trips and PINs leave the contact's chat at once, whatever the
        # setting for other messages: each one tells a reader the contact's routine.
        if message_id is not None:
            await self.outbox.delete(
                tx,
                contact.chat_id,
                message_id=message_id,
                person_id=contact.id,
                priority=Priority.DURESS,
            )

    async def _say(self, tx: Transaction, contact: Person, key: str, **params: Any) -> None:
        # Ahead of everything, duress pages included, whichever PIN was typed: if the
        # answer waited behind DURESS pages, how late it came would tell the two apart.
        await self.outbox.to_person(
            tx, contact, Notice(key, params, lang=contact.lang), priority=Priority.DURESS
        )

    # -- the tick ------------------------------------------------------------------------

    async def tick(self) -> int:
        """Act on every row whose time has come: reminders, re-prompts, downs, pause ends.
        One transaction per contact; a failure pushes that row a minute on and the rest
        go ahead."""
        now = self.clock.now()
        done = 0
        for _ in range(MAX_BATCHES):
            due = await self.repo.due(self.db, now, BATCH)
            if not due:
                break
            for person_id in due:
                try:
                    await self._advance(person_id, now)
                except Exception as exc:
                    # The type only (its message or traceback may hold what people wrote);
                    # the traceback at DEBUG, as the error handler does.
                    log.error(
                        "check-in of person %d failed (%s); retrying in a minute",
                        person_id,
                        type(exc).__name__,
                        exc_info=log.isEnabledFor(logging.DEBUG),
                    )
                    await self._postpone(person_id, now + timedelta(minutes=1))
                done += 1
            if len(due) < BATCH:
                break
        return done

    async def _advance(self, person_id: int, now: datetime) -> None:
        async with self.db.transaction() as tx:
            contact = await self.people.get(tx, person_id)
            if contact is None:
                return
            row = await self.repo.get(tx, person_id, contact.tz)
            if row is None:
                return
            watch, actions = row.watch.step(now)
            if not await self.repo.save(tx, person_id, watch, now, version=row.version):
                return  # someone else moved it first
            wake = watch.wake_at(now)
            if not actions and wake is not None and wake <= now:
                # Never a row that is due and does nothing: it would be picked every tick.
                log.error("check-in of person %d is due but has nothing to do", person_id)
                await self.repo.postpone(tx, person_id, now + timedelta(minutes=1))
            for action in actions:
                if action is Action.REMIND:
                    await self._remind(tx, contact, silent=False)
                    await self.repo.add_event(tx, person_id, "reminded", now)
                elif action is Action.REPROMPT:
                    await self._remind(tx, contact, silent=True)
                    await self.repo.add_event(tx, person_id, "reprompted", now)
                elif action is Action.DOWN:
                    await self._down(tx, contact, row, watch, now)
                elif action is Action.UNPAUSE:
                    await self.repo.add_event(tx, person_id, "pause_ended", now)

    async def _remind(self, tx: Transaction, contact: Person, *, silent: bool) -> None:
        await self.outbox.to_person(
            tx,
            contact,
            Notice(
                "checkin.reminder",
                buttons=((Button("button.checkin_ok", CHECKIN_BUTTON),),),
                lang=contact.lang,
                silent=silent,
            ),
            priority=Priority.REMINDER,
        )

    async def _down(
        self, tx: Transaction, contact: Person, row: CheckinRow, watch: Watch, now: datetime
    ) -> None:
        detail: dict[str, Any] = {
            "cycle": (watch.cycle or Cycle.SCHEDULE).value,
            "due": watch.late_since.isoformat() if watch.late_since else None,
            "last": watch.last_checkin_at.isoformat() if watch.last_checkin_at else None,
        }
        if watch.cycle is Cycle.TRIP and watch.trip_note:
            detail["note"] = watch.trip_note
        alert_id = await self.alerts.missed(tx, contact, detail, now)
        await self.repo.set_alert(tx, contact.id, alert_id)
        await self.repo.add_event(tx, contact.id, "down", now, detail={"alert": alert_id})
        log.info("contact %d missed a check-in: alert %d", contact.id, alert_id)

    async def _postpone(self, person_id: int, until: datetime) -> None:
        async with self.db.transaction() as tx:
            await self.repo.postpone(tx, person_id, until)

    async def state_of(self, contact: Person) -> CheckinRow | None:
        return await self.repo.get(self.db, contact.id, contact.tz)


def _trip_detail(watch: Watch) -> dict[str, Any]:
    return {
        "due": watch.trip_due_at.isoformat() if watch.trip_due_at else None,
        "note": watch.trip_note,
    }
