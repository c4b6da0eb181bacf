"""Sending pages: one per person or group chat a step names, each followed by the rest of
a long message and by what the contact sent that its reader has not seen yet.

Escalation decides whom and when (escalation.py); this writes the outbox rows, the page
rows and the timeline line, in the caller's transaction.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from bot.domain.escalation import Position
from bot.domain.models import (
    Alert,
    AlertEvent,
    Button,
    EventKind,
    GroupChat,
    Notice,
    Person,
    Policy,
    Priority,
)
from bot.services.alerts.context import AlertContext, block, location_notice, page_buttons
from bot.words import alert_text
from bot.words.alert_text import GroupReader
from bot.words.catalogue import chunk_lines
from storage.db import Transaction

log = logging.getLogger(__name__)


class Pager:
    def __init__(self, ctx: AlertContext) -> None:
        self.ctx = ctx

    async def page(
        self,
        tx: Transaction,
        alert: Alert,
        policy: Policy | None,
        targets: list[Person],
        pos: Position,
        now: datetime,
        priority: Priority,
        event: EventKind,
        groups: list[GroupChat] | None = None,
        held_by: tuple[str, datetime] | None = None,
    ) -> None:
        """Page `targets` and `groups`; each page is followed by the rest of a long
        message and by what the contact sent that its reader has not seen. `held_by`:
        who had acknowledged it and when, when escalation resumes after them."""
        ctx = self.ctx
        contact_name, reads = await ctx.contact_of(tx, alert)
        groups = groups or []
        readers: list[alert_text.Reader] = [*targets, *(GroupReader() for _ in groups)]
        chats = [p.chat_id for p in targets] + [g.chat_id for g in groups]
        owners: list[int | None] = [p.id for p in targets] + [None for _ in groups]
        buttons = page_buttons(alert)
        # A page to a person opens the contact's case file, if there is one to open.
        personal = page_buttons(alert, case_file=await ctx.has_case_file(tx, alert))
        sends: list[tuple[int, Notice, int | None]] = []
        for reader, chat_id, owner in zip(readers, chats, owners, strict=True):
            shown = alert_text.page_text(
                alert,
                contact_name,
                reader,
                policy,
                unanswered=event is EventKind.UNANSWERED,
                held_by=held_by,
                reads=reads,
            )
            shown_buttons = buttons if owner is None else personal
            sends.append((chat_id, block(shown, reader, shown_buttons), owner))
        rows = await ctx.outbox.send_many(tx, sends, priority=priority, about_id=alert.contact_id)
        followups = [
            e for e in await ctx.alerts.events(tx, alert.id) if e.kind is EventKind.FOLLOWUP
        ]
        seen: dict[int, dict[str, Any]] = {}
        keys = [("to", p.id) for p in targets] + [("groups", g.id) for g in groups]
        for reader, chat_id, owner, row, (field, key) in zip(
            readers, chats, owners, rows, keys, strict=True
        ):
            # The rest of a long message follows the page (bot/words/alert_text.py) ...
            rest = [block(t, reader) for t in alert_text.continuations(alert, reader)]
            last = await ctx.outbox.send_after(
                tx, chat_id, row, rest, priority, owner, about_id=alert.contact_id
            )
            # ... then what the contact sent that this reader has not seen.
            missed = [e for e in followups if key not in e.detail.get(field, [])]
            if missed:
                catch_up = self._catch_up(alert, contact_name, missed, followups, reader)
                await ctx.outbox.send_after(
                    tx, chat_id, last, catch_up, priority, owner, about_id=alert.contact_id
                )
                for e in missed:
                    detail = seen.setdefault(e.id, dict(e.detail))
                    detail[field] = [*detail.get(field, []), key]
        for event_id, detail in seen.items():
            await ctx.alerts.set_event_detail(tx, event_id, detail)
        await ctx.alerts.add_pages(
            tx,
            alert.id,
            [(p.id, row) for p, row in zip(targets, rows, strict=False)],
            pass_=pos.pass_,
            step=pos.step,
            now=now,
        )
        for group, row in zip(groups, rows[len(targets) :], strict=True):
            await ctx.alerts.add_group_page(
                tx, alert.id, group.id, row, pass_=pos.pass_, step=pos.step, now=now
            )
        names = [p.name for p in targets] + [g.title for g in groups]
        await ctx.alerts.add_event(
            tx,
            alert.id,
            event,
            now,
            detail={"step": pos.step + 1, "pass": pos.pass_, "names": names},
        )
        log.info(
            "alert %d: %s %d people (pass %d, step %d)",
            alert.id,
            event,
            len(targets),
            pos.pass_,
            pos.step + 1,
        )

    @staticmethod
    def _catch_up(
        alert: Alert,
        contact_name: str,
        missed: list[AlertEvent],
        followups: list[AlertEvent],
        reader: alert_text.Reader,
    ) -> list[Notice]:
        """A late page's catch-up: the missed follow-ups as text (the voice messages and
        photos behind a button), then the last location as a pin."""
        lines = alert_text.catch_up(alert, contact_name, missed, reader)
        media = alert_text.media_of(followups)
        blocks = chunk_lines(lines)
        notices = [block(b, reader) for b in blocks]
        if media:
            button = Button("button.media", f"md:{alert.id}", {"n": len(media)})
            notices[-1] = block(blocks[-1], reader, ((button,),))
        if alert.location is not None and any("lat" in e.detail for e in missed):
            notices.append(location_notice(alert, contact_name, reader, alert.location, None))
        return notices
