"""Who is on call: rotations, overrides and swaps as coordinators and responders run them.

Coordinators change the rota with a command that shows the result (the next two weeks of
shifts) and waits for **Confirm**; the pending change is a draft row, so the button
carries only its id. Every change is audited and followed by a coverage check, and
whoever it puts on call at once is told so in the change's transaction.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.delivery.outbox import Outbox
from bot.domain import rota
from bot.domain.clock import Clock
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import Button, DraftKind, Notice, Person, Role
from bot.domain.parsing import quoted, whole_number
from bot.words.catalogue import chunk_lines, text
from config.durations import MAX_DURATION, DurationTooLong, format_duration, parse_duration
from storage.audit import AuditRepo
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.people import PeopleRepo
from storage.rota import RotaRepo

log = logging.getLogger(__name__)

# Told in a confirmed change's transaction: the rotation, who was on call just before the
# change, and now (RotaWatch.now_on_call tells whoever is on call at once because of it).
OnCallChanged = Callable[[Transaction, int, frozenset[int], datetime], Awaitable[object]]

PREVIEW = timedelta(days=14)
DRAFT_TTL = timedelta(hours=24)
UNITS = {"h": rota.ShiftUnit.HOURS, "d": rota.ShiftUnit.DAYS, "w": rota.ShiftUnit.WEEKS}
# Times are typed as 2026-03-05 09:00; farther than this from now they are typos (and
# near year 9999 the arithmetic on them would overflow).
TIME_RANGE = timedelta(days=3653)
_LOCAL_TIME = re.compile(r"(\d{4})-(\d{2})-(\d{2}) +(\d{2}):(\d{2})", re.ASCII)
NAME_MAX = 64


def parts(raw: str, count: int, usage: str) -> list[str]:
    """Split `a | b | c` into exactly `count` non-empty parts, or say how to write it."""
    found = [p.strip() for p in raw.split("|")]
    if len(found) != count or not all(found):
        raise InvalidInput(usage)
    return found


def find_person(people: list[Person], ref: str) -> Person:
    """'#3', '3' or a unique display name (any case)."""
    key = ref.strip().removeprefix("#")
    number = whole_number(key)
    match = (
        [p for p in people if p.id == number]
        if number is not None
        else [p for p in people if p.name.casefold() == key.casefold()]
    )
    if not match:
        raise NotFound("rota.person_unknown", ref=quoted(ref, NAME_MAX))
    if len(match) > 1:
        raise InvalidInput(
            "rota.person_ambiguous",
            ref=quoted(ref, NAME_MAX),
            ids=", ".join(f"#{p.id}" for p in match),
        )
    return match[0]


def find_people(people: list[Person], raw: str) -> tuple[int, ...]:
    """'Anna, #7, Boris': each as `find_person` reads it, in the order written, once."""
    found: list[int] = []
    for ref in raw.split(","):
        person = find_person(people, ref)
        if person.id in found:
            raise InvalidInput("rota.person_twice", ref=quoted(ref.strip(), NAME_MAX))
        found.append(person.id)
    return tuple(found)


def parse_zone(raw: str) -> str:
    """An IANA zone name in any case, e.g. 'Europe/Moscow', spelled as tzdata spells it."""
    name = rota.zone_name(raw)
    if name is None:
        raise InvalidInput("tz.unknown", given=quoted(raw))
    return name


def parse_local(raw: str, tz: str, now: datetime) -> datetime:
    """'2026-03-05 09:00' or 'now', read in `tz`, within TIME_RANGE of now."""
    value = raw.strip()
    if value.lower() == "now":
        return now
    found = _LOCAL_TIME.fullmatch(value)
    if found is None:
        raise InvalidInput("rota.bad_time", given=quoted(value))
    year, month, day, hour, minute = (int(part) for part in found.groups())
    try:
        naive = datetime(year, month, day, hour, minute)
    except ValueError:  # 2026-02-30, 25:00
        raise InvalidInput("rota.bad_time", given=quoted(value)) from None
    # Compared as wall times: a zone's offset is nothing beside ten years.
    if abs(naive - now.astimezone(UTC).replace(tzinfo=None)) > TIME_RANGE:
        raise InvalidInput("rota.far_time", given=quoted(value))
    return rota.localize(naive, tz)


def parse_until(raw: str, start: datetime, tz: str, now: datetime) -> datetime:
    """'+8h' (after `start`) or '2026-03-05 21:00' (read in `tz`)."""
    value = raw.strip()
    if not value.startswith("+"):
        return parse_local(value, tz, now)
    try:
        return start + parse_duration(value[1:])
    except DurationTooLong:
        raise InvalidInput(
            "rota.until_too_long", given=quoted(value, 20), max=format_duration(MAX_DURATION)
        ) from None
    except ValueError:
        raise InvalidInput("rota.bad_until", given=quoted(value, 20)) from None


def parse_every(raw: str) -> tuple[rota.ShiftUnit, int]:
    """A shift length: a number and h, d or w ('8h', '1d', '2w'), within rota.MAX_LENGTH."""
    value = raw.strip().lower()
    unit = UNITS.get(value[-1:])
    length = whole_number(value[:-1], max_digits=3)
    if unit is None or length is None or not 1 <= length <= rota.MAX_LENGTH[unit]:
        raise InvalidInput("rota.bad_every", given=quoted(raw, 20))
    return unit, length


def rotation_name(raw: str) -> str:
    """A rotation's name: 1 to NAME_MAX characters with a letter, no '|'; spaces collapsed."""
    name = " ".join(raw.split())
    if (
        not 0 < len(name) <= NAME_MAX
        or "|" in name
        or not name.isprintable()
        or not any(c.isalpha() for c in name)
    ):
        raise InvalidInput("rotation.bad_name", max=NAME_MAX)
    return name


class RotaService:
    def __init__(
        self,
        db: Database,
        repo: RotaRepo,
        people: PeopleRepo,
        drafts: DraftRepo,
        audit: AuditRepo,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self.db = db
        self.repo = repo
        self.people = people
        self.drafts = drafts
        self.audit = audit
        self.outbox = outbox
        self.clock = clock
        # Run after every confirmed change (the coverage-gap report).
        self.after_change: list[Callable[[], Awaitable[object]]] = []
        self.on_call_changed: list[OnCallChanged] = []

    # -- anyone on staff -----------------------------------------------------------------

    async def set_tz(self, actor: Person, raw: str) -> None:
        tz = parse_zone(raw)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self.people.set_tz(tx, actor.id, tz)
            await self._say(tx, actor, "tz.set", tz=tz, local=rota.describe_local(now, tz))

    async def set_reminder(self, actor: Person, raw: str) -> None:
        """How long before a shift its reminder comes: `/remind 90m`, `/remind off`."""
        value = raw.strip().lower()
        if value == "off":
            minutes = 0
        else:
            try:
                minutes = int(parse_duration(value).total_seconds() // 60)
            except ValueError:
                raise InvalidInput("remind.usage", minutes=actor.remind_minutes) from None
            if not 1 <= minutes <= 24 * 60:
                raise InvalidInput("remind.usage", minutes=actor.remind_minutes)
        async with self.db.transaction() as tx:
            await self.people.set_remind_minutes(tx, actor.id, minutes)
            await self._say(
                tx, actor, "remind.off" if minutes == 0 else "remind.set", minutes=minutes
            )

    async def report_on_call(self, actor: Person) -> None:
        now = self.clock.now()
        rotations = await self.repo.rotations(self.db)
        everyone = {p.id: p for p in await self.people.staff(self.db)}
        lines: list[str] = []
        for r in rotations:
            overrides = await self.repo.overrides(self.db, r.id, ending_after=now)
            segments = rota.coverage(r, overrides, now, now + PREVIEW)
            current = segments[0] if segments else None
            upcoming = next(
                (s for s in segments[1:] if s.people != (current.people if current else None)), None
            )
            lines.append(text("oncall.rotation", actor.lang, name=r.name, tz=r.tz))
            lines.append(
                text(
                    "oncall.now",
                    actor.lang,
                    who=self._names(current.people if current else frozenset(), everyone, actor),
                    until=rota.describe_local(current.end, actor.tz) if current else "-",
                )
            )
            if upcoming is not None:
                lines.append(
                    text(
                        "oncall.next",
                        actor.lang,
                        who=self._names(upcoming.people, everyone, actor),
                        when=rota.describe_local(upcoming.start, actor.tz),
                    )
                )
        if not lines:
            lines = [text("oncall.none", actor.lang)]
        await self._send_lines(actor, lines)

    async def report_shifts(self, actor: Person) -> None:
        now = self.clock.now()
        found: list[tuple[datetime, str]] = []
        for r in await self.repo.rotations(self.db):
            overrides = await self.repo.overrides(self.db, r.id, ending_after=now)
            for start, end in rota.next_shifts(r, overrides, actor.id, now, 5):
                found.append(
                    (
                        start,
                        text(
                            "shifts.line",
                            actor.lang,
                            name=r.name,
                            start=rota.describe_local(start, actor.tz),
                            end=rota.describe_local(end, actor.tz),
                        ),
                    )
                )
        lines = [line for _, line in sorted(found)][:10]
        header = text("shifts.header" if lines else "shifts.none", actor.lang)
        await self._send_lines(actor, [header, *lines])

    # -- coordinators: rotations ---------------------------------------------------------

    async def list_rotations(self, actor: Person) -> None:
        self._coordinator(actor)
        everyone = {p.id: p for p in await self.people.staff(self.db)}
        lines = [
            text(
                "rotation.line",
                actor.lang,
                id=r.id,
                name=r.name,
                tz=r.tz,
                every=f"{r.length}{r.unit.value[0]}",
                start=rota.describe_local(r.start, r.tz),
                people=self._names(
                    frozenset(r.participants), everyone, actor, ordered=r.participants
                ),
            )
            for r in await self.repo.rotations(self.db)
        ]
        await self._send_lines(actor, lines or [text("rotation.none", actor.lang)])

    async def draft_rotation(self, actor: Person, raw: str) -> None:
        """`name | tz | every | first handoff | people` -> a preview with Confirm."""
        self._coordinator(actor)
        name_raw, tz_raw, every, first, who = parts(raw, 5, "rotation.usage")
        name = rotation_name(name_raw)
        tz = parse_zone(tz_raw)
        unit, length = parse_every(every)
        now = self.clock.now()
        start = parse_local(first, tz, now)
        staff = await self.people.staff(self.db)
        members = find_people(staff, who)
        if await self.repo.by_name(self.db, name) is not None:
            raise InvalidInput("rotation.exists", name=name)
        candidate = self._rotation(0, name, tz, unit, length, start, members)
        payload = {
            "name": name,
            "tz": tz,
            "unit": unit.value,
            "length": length,
            "start": start.isoformat(),
            "participants": list(members),
        }
        await self._draft(
            actor,
            DraftKind.ROTATION_NEW,
            payload,
            self._preview(actor, candidate, [], staff, "rotation.preview_new"),
        )

    async def draft_members(self, actor: Person, raw: str) -> None:
        """`rotation | people` -> new order and membership, previewed."""
        self._coordinator(actor)
        name, who = parts(raw, 2, "rotation.members_usage")
        current = await self.find_rotation(name)
        staff = await self.people.staff(self.db)
        members = find_people(staff, who)
        candidate = self._rotation(
            current.id,
            current.name,
            current.tz,
            current.unit,
            current.length,
            current.start,
            members,
        )
        overrides = await self.repo.overrides(self.db, current.id, ending_after=self.clock.now())
        await self._draft(
            actor,
            DraftKind.ROTATION_MEMBERS,
            {
                "id": current.id,
                "participants": list(members),
                "version": await self.repo.version(self.db, current.id),
            },
            self._preview(actor, candidate, overrides, staff, "rotation.preview_members"),
        )

    async def draft_override(self, actor: Person, raw: str) -> None:
        """`rotation | add|remove|replace | person [for person] | from | to`."""
        self._coordinator(actor)
        name, kind_raw, who, start_raw, end_raw = parts(raw, 5, "override.usage")
        current = await self.find_rotation(name)
        try:
            kind = rota.OverrideKind(kind_raw.lower())
        except ValueError:
            raise InvalidInput("override.usage") from None
        staff = await self.people.staff(self.db)
        replaces: int | None = None
        if kind is rota.OverrideKind.REPLACE:
            taker, _, replaced = who.partition(" for ")
            if not replaced:
                raise InvalidInput("override.usage")
            person = find_person(staff, taker)
            replaces = find_person(staff, replaced).id
        else:
            person = find_person(staff, who)
        now = self.clock.now()
        start = parse_local(start_raw, actor.tz, now)
        end = parse_until(end_raw, start, actor.tz, now)
        await self.propose_override(actor, current, kind, person.id, replaces, start, end)

    async def propose_override(
        self,
        actor: Person,
        current: rota.Rotation,
        kind: rota.OverrideKind,
        person: int,
        replaces: int | None,
        start: datetime,
        end: datetime,
    ) -> None:
        """Preview an override (the window's shifts with it in place) and wait for Confirm."""
        self._coordinator(actor)
        now = self.clock.now()
        if end <= start or end <= now:
            raise InvalidInput("override.bad_window")
        staff = await self.people.staff(self.db)
        new = self._override(0, current.id, kind, person, replaces, start, end)
        existing = await self.repo.overrides(self.db, current.id, ending_after=now)
        await self._check_conflicts(existing, new)
        payload = {
            "rotation": current.id,
            "version": await self.repo.version(self.db, current.id),
            "kind": kind.value,
            "person": person,
            "replaces": replaces,
            "start": start.isoformat(),
            "end": end.isoformat(),
        }
        await self._draft(
            actor,
            DraftKind.OVERRIDE_NEW,
            payload,
            self._preview(
                actor, current, [*existing, new], staff, "override.preview", window=(start, end)
            ),
        )

    async def confirm(self, actor: Person, draft_id: int, kind: DraftKind) -> None:
        """Apply a confirmed draft, re-checking it against the rota as it is now."""
        self._coordinator(actor)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            taken = await self.drafts.take(tx, draft_id, kind, actor.id)
            if taken is None:
                raise NotFound("draft.gone")
            _, data = taken
            if kind is not DraftKind.OVERRIDE_NEW:  # an override first hears of a clash, below
                await self._check_still_applies(tx, kind, data)
            if kind is DraftKind.ROTATION_NEW:
                if await self.repo.by_name(tx, data["name"]) is not None:
                    raise InvalidInput("rotation.exists", name=data["name"])
                rid = await self.repo.create(
                    tx,
                    name=data["name"],
                    tz=data["tz"],
                    unit=rota.ShiftUnit(data["unit"]),
                    length=data["length"],
                    start=datetime.fromisoformat(data["start"]),
                    participants=tuple(data["participants"]),
                    now=now,
                )
                await self._tell_on_call(tx, rid, frozenset(), now)
                await self.audit.record(
                    tx,
                    actor_id=actor.id,
                    action="rotation.create",
                    now=now,
                    detail={"rotation": rid, "name": data["name"]},
                )
                await self._say(tx, actor, "rotation.created", name=data["name"])
            elif kind is DraftKind.ROTATION_MEMBERS:
                current = await self.repo.rotation(tx, data["id"])
                if current is None:
                    raise NotFound("draft.gone")
                overrides = await self.repo.overrides(tx, current.id, ending_after=now)
                before = rota.on_call(current, overrides, now)
                await self.repo.set_members(tx, current.id, tuple(data["participants"]))
                await self._tell_on_call(tx, current.id, before, now)
                await self.audit.record(
                    tx,
                    actor_id=actor.id,
                    action="rotation.members",
                    now=now,
                    detail={"rotation": current.id, "people": data["participants"]},
                )
                await self._say(tx, actor, "rotation.updated", name=current.name)
            elif kind is DraftKind.OVERRIDE_NEW:
                new = self._override(
                    0,
                    data["rotation"],
                    rota.OverrideKind(data["kind"]),
                    data["person"],
                    data["replaces"],
                    datetime.fromisoformat(data["start"]),
                    datetime.fromisoformat(data["end"]),
                )
                existing = await self.repo.overrides(tx, new.rotation_id, ending_after=now)
                await self._check_conflicts(existing, new)
                await self._check_still_applies(tx, kind, data)
                before = await self._on_call(tx, new.rotation_id, existing, now)
                oid = await self.repo.add_override(
                    tx,
                    rotation_id=new.rotation_id,
                    kind=new.kind,
                    person_id=new.person_id,
                    replaces=new.replaces,
                    start=new.start,
                    end=new.end,
                    created_by=actor.id,
                    now=now,
                )
                await self._tell_on_call(tx, new.rotation_id, before, now)
                await self.audit.record(
                    tx,
                    actor_id=actor.id,
                    action="override.create",
                    now=now,
                    detail={"override": oid, "rotation": new.rotation_id},
                )
                await self._say(tx, actor, "override.created", id=oid)
        for hook in self.after_change:
            await hook()

    async def _check_still_applies(
        self, tx: Transaction, kind: DraftKind, data: dict[str, Any]
    ) -> None:
        """A preview applies only to the rotation it was made from, and only while
        everyone it names is still enrolled on staff."""
        rotation_id = data.get("id", data.get("rotation"))
        if kind is not DraftKind.ROTATION_NEW and rotation_id is not None:
            current = await self.repo.rotation(tx, rotation_id)
            if current is None:
                raise NotFound("rotation.gone")
            if await self.repo.version(tx, rotation_id) != data.get("version"):
                raise InvalidInput("draft.stale_rotation", name=current.name)
        named = [*data.get("participants", []), data.get("person"), data.get("replaces")]
        staff = {p.id for p in await self.people.staff(tx)}
        if any(pid is not None and pid not in staff for pid in named):
            raise InvalidInput("draft.target_gone")

    async def cancel(self, actor: Person, draft_id: int, kind: DraftKind) -> None:
        async with self.db.transaction() as tx:
            await self.drafts.take(tx, draft_id, kind, actor.id)
            await self._say(tx, actor, "draft.cancelled")

    # -- swaps ---------------------------------------------------------------------------

    async def request_swap(self, actor: Person, raw: str) -> None:
        """A responder offers a window of their own shifts for someone else to take."""
        if not actor.has(Role.RESPONDER):
            raise NotAllowed("swap.responders_only")
        name, start_raw, end_raw = parts(raw, 3, "swap.usage")
        current = await self.find_rotation(name)
        now = self.clock.now()
        start = parse_local(start_raw, actor.tz, now)
        end = parse_until(end_raw, start, actor.tz, now)
        if end <= start or end <= now:
            raise InvalidInput("override.bad_window")
        overrides = await self.repo.overrides(self.db, current.id, ending_after=now)
        covered = any(
            actor.id in seg.people for seg in rota.coverage(current, overrides, start, end)
        )
        if not covered:
            raise InvalidInput("swap.not_yours", name=current.name)
        staff = await self.people.staff(self.db)
        async with self.db.transaction() as tx:
            swap_id = await self.repo.add_swap(
                tx, rotation_id=current.id, requester=actor.id, start=start, end=end, now=now
            )
            await self.audit.record(
                tx,
                actor_id=actor.id,
                action="swap.request",
                now=now,
                detail={"swap": swap_id, "rotation": current.id},
            )
            for person in staff:
                if person.id == actor.id or person.unreachable:
                    continue
                takes = person.has(Role.RESPONDER)
                if not (takes or person.has(Role.COORDINATOR)):
                    continue
                await self.outbox.send(
                    tx,
                    person.chat_id,
                    Notice(
                        "swap.offered",
                        {
                            "name": actor.name,
                            "rotation": current.name,
                            "id": swap_id,
                            "start": rota.describe_local(start, person.tz),
                            "end": rota.describe_local(end, person.tz),
                        },
                        buttons=((Button("button.take", f"swp:{swap_id}"),),) if takes else (),
                        lang=person.lang,
                    ),
                    person_id=person.id,
                )
            await self._say(tx, actor, "swap.requested", id=swap_id)

    async def withdraw_swap(self, actor: Person, raw: str) -> None:
        """`/swap cancel <n>`: the requester takes back an offer nobody has taken."""
        number = whole_number(raw.strip().removeprefix("#"))
        if number is None:
            raise InvalidInput("swap.cancel_usage")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            if not await self.repo.cancel_swap(tx, number, actor.id):
                raise InvalidInput("swap.gone", id=number)
            await self.audit.record(
                tx, actor_id=actor.id, action="swap.cancel", now=now, detail={"swap": number}
            )
            # Everyone who was offered it, and the requester, hear that it is off.
            for person in await self.people.staff(tx):
                if person.unreachable and person.id != actor.id:
                    continue
                await self.outbox.send(
                    tx,
                    person.chat_id,
                    Notice("swap.withdrawn", {"id": number, "name": actor.name}, lang=person.lang),
                    person_id=person.id,
                )

    async def take_swap(self, actor: Person, swap_id: int) -> None:
        if not actor.has(Role.RESPONDER):
            raise NotAllowed("error.not_allowed")
        now = self.clock.now()
        async with self.db.transaction() as tx:
            swap = await self.repo.swap(tx, swap_id)
            if swap is None or swap.state != "open":
                raise InvalidInput("swap.gone", id=swap_id)
            if swap.requester == actor.id:
                raise InvalidInput("swap.own", id=swap_id)
            new = self._override(
                0,
                swap.rotation_id,
                rota.OverrideKind.REPLACE,
                actor.id,
                swap.requester,
                max(swap.start, now),
                swap.end,
            )
            existing = await self.repo.overrides(tx, swap.rotation_id, ending_after=now)
            await self._check_conflicts(existing, new)
            before = await self._on_call(tx, swap.rotation_id, existing, now)
            oid = await self.repo.add_override(
                tx,
                rotation_id=new.rotation_id,
                kind=new.kind,
                person_id=actor.id,
                replaces=swap.requester,
                start=new.start,
                end=new.end,
                created_by=actor.id,
                now=now,
            )
            if not await self.repo.take_swap(tx, swap_id, actor.id, oid):
                raise InvalidInput("swap.gone", id=swap_id)
            await self._tell_on_call(tx, swap.rotation_id, before, now)
            await self.audit.record(
                tx,
                actor_id=actor.id,
                action="swap.take",
                now=now,
                detail={"swap": swap_id, "override": oid},
            )
            everyone = await self.people.staff(tx)
            requester = next((p for p in everyone if p.id == swap.requester), None)
            rotation = await self.repo.rotation(tx, swap.rotation_id)
            rname = rotation.name if rotation else "?"
            told = {swap.requester, actor.id}
            for person in everyone:
                if person.id in told or person.has(Role.COORDINATOR):
                    await self.outbox.send(
                        tx,
                        person.chat_id,
                        Notice(
                            "swap.taken",
                            {
                                "id": swap_id,
                                "name": actor.name,
                                "rotation": rname,
                                "requester": requester.name if requester else "?",
                            },
                            lang=person.lang,
                        ),
                        person_id=person.id,
                    )

    # -- helpers -------------------------------------------------------------------------

    def _coordinator(self, actor: Person) -> None:
        if not actor.has(Role.COORDINATOR):
            raise NotAllowed("error.not_allowed")

    async def _on_call(
        self, tx: Transaction, rotation_id: int, overrides: list[rota.Override], now: datetime
    ) -> frozenset[int]:
        """Who is on call in the rotation now, before a change to it is written."""
        current = await self.repo.rotation(tx, rotation_id)
        return frozenset() if current is None else rota.on_call(current, overrides, now)

    async def _tell_on_call(
        self, tx: Transaction, rotation_id: int, before: frozenset[int], now: datetime
    ) -> None:
        for hook in self.on_call_changed:
            await hook(tx, rotation_id, before, now)

    async def find_rotation(self, name: str) -> rota.Rotation:
        """The rotation called `name`, or NotFound saying how to list them."""
        found = await self.repo.by_name(self.db, name.strip())
        if found is None:
            raise NotFound("rotation.unknown", name=quoted(name, NAME_MAX))
        return found

    @staticmethod
    def _rotation(
        rid: int,
        name: str,
        tz: str,
        unit: rota.ShiftUnit,
        length: int,
        start: datetime,
        members: tuple[int, ...],
    ) -> rota.Rotation:
        try:
            return rota.Rotation(
                id=rid,
                name=name,
                tz=tz,
                unit=unit,
                length=length,
                start=start,
                participants=members,
            )
        except ValueError as exc:
            raise InvalidInput("rota.invalid", problem=str(exc)) from None

    @staticmethod
    def _override(
        oid: int,
        rotation_id: int,
        kind: rota.OverrideKind,
        person: int,
        replaces: int | None,
        start: datetime,
        end: datetime,
    ) -> rota.Override:
        try:
            return rota.Override(
                id=oid,
                rotation_id=rotation_id,
                kind=kind,
                person_id=person,
                replaces=replaces,
                start=start,
                end=end,
            )
        except ValueError as exc:
            raise InvalidInput("rota.invalid", problem=str(exc)) from None

    async def _check_conflicts(self, existing: list[rota.Override], new: rota.Override) -> None:
        clash = rota.conflicts(existing, new)
        if clash:
            first = clash[0]
            raise InvalidInput("override.conflict", id=first.id, kind=first.kind.value)

    def _names(
        self,
        ids: frozenset[int],
        everyone: dict[int, Person],
        reader: Person,
        ordered: tuple[int, ...] | None = None,
    ) -> str:
        order = ordered if ordered is not None else tuple(sorted(ids))
        names = [everyone[i].name if i in everyone else f"#{i}" for i in order]
        return ", ".join(names) if names else text("oncall.nobody", reader.lang)

    def _preview(
        self,
        actor: Person,
        r: rota.Rotation,
        overrides: list[rota.Override],
        staff: list[Person],
        key: str,
        window: tuple[datetime, datetime] | None = None,
    ) -> list[str]:
        now = self.clock.now()
        everyone = {p.id: p for p in staff}
        start, end = window if window else (now, now + PREVIEW)
        # Times show to the minute, so the list ends on a whole one: ending seconds after a
        # handoff (now is rarely a whole minute) listed those seconds as one more shift,
        # "01:20 - 01:20".
        end = min(end, start + PREVIEW)
        if end.replace(second=0, microsecond=0) > start:
            end = end.replace(second=0, microsecond=0)
        lines = [text(key, actor.lang, name=r.name, tz=r.tz)]
        for seg in rota.coverage(r, overrides, start, end):
            lines.append(
                text(
                    "rota.segment",
                    actor.lang,
                    start=rota.describe_local(seg.start, actor.tz),
                    end=rota.describe_local(seg.end, actor.tz),
                    who=self._names(seg.people, everyone, actor),
                )
            )
        return lines

    async def _draft(
        self, actor: Person, kind: DraftKind, payload: dict[str, Any], lines: list[str]
    ) -> None:
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self.drafts.purge(tx, now, DRAFT_TTL)
            draft_id = await self.drafts.add(tx, actor.id, kind, payload, now)
            blocks = chunk_lines(lines)
            for i, block in enumerate(blocks):
                last = i == len(blocks) - 1
                buttons = (
                    (
                        (
                            Button("button.confirm", f"dr:y:{kind}:{draft_id}"),
                            Button("button.cancel", f"dr:n:{kind}:{draft_id}"),
                        ),
                    )
                    if last
                    else ()
                )
                await self.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice("text.block", {"text": block}, buttons=buttons, lang=actor.lang),
                    person_id=actor.id,
                )

    async def _say(self, tx: Transaction, actor: Person, key: str, **params: Any) -> None:
        await self.outbox.tell(tx, actor, key, **params)

    async def _send_lines(self, actor: Person, lines: list[str]) -> None:
        async with self.db.transaction() as tx:
            await self.outbox.tell_lines(tx, actor, lines)


__all__ = [
    "OnCallChanged",
    "RotaService",
    "find_people",
    "find_person",
    "parse_every",
    "parse_local",
    "parse_until",
    "parse_zone",
    "rotation_name",
]
