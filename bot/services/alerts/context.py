"""What every part of the alert service shares: the stores, the outbox, the clock, the
settings the parts read, the wake-up, and the helpers more than one part needs.

One object, handed to each part (composition, not a base class): a part holds it as
`self.ctx` next to the other parts it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.models import (
    Alert,
    AlertPage,
    AlertState,
    Button,
    EventKind,
    Location,
    Notice,
    PageDelivery,
    Person,
    Policy,
    Priority,
)
from bot.words import alert_text
from bot.words.alert_text import GroupReader
from storage.alerts import AlertRepo
from storage.casefiles import CaseFileRepo
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.groups import GroupRepo
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo

HELD_STEP = -1  # a message after a resolution, waiting for the resolver (Intake._hold)

Buttons = tuple[tuple[Button, ...], ...]


@dataclass(slots=True)
class AlertContext:
    db: Database
    alerts: AlertRepo
    policies: PolicyRepo
    people: PeopleRepo
    rota: RotaRepo
    groups: GroupRepo
    drafts: DraftRepo
    outbox: Outbox
    clock: Clock
    # Asks for an early tick (bot/wiring.py, Wakeups). No part runs a tick itself: it
    # writes the deadline it moved, and wakes the one tick once that is committed.
    wake: Callable[[], None]
    delete_contact_messages: bool
    panic_on_plain_text: bool
    resolved_grace: timedelta
    # Pages of a contact with a filled-in case file carry a Case file button (casefiles.py).
    case_files: CaseFileRepo | None = None

    def wake_after(self, tx: Transaction) -> None:
        """Ask for an early tick once `tx` commits (the tick must see what it wrote)."""
        if self.wake not in tx.after_commit:
            tx.after_commit.append(self.wake)

    async def has_case_file(self, tx: Transaction, alert: Alert) -> bool:
        """Whether the alert's contact has a case file with anything in it: only then does
        a page to a person carry the Case file button."""
        if self.case_files is None or alert.contact_id is None:
            return False
        return await self.case_files.filled(tx, alert.contact_id)

    async def policy_of(self, tx: Transaction, alert: Alert) -> Policy:
        """The alert's policy, or the default if it is gone."""
        return await self.policies.get(tx, alert.policy_id) or await self.policies.default(tx)

    async def record(
        self,
        tx: Transaction,
        alert_id: int,
        kind: EventKind,
        actor: Person,
        now: datetime,
        **detail: object,
    ) -> None:
        """A timeline line for something `actor` did, naming them."""
        await self.alerts.add_event(
            tx, alert_id, kind, now, actor_id=actor.id, detail={"name": actor.name, **detail}
        )

    async def to_contact(self, tx: Transaction, contact: Person, key: str) -> None:
        """A short neutral line to a contact (deleted after the reply TTL, as everything
        the bot says to a contact is: Outbox.to_person)."""
        await self.outbox.to_person(
            tx, contact, Notice(key, lang=contact.lang), priority=Priority.FIRST_PAGE
        )

    async def edit_pages(
        self,
        tx: Transaction,
        alert: Alert,
        by: str,
        at: datetime,
        note: str | None = None,
        *,
        closed: str | None = None,
    ) -> None:
        """Every page of `alert` that went out now says who acknowledged or resolved it
        (bot/words/alert_text.py, page_after); an acknowledged one keeps a Resolve button,
        and a page to a person its Case file button."""
        contact_name, reads = await self.contact_of(tx, alert)
        groups = {g.id: g for g in await self.groups.all(tx)}
        buttons = buttons_wanted(alert)
        case_file = bool(buttons) and await self.has_case_file(tx, alert)
        for page in await self.alerts.pages(tx, alert.id):
            if page.outbox_id is None or page.delivery is PageDelivery.FAILED:
                continue
            reader: alert_text.Reader
            if page.person_id is not None:
                person = await self.people.get(tx, page.person_id)
                if person is None:
                    continue
                reader, chat_id, owner = person, person.chat_id, person.id
            elif page.group_id in groups:
                reader, chat_id, owner = GroupReader(), groups[page.group_id].chat_id, None
            else:
                continue
            shown = alert_text.page_after(
                alert, contact_name, reader, by, at, note, closed, reads=reads
            )
            shown_buttons = buttons
            if buttons and owner is not None and owner == alert.ack_by and alert.contact_id:
                # Whoever holds it can answer the contact from their page.
                shown_buttons = (
                    (*buttons[0], Button("button.answer", f"ans:{alert.id}")),
                    *buttons[1:],
                )
            if shown_buttons and owner is not None and case_file:
                shown_buttons = (*shown_buttons, case_file_row(alert))
            await self.outbox.edit(
                tx,
                chat_id,
                block(shown, reader, shown_buttons),
                ref_id=page.outbox_id,
                priority=Priority.ESCALATION,
                person_id=owner,
                about_id=alert.contact_id,
            )

    async def page_name(self, tx: Transaction, page: AlertPage) -> str:
        if page.person_id is not None:
            return await self.name_of(tx, page.person_id)
        group = next((g for g in await self.groups.all(tx) if g.id == page.group_id), None)
        return group.title if group else "?"

    async def contact_name(self, tx: Transaction, alert: Alert) -> str:
        return await self.name_of(tx, alert.contact_id)

    async def contact_of(self, tx: Transaction, alert: Alert) -> tuple[str, str | None]:
        """The alert's contact's name and language, in one read (pages need both)."""
        person = await self.people.get(tx, alert.contact_id) if alert.contact_id else None
        return (person.name, person.lang) if person else ("?", None)

    async def name_of(self, tx: Transaction, person_id: int | None) -> str:
        if person_id is None:
            return "?"
        person = await self.people.get(tx, person_id)
        return person.name if person else "?"


def page_buttons(alert: Alert, *, case_file: bool = False) -> Buttons:
    """A page's buttons while no one has acknowledged it; `case_file`: a page to a person
    whose contact has a case file also opens that (never a group's page: a group is not
    whom the case file is shown to)."""
    buttons: Buttons = (
        (
            Button("button.ack", f"ack:{alert.id}"),
            Button("button.resolve", f"res:{alert.id}"),
        ),
    )
    return (*buttons, case_file_row(alert)) if case_file else buttons


def buttons_wanted(alert: Alert) -> Buttons:
    """An edited page's buttons: Resolve while acknowledged, none once resolved."""
    if alert.state is AlertState.ACKNOWLEDGED:
        return ((Button("button.resolve", f"res:{alert.id}"),),)
    return ()


def case_file_row(alert: Alert) -> tuple[Button, ...]:
    return (Button("button.case_file", f"cf:{alert.id}"),)


def block(shown: str, reader: alert_text.Reader, buttons: Buttons = ()) -> Notice:
    """Text about an alert, as rendered for `reader`, that cannot be forwarded."""
    return Notice("text.block", {"text": shown}, buttons=buttons, protect=True, lang=reader.lang)


def location_notice(
    alert: Alert,
    contact_name: str,
    to: alert_text.Reader,
    location: Location,
    live_period: int | None,
) -> Notice:
    """A relayed location; its button names the alert, since a map pin cannot."""
    media: dict[str, object] = {
        "type": "location",
        "lat": location.latitude,
        "lon": location.longitude,
    }
    if live_period:
        media["live_period"] = live_period
    params = {"id": alert.id, "name": contact_name}
    return Notice(
        "followup.media",
        params,
        protect=True,
        lang=to.lang,
        media=media,
        buttons=((Button("followup.location_button", f"al:{alert.id}", params),),),
    )


SHADOW = "shadow"  # in a DURESS alert's detail: what the safe world would have open
PANIC = "panic"
MISSED = "missed"


def shadow(alert: Alert) -> str | None:
    """The alert the phone would see open had every PIN been the safe one (DURESS only)."""
    value = (alert.detail or {}).get(SHADOW)
    return value if value in (PANIC, MISSED) else None


async def set_shadow(ctx: AlertContext, tx: Transaction, alert: Alert, seen: str | None) -> None:
    await ctx.alerts.set_detail(tx, alert.id, {**(alert.detail or {}), SHADOW: seen})
