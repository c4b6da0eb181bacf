"""Check-ins from the coordinator's side: schedules (one line, previewed, confirmed),
pauses, trips set for someone, and the `/checkins` overview.

The one-line form, after the contact (`K-17`, `#12`):

    every 12h | daily 09:00,21:00      one of the two
    grace 1h                           how long after the due time the rota is paged
    reprompt 30m                       when the silent second prompt goes (default: half)
    quiet 22:00-07:00                  no reminder inside; a due time inside moves to the end
    tz Asia/Vladivostok                the contact's zone (else the one they have)
    pin                                a PIN is required to check in
    word ok                            a word that checks in, besides /ok and the button

and `off` removes the schedule. The same words are the rota file's `[[checkin]]` fields.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.delivery.outbox import Outbox
from bot.domain import rota
from bot.domain.checkin import Kind, Quiet, Schedule, ScheduleError, State, Watch, upcoming
from bot.domain.clock import Clock
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import Button, DraftKind, Notice, Person, Role
from bot.domain.parsing import quoted
from bot.services.checkins import CheckinAlerts
from bot.services.rota import find_person, parse_local
from bot.words.alert_text import when
from bot.words.catalogue import text
from config.durations import format_duration, parse_duration
from storage.audit import AuditRepo
from storage.checkins import CheckinRepo, CheckinRow, schedule_from_json, schedule_to_json
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.people import PeopleRepo

log = logging.getLogger(__name__)

DRAFT_WAIT = timedelta(hours=1)
PREVIEW_COUNT = 3
_HHMM = re.compile(r"([01]?[0-9]|2[0-3]):([0-5][0-9])", re.ASCII)
_FIELDS = ("every", "daily", "grace", "reprompt", "quiet", "tz", "word")


@dataclass(frozen=True, slots=True)
class ScheduleRequest:
    schedule: Schedule | None  # None: off
    tz: str | None


def split_ref(raw: str) -> tuple[str, str]:
    """`Name With Spaces | rest` or `#12 rest` / `K-17 rest`: (who, rest)."""
    if "|" in raw:
        who, _, rest = raw.partition("|")
        return who.strip(), rest.strip()
    who, _, rest = raw.strip().partition(" ")
    return who.strip(), rest.strip()


def is_one_line(raw: str) -> bool:
    """Whether `/schedule RAW` gives fields (the one-line form) or only a contact."""
    _, fields = split_ref(raw)
    if "|" in raw:
        return bool(fields)
    words = [w.lower() for w in raw.split()[1:]]
    return any(w in _FIELDS or w in ("pin", "off") for w in words)


def parse_hhmm(raw: str, field: str) -> time:
    found = _HHMM.fullmatch(raw.strip())
    if found is None:
        raise ScheduleError(field, f"{raw[:20]!r} is not a time like 09:00")
    return time(int(found.group(1)), int(found.group(2)))


def parse_schedule(words: list[str]) -> ScheduleRequest:
    """The fields after the contact, as above. ScheduleError names the field."""
    if [w.lower() for w in words] == ["off"]:
        return ScheduleRequest(None, None)
    values: dict[str, str] = {}
    pin = False
    i = 0
    while i < len(words):
        name = words[i].lower()
        if name == "pin":
            pin = True
            i += 1
            continue
        if name not in _FIELDS:
            raise ScheduleError("schedule", f"unknown field {words[i][:20]!r}")
        if i + 1 >= len(words):
            raise ScheduleError(name, "needs a value")
        if name in values:
            raise ScheduleError(name, "given twice")
        values[name] = words[i + 1]
        i += 2
    return build_schedule(values, pin)


def build_schedule(values: dict[str, str], pin: bool) -> ScheduleRequest:
    """A schedule from field values as text (the one-line form and the rota file)."""

    def duration(field: str) -> timedelta | None:
        raw = values.get(field)
        if raw is None:
            return None
        try:
            return parse_duration(raw)
        except ValueError as err:
            raise ScheduleError(field, str(err)) from None

    if ("every" in values) == ("daily" in values):
        raise ScheduleError("schedule", "give either 'every 12h' or 'daily 09:00,21:00'")
    quiet = None
    if "quiet" in values:
        start, sep, end = values["quiet"].partition("-")
        if not sep:
            raise ScheduleError("quiet", "write it like 22:00-07:00")
        quiet = Quiet(parse_hhmm(start, "quiet"), parse_hhmm(end, "quiet"))
    times: tuple[time, ...] = ()
    if "daily" in values:
        times = tuple(sorted(parse_hhmm(t, "daily") for t in values["daily"].split(",") if t))
    tz = None
    if "tz" in values:
        tz = rota.zone_name(values["tz"])
        if tz is None:
            raise ScheduleError("tz", f"unknown time zone {values['tz'][:40]!r}")
    try:
        schedule = Schedule(
            Kind.DAILY if times else Kind.INTERVAL,
            grace=duration("grace") or timedelta(hours=1),
            every=duration("every"),
            times=times,
            reprompt=duration("reprompt"),
            quiet=quiet,
            pin_required=pin,
            word=values["word"].casefold() if "word" in values else None,
        )
    except ScheduleError as err:
        raise ScheduleError("daily" if err.field == "times" else err.field, err.problem) from None
    return ScheduleRequest(schedule, tz)


def describe(schedule: Schedule) -> str:
    """The schedule in the one-line form, which `parse_schedule` reads back unchanged."""
    parts = (
        [f"every {format_duration(schedule.every)}"]
        if schedule.every
        else [f"daily {','.join(t.strftime('%H:%M') for t in schedule.times)}"]
    )
    parts.append(f"grace {format_duration(schedule.grace)}")
    if schedule.reprompt is not None:
        parts.append(f"reprompt {format_duration(schedule.reprompt)}")
    if schedule.quiet is not None:
        parts.append(f"quiet {schedule.quiet.start:%H:%M}-{schedule.quiet.end:%H:%M}")
    if schedule.pin_required:
        parts.append("pin")
    if schedule.word:
        parts.append(f"word {schedule.word}")
    return " ".join(parts)


@dataclass(frozen=True, slots=True)
class ScheduleStores:
    checkins: CheckinRepo
    people: PeopleRepo
    audit: AuditRepo


async def apply_schedule(
    tx: Transaction,
    stores: ScheduleStores,
    contact: Person,
    schedule: Schedule | None,
    tz: str,
    now: datetime,
    *,
    actor_id: int | None,
    via: str | None = None,
) -> bool:
    """Set a contact's schedule and zone: `/schedule`'s Confirm and the rota file's import.
    True if it changed anything. A late or down cycle stays so (Watch.scheduled)."""
    if tz != contact.tz:
        await stores.people.set_tz(tx, contact.id, tz)
    row = await stores.checkins.get(tx, contact.id, tz)
    if row is None:
        if schedule is None:
            return tz != contact.tz
        watch = Watch(tz).scheduled(schedule, now)
        await stores.checkins.save(tx, contact.id, watch, now, version=None)
    else:
        if row.watch.schedule == schedule and tz == contact.tz:
            return False
        watch = row.watch.moved_to(tz, now) if tz != contact.tz else row.watch
        await stores.checkins.save(
            tx, contact.id, watch.scheduled(schedule, now), now, version=row.version
        )
    detail: dict[str, Any] = {"schedule": describe(schedule) if schedule else "off", "tz": tz}
    if via:
        detail["via"] = via
    await stores.checkins.add_event(
        tx, contact.id, "scheduled", now, actor_id=actor_id, detail=detail
    )
    await stores.audit.record(
        tx,
        actor_id=actor_id,
        action="checkin.schedule",
        now=now,
        detail={"contact": contact.id, **({"via": via} if via else {})},
    )
    return True


class CheckinAdmin:
    def __init__(
        self,
        db: Database,
        repo: CheckinRepo,
        people: PeopleRepo,
        drafts: DraftRepo,
        audit: AuditRepo,
        outbox: Outbox,
        clock: Clock,
        alerts: CheckinAlerts,
    ) -> None:
        self.db = db
        self.repo = repo
        self.people = people
        self.drafts = drafts
        self.audit = audit
        self.outbox = outbox
        self.clock = clock
        self.alerts = alerts

    async def contact(self, actor: Person, ref: str) -> Person:
        _coordinator(actor)
        everyone = await self.people.list_all(self.db)
        try:
            return find_person([p for p in everyone if p.has(Role.CONTACT)], ref)
        except NotFound:
            raise NotFound("checkin.contact_unknown", ref=quoted(ref, 40)) from None

    # -- schedules -----------------------------------------------------------------------

    async def propose(self, actor: Person, raw: str) -> None:
        """`/schedule K-17 every 12h grace 1h …`: a preview with Confirm and Cancel."""
        who, fields = split_ref(raw)
        if not who or not fields:
            raise InvalidInput("checkin.schedule_usage")
        contact = await self.contact(actor, who)
        try:
            request = parse_schedule(fields.split())
        except ScheduleError as err:
            raise InvalidInput(
                "checkin.bad_schedule", field=err.field, problem=quoted(err.problem, 200)
            ) from None
        await self.preview(actor, contact, request)

    async def preview(self, actor: Person, contact: Person, request: ScheduleRequest) -> None:
        now = self.clock.now()
        tz = request.tz or contact.tz
        payload = {
            "contact": contact.id,
            "tz": tz,
            "schedule": schedule_to_json(request.schedule) if request.schedule else None,
        }
        async with self.db.transaction() as tx:
            draft_id = await self.drafts.add(tx, actor.id, DraftKind.CHECKIN_SCHEDULE, payload, now)
            await self.outbox.send(
                tx,
                actor.chat_id,
                Notice(
                    "checkin.preview",
                    {
                        "name": contact.name,
                        "tz": tz,
                        "schedule": describe(request.schedule) if request.schedule else "off",
                        "lines": self._preview_lines(request.schedule, tz, actor, now),
                    },
                    buttons=(
                        (
                            Button(
                                "button.confirm", f"dr:y:{DraftKind.CHECKIN_SCHEDULE}:{draft_id}"
                            ),
                            Button(
                                "button.cancel", f"dr:n:{DraftKind.CHECKIN_SCHEDULE}:{draft_id}"
                            ),
                        ),
                    ),
                    lang=actor.lang,
                ),
                person_id=actor.id,
                about_id=contact.id,
            )

    def _preview_lines(
        self, schedule: Schedule | None, tz: str, actor: Person, now: datetime
    ) -> str:
        if schedule is None:
            return "-"
        watch = Watch(tz).scheduled(schedule, now)
        lines = []
        for due, down in upcoming(watch, now, PREVIEW_COUNT):
            lines.append(
                f"• {_local(due, tz)} ({when(due, actor)}) → "
                f"{_local(down, tz)} ({when(down, actor)})"
            )
        return "\n".join(lines)

    async def confirm(self, actor: Person, draft_id: int) -> None:
        _coordinator(actor)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            taken = await self.drafts.take(tx, draft_id, DraftKind.CHECKIN_SCHEDULE, actor.id)
            if taken is None:
                raise NotFound("draft.gone")
            payload = taken[1]
            contact = await self.people.get(tx, int(payload["contact"]))
            if contact is None or not contact.has(Role.CONTACT):
                raise NotFound("checkin.contact_unknown", ref=f"#{payload['contact']}")
            schedule = schedule_from_json(payload["schedule"]) if payload["schedule"] else None
            await self.apply(tx, actor, contact, schedule, payload["tz"], now)
            row = await self.repo.get(tx, contact.id, payload["tz"])
            if schedule and schedule.pin_required and row and row.secrets.pins is None:
                await self.outbox.tell(tx, contact, "checkin.set_pin")
            await self.outbox.tell(
                tx,
                actor,
                "checkin.scheduled" if schedule else "checkin.unscheduled",
                about_id=contact.id,
                name=contact.name,
                next=self._next_text(schedule, payload["tz"], actor, now),
            )

    async def cancel(self, actor: Person, draft_id: int) -> None:
        async with self.db.transaction() as tx:
            if await self.drafts.take(tx, draft_id, DraftKind.CHECKIN_SCHEDULE, actor.id) is None:
                raise NotFound("draft.gone")
            await self.outbox.tell(tx, actor, "draft.cancelled")

    async def apply(
        self,
        tx: Transaction,
        actor: Person | None,
        contact: Person,
        schedule: Schedule | None,
        tz: str,
        now: datetime,
    ) -> bool:
        stores = ScheduleStores(self.repo, self.people, self.audit)
        return await apply_schedule(
            tx, stores, contact, schedule, tz, now, actor_id=actor.id if actor else None
        )

    def _next_text(self, schedule: Schedule | None, tz: str, actor: Person, now: datetime) -> str:
        if schedule is None:
            return "-"
        due = schedule.next_due(tz, now)
        return f"{_local(due, tz)} ({when(due, actor)})"

    # -- pauses and trips ----------------------------------------------------------------

    async def pause(self, actor: Person, raw: str) -> None:
        """`/pause K-17 2026-12-10 09:00` (the coordinator's zone), `/pause K-17 3d`,
        `/pause K-17 off`."""
        ref, rest = split_ref(raw)
        if not ref or not rest:
            raise InvalidInput("checkin.pause_usage")
        contact = await self.contact(actor, ref)
        now = self.clock.now()
        until: datetime | None
        if rest.lower() == "off":
            until = None
        elif _HHMM.search(rest) or "-" in rest:
            until = parse_local(rest, actor.tz, now)
        else:
            try:
                until = now + parse_duration(rest)
            except ValueError:
                raise InvalidInput("checkin.pause_usage") from None
        if until is not None and until <= now:
            raise InvalidInput("checkin.pause_past")
        async with self.db.transaction() as tx:
            row = await self.repo.ensure(tx, contact.id, contact.tz, now)
            watch = row.watch.pause(until, now)
            await self.repo.save(tx, contact.id, watch, now, version=row.version)
            await self.repo.add_event(
                tx,
                contact.id,
                "paused" if until else "resumed",
                now,
                actor_id=actor.id,
                detail={"until": until.isoformat() if until else None},
            )
            await self.audit.record(
                tx,
                actor_id=actor.id,
                action="checkin.pause",
                now=now,
                detail={"contact": contact.id},
            )
            if until is not None:
                await self.outbox.tell(
                    tx,
                    actor,
                    "checkin.paused",
                    about_id=contact.id,
                    name=contact.name,
                    until=f"{_local(until, contact.tz)} ({when(until, actor)})",
                )
            else:
                due = watch.due(now)
                await self.outbox.tell(
                    tx,
                    actor,
                    "checkin.resumed",
                    about_id=contact.id,
                    name=contact.name,
                    next=f"{_local(due[0], contact.tz)} ({when(due[0], actor)})" if due else "-",
                )

    async def trip_for(self, actor: Person, raw: str) -> None:
        """`/trip K-17 3h`: a coordinator sets or moves a contact's trip, past the cap."""
        ref, rest = split_ref(raw)
        words = [ref, *rest.split(maxsplit=1)]
        if not ref or len(words) < 2:
            raise InvalidInput("checkin.trip_for_usage")
        contact = await self.contact(actor, words[0])
        try:
            length = parse_duration(words[1], maximum=timedelta(days=7))
        except ValueError:
            raise InvalidInput("checkin.trip_for_usage") from None
        now = self.clock.now()
        async with self.db.transaction() as tx:
            row = await self.repo.ensure(tx, contact.id, contact.tz, now)
            note = words[2][:200] if len(words) > 2 else None
            watch = row.watch.trip(length, now, by_coordinator=True, note=note)
            await self.repo.save(tx, contact.id, watch, now, version=row.version)
            await self.repo.add_event(
                tx,
                contact.id,
                "trip",
                now,
                actor_id=actor.id,
                detail={"due": watch.trip_due_at.isoformat() if watch.trip_due_at else None},
            )
            assert watch.trip_due_at is not None
            await self.outbox.tell(
                tx,
                actor,
                "checkin.trip_for_set",
                about_id=contact.id,
                name=contact.name,
                time=f"{_local(watch.trip_due_at, contact.tz)} ({when(watch.trip_due_at, actor)})",
            )

    # -- the overview --------------------------------------------------------------------

    async def overview(self, actor: Person) -> None:
        _coordinator(actor)
        now = self.clock.now()
        contacts = [p for p in await self.people.list_all(self.db) if p.has(Role.CONTACT)]
        lines = []
        for contact in contacts:
            row = await self.repo.get(self.db, contact.id, contact.tz)
            lines.append(self._line(contact, row, actor, now))
        async with self.db.transaction() as tx:
            if not lines:
                await self.outbox.tell(tx, actor, "checkin.none")
                return
            await self.outbox.tell_lines(tx, actor, [_header(actor), *lines])

    def _line(self, contact: Person, row: CheckinRow | None, actor: Person, now: datetime) -> str:
        lang = actor.lang
        if row is None or (row.watch.schedule is None and row.watch.trip_due_at is None):
            state = text("checkin.state.none", lang)
            return f"{contact.name} (#{contact.id}): {state}"
        watch: Watch = row.watch
        if watch.paused(now) and watch.paused_until is not None:
            state = text("checkin.state.paused", lang, until=when(watch.paused_until, actor))
        else:
            state = text(f"checkin.state.{watch.state.value}", lang)
        parts = [f"{contact.name} (#{contact.id}): {state}"]
        if watch.schedule is not None:
            parts.append(describe(watch.schedule))
        last = when(watch.last_checkin_at, actor) if watch.last_checkin_at else "-"
        parts.append(text("checkin.last", lang, time=last))
        due = watch.due(now)
        if watch.state is State.UP and due is not None:
            parts.append(text("checkin.next", lang, time=when(due[0], actor)))
        elif watch.state is State.LATE and watch.down_at() is not None:
            down = watch.down_at()
            assert down is not None
            parts.append(text("checkin.down_at", lang, time=when(down, actor)))
        if watch.schedule is not None and watch.schedule.pin_required and row.secrets.pins is None:
            parts.append(text("checkin.pin_missing", lang))
        return "; ".join(parts)


def _header(actor: Person) -> str:
    return text("checkin.header", actor.lang)


def _local(moment: datetime, tz: str) -> str:
    return rota.describe_local(moment, tz)


def _coordinator(actor: Person) -> None:
    if not actor.has(Role.COORDINATOR):
        raise NotAllowed("error.not_allowed")
