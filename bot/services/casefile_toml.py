"""`nabat case export` and `nabat case import`: contacts' case files as one TOML file.

The format::

    # nabat case files — contacts are named as in the rota file: display name, or
    # "#<number>" (as /people shows) when a name is not unique
    [[case]]
    contact = "K-17"
    name_latin = "Kim Chol Su"
    name_cyrillic = "Ким Чол Су"
    name_korean = "김철수"
    birth_date = "1990-05-31"             # YYYY-MM-DD; a TOML date (1990-05-31) too
    nationality = "DPRK"
    risk = \"\"\"
    Escaped from a logging camp in 2015; returned, he faces a labour camp or worse.\"\"\"
    trusted_person = "Sister, Kim Yong Hee, +82 10 0000 0000"
    lawyer = "Anna Advokatova, +7 900 000 00 00"
    notes = "Speaks some Russian"

    [[case.documents]]                    # each list item its own table, in order
    kind = "passport"
    number = "836512345"
    issued = "2014-02-01"
    expires = "2024-01-31"

    [[case.addresses]]
    kind = "home"
    text = "Lenina 5, Vladivostok"

    [[case.proceedings]]
    kind = "refugee application"
    number = "RU-2026-1234"
    date = "2026-03-01"
    note = "refused; appeal pending"

A `[[case]]` is that contact's whole case file: a field left out is empty. Contacts the
file does not list keep their case files, so a file with one contact's case file changes
only theirs (to empty one, list the contact with no fields). Every value is checked by
the rules of the one-line `/case ... set` form (bot/domain/casefile.py), and, as for the
rota file, the whole file is checked before anything changes, each problem reported as
`FILE:LINE: case "<contact>": <field>: <problem>`; export writes what import reads, so
export then import changes nothing. Lines are found as for the rota file
(bot/services/rota_file/lines.py), whose tables, problems and people this module shares.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime
from typing import Any

import tomli_w

from bot.domain.casefile import (
    CASE_FIELDS,
    ITEM_FIELDS,
    LISTS,
    MAX_ITEMS,
    TEXT_FIELDS,
    CaseFile,
    CaseFileError,
    Item,
)
from bot.domain.errors import NabatError
from bot.domain.models import Person, Role
from bot.services.rota_file.lines import _Lines
from bot.services.rota_file.people import _People, listed_contact
from bot.services.rota_file.problems import _Problems, _shown, _Table
from storage.audit import AuditRepo
from storage.casefiles import CaseFileRepo
from storage.crypto import FieldCipher
from storage.db import Database
from storage.people import PeopleRepo, Queryable

_SINGULAR = {"documents": "document", "addresses": "address", "proceedings": "proceeding"}


class CaseFileImportError(NabatError):
    """A case file TOML cannot be imported; `errors` holds one line per problem, in order."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = tuple(errors)


@dataclass(frozen=True, slots=True)
class CaseImportSummary:
    added: int  # contacts who had none (or an empty one)
    changed: int
    emptied: int
    unchanged: int
    kept: int  # contacts with a case file the file does not list: theirs stays

    def __str__(self) -> str:
        return (
            f"case files: {self.added} added, {self.changed} changed, {self.emptied} emptied, "
            f"{self.unchanged} unchanged; {self.kept} not in the file kept as they are"
        )


# --- reading ------------------------------------------------------------------------------


def read_cases(text: str, source: str, everyone: list[Person]) -> dict[int, CaseFile]:
    """Every `[[case]]` of the file by contact; CaseFileImportError lists every problem."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CaseFileImportError([f"{source}: {exc}"]) from None
    problems = _Problems(source, _Lines(text))
    top = _Table(document, (), "file", problems)
    top.check_keys(("case",), ())
    people = _People(everyone)
    found: dict[int, CaseFile] = {}
    seen: dict[int, int] = {}
    for i, data in enumerate(top.tables("case", "case")):
        table = _Table(data, ("case", i), f"case {i + 1}", problems)
        read = _read_case(table, people, seen)
        if read is not None:
            found[read[0]] = read[1]
    if problems.found:
        raise CaseFileImportError(problems.messages())
    return found


def _read_case(table: _Table, people: _People, seen: dict[int, int]) -> tuple[int, CaseFile] | None:
    before = len(table.problems.found)
    contact = listed_contact(
        table,
        people,
        seen,
        kind="case",
        only="only contacts have a case file",
        already="a case file",
    )
    table.check_keys(("contact", *CASE_FIELDS), ("contact",))
    values: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = _value(table, name)
        if value is not None:
            try:
                CaseFile().with_value(name, value)
            except CaseFileError as err:
                table.error(name, err.problem)
            values[name] = value
    for name in LISTS:
        values[name] = _read_items(table, name)
    if len(table.problems.found) > before or contact is None:
        return None
    return contact.id, CaseFile(**values)


def _value(table: _Table, key: str) -> str | None:
    """A field as text: a string, or a TOML date written as YYYY-MM-DD."""
    value = table.data.get(key)
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value.isoformat()
    if not isinstance(value, str):
        table.error(key, f"expected text, got {_shown(value)}")
        return None
    return value.strip()


def _read_items(table: _Table, name: str) -> tuple[Item, ...]:
    items: list[Item] = []
    tables = table.tables(name, f"case.{name}")
    if len(tables) > MAX_ITEMS:
        table.error(name, f"at most {MAX_ITEMS} items, got {len(tables)}")
    for j, data in enumerate(tables):
        where = f"{table.where} {_SINGULAR[name]} {j + 1}"
        item_table = _Table(data, (*table.path, name, j), where, table.problems)
        item_table.check_keys(ITEM_FIELDS[name], ())
        parts: dict[str, str] = {}
        for part in ITEM_FIELDS[name]:
            value = _value(item_table, part)
            if value is None:
                continue
            try:
                CaseFile().with_value(f"{name}.1.{part}", value)
            except CaseFileError as err:
                item_table.error(part, err.problem)
            parts[part] = value
        item = LISTS[name](**parts)
        if item == LISTS[name]():
            item_table.error(name, f"an empty item: give any of {', '.join(ITEM_FIELDS[name])}")
        items.append(item)
    return tuple(items)


# --- importing ----------------------------------------------------------------------------


async def import_cases(
    db: Database,
    cipher: FieldCipher,
    text: str,
    *,
    source: str,
    now: datetime,
    dry_run: bool = False,
) -> CaseImportSummary:
    """Check the whole file, then save every case file it changes, in one transaction."""
    repo, audit = CaseFileRepo(cipher), AuditRepo(cipher)
    async with db.transaction() as tx:
        everyone = await PeopleRepo(cipher).list_all(tx)
        wanted = read_cases(text, source, everyone)
        stored = {row.person_id: row.case for row in await repo.all(tx)}
        added = changed = emptied = unchanged = 0
        for person_id, case in wanted.items():
            old = stored.get(person_id, CaseFile())
            if old == case:
                unchanged += 1
                continue
            if old.empty:
                added += 1
            elif case.empty:
                emptied += 1
            else:
                changed += 1
            if not dry_run:
                await repo.save(tx, person_id, case, now)
                await audit.record(
                    tx,
                    actor_id=None,
                    action="case.edit",
                    now=now,
                    detail={"contact": person_id, "via": "case import"},
                )
        kept = sum(1 for pid, case in stored.items() if pid not in wanted and not case.empty)
    return CaseImportSummary(added, changed, emptied, unchanged, kept)


# --- exporting ----------------------------------------------------------------------------


async def export_cases(q: Queryable, cipher: FieldCipher, now: datetime) -> str:
    """Every contact's case file with anything in it: the file that, imported, changes
    nothing."""
    everyone = await PeopleRepo(cipher).list_all(q)
    people = _People(everyone)
    contacts = {p.id for p in everyone if p.has(Role.CONTACT)}
    chunks = [
        f"# nabat case files, exported {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC. They describe"
        " people at risk: keep\n# this file private, and delete it when done. Contacts are"
        ' named by display name, or "#<number>"\n# (as /people shows) when a name is not'
        " unique. Contacts not listed keep their case files on import.\n"
    ]
    for row in await CaseFileRepo(cipher).all(q):
        if row.person_id not in contacts or row.case.empty:
            continue
        case = row.case
        values: dict[str, str] = {"contact": people.ref(row.person_id)}
        values.update({n: case.value_of(n) for n in TEXT_FIELDS if case.value_of(n)})
        chunk = _table("[[case]]", values)
        for name in LISTS:
            for item in getattr(case, name):
                parts = {f.name: getattr(item, f.name) for f in fields(item)}
                chunk += "\n" + _table(f"[[case.{name}]]", {k: v for k, v in parts.items() if v})
        chunks.append(chunk)
    return "\n".join(chunks)


def _table(header: str, values: dict[str, str]) -> str:
    body = "".join(f"{key} = {_toml(value)}\n" for key, value in values.items())
    return f"{header}\n{body}"


def _toml(value: str) -> str:
    return tomli_w.dumps({"v": value}, multiline_strings=True).removeprefix("v = ").rstrip("\n")
