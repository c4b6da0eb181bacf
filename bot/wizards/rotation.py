"""Guided rotation changes: a new rotation (name, time zone, shift length, first handoff,
people), and who takes turns in an existing one (add, take out, reorder).

Both end in `RotaService.draft_rotation` / `draft_members`, which show the next two
weeks of shifts and wait for Confirm like the one-line `/rotation new` and
`/rotation people`. The people can also be typed, the whole order at once
("Anna, #7, Boris"), which goes straight to that preview.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain import rota
from bot.domain.clock import Clock
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.models import Button, Person, Role
from bot.services.rota import (
    RotaService,
    find_people,
    parse_every,
    parse_local,
    parse_zone,
    rotation_name,
)
from bot.wizards.engine import Screen, button, capped, grid, keyed
from storage.db import Database
from storage.people import PeopleRepo

ZONES = ("Europe/Moscow", "Asia/Vladivostok", "Europe/Berlin", "UTC")
EVERY = ("8h", "12h", "1d", "1w")
HANDOFF = time(9, 0)
HANDOFFS_OFFERED = 2


async def responders(people: PeopleRepo, db: Database) -> list[Person]:
    return [p for p in await people.staff(db) if p.has(Role.RESPONDER)]


def toggle(chosen: list[int], pid: int) -> list[int]:
    """Press once to add at the end of the order, again to take out."""
    return [p for p in chosen if p != pid] if pid in chosen else [*chosen, pid]


async def toggled(people: PeopleRepo, db: Database, chosen: list[int], pid: int) -> list[int]:
    """`toggle`, for a press that may be old or forged: only a responder can be added."""
    if pid not in chosen and not any(p.id == pid for p in await responders(people, db)):
        raise NotFound("rota.person_unknown", ref=f"#{pid}")
    return toggle(chosen, pid)


def people_rows(
    draft_id: int, staff: list[Person], chosen: list[int]
) -> tuple[list[tuple[Button, ...]], int]:
    """A button per responder, numbered in the order chosen so far (capped: the chosen
    first, so they can be taken out), and how many responders got none."""
    shown, hidden = capped(staff, lambda p: p.id in chosen)
    rows = grid(
        (
            button(
                draft_id,
                "pp",
                p.id,
                (f"{chosen.index(p.id) + 1}. " if p.id in chosen else "") + p.name,
            )
            for p in shown
        ),
        2,
    )
    return rows, hidden


def named_order(staff: list[Person], chosen: list[int]) -> str:
    """The order chosen so far, by name: 'Boris, Anna' ('-' for nobody yet)."""
    names = {p.id: p.name for p in staff}
    return ", ".join(names.get(p, f"#{p}") for p in chosen) or "-"


class RotationFlow:
    """`/rotation new`: five questions, then the two-week preview."""

    name = "rotation"

    def __init__(self, db: Database, people: PeopleRepo, service: RotaService, clock: Clock):
        self.db = db
        self.people = people
        self.service = service
        self.clock = clock

    async def first(self, argument: str) -> dict[str, Any]:
        return {"step": "name"}

    async def screen(self, actor: Person, draft_id: int, data: dict[str, Any]) -> Screen:
        step = data["step"]
        params: dict[str, Any] = {"name": data.get("name", ""), "tz": data.get("tz", "")}
        rows: list[tuple[Button, ...]] = []
        hidden = 0
        if step == "tz":
            zones = self._zones(actor)
            rows = grid((button(draft_id, "tz", i, z) for i, z in enumerate(zones)), 2)
        elif step == "every":
            rows = grid((button(draft_id, "ev", i, e) for i, e in enumerate(EVERY)), 4)
        elif step == "start":
            rows = grid(
                (
                    button(draft_id, "st", int(t.timestamp()), rota.describe_local(t, data["tz"]))
                    for t in self._handoffs(data["tz"])
                ),
                2,
            )
        elif step == "people":
            chosen: list[int] = data["people"]
            rows, hidden = people_rows(draft_id, await responders(self.people, self.db), chosen)
            rows.append((keyed(draft_id, "ok", 0, "button.done"),))
            params["order"] = named_order(await self.people.staff(self.db), chosen)
        return Screen(f"wizard.{step}", params, rows, hidden)

    async def typed(self, actor: Person, data: dict[str, Any], answer: str) -> bool:
        step = data["step"]
        if step == "name":
            name = rotation_name(answer)
            if await self.service.repo.by_name(self.db, name) is not None:
                raise InvalidInput("rotation.exists", name=name)
            data.update(name=name, step="tz")
        elif step == "tz":
            data.update(tz=parse_zone(answer), step="every")
        elif step == "every":
            parse_every(answer)
            data.update(every=answer.strip().lower(), step="start")
        elif step == "start":
            start = parse_local(answer, data["tz"], self.clock.now())
            data.update(start=start.isoformat(), step="people", people=[])
        else:
            # The whole order typed, as the one-line form takes it (and refuses it).
            data["people"] = list(find_people(await self.people.staff(self.db), answer))
            return await self._finish(actor, data)
        return False

    async def pressed(self, actor: Person, data: dict[str, Any], action: str, value: int) -> bool:
        step = data["step"]
        if action == "tz" and step == "tz" and value < len(self._zones(actor)):
            data.update(tz=self._zones(actor)[value], step="every")
        elif action == "ev" and step == "every" and value < len(EVERY):
            data.update(every=EVERY[value], step="start")
        elif action == "st" and step == "start":
            # One of the handoffs offered, and still ahead (a press may be old or forged).
            offered = {int(t.timestamp()): t for t in self._handoffs(data["tz"])}
            if value not in offered:
                raise InvalidInput("wizard.start_passed")
            data.update(start=offered[value].isoformat(), step="people", people=[])
        elif action == "pp" and step == "people":
            data["people"] = await toggled(self.people, self.db, data["people"], value)
        elif action == "ok" and step == "people":
            return await self._finish(actor, data)
        else:
            raise InvalidInput("wizard.use_buttons")
        return False

    async def _finish(self, actor: Person, data: dict[str, Any]) -> bool:
        if not data["people"]:
            raise InvalidInput("wizard.people_none")
        people = ", ".join(f"#{p}" for p in data["people"])
        start = datetime.fromisoformat(data["start"]).astimezone(ZoneInfo(data["tz"]))
        await self.service.draft_rotation(
            actor,
            f"{data['name']} | {data['tz']} | {data['every']} | {start:%Y-%m-%d %H:%M} | {people}",
        )
        return True

    def _zones(self, actor: Person) -> list[str]:
        return list(dict.fromkeys([actor.tz, *ZONES]))

    def _handoffs(self, tz: str) -> list[datetime]:
        """The next HANDOFF (09:00 local) times still ahead: a first handoff offered in the
        past would put its first person on call at once, unasked."""
        now = self.clock.now()
        today = now.astimezone(ZoneInfo(tz)).date()
        ahead = (
            rota.localize(datetime.combine(today + timedelta(days=d), HANDOFF), tz)
            for d in range(HANDOFFS_OFFERED + 1)
        )
        return [t for t in ahead if t > now][:HANDOFFS_OFFERED]


class MembersFlow:
    """`/rotation people [rotation]`: which rotation (unless named), then who takes turns.

    The current order is chosen to begin with: pressing a new name adds them at the end,
    pressing a chosen one takes them out, and Start over clears the order to press it
    again from the first turn.
    """

    name = "members"

    def __init__(self, db: Database, people: PeopleRepo, service: RotaService):
        self.db = db
        self.people = people
        self.service = service

    async def first(self, rotation_name: str) -> dict[str, Any]:
        """The opening answers: straight to the people if the rotation is named."""
        if not rotation_name.strip():
            if not await self.service.repo.rotations(self.db):
                raise InvalidInput("rotation.none")
            return {"step": "rotation"}
        return await self._named(rotation_name)

    async def screen(self, actor: Person, draft_id: int, data: dict[str, Any]) -> Screen:
        if data["step"] == "rotation":
            rotations, hidden = capped(await self.service.repo.rotations(self.db))
            rows = grid((button(draft_id, "ro", r.id, r.name) for r in rotations), 2)
            return Screen("wizard.pick_rotation", {}, rows, hidden)
        chosen: list[int] = data["people"]
        rows, hidden = people_rows(draft_id, await responders(self.people, self.db), chosen)
        rows.append(
            (
                keyed(draft_id, "clr", 0, "button.start_over"),
                keyed(draft_id, "ok", 0, "button.done"),
            )
        )
        order = named_order(await self.people.staff(self.db), chosen)
        return Screen("wizard.members", {"name": data["name"], "order": order}, rows, hidden)

    async def typed(self, actor: Person, data: dict[str, Any], answer: str) -> bool:
        if data["step"] == "rotation":
            data.update(await self._named(answer))
            return False
        # The whole new order typed, as `/rotation people <rotation> | ...` takes it.
        data["people"] = list(find_people(await self.people.staff(self.db), answer))
        return await self._finish(actor, data)

    async def pressed(self, actor: Person, data: dict[str, Any], action: str, value: int) -> bool:
        step = data["step"]
        if action == "ro" and step == "rotation":
            found = await self.service.repo.rotation(self.db, value)
            if found is None:
                raise InvalidInput("rotation.gone")
            data.update(self._chosen(found))
        elif action == "pp" and step == "people":
            data["people"] = await toggled(self.people, self.db, data["people"], value)
        elif action == "clr" and step == "people":
            data["people"] = []
        elif action == "ok" and step == "people":
            return await self._finish(actor, data)
        else:
            raise InvalidInput("wizard.use_buttons")
        return False

    async def _finish(self, actor: Person, data: dict[str, Any]) -> bool:
        if not data["people"]:
            raise InvalidInput("wizard.people_none")
        people = ", ".join(f"#{p}" for p in data["people"])
        current = await self.service.repo.rotation(self.db, data["rotation"])
        if current is None:
            raise InvalidInput("rotation.gone")
        await self.service.draft_members(actor, f"{current.name} | {people}")
        return True

    async def _named(self, name: str) -> dict[str, Any]:
        return self._chosen(await self.service.find_rotation(name))

    @staticmethod
    def _chosen(found: rota.Rotation) -> dict[str, Any]:
        return {
            "step": "people",
            "rotation": found.id,
            "name": found.name,
            "people": list(found.participants),
        }


__all__ = [
    "MembersFlow",
    "RotationFlow",
    "named_order",
    "people_rows",
    "responders",
    "toggle",
    "toggled",
]
