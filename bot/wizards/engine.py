"""Guided changes for coordinators: one question at a time, with buttons.

A flow (a new rotation, who takes turns, an override, a policy step) asks its questions
one message at a time; each can be answered with a button or by typing. The answers so
far are one encrypted draft row per coordinator (`DraftKind.WIZARD`), so a restart loses
nothing and starting another guided change replaces an unfinished one. A button carries
only `wz:<draft id>:<action>:<number>`: the draft, not the button, holds the state, and a
press on a finished or replaced draft is refused.

The last answer hands everything to the same service call as the one-line command, which
shows the result and waits for **Confirm**: nothing changes until then.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, InvalidInput, NotAllowed
from bot.domain.models import Button, DraftKind, Notice, Person, Role
from bot.words.catalogue import text
from storage.db import Database
from storage.drafts import DraftRepo

log = logging.getLogger(__name__)

ALIVE = timedelta(hours=1)
LABEL_MAX = 48
# At most this many buttons for people (or rotations, policies, groups) in one question:
# Telegram refuses a keyboard of more than 100 buttons, and every question also takes the
# name typed, which the question then says.
SHOWN = 40

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Screen:
    """One question: a catalogue key, its parameters, and the button rows under it."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    rows: list[tuple[Button, ...]] = field(default_factory=list)
    hidden: int = 0  # choices left without a button (`capped`): they can be typed
    protect: bool = False  # shows what must not be forwarded (a case file's values)
    about_id: int | None = None  # the person it describes, so removing them finds it


class Flow(Protocol):
    """A guided change. `typed` and `pressed` update `data` in place and return True once
    the change has been handed on for its preview; a DomainError says what was wrong."""

    name: str

    async def first(self, argument: str) -> dict[str, Any]:
        """The opening answers, from what was typed after the command (may be empty)."""
        ...

    async def screen(self, actor: Person, draft_id: int, data: dict[str, Any]) -> Screen: ...

    async def typed(self, actor: Person, data: dict[str, Any], answer: str) -> bool: ...

    async def pressed(
        self, actor: Person, data: dict[str, Any], action: str, value: int
    ) -> bool: ...


def button(draft_id: int, action: str, value: int, label: str) -> Button:
    """A button with a label shown as is (a name, a time), cut to fit a phone screen."""
    shown = label if len(label) <= LABEL_MAX else label[: LABEL_MAX - 1] + "…"
    return Button("button.raw", f"wz:{draft_id}:{action}:{value}", {"label": shown})


def keyed(draft_id: int, action: str, value: int, key: str, **params: Any) -> Button:
    """A button whose label is a catalogue message (translated)."""
    return Button(key, f"wz:{draft_id}:{action}:{value}", params)


def grid(buttons: Iterable[Button], width: int) -> list[tuple[Button, ...]]:
    items = list(buttons)
    return [tuple(items[i : i + width]) for i in range(0, len(items), width)]


def capped(
    items: Sequence[T], chosen: Callable[[T], bool] = lambda _: False, limit: int = SHOWN
) -> tuple[list[T], int]:
    """The items that get a button, in their own order, and how many are left out.

    Chosen items claim room first, so whatever is chosen can still be pressed away."""
    picked = [i for i, item in enumerate(items) if chosen(item)][:limit]
    others = [i for i, item in enumerate(items) if not chosen(item)][: limit - len(picked)]
    shown = sorted([*picked, *others])
    return [items[i] for i in shown], len(items) - len(shown)


class Wizards:
    """Runs the flows: stores answers, shows the next question, ends or cancels."""

    def __init__(self, db: Database, drafts: DraftRepo, outbox: Outbox, clock: Clock) -> None:
        self.db = db
        self.drafts = drafts
        self.outbox = outbox
        self.clock = clock
        self.flows: dict[str, Flow] = {}

    def add(self, flow: Flow) -> None:
        self.flows[flow.name] = flow

    async def start(self, actor: Person, flow: str, argument: str = "") -> None:
        """Begin `flow`, replacing any unfinished guided change of the same coordinator."""
        if not actor.has(Role.COORDINATOR):
            raise NotAllowed("error.not_allowed")
        data = {"flow": flow, **await self.flows[flow].first(argument)}
        async with self.db.transaction() as tx:
            await self.drafts.drop(tx, actor.id, DraftKind.WIZARD)
            draft_id = await self.drafts.add(tx, actor.id, DraftKind.WIZARD, data, self.clock.now())
        await self._show(actor, draft_id, data)

    async def typed(self, actor: Person, answer: str) -> bool:
        """A coordinator's plain text: True if it answered an open question."""
        found = await self._open(actor)
        if found is None:
            return False
        draft_id, data, flow = found
        changed = copy.deepcopy(data)
        try:
            done = await flow.typed(actor, changed, answer)
        except DomainError as err:
            await self._say(actor, err.key, **err.params)
            await self._show(actor, draft_id, data)
            return True
        await self._after(actor, draft_id, changed, done, edit=None)
        return True

    async def pressed(
        self, actor: Person, draft_id: int, action: str, value: int, message_id: int | None
    ) -> None:
        """A button on a question; a DomainError raised here means the draft is gone."""
        found = await self._open(actor)
        if found is None or found[0] != draft_id:
            raise InvalidInput("draft.gone")
        _, data, flow = found
        if action == "x":
            async with self.db.transaction() as tx:
                await self.drafts.drop(tx, actor.id, DraftKind.WIZARD)
                notice = Notice("draft.cancelled", lang=actor.lang)
                if message_id is None:
                    await self.outbox.send(tx, actor.chat_id, notice, person_id=actor.id)
                else:
                    await self.outbox.edit(
                        tx, actor.chat_id, notice, message_id=message_id, person_id=actor.id
                    )
            return
        changed = copy.deepcopy(data)
        try:
            done = await flow.pressed(actor, changed, action, value)
        except DomainError as err:
            # The question stays as it was, with its buttons; the reason comes below it.
            await self._say(actor, err.key, **err.params)
            return
        await self._after(actor, draft_id, changed, done, edit=message_id)

    # -- helpers -------------------------------------------------------------------------

    async def open_id(self, actor: Person) -> int | None:
        """The draft id of the actor's open guided change, if any (newer ids are later)."""
        found = await self._open(actor)
        return found[0] if found else None

    async def _open(self, actor: Person) -> tuple[int, dict[str, Any], Flow] | None:
        found = await self.drafts.latest(
            self.db, actor.id, DraftKind.WIZARD, self.clock.now() - ALIVE
        )
        if found is None:
            return None
        draft_id, data = found
        flow = self.flows.get(str(data.get("flow")))
        if flow is None:  # a flow this version no longer has
            log.info("dropping a guided change of an unknown kind (draft %d)", draft_id)
            async with self.db.transaction() as tx:
                await self.drafts.drop(tx, actor.id, DraftKind.WIZARD)
            return None
        return draft_id, data, flow

    async def _after(
        self,
        actor: Person,
        draft_id: int,
        data: dict[str, Any],
        done: bool,
        edit: int | None,
    ) -> None:
        if not done:
            async with self.db.transaction() as tx:
                await self.drafts.update(tx, draft_id, data)
            await self._show(actor, draft_id, data, edit=edit)
            return
        async with self.db.transaction() as tx:
            await self.drafts.drop(tx, actor.id, DraftKind.WIZARD)
        if edit is not None:
            # The answered question keeps its text and loses its buttons.
            await self._show(actor, draft_id, data, edit=edit, buttons=False)

    async def _show(
        self,
        actor: Person,
        draft_id: int,
        data: dict[str, Any],
        edit: int | None = None,
        buttons: bool = True,
    ) -> None:
        flow = self.flows[data["flow"]]
        screen = await flow.screen(actor, draft_id, data)
        rows: tuple[tuple[Button, ...], ...] = ()
        if buttons:
            rows = (*screen.rows, (keyed(draft_id, "x", 0, "button.cancel"),))
        notice = Notice(
            screen.key, screen.params, buttons=rows, protect=screen.protect, lang=actor.lang
        )
        if screen.hidden:
            question = text(screen.key, actor.lang, **screen.params)
            more = text("wizard.more_typed", actor.lang, hidden=screen.hidden)
            notice = Notice(
                "text.block",
                {"text": f"{question}\n{more}"},
                buttons=rows,
                protect=screen.protect,
                lang=actor.lang,
            )
        about = screen.about_id
        async with self.db.transaction() as tx:
            if edit is None:
                await self.outbox.send(
                    tx, actor.chat_id, notice, person_id=actor.id, about_id=about
                )
            else:
                await self.outbox.edit(
                    tx, actor.chat_id, notice, message_id=edit, person_id=actor.id, about_id=about
                )

    async def _say(self, actor: Person, key: str, **params: Any) -> None:
        async with self.db.transaction() as tx:
            await self.outbox.tell(tx, actor, key, **params)


__all__ = [
    "ALIVE",
    "SHOWN",
    "Flow",
    "Screen",
    "Wizards",
    "button",
    "capped",
    "grid",
    "keyed",
]
