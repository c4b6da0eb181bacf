"""A guided override: which rotation, what changes (add, remove, replace), who, from
when, until when.

For a remove or a replace, the "from" question offers the affected person's next shifts
as buttons: one press covers a whole shift (the common case: "Boris takes Anna's
Tuesday"). Times typed are read in the coordinator's time zone, like `/override`. The
end hands everything to `RotaService.propose_override`, which shows the window's shifts
with the override in place and waits for Confirm; a clash with another override is told
and the question stays open, to choose another time.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import rota
from bot.domain.clock import Clock
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.models import Button, Person
from bot.services.rota import RotaService, find_person, parse_local, parse_until
from bot.wizards.engine import Screen, button, capped, grid, keyed
from bot.wizards.rotation import responders
from storage.db import Database
from storage.people import PeopleRepo

KINDS = (rota.OverrideKind.ADD, rota.OverrideKind.REMOVE, rota.OverrideKind.REPLACE)
LENGTHS = (
    ("+1h", 3600),
    ("+4h", 4 * 3600),
    ("+12h", 12 * 3600),
    ("+1d", 86400),
    ("+3d", 3 * 86400),
    ("+1w", 7 * 86400),
)
SHIFTS_OFFERED = 4
HANDOFFS_OFFERED = 3


def short(dt: datetime, tz: str) -> str:
    """A compact local time for a button: 'Tue 03 Mar 09:00'."""
    return f"{dt.astimezone(ZoneInfo(tz)):%a %d %b %H:%M}"


class OverrideFlow:
    name = "override"

    def __init__(self, db: Database, people: PeopleRepo, service: RotaService, clock: Clock):
        self.db = db
        self.people = people
        self.service = service
        self.clock = clock

    async def first(self, rotation_name: str) -> dict[str, Any]:
        if not await self.service.repo.rotations(self.db):
            raise InvalidInput("rotation.none")
        if not rotation_name.strip():
            return {"step": "rotation"}
        found = await self.service.find_rotation(rotation_name)
        return {"step": "kind", "rotation": found.id}

    # -- the questions -------------------------------------------------------------------

    async def screen(self, actor: Person, draft_id: int, data: dict[str, Any]) -> Screen:
        step = data["step"]
        if step == "rotation":
            rotations, hidden = capped(await self.service.repo.rotations(self.db))
            choices = grid((button(draft_id, "ro", r.id, r.name) for r in rotations), 2)
            return Screen("override.w_rotation", {}, choices, hidden)
        current = await self._rotation(data)
        staff = {p.id: p for p in await self.people.staff(self.db)}
        params: dict[str, Any] = {"name": current.name, "tz": actor.tz}
        rows: list[tuple[Button, ...]] = []
        if step == "kind":
            rows = [
                tuple(
                    keyed(draft_id, "kd", i, f"button.override_{k.value}")
                    for i, k in enumerate(KINDS)
                )
            ]
            return Screen("override.w_kind", params, rows)
        kind = rota.OverrideKind(data["kind"])
        if step == "who":
            candidates, hidden = capped(
                [staff[p] for p in current.participants if p in staff]
                if kind is rota.OverrideKind.REMOVE
                else await responders(self.people, self.db)
            )
            rows = grid((button(draft_id, "pp", p.id, p.name) for p in candidates), 2)
            return Screen(f"override.w_who_{kind.value}", params, rows, hidden)
        params["person"] = self._name(staff, data["person"])
        if step == "for":
            candidates, hidden = capped(
                [staff[p] for p in current.participants if p in staff and p != data["person"]]
            )
            rows = grid((button(draft_id, "pp", p.id, p.name) for p in candidates), 2)
            return Screen("override.w_for", params, rows, hidden)
        if step == "from":
            rows = [(keyed(draft_id, "fr", 0, "button.now"),)]
            affected = self._affected(data)
            if affected is None:
                rows += grid(
                    (
                        button(draft_id, "fr", int(t.timestamp()), short(t, actor.tz))
                        for t in self._handoffs(current)
                    ),
                    HANDOFFS_OFFERED,
                )
                return Screen("override.w_from_add", params, rows)
            params["whose"] = self._name(staff, affected)
            rows += [
                (
                    button(
                        draft_id,
                        "sh",
                        int(end.timestamp()),
                        f"{short(start, actor.tz)} – {short(end, actor.tz)}",
                    ),
                )
                for start, end in await self._shifts(current, affected)
            ]
            return Screen("override.w_from", params, rows)
        params["start"] = rota.describe_local(datetime.fromisoformat(data["start"]), actor.tz)
        rows = grid((button(draft_id, "un", s, label) for label, s in LENGTHS), 3)
        return Screen("override.w_until", params, rows)

    # -- answers -------------------------------------------------------------------------

    async def typed(self, actor: Person, data: dict[str, Any], answer: str) -> bool:
        step = data["step"]
        now = self.clock.now()
        if step == "rotation":
            found = await self.service.find_rotation(answer)
            data.update(step="kind", rotation=found.id)
        elif step == "kind":
            try:
                kind = rota.OverrideKind(answer.strip().lower())
            except ValueError:
                raise InvalidInput("wizard.use_buttons") from None
            data.update(step="who", kind=kind.value)
        elif step in ("who", "for"):
            person = find_person(await self.people.staff(self.db), answer)
            self._chose(data, person.id)
        elif step == "from":
            data.update(step="until", start=parse_local(answer, actor.tz, now).isoformat())
        elif step == "until":
            start = datetime.fromisoformat(data["start"])
            return await self._finish(actor, data, parse_until(answer, start, actor.tz, now))
        return False

    async def pressed(self, actor: Person, data: dict[str, Any], action: str, value: int) -> bool:
        step = data["step"]
        now = self.clock.now()
        if action == "ro" and step == "rotation":
            if await self.service.repo.rotation(self.db, value) is None:
                raise InvalidInput("rotation.gone")
            data.update(step="kind", rotation=value)
        elif action == "kd" and step == "kind" and value < len(KINDS):
            data.update(step="who", kind=KINDS[value].value)
        elif action == "pp" and step in ("who", "for"):
            staff = await self.people.staff(self.db)
            if not any(p.id == value for p in staff):
                raise NotFound("rota.person_unknown", ref=f"#{value}")
            self._chose(data, value)
        elif action == "fr" and step == "from":
            # Now, or one of the handoffs offered (a press may be old or forged).
            if value == 0:
                start = now
            else:
                offered = {
                    int(t.timestamp()): t for t in self._handoffs(await self._rotation(data))
                }
                if value not in offered:
                    raise InvalidInput("override.shift_gone")
                start = offered[value]
            data.update(step="until", start=max(start, now).isoformat())
        elif action == "sh" and step == "from" and (affected := self._affected(data)) is not None:
            # (An add offers no shifts to press.)
            current = await self._rotation(data)
            for start, end in await self._shifts(current, affected):
                if int(end.timestamp()) == value:
                    data["start"] = max(start, now).isoformat()
                    return await self._finish(actor, data, end)
            raise InvalidInput("override.shift_gone")
        elif action == "un" and step == "until" and value in {s for _, s in LENGTHS}:
            start = datetime.fromisoformat(data["start"])
            return await self._finish(actor, data, start + timedelta(seconds=value))
        else:
            raise InvalidInput("wizard.use_buttons")
        return False

    # -- helpers -------------------------------------------------------------------------

    def _chose(self, data: dict[str, Any], person: int) -> None:
        if data["step"] == "who":
            replace = data["kind"] == rota.OverrideKind.REPLACE.value
            data.update(step="for" if replace else "from", person=person)
        else:
            if person == data["person"]:
                raise InvalidInput("override.self")
            data.update(step="from", replaces=person)

    async def _finish(self, actor: Person, data: dict[str, Any], end: datetime) -> bool:
        await self.service.propose_override(
            actor,
            await self._rotation(data),
            rota.OverrideKind(data["kind"]),
            data["person"],
            data.get("replaces"),
            datetime.fromisoformat(data["start"]),
            end,
        )
        return True

    async def _rotation(self, data: dict[str, Any]) -> rota.Rotation:
        found = await self.service.repo.rotation(self.db, data["rotation"])
        if found is None:
            raise InvalidInput("rotation.gone")
        return found

    @staticmethod
    def _affected(data: dict[str, Any]) -> int | None:
        """Whose time the override takes: the replaced or removed person (None for add)."""
        if data["kind"] == rota.OverrideKind.REPLACE.value:
            return int(data["replaces"])
        if data["kind"] == rota.OverrideKind.REMOVE.value:
            return int(data["person"])
        return None

    async def _shifts(self, current: rota.Rotation, person: int) -> list[tuple[datetime, datetime]]:
        now = self.clock.now()
        overrides = await self.service.repo.overrides(self.db, current.id, ending_after=now)
        return rota.next_shifts(current, overrides, person, now, SHIFTS_OFFERED)

    def _handoffs(self, current: rota.Rotation) -> list[datetime]:
        now = self.clock.now()
        found: list[datetime] = []
        for shift in rota.shifts_between(current, now, now + timedelta(days=30)):
            if shift.start > now:
                found.append(shift.start)
            if len(found) == HANDOFFS_OFFERED:
                break
        return found

    @staticmethod
    def _name(staff: dict[int, Person], pid: int) -> str:
        return staff[pid].name if pid in staff else f"#{pid}"


__all__ = ["OverrideFlow"]
