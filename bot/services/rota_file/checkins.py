"""The rota file's `[[checkin]]` tables: each contact's check-in schedule, read, compared
with the stored schedules, applied and written back.

A table holds the fields of the coordinator's one-line form (bot/services/checkin_admin.py)
as TOML values, and is read by the same `build_schedule`, so the file and `/schedule`
accept exactly the same schedules; export writes `describe`'s fields, which import reads
back unchanged. The file is the whole truth, as for rotations and policies: a contact with
a schedule who is not listed has it turned off. Only the schedule and the zone come from
the file; a contact's state (late, down), pause, trip and PINs are the bot's and are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.checkin import Schedule, ScheduleError
from bot.domain.models import Person, Role
from bot.services.checkin_admin import (
    ScheduleStores,
    apply_schedule,
    build_schedule,
    describe,
)
from bot.services.rota_file.people import _People, listed_contact
from bot.services.rota_file.problems import _Table
from bot.services.rota_file.spec import _CheckinSpec
from storage.audit import AuditRepo
from storage.checkins import CheckinRepo, CheckinRow
from storage.crypto import FieldCipher
from storage.db import Transaction
from storage.people import PeopleRepo, Queryable

_CHECKIN_KEYS = ("contact", "every", "daily", "grace", "reprompt", "quiet", "tz", "pin", "word")
_TEXT_KEYS = ("every", "grace", "reprompt", "quiet", "tz", "word")
# Each field is first checked alone, among stand-ins that let it take any value the rules
# allow on its own (the longest grace leaves every reprompt open), so every wrong field is
# reported; then the whole schedule is, for the rules between fields.
_PROBE = {"every": "12h", "grace": "2d"}
_EITHER = 'give either every = "12h" or daily = ["09:00", "21:00"]'


# --- reading ----------------------------------------------------------------------------


def _read_checkins(top: _Table, people: _People) -> dict[int, _CheckinSpec] | None:
    """The `[[checkin]]` tables by contact; problems are reported on `top.problems`.

    None when the file has no `[[checkin]]` at all (one written before check-ins, or one
    that does not manage them): importing it leaves every schedule as it is. A stopped
    check-in means no alert when someone goes missing, so it is never done by omission
    of a whole section; with at least one `[[checkin]]` the file is the whole truth."""
    if "checkin" not in top.data:
        return None
    chosen: dict[int, _CheckinSpec] = {}
    seen: dict[int, int] = {}  # contact's person id -> the line of its first table
    for i, data in enumerate(top.tables("checkin", "checkin")):
        table = _Table(data, ("checkin", i), f"checkin {i + 1}", top.problems)
        spec = _read_checkin(table, people, seen)
        if spec is not None:
            chosen[spec.person_id] = spec
    return chosen


def _read_checkin(table: _Table, people: _People, seen: dict[int, int]) -> _CheckinSpec | None:
    before = len(table.problems.found)
    contact = listed_contact(
        table, people, seen, kind="checkin", only="only contacts check in", already="a check-in"
    )
    table.check_keys(_CHECKIN_KEYS, ("contact",))
    values = {key: text for key in _TEXT_KEYS if (text := table.text(key)) is not None}
    if (daily := _daily(table)) is not None:
        values["daily"] = daily
    pin = table.flag("pin", False)
    if "every" in table.data and "daily" in table.data:
        table.error("daily", f"{_EITHER}, not both")
    elif "every" not in table.data and "daily" not in table.data:
        table.error("every", f"missing: {_EITHER}")
    else:
        for key, value in values.items():
            probe = {**_PROBE, key: value}
            if key == "daily":
                del probe["every"]
            _build(table, probe, pin=False)
    if len(table.problems.found) > before:
        return None
    assert contact is not None and pin is not None
    built = _build(table, values, pin=pin)
    if built is None:
        return None
    schedule, tz = built
    return _CheckinSpec(contact.id, schedule, tz)


def _daily(table: _Table) -> str | None:
    """The daily times as the one-line form writes them ("09:00,21:00")."""
    times = table.texts("daily")
    if times is None:
        return None
    if not times:
        table.error("daily", 'expected at least one time, e.g. ["09:00", "21:00"]')
        return None
    for t in times:
        # build_schedule splits on commas and skips empty pieces: one time per item here.
        if "," in t or not t.strip():
            table.error("daily", f"{t[:20]!r} is not a time like 09:00")
            return None
    return ",".join(times)


def _build(
    table: _Table, values: dict[str, str], *, pin: bool
) -> tuple[Schedule, str | None] | None:
    try:
        request = build_schedule(values, pin)
    except ScheduleError as err:
        # The one-line form's fields are the table's keys; "schedule" is every-or-daily.
        table.error("every" if err.field == "schedule" else err.field, err.problem)
        return None
    assert request.schedule is not None  # build_schedule has no "off"
    return request.schedule, request.tz


# --- planning and applying ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _CheckinChange:
    """One contact's new schedule or zone; `old` and `schedule` are never both None."""

    contact: Person
    row: CheckinRow | None  # as read in the import's transaction
    schedule: Schedule | None  # None: turned off
    tz: str

    @property
    def old(self) -> Schedule | None:
        return self.row.watch.schedule if self.row is not None else None


async def _plan_checkins(
    q: Queryable,
    cipher: FieldCipher,
    everyone: Sequence[Person],
    wanted: dict[int, _CheckinSpec] | None,
) -> tuple[_CheckinChange, ...]:
    """Every contact whose schedule or zone the file changes; unlisted ones lose theirs
    (no `[[checkin]]` at all: nothing changes)."""
    if wanted is None:
        return ()
    repo = CheckinRepo(cipher)
    changes: list[_CheckinChange] = []
    for person in everyone:
        if not person.has(Role.CONTACT):
            continue
        row = await repo.get(q, person.id, person.tz)
        spec = wanted.get(person.id)
        schedule = spec.schedule if spec is not None else None
        tz = (spec.tz if spec is not None else None) or person.tz
        if (row.watch.schedule if row else None) != schedule or tz != person.tz:
            changes.append(_CheckinChange(person, row, schedule, tz))
    return tuple(changes)


async def _apply_checkins(
    tx: Transaction, cipher: FieldCipher, changes: Sequence[_CheckinChange], now: datetime
) -> None:
    """Each change as `/schedule` makes it (checkin_admin.apply_schedule)."""
    repos = ScheduleStores(CheckinRepo(cipher), PeopleRepo(cipher), AuditRepo(cipher))
    for change in changes:
        await apply_schedule(
            tx,
            repos,
            change.contact,
            change.schedule,
            change.tz,
            now,
            actor_id=None,
            via="rota import",
        )


# --- writing ------------------------------------------------------------------------------


async def _export_checkins(
    q: Queryable, cipher: FieldCipher, everyone: Sequence[Person], people: _People
) -> list[dict[str, object]]:
    """The values of a `[[checkin]]` table for each contact with a schedule."""
    repo = CheckinRepo(cipher)
    tables: list[dict[str, object]] = []
    for person in everyone:
        if not person.has(Role.CONTACT):
            continue
        row = await repo.get(q, person.id, person.tz)
        if row is not None and row.watch.schedule is not None:
            values = _one_line_values(row.watch.schedule)
            tables.append({"contact": people.ref(person.id), **values, "tz": person.tz})
    return tables


def _one_line_values(schedule: Schedule) -> dict[str, Any]:
    """`describe`'s fields as TOML values: the words as parse_schedule reads them, "pin"
    a flag, every other word followed by its value, the daily times an array."""
    words = describe(schedule).split()
    values: dict[str, Any] = {}
    i = 0
    while i < len(words):
        if words[i] == "pin":
            values["pin"] = True
            i += 1
            continue
        key, value = words[i], words[i + 1]
        values[key] = value.split(",") if key == "daily" else value
        i += 2
    return values
