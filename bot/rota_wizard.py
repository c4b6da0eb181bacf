"""A new rotation, step by step: name, time zone, shift length, first handoff, people.

Each step is a message with buttons (or a typed answer); the answers so far are an
encrypted draft row, so a restart loses nothing. The last step hands the answers to
`RotaService.draft_rotation`, which shows the next two weeks and waits for Confirm like
the one-line `/rotation new name | zone | every | start | people`.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot import rota
from bot.clock import Clock
from bot.errors import DomainError, InvalidInput
from bot.oncall import RotaService, parse_every, parse_local, parse_zone
from bot.outbox import Outbox
from storage.db import Database
from storage.drafts import DraftRepo
from storage.models import Button, Notice, Person, Role
from storage.people import PeopleRepo

KIND = "wizard.rotation"
ALIVE = timedelta(hours=1)
ZONES = ("Europe/Moscow", "Asia/Vladivostok", "Europe/Berlin", "UTC")
EVERY = ("8h", "12h", "1d", "1w")
HANDOFF = time(9, 0)


class RotaWizard:
    def __init__(
        self,
        db: Database,
        drafts: DraftRepo,
        people: PeopleRepo,
        rota_service: RotaService,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self.db = db
        self.drafts = drafts
        self.people = people
        self.rota = rota_service
        self.outbox = outbox
        self.clock = clock

    async def start(self, actor: Person) -> None:
        if not actor.has(Role.COORDINATOR):
            raise InvalidInput("error.not_allowed")
        async with self.db.transaction() as tx:
            await self.drafts.drop(tx, actor.id, KIND)
            draft_id = await self.drafts.add(tx, actor.id, KIND, {"step": "name"}, self.clock.now())
        await self._prompt(actor, draft_id, {"step": "name"})

    async def start_members(self, actor: Person, rotation_name: str) -> None:
        """Who takes turns in an existing rotation, pressed in order."""
        if not actor.has(Role.COORDINATOR):
            raise InvalidInput("error.not_allowed")
        found = await self.rota.repo.by_name(self.db, rotation_name.strip())
        if found is None:
            raise InvalidInput("rotation.unknown", name=rotation_name.strip()[:64])
        data: dict[str, Any] = {
            "step": "people",
            "mode": "members",
            "name": found.name,
            "tz": found.tz,
            "people": [],
        }
        async with self.db.transaction() as tx:
            await self.drafts.drop(tx, actor.id, KIND)
            draft_id = await self.drafts.add(tx, actor.id, KIND, data, self.clock.now())
        await self._prompt(actor, draft_id, data)

    async def typed(self, actor: Person, answer: str) -> bool:
        """A coordinator's plain text: True if it answered an open wizard step."""
        found = await self.drafts.latest(self.db, actor.id, KIND, self.clock.now() - ALIVE)
        if found is None:
            return False
        draft_id, data = found
        try:
            step = data["step"]
            if step == "name":
                name = " ".join(answer.split())[:64]
                if not name:
                    raise InvalidInput("wizard.name")
                if await self.rota.repo.by_name(self.db, name) is not None:
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
                raise InvalidInput("wizard.use_buttons")
        except DomainError as err:
            await self._say(actor, err.key, **err.params)
            await self._prompt(actor, draft_id, data)
            return True
        await self._save(draft_id, data)
        await self._prompt(actor, draft_id, data)
        return True

    async def pressed(
        self, actor: Person, draft_id: int, action: str, value: str, message_id: int | None
    ) -> None:
        found = await self.drafts.latest(self.db, actor.id, KIND, self.clock.now() - ALIVE)
        if found is None or found[0] != draft_id:
            raise InvalidInput("draft.gone")
        data = found[1]
        if action == "x":
            async with self.db.transaction() as tx:
                await self.drafts.drop(tx, actor.id, KIND)
            await self._say(actor, "draft.cancelled")
            return
        if action == "tz" and data["step"] == "tz":
            data.update(tz=self._zones(actor)[int(value)], step="every")
        elif action == "ev" and data["step"] == "every":
            data.update(every=EVERY[int(value)], step="start")
        elif action == "st" and data["step"] == "start":
            data.update(
                start=self._next_handoff(data["tz"], int(value)).isoformat(),
                step="people",
                people=[],
            )
        elif action == "pp" and data["step"] == "people":
            pid = int(value)
            chosen: list[int] = data["people"]
            data["people"] = [p for p in chosen if p != pid] if pid in chosen else [*chosen, pid]
        elif action == "ok" and data["step"] == "people":
            if not data["people"]:
                raise InvalidInput("wizard.people_none")
            async with self.db.transaction() as tx:
                await self.drafts.drop(tx, actor.id, KIND)
            people = ", ".join(f"#{p}" for p in data["people"])
            if data.get("mode") == "members":
                await self.rota.draft_members(actor, f"{data['name']} | {people}")
                return
            start = datetime.fromisoformat(data["start"]).astimezone(ZoneInfo(data["tz"]))
            await self.rota.draft_rotation(
                actor,
                f"{data['name']} | {data['tz']} | {data['every']} | "
                f"{start:%Y-%m-%d %H:%M} | {people}",
            )
            return
        else:
            raise InvalidInput("draft.gone")
        await self._save(draft_id, data)
        await self._prompt(actor, draft_id, data, edit=message_id)

    # -- helpers -------------------------------------------------------------------------

    def _zones(self, actor: Person) -> list[str]:
        return list(dict.fromkeys([actor.tz, *ZONES]))

    def _next_handoff(self, tz: str, days_ahead: int) -> datetime:
        zone = ZoneInfo(tz)
        today = self.clock.now().astimezone(zone).date()
        return rota.localize(datetime.combine(today + timedelta(days=days_ahead), HANDOFF), tz)

    async def _prompt(
        self, actor: Person, draft_id: int, data: dict[str, Any], edit: int | None = None
    ) -> None:
        """The step's question with its buttons; after a press, in place of the last one."""
        step = data["step"]
        cancel = Button("button.cancel", f"wz:{draft_id}:x:0")
        rows: list[tuple[Button, ...]] = []
        params: dict[str, Any] = {"name": data.get("name", ""), "tz": data.get("tz", "")}
        if step == "tz":
            zones = [
                Button("button.raw", f"wz:{draft_id}:tz:{i}", {"label": z})
                for i, z in enumerate(self._zones(actor))
            ]
            rows = [tuple(zones[j : j + 2]) for j in range(0, len(zones), 2)]
        elif step == "every":
            rows = [
                tuple(
                    Button("button.raw", f"wz:{draft_id}:ev:{i}", {"label": e})
                    for i, e in enumerate(EVERY)
                )
            ]
        elif step == "start":
            rows = [
                tuple(
                    Button(
                        "button.raw",
                        f"wz:{draft_id}:st:{d}",
                        {
                            "label": rota.describe_local(
                                self._next_handoff(data["tz"], d), data["tz"]
                            )
                        },
                    )
                    for d in (0, 1)
                )
            ]
        elif step == "people":
            chosen: list[int] = data["people"]
            staff = [p for p in await self.people.staff(self.db) if p.has(Role.RESPONDER)]
            rows = [
                (
                    Button(
                        "button.raw",
                        f"wz:{draft_id}:pp:{p.id}",
                        {
                            "label": (f"{chosen.index(p.id) + 1}. " if p.id in chosen else "")
                            + p.name
                        },
                    ),
                )
                for p in staff
            ]
            rows.append((Button("button.done", f"wz:{draft_id}:ok:0"),))
            params["order"] = len(chosen)
        rows.append((cancel,))
        key = "wizard.members" if data.get("mode") == "members" else f"wizard.{step}"
        notice = Notice(key, params, buttons=tuple(rows), lang=actor.lang)
        async with self.db.transaction() as tx:
            if edit is None:
                await self.outbox.send(tx, actor.chat_id, notice, person_id=actor.id)
            else:
                await self.outbox.edit(
                    tx, actor.chat_id, notice, message_id=edit, person_id=actor.id
                )

    async def _save(self, draft_id: int, data: dict[str, Any]) -> None:
        async with self.db.transaction() as tx:
            await self.drafts.update(tx, draft_id, data)

    async def _say(self, actor: Person, key: str, **params: Any) -> None:
        async with self.db.transaction() as tx:
            await self.outbox.tell(tx, actor, key, **params)


__all__ = ["RotaWizard"]
