"""Delivery outcomes, as the outbox reports them: a page delivered, a page refused for
good, a person who blocked the bot.

Each outcome is a state change written in one transaction. When no page of the current
step reached anyone, the step is made due now and the tick is woken: an outcome never
runs escalation itself (it is called from the outbox's task).
"""

from __future__ import annotations

import logging

from bot.delivery.outbox import Delivered
from bot.domain.errors import DeliveryError
from bot.domain.models import (
    AlertPage,
    AlertState,
    EventKind,
    Notice,
    OutboxItem,
    PageDelivery,
    Person,
    Priority,
    Role,
)
from bot.services.alerts.context import AlertContext
from bot.words import alert_text
from storage.db import Transaction

log = logging.getLogger(__name__)


class Outcomes:
    def __init__(self, ctx: AlertContext) -> None:
        self.ctx = ctx

    async def delivered(self, done: Delivered) -> None:
        ctx = self.ctx
        page = await ctx.alerts.page_for_outbox(ctx.db, done.item.id)
        if page is None:
            return
        async with ctx.db.transaction() as tx:
            await ctx.alerts.set_delivery(tx, page.id, PageDelivery.DELIVERED)

    async def failed(self, item: OutboxItem, err: DeliveryError) -> None:
        """A message was refused for good. If it was a page of the current step and no
        page of that step got through, the next step is due now."""
        ctx = self.ctx
        now = ctx.clock.now()
        async with ctx.db.transaction() as tx:
            person = await ctx.people.get(tx, item.person_id) if item.person_id else None
            forbidden = err.blocked
            newly_unreachable = (
                person is not None
                and forbidden
                and person.is_staff
                and await ctx.people.set_unreachable(tx, person.id, now)
            )
            if newly_unreachable and person is not None:
                await self._flag_unreachable(tx, person)
            page = await ctx.alerts.page_for_outbox(tx, item.id)
            if page is None:
                return
            await ctx.alerts.set_delivery(tx, page.id, PageDelivery.FAILED)
            name = person.name if person else await ctx.page_name(tx, page)
            await ctx.alerts.add_event(
                tx,
                page.alert_id,
                EventKind.DELIVERY_FAILED,
                now,
                detail={"name": name, "reason": err.reason},
            )
            if forbidden:
                await ctx.alerts.add_event(
                    tx, page.alert_id, EventKind.UNREACHABLE, now, detail={"name": name}
                )
            else:
                # Not a person who left: Telegram refused the page itself, and may refuse
                # every page. Escalating past it is not enough; coordinators must know.
                await self._delivery_broken(tx, page, name, err.reason)
            alert = await ctx.alerts.get(tx, page.alert_id)
            if (
                alert is not None
                and alert.state is AlertState.TRIGGERED
                and (page.pass_, page.step) == (alert.pass_, alert.step)
            ):
                same_step = [
                    p
                    for p in await ctx.alerts.pages(tx, alert.id)
                    if (p.pass_, p.step) == (alert.pass_, alert.step)
                ]
                unreached = all(p.delivery is PageDelivery.FAILED for p in same_step)
                if unreached and await ctx.alerts.escalate_now(tx, alert.id, now):
                    await ctx.alerts.add_event(
                        tx, alert.id, EventKind.STEP_UNREACHED, now, detail={"step": alert.step + 1}
                    )
                    ctx.wake_after(tx)

    async def _delivery_broken(
        self, tx: Transaction, page: AlertPage, name: str, reason: str
    ) -> None:
        """Tell every coordinator, once per alert, that a page was refused for good."""
        alert_id = page.alert_id
        log.error("alert %d: a page was refused for good: %s", alert_id, reason)
        for coordinator in await self.ctx.people.staff(tx):
            if not coordinator.has(Role.COORDINATOR):
                continue
            await self.ctx.outbox.send(
                tx,
                coordinator.chat_id,
                Notice(
                    "alert.delivery_broken",
                    {"id": alert_id, "name": name, "reason": reason},
                    lang=coordinator.lang,
                ),
                priority=Priority.ESCALATION,
                person_id=coordinator.id,
                dedupe_key=f"delivery-broken:{alert_id}:{coordinator.id}",
                about_id=page.person_id,
            )

    async def person_unreachable(self, person: Person) -> None:
        """Telegram told us the person blocked the bot: skip them from now on, and say so."""
        ctx = self.ctx
        async with ctx.db.transaction() as tx:
            if await ctx.people.set_unreachable(tx, person.id, ctx.clock.now()):
                await self._flag_unreachable(tx, person)

    async def _flag_unreachable(self, tx: Transaction, person: Person) -> None:
        """Tell coordinators, once, that someone can no longer be paged, and what it costs."""
        ctx = self.ctx
        rotations = [r.name for r in await ctx.rota.rotations(tx) if person.id in r.participants]
        for coordinator in await ctx.people.staff(tx):
            if not coordinator.has(Role.COORDINATOR) or coordinator.id == person.id:
                continue
            await ctx.outbox.send(
                tx,
                coordinator.chat_id,
                Notice(
                    "rota.unreachable",
                    {
                        "name": person.name,
                        "rotations": alert_text.rotation_names(rotations, coordinator.lang),
                    },
                    lang=coordinator.lang,
                ),
                priority=Priority.ESCALATION,
                about_id=person.id,
                person_id=coordinator.id,
            )
