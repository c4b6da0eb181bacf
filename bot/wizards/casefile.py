"""A case file, field by field: which contact, then each field in order (names in three
scripts, date of birth, nationality, documents, addresses, the risk, proceedings, the
trusted person, the lawyer, notes), each showing what is there now.

A text field takes the value typed ("-" empties it); Skip keeps it. A list (documents,
addresses, proceedings) takes one item per reply, its parts separated by ";" (a document:
kind; number; issued; expires), and asks again until Skip. Every answer is checked by the
case file's own rules at once, the question staying open. The last question, or Finish at
any, hands the case file to `CaseFileService.preview`, which waits for Confirm exactly as
`/case K-17 set ...` does.
"""

from __future__ import annotations

from typing import Any

from bot.domain.casefile import CASE_FIELDS, ITEM_FIELDS, LISTS, CaseFile, CaseFileError
from bot.domain.errors import InvalidInput, NotFound
from bot.domain.models import Button, Person, Role
from bot.domain.parsing import quoted
from bot.services.casefiles import CaseFileService, invalid
from bot.services.rota import find_person
from bot.wizards.engine import Screen, button, capped, grid, keyed
from bot.words.casefile_text import item_line
from bot.words.catalogue import msg, text
from storage.db import Database
from storage.people import PeopleRepo

CONTACT = -1  # the step that asks which contact
CLEAR = "-"
_HOW = {"birth_date": "date", **{name: name for name in LISTS}}


class CaseFileFlow:
    name = "case"

    def __init__(self, db: Database, people: PeopleRepo, service: CaseFileService) -> None:
        self.db = db
        self.people = people
        self.service = service

    async def first(self, argument: str) -> dict[str, Any]:
        """`/case K-17 edit` names the contact (the handler audited the opening and hands
        its number); `/case edit` asks."""
        if not argument.strip():
            return {"step": CONTACT}
        contact = await self._contact(argument)
        case, version = await self._stored(contact)
        return {"step": 0, "contact": contact.id, "case": case.to_dict(), "version": version}

    async def _contact(self, ref: str) -> Person:
        contacts = [p for p in await self.people.list_all(self.db) if p.has(Role.CONTACT)]
        try:
            return find_person(contacts, ref)
        except NotFound:
            raise InvalidInput("checkin.contact_unknown", ref=quoted(ref, 40)) from None

    async def _stored(self, contact: Person) -> tuple[CaseFile, int]:
        row = await self.service.repo.row(self.db, contact.id)
        return (row.case, row.version) if row else (CaseFile(), -1)

    # -- the questions -------------------------------------------------------------------

    async def screen(self, actor: Person, draft_id: int, data: dict[str, Any]) -> Screen:
        if data["step"] == CONTACT:
            contacts = [p for p in await self.people.list_all(self.db) if p.has(Role.CONTACT)]
            shown, hidden = capped(contacts)
            choices = grid((button(draft_id, "ct", p.id, p.name) for p in shown), 2)
            # Protected from the start: the answers' questions are this message, edited.
            return Screen("case.w_contact", {}, choices, hidden, protect=True)
        contact = await self.people.get(self.db, data["contact"])
        name = CASE_FIELDS[data["step"]]
        case = CaseFile.from_dict(data["case"])
        params = {
            "name": contact.name if contact else "?",
            "n": data["step"] + 1,
            "total": len(CASE_FIELDS),
            "question": msg(f"case.q.{name}"),
            "how": msg(f"case.how.{_HOW.get(name, 'text')}"),
            "now": _now(case, name, actor.lang),
        }
        rows: list[tuple[Button, ...]] = [
            (
                keyed(draft_id, "sk", 0, "button.skip"),
                keyed(draft_id, "fn", 0, "button.finish"),
            )
        ]
        return Screen("case.w_field", params, rows, protect=True, about_id=data["contact"])

    # -- answers -------------------------------------------------------------------------

    async def typed(self, actor: Person, data: dict[str, Any], answer: str) -> bool:
        if data["step"] == CONTACT:
            await self._chosen(actor, data, await self._contact(answer.strip()))
            return False
        name = CASE_FIELDS[data["step"]]
        case = CaseFile.from_dict(data["case"])
        value = answer.strip()
        try:
            if value == CLEAR:
                case = case.without(name)
            elif name in LISTS:
                case = case.added(name, _item(name, value))
            else:
                case = case.with_value(name, value)
        except CaseFileError as err:
            raise invalid(err) from None
        data["case"] = case.to_dict()
        if name in LISTS and value != CLEAR:
            return False  # one more item, or Skip
        return await self._next(actor, data)

    async def pressed(self, actor: Person, data: dict[str, Any], action: str, value: int) -> bool:
        if action == "ct" and data["step"] == CONTACT:
            contact = await self.people.get(self.db, value)
            if contact is None or not contact.has(Role.CONTACT):
                raise InvalidInput("checkin.contact_unknown", ref=f"#{value}")
            await self._chosen(actor, data, contact)
        elif action == "sk" and data["step"] != CONTACT:
            return await self._next(actor, data)
        elif action == "fn" and data["step"] != CONTACT:
            return await self._finish(actor, data)
        return False

    async def _chosen(self, actor: Person, data: dict[str, Any], contact: Person) -> None:
        case, version = await self.service.guided(actor, contact)
        data.update(step=0, contact=contact.id, case=case.to_dict(), version=version)

    async def _next(self, actor: Person, data: dict[str, Any]) -> bool:
        if data["step"] + 1 >= len(CASE_FIELDS):
            return await self._finish(actor, data)
        data["step"] += 1
        return False

    async def _finish(self, actor: Person, data: dict[str, Any]) -> bool:
        contact = await self.people.get(self.db, data["contact"])
        if contact is None or not contact.has(Role.CONTACT):
            raise InvalidInput("checkin.contact_unknown", ref=f"#{data['contact']}")
        change = text("case.change.guided", actor.lang)
        case = CaseFile.from_dict(data["case"])
        await self.service.preview(actor, contact, case, int(data["version"]), change)
        return True


def _item(name: str, typed: str) -> Any:
    """A list item from `kind; number; ...`, its parts in the item's order."""
    parts = [p.strip() for p in typed.split(";")]
    names = ITEM_FIELDS[name]
    if len(parts) > len(names):
        raise InvalidInput("case.bad.item_form", field=name, form="; ".join(names))
    item = LISTS[name](**dict(zip(names, parts, strict=False)))
    if item == LISTS[name]():
        raise InvalidInput("case.bad.item_form", field=name, form="; ".join(names))
    return item


def _now(case: CaseFile, name: str, lang: str) -> str:
    if name in LISTS:
        items = getattr(case, name)
        lines = [item_line(name, i, item, lang) for i, item in enumerate(items, 1)]
        return "\n" + "\n".join(lines) if lines else text("case.nothing", lang)
    return case.value_of(name) or text("case.nothing", lang)
