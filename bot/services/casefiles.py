"""Case files from Telegram: coordinators read and fill a contact's case file; a responder
reads it only while an open alert of that contact was paged to them or is theirs.

Coordinators, after the contact (`K-17`, `#4`, or `Name With Spaces |`):

    /case K-17                              the case file
    /case K-17 set name_korean 김철수        one field (a list item's part: documents.1.number)
    /case K-17 clear addresses.2            a field, a list item or a whole list emptied
    /case K-17 edit                         field by field (bot/wizards/casefile.py)

A change is previewed, the whole case file as it would be saved, with Confirm and Cancel;
a second change to the same contact before Confirm builds on the first, so several
one-line changes are confirmed at once. Confirm saves only if no one saved that case file
since the preview was made.

Anyone staff: `/case <alert number>` and the page's Case file button (`cf:<alert id>`).
The alert must be one they may act on (`Actions.visible_alert`: paged to them or
acknowledged by them, or any for a coordinator) and, for a responder, still open;
otherwise the answer is the same "no alert you can see" a stranger's number gets.
Every showing of a case file, previews included, is in the audit log (`case.open`),
naming the contact and the alert, never what it holds.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from bot.delivery.outbox import Outbox
from bot.domain.casefile import CaseFile, CaseFileError
from bot.domain.clock import Clock
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import AlertState, Button, DraftKind, Person, Role
from bot.domain.parsing import quoted, whole_number
from bot.services.alerts.actions import Actions
from bot.services.rota import find_person
from bot.words.casefile_text import case_lines
from bot.words.catalogue import text
from storage.audit import AuditRepo
from storage.casefiles import CaseFileRepo
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.people import PeopleRepo

log = logging.getLogger(__name__)

VERBS = ("set", "clear", "edit")
DRAFT_WAIT = timedelta(hours=1)  # a change waiting for Confirm that a next one builds on
NO_ROW = -1  # the version of a case file never saved (storage/casefiles.py)
_TOKEN = re.compile(r"\S+")
_FIRST = re.compile(r"(\S+)\s*(.*)", re.DOTALL)


@dataclass(frozen=True, slots=True)
class CaseCommand:
    """What `/case ...` asks: verb is show, set, clear, edit, alert or usage."""

    verb: str
    who: str = ""
    field: str = ""
    value: str = ""
    alert_id: int | None = None


def parse_command(raw: str) -> CaseCommand:
    """`/case`'s words, as the module docstring shows them. A value keeps its line breaks."""
    raw = raw.strip()
    if not raw:
        return CaseCommand("usage")
    number = whole_number(raw)
    if number is not None:
        return CaseCommand("alert", alert_id=number)
    if raw.lower() == "edit":
        return CaseCommand("edit")
    who, rest = _split(raw)
    if not who:
        return CaseCommand("usage")
    if not rest:
        return CaseCommand("show", who)
    found = _FIRST.fullmatch(rest)
    assert found is not None
    verb, after = found.group(1).lower(), found.group(2).strip()
    if verb == "edit" and not after:
        return CaseCommand("edit", who)
    if verb not in ("set", "clear") or not after:
        return CaseCommand("usage")
    field_found = _FIRST.fullmatch(after)
    assert field_found is not None
    field, value = field_found.group(1), field_found.group(2).strip()
    if verb == "clear" and value:
        return CaseCommand("usage")
    return CaseCommand(verb, who, field, value)


def _split(raw: str) -> tuple[str, str]:
    """(contact, the rest): before a `|` if there is one, else before the first verb
    after the first word, so `K-17 Kontaktnaya set ...` needs no `|` either."""
    if "|" in raw:
        who, _, rest = raw.partition("|")
        return who.strip(), rest.strip()
    for n, token in enumerate(_TOKEN.finditer(raw)):
        if n and token.group().lower() in VERBS:
            return raw[: token.start()].strip(), raw[token.start() :].strip()
    return raw, ""


def invalid(err: CaseFileError) -> InvalidInput:
    """A refused value as the reader's message: the field and what is expected."""
    return InvalidInput(f"case.bad.{err.kind}", field=quoted(err.field, 60), **err.params)


class CaseFileService:
    def __init__(
        self,
        db: Database,
        repo: CaseFileRepo,
        people: PeopleRepo,
        drafts: DraftRepo,
        audit: AuditRepo,
        outbox: Outbox,
        clock: Clock,
        actions: Actions,
    ) -> None:
        self.db = db
        self.repo = repo
        self.people = people
        self.drafts = drafts
        self.audit = audit
        self.outbox = outbox
        self.clock = clock
        self.actions = actions

    async def run(self, actor: Person, command: CaseCommand) -> None:
        """Every `/case` but the guided flow, which the handler starts."""
        if command.verb == "alert" and command.alert_id is not None:
            await self.show_for_alert(actor, command.alert_id)
            return
        if not actor.has(Role.COORDINATOR):
            raise InvalidInput("case.usage_responder")
        if command.verb == "show":
            await self.show(actor, await self.contact(actor, command.who))
        elif command.verb in ("set", "clear"):
            await self.propose(actor, command)
        else:
            raise InvalidInput("case.usage")

    async def contact(self, actor: Person, ref: str) -> Person:
        _coordinator(actor)
        everyone = await self.people.list_all(self.db)
        try:
            return find_person([p for p in everyone if p.has(Role.CONTACT)], ref)
        except NotFound:
            raise NotFound("checkin.contact_unknown", ref=quoted(ref, 40)) from None

    # -- reading -------------------------------------------------------------------------

    async def show(self, actor: Person, contact: Person, alert_id: int | None = None) -> None:
        """The case file, to `actor`: protected, audited."""
        async with self.db.transaction() as tx:
            case = await self.repo.get(tx, contact.id) or CaseFile()
            await self.opened(tx, actor, contact, alert=alert_id)
            lang = actor.lang
            if alert_id is None:
                head = text("case.header", lang, name=contact.name, id=contact.id)
            else:
                head = text("case.header_alert", lang, name=contact.name, alert=alert_id)
            lines = [head, *case_lines(case, lang)]
            if case.empty:
                lines.append(text("case.empty", lang))
            if actor.has(Role.COORDINATOR):
                lines.append(text("case.edit_hint", lang, ref=f"#{contact.id}"))
            await self.outbox.tell_lines(tx, actor, lines, protect=True, about_id=contact.id)
        log.info("case file of person %d shown to person %d", contact.id, actor.id)

    async def show_for_alert(self, actor: Person, alert_id: int) -> None:
        """`/case 12` and the page's button: the case file of alert 12's contact."""
        await self.show(actor, await self._contact_of_alert(actor, alert_id), alert_id)

    async def _contact_of_alert(self, actor: Person, alert_id: int) -> Person:
        # Refused exactly as any alert the actor may not see: the same words, whether the
        # alert exists, was never theirs, or is closed.
        alert = await self.actions.visible_alert(actor, alert_id)
        if alert.state is AlertState.RESOLVED and not actor.has(Role.COORDINATOR):
            log.warning("person %d refused the case file of closed alert %d", actor.id, alert_id)
            raise NotFound("alert.not_found", id=alert_id)
        contact = await self.people.get(self.db, alert.contact_id) if alert.contact_id else None
        if contact is None:
            raise NotFound("case.no_contact", id=alert_id)
        return contact

    async def opened(
        self,
        tx: Transaction,
        actor: Person,
        contact: Person,
        *,
        alert: int | None = None,
        via: str | None = None,
    ) -> None:
        """The audit line for a showing: who, whose, through which alert; no content."""
        detail: dict[str, Any] = {"contact": contact.id}
        if alert is not None:
            detail["alert"] = alert
        if via is not None:
            detail["via"] = via
        await self.audit.record(
            tx, actor_id=actor.id, action="case.open", now=self.clock.now(), detail=detail
        )

    async def guided(self, actor: Person, contact: Person) -> tuple[CaseFile, int]:
        """The case file and its version, for the guided flow to start from (audited:
        its questions show what is there)."""
        _coordinator(actor)
        async with self.db.transaction() as tx:
            row = await self.repo.row(tx, contact.id)
            await self.opened(tx, actor, contact, via="guided")
        return (row.case, row.version) if row else (CaseFile(), NO_ROW)

    # -- changing ------------------------------------------------------------------------

    async def propose(self, actor: Person, command: CaseCommand) -> None:
        """`/case K-17 set <field> <value>` or `clear <field>`: a preview to confirm."""
        contact = await self.contact(actor, command.who)
        if command.verb == "set" and not command.value:
            raise InvalidInput("case.bad.needs_value", field=quoted(command.field, 60))
        replaces: int | None = None
        pending = await self._pending(actor, contact)
        if pending is not None:
            replaces, base, version = pending
        else:
            row = await self.repo.row(self.db, contact.id)
            base, version = (row.case, row.version) if row else (CaseFile(), NO_ROW)
        try:
            if command.verb == "set":
                changed = base.with_value(command.field, command.value)
            else:
                changed = base.without(command.field)
        except CaseFileError as err:
            raise invalid(err) from None
        field = quoted(command.field, 60)
        change = text(f"case.change.{command.verb}", actor.lang, field=field)
        await self.preview(actor, contact, changed, version, change, replaces=replaces)

    async def _pending(self, actor: Person, contact: Person) -> tuple[int, CaseFile, int] | None:
        """The actor's unconfirmed change to this contact's case file, if it is the newest."""
        since = self.clock.now() - DRAFT_WAIT
        found = await self.drafts.latest(self.db, actor.id, DraftKind.CASE_EDIT, since)
        if found is None or found[1].get("contact") != contact.id:
            return None
        draft_id, payload = found
        return draft_id, CaseFile.from_dict(payload["case"]), int(payload["version"])

    async def preview(
        self,
        actor: Person,
        contact: Person,
        case: CaseFile,
        version: int,
        change: str,
        *,
        replaces: int | None = None,
    ) -> None:
        """The whole case file as it would be saved, with Confirm and Cancel."""
        now = self.clock.now()
        payload = {"contact": contact.id, "version": version, "case": case.to_dict()}
        lang = actor.lang
        async with self.db.transaction() as tx:
            if replaces is not None:
                await self.drafts.take(tx, replaces, DraftKind.CASE_EDIT, actor.id)
            draft_id = await self.drafts.add(tx, actor.id, DraftKind.CASE_EDIT, payload, now)
            await self.opened(tx, actor, contact, via="preview")
            lines = [text("case.preview", lang, name=contact.name, id=contact.id, change=change)]
            lines += case_lines(case, lang) or [text("case.empty", lang)]
            lines.append(text("case.confirm", lang))
            kind = DraftKind.CASE_EDIT
            buttons = (
                (
                    Button("button.confirm", f"dr:y:{kind}:{draft_id}"),
                    Button("button.cancel", f"dr:n:{kind}:{draft_id}"),
                ),
            )
            await self.outbox.tell_lines(
                tx, actor, lines, buttons=buttons, protect=True, about_id=contact.id
            )

    async def confirm(self, actor: Person, draft_id: int) -> None:
        _coordinator(actor)
        now = self.clock.now()
        refusal: NotFound | InvalidInput | None = None
        async with self.db.transaction() as tx:
            taken = await self.drafts.take(tx, draft_id, DraftKind.CASE_EDIT, actor.id)
            if taken is None:
                raise NotFound("draft.gone")
            payload = taken[1]
            contact = await self.people.get(tx, int(payload["contact"]))
            case = CaseFile.from_dict(payload["case"])
            if contact is None or not contact.has(Role.CONTACT):
                refusal = NotFound("checkin.contact_unknown", ref=f"#{payload['contact']}")
            elif not await self.repo.save(tx, contact.id, case, now, version=payload["version"]):
                # Someone saved this case file after the preview was made: saving it now
                # would silently undo their change. The draft is spent either way.
                refusal = InvalidInput("case.stale", name=contact.name)
            else:
                await self.audit.record(
                    tx,
                    actor_id=actor.id,
                    action="case.edit",
                    now=now,
                    detail={"contact": contact.id},
                )
                await self.outbox.tell(
                    tx, actor, "case.saved", name=contact.name, about_id=contact.id
                )
        if refusal is not None:
            raise refusal

    async def cancel(self, actor: Person, draft_id: int) -> None:
        async with self.db.transaction() as tx:
            if await self.drafts.take(tx, draft_id, DraftKind.CASE_EDIT, actor.id) is None:
                raise NotFound("draft.gone")
            await self.outbox.tell(tx, actor, "draft.cancelled")


def _coordinator(actor: Person) -> None:
    if not actor.has(Role.COORDINATOR):
        raise NotAllowed("error.not_allowed")
