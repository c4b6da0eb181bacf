"""A guided check-in schedule: which contact, how often (every N hours, or daily times),
the grace before the rota is paged, quiet hours, whether a PIN is required.

Each question takes a button or a typed answer in the one-line form's words ("8h",
"09:00,21:00", "45m", "22:00-07:00"). The end hands the schedule to
`CheckinAdmin.preview`, which shows the next reminders in the contact's zone and the
coordinator's and waits for Confirm, exactly as `/schedule <contact> every 12h` does.
"""

from __future__ import annotations

from datetime import time, timedelta
from typing import Any

from bot.domain.checkin import ScheduleError
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.models import Button, Person, Role
from bot.domain.parsing import quoted
from bot.services.checkin_admin import CheckinAdmin, ScheduleRequest, build_schedule, parse_hhmm
from bot.services.rota import find_person
from bot.wizards.engine import Screen, button, capped, grid, keyed
from config.durations import format_duration, parse_duration
from storage.db import Database
from storage.people import PeopleRepo

EVERY = (6, 8, 12, 24)  # hours, as buttons
TIMES = (8 * 60, 9 * 60, 12 * 60, 15 * 60, 18 * 60, 20 * 60, 21 * 60, 22 * 60)  # minutes
GRACES = (15 * 60, 30 * 60, 3600, 2 * 3600)  # seconds
QUIET = ("22:00-07:00", "23:00-08:00", "00:00-06:00")
DAILY = 0  # the "daily times" choice on the how-often question


class CheckinFlow:
    name = "checkin"

    def __init__(self, db: Database, people: PeopleRepo, admin: CheckinAdmin) -> None:
        self.db = db
        self.people = people
        self.admin = admin

    async def first(self, argument: str) -> dict[str, Any]:
        if not argument.strip():
            return {"step": "contact"}
        return {"step": "often", "contact": await self._contact_id(argument)}

    async def _contact_id(self, ref: str) -> int:
        contacts = [p for p in await self.people.list_all(self.db) if p.has(Role.CONTACT)]
        try:
            return find_person(contacts, ref).id  # the same reading as /assign
        except NotFound:
            raise InvalidInput("checkin.contact_unknown", ref=quoted(ref, 40)) from None

    # -- the questions -------------------------------------------------------------------

    async def screen(self, actor: Person, draft_id: int, data: dict[str, Any]) -> Screen:
        step = data["step"]
        if step == "contact":
            contacts = [p for p in await self.people.list_all(self.db) if p.has(Role.CONTACT)]
            shown, hidden = capped(contacts)
            choices = grid((button(draft_id, "ct", p.id, p.name) for p in shown), 2)
            return Screen("checkin.w_contact", {}, choices, hidden)
        contact = await self.people.get(self.db, data["contact"])
        params: dict[str, Any] = {"name": contact.name if contact else "?"}
        rows: list[tuple[Button, ...]] = []
        if step == "often":
            rows = grid(
                (button(draft_id, "ev", h, format_duration(timedelta(hours=h))) for h in EVERY), 4
            )
            rows.append((keyed(draft_id, "ev", DAILY, "button.daily_times"),))
            return Screen("checkin.w_often", params, rows)
        if step == "times":
            chosen = set(data.get("times", []))
            rows = grid(
                (
                    button(draft_id, "tm", m, ("✓ " if m in chosen else "") + _hhmm(m))
                    for m in TIMES
                ),
                4,
            )
            if chosen:
                rows.append((keyed(draft_id, "dn", 0, "button.done"),))
            params["times"] = ", ".join(_hhmm(m) for m in sorted(chosen)) or "-"
            return Screen("checkin.w_times", params, rows)
        if step == "grace":
            rows = grid(
                (button(draft_id, "gr", s, format_duration(timedelta(seconds=s))) for s in GRACES),
                4,
            )
            return Screen("checkin.w_grace", params, rows)
        if step == "quiet":
            rows = [(keyed(draft_id, "qt", 0, "button.no_quiet"),)]
            rows += grid((button(draft_id, "qt", i + 1, q) for i, q in enumerate(QUIET)), 3)
            return Screen("checkin.w_quiet", params, rows)
        rows = [
            (
                keyed(draft_id, "pn", 1, "button.pin_required"),
                keyed(draft_id, "pn", 0, "button.pin_optional"),
            )
        ]
        return Screen("checkin.w_pin", params, rows)

    # -- answers -------------------------------------------------------------------------

    async def typed(self, actor: Person, data: dict[str, Any], answer: str) -> bool:
        step = data["step"]
        value = answer.strip()
        if step == "contact":
            data.update(step="often", contact=await self._contact_id(value))
        elif step == "often":
            data.update(step="grace", every=_duration(value, "every"))
        elif step == "times":
            try:
                times = [parse_hhmm(t, "daily") for t in value.replace(" ", ",").split(",") if t]
            except ScheduleError as err:
                raise _invalid(err) from None
            data.update(step="grace", times=sorted({t.hour * 60 + t.minute for t in times}))
        elif step == "grace":
            data.update(step="quiet", grace=_duration(value, "grace"))
        elif step == "quiet":
            data.update(step="pin", quiet=None if value.lower() in ("-", "none", "no") else value)
        else:
            raise InvalidInput("wizard.use_buttons")
        _schedule(data)  # a value the rules refuse is told now, with the question open
        return False

    async def pressed(self, actor: Person, data: dict[str, Any], action: str, value: int) -> bool:
        step = data["step"]
        if action == "ct" and step == "contact":
            contact = await self.people.get(self.db, value)
            if contact is None or not contact.has(Role.CONTACT):
                raise InvalidInput("checkin.contact_unknown", ref=f"#{value}")
            data.update(step="often", contact=value)
        elif action == "ev" and step == "often":
            if value == DAILY:
                data.update(step="times", times=[])
            elif value in EVERY:
                data.update(step="grace", every=value * 3600)
        elif action == "tm" and step == "times" and value in TIMES:
            chosen = set(data.get("times", []))
            chosen ^= {value}
            data["times"] = sorted(chosen)
        elif action == "dn" and step == "times" and data.get("times"):
            data["step"] = "grace"
        elif action == "gr" and step == "grace" and value in GRACES:
            data.update(step="quiet", grace=value)
        elif action == "qt" and step == "quiet" and 0 <= value <= len(QUIET):
            data.update(step="pin", quiet=QUIET[value - 1] if value else None)
        elif action == "pn" and step == "pin":
            data["pin"] = bool(value)
            return await self._finish(actor, data)
        return False

    async def _finish(self, actor: Person, data: dict[str, Any]) -> bool:
        request = _schedule(data)
        contact = await self.people.get(self.db, data["contact"])
        if contact is None:
            raise InvalidInput("checkin.contact_unknown", ref=f"#{data['contact']}")
        await self.admin.preview(actor, contact, request)
        return True


def _schedule(data: dict[str, Any]) -> ScheduleRequest:
    """The schedule the answers so far make (the default grace until one is given)."""
    values: dict[str, str] = {}
    if data.get("grace"):
        values["grace"] = f"{data['grace']}s"
    if data.get("every"):
        values["every"] = f"{data['every']}s"
    elif data.get("times"):
        values["daily"] = ",".join(_hhmm(m) for m in data["times"])
    else:
        values["every"] = "12h"  # nothing chosen yet: only the other answers are checked
    if data.get("quiet"):
        values["quiet"] = data["quiet"]
    try:
        return build_schedule(values, bool(data.get("pin")))
    except ScheduleError as err:
        raise _invalid(err) from None


def _hhmm(minutes: int) -> str:
    return time(minutes // 60, minutes % 60).strftime("%H:%M")


def _duration(raw: str, field: str) -> int:
    try:
        return int(parse_duration(raw).total_seconds())
    except ValueError as err:
        raise _invalid(ScheduleError(field, str(err))) from None


def _invalid(err: ScheduleError) -> InvalidInput:
    return InvalidInput("checkin.bad_schedule", field=err.field, problem=quoted(err.problem, 200))
