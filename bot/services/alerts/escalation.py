"""Escalation: which step of an alert's policy pages whom, and when.

Deadlines are columns (`next_escalation_at`, `ack_deadline_at`); `tick()` selects what is
due and claims each move with `UPDATE … WHERE position = old position`, so two ticks or
a restart never page a step twice. Every page is an outbox row written in the same
transaction as the move that caused it. Only the one tick (bot/wiring.py, Services.tick)
calls `tick()`; whatever makes a step due early writes its deadline and wakes it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.domain import rota
from bot.domain.escalation import (
    START,
    OnCall,
    Plan,
    Position,
    deadline,
    next_position,
    pageable,
    plan_from,
    rotations_of,
)
from bot.domain.models import (
    Alert,
    AlertState,
    Button,
    EventKind,
    Person,
    Policy,
    Priority,
)
from bot.services.alerts.context import AlertContext, block
from bot.services.alerts.paging import Pager
from bot.words import alert_text
from storage.db import Transaction

log = logging.getLogger(__name__)

# One move of a due alert, given who can be paged (read once per batch of a tick run).
AlertStep = Callable[[Transaction, Alert, datetime, list[Person]], Awaitable[bool]]
MAX_BATCHES_PER_TICK = 50  # 200 alerts a batch; a guard, never reached in practice
RETRY_FAILED_TICK = timedelta(seconds=60)


class Escalation:
    def __init__(self, ctx: AlertContext, pager: Pager) -> None:
        self.ctx = ctx
        self.pager = pager

    async def tick(self) -> int:
        """Escalate every alert whose deadline has passed. Returns how many moved."""
        ctx = self.ctx
        now = ctx.clock.now()
        moved = 0
        # Batches, until nothing is due: after a long outage of the bot itself, hundreds of
        # deadlines may have passed, and all of them are due now, not over several ticks.
        for due, step in (
            (ctx.alerts.due_escalations, self._escalate),
            (ctx.alerts.due_ack_timeouts, self._ack_timeout),
        ):
            for _ in range(MAX_BATCHES_PER_TICK):
                batch = await due(ctx.db, now)
                if not batch:
                    break
                # Who can be paged is read once a batch, not once an alert.
                staff = await ctx.people.staff(ctx.db)
                moved += sum([await self._safely(a, step, now, staff) for a in batch])
        return moved

    async def _safely(
        self, alert: Alert, step: AlertStep, now: datetime, staff: list[Person]
    ) -> int:
        ctx = self.ctx
        try:
            async with ctx.db.transaction() as tx:
                return int(await step(tx, alert, now, staff))
        except Exception as exc:  # one bad alert must not stop the others: retry it later
            log.error(
                "alert %d: escalation failed (%s); retrying in %s",
                alert.id,
                type(exc).__name__,
                RETRY_FAILED_TICK,
            )
            async with ctx.db.transaction() as tx:
                await ctx.alerts.postpone(tx, alert.id, now + RETRY_FAILED_TICK)
            return 0

    async def _escalate(
        self, tx: Transaction, alert: Alert, now: datetime, staff: list[Person]
    ) -> bool:
        policy = await self.ctx.policy_of(tx, alert)
        nxt = next_position(policy, Position(alert.pass_, alert.step))
        plan = await self.plan(tx, policy, nxt, staff, now)
        return await self.enter(tx, alert, policy, plan, staff, now, Priority.ESCALATION)

    async def _ack_timeout(
        self, tx: Transaction, alert: Alert, now: datetime, staff: list[Person]
    ) -> bool:
        """The acknowledger has not resolved it in time: remind them once, and the next
        time round page the policy again from step 1, saying who had it."""
        ctx = self.ctx
        policy = await ctx.policy_of(tx, alert)
        timeout = timedelta(seconds=policy.ack_timeout_s)
        acker = await ctx.people.get(tx, alert.ack_by) if alert.ack_by else None
        if not alert.ack_reminded and acker is not None and not acker.unreachable:
            return await self._remind(tx, alert, acker, now + timeout, now)
        held = (acker.name, alert.ack_at) if acker is not None and alert.ack_at else None
        return await self.start(
            tx,
            alert,
            policy,
            staff,
            now,
            Priority.ESCALATION,
            held_by=held,
            first=EventKind.RESUMED,
        )

    async def _remind(
        self, tx: Transaction, alert: Alert, acker: Person, again_at: datetime, now: datetime
    ) -> bool:
        """Remind the acknowledger, with Still on it and Resolve (escalation resumes at
        `again_at` if they do neither); False if another tick did first."""
        ctx = self.ctx
        if not await ctx.alerts.ack_reminded(tx, alert, again_at):
            return False
        contact_name, reads = await ctx.contact_of(tx, alert)
        shown = alert_text.reminder_text(
            alert, contact_name, acker, now - (alert.ack_at or now), again_at - now, reads=reads
        )
        buttons = (
            (
                Button("button.snooze", f"snz:{alert.id}"),
                Button("button.resolve", f"res:{alert.id}"),
            ),
        )
        row = await ctx.outbox.send(
            tx,
            acker.chat_id,
            block(shown, acker, buttons),
            priority=Priority.ESCALATION,
            person_id=acker.id,
            about_id=alert.contact_id,
        )
        await ctx.alerts.add_page(
            tx,
            alert_id=alert.id,
            person_id=acker.id,
            pass_=alert.pass_,
            step=-1,
            outbox_id=row,
            now=now,
        )
        await ctx.alerts.add_event(
            tx, alert.id, EventKind.REMINDER, now, detail={"name": acker.name}
        )
        return True

    # -- plans ---------------------------------------------------------------------------

    async def policy_for(self, tx: Transaction, contact: Person) -> Policy:
        """The contact's own policy if one is assigned and in use, else the default."""
        if contact.policy_id is not None:
            policy = await self.ctx.policies.get(tx, contact.policy_id)
            if policy is not None and policy.steps and not policy.retired:
                return policy
        return await self.ctx.policies.default(tx)

    async def plan(
        self,
        tx: Transaction,
        policy: Policy,
        start: Position | None,
        staff: list[Person],
        now: datetime,
    ) -> Plan:
        groups = {g.id for g in await self.ctx.groups.all(tx)}
        return plan_from(policy, start, staff, await self._on_call(tx, policy, now), groups)

    async def _on_call(self, tx: Transaction, policy: Policy, now: datetime) -> OnCall:
        """Who is on call now in each rotation the policy names (overrides applied)."""
        result: dict[int, frozenset[int]] = {}
        for rotation_id in rotations_of(policy):
            rotation = await self.ctx.rota.rotation(tx, rotation_id)
            if rotation is None:
                continue
            overrides = await self.ctx.rota.overrides(tx, rotation_id, ending_after=now)
            result[rotation_id] = rota.on_call(rotation, overrides, now)
        return result

    # -- moves ---------------------------------------------------------------------------

    async def start(
        self,
        tx: Transaction,
        alert: Alert,
        policy: Policy,
        staff: list[Person],
        now: datetime,
        priority: Priority,
        held_by: tuple[str, datetime] | None = None,
        first: EventKind | None = None,
    ) -> bool:
        """Page the policy from its step 1 (or the first step that has people)."""
        plan = await self.plan(tx, policy, START, staff, now)
        return await self.enter(tx, alert, policy, plan, staff, now, priority, held_by, first)

    async def enter(
        self,
        tx: Transaction,
        alert: Alert,
        policy: Policy,
        plan: Plan,
        everyone: list[Person],
        now: datetime,
        priority: Priority,
        held_by: tuple[str, datetime] | None = None,
        first: EventKind | None = None,
    ) -> bool:
        """Apply a plan: note skipped steps, page the step that has people, or go UNANSWERED.

        False when another tick moved the alert first (the claim failed): nothing is paged
        and nothing is written. `first`: an event to record before the rest, once claimed.
        """
        alerts = self.ctx.alerts
        paged = plan.paged
        if paged is not None:
            pos = paged.pos
            due: datetime | None = deadline(policy, pos, now)
        else:
            pos, due = Position(alert.pass_, alert.step), None
        claimed = await alerts.move(
            tx,
            alert,
            step=pos.step,
            pass_=pos.pass_,
            now=now,
            next_escalation_at=due,
            unanswered=paged is None,
            state=AlertState.TRIGGERED,
        )
        moved = await alerts.get(tx, alert.id) if claimed else None
        if moved is None:
            return False
        if first is not None:
            await alerts.add_event(tx, alert.id, first, now)
        for skipped in plan.skipped:
            await alerts.add_event(
                tx,
                alert.id,
                EventKind.STEP_SKIPPED,
                now,
                detail={"step": skipped.step + 1, "pass": skipped.pass_},
            )
        if paged is not None:
            chats = [g for g in await self.ctx.groups.all(tx) if g.id in paged.groups]
            await self.pager.page(
                tx,
                moved,
                policy,
                paged.targets,
                pos,
                now,
                priority,
                EventKind.PAGED,
                groups=chats,
                held_by=held_by,
            )
            return True
        everyone_staff = pageable(everyone)
        if not everyone_staff:
            await alerts.add_event(tx, alert.id, EventKind.NOBODY, now)
            log.error("alert %d: no one at all can be paged", alert.id)
            return True
        await self.pager.page(
            tx,
            moved,
            policy,
            everyone_staff,
            Position(moved.pass_, -1),
            now,
            Priority.ESCALATION,
            EventKind.UNANSWERED,
        )
        return True

    # -- policy changes ------------------------------------------------------------------

    async def policy_changed(self, tx: Transaction, policy_id: int, now: datetime) -> int:
        """A policy was edited: its open, unacknowledged alerts start again from the new
        step 1 at once, so the old policy's pending steps never fire."""
        ctx = self.ctx
        policy = await ctx.policies.get(tx, policy_id)
        if policy is None or not policy.steps:
            return 0
        restarted = 0
        staff = await ctx.people.staff(tx)
        for alert in await ctx.alerts.open_alerts(tx):
            if alert.policy_id != policy_id or alert.state is not AlertState.TRIGGERED:
                continue
            await ctx.alerts.add_event(
                tx, alert.id, EventKind.POLICY_CHANGED, now, detail={"policy": policy.name}
            )
            if await self.start(tx, alert, policy, staff, now, Priority.ESCALATION):
                restarted += 1
        return restarted

    async def contact_moved(
        self, tx: Transaction, contact_id: int, policy: Policy, now: datetime
    ) -> int:
        """A contact was given another policy: an open, unacknowledged alert of theirs
        moves to it and pages its step 1 at once; the old policy's steps never fire."""
        ctx = self.ctx
        alert = await ctx.alerts.open_for_contact(tx, contact_id)
        if alert is None or alert.policy_id == policy.id:
            return 0
        await ctx.alerts.set_policy(tx, alert.id, policy.id)
        if alert.state is not AlertState.TRIGGERED:
            return 0
        moved = await ctx.alerts.get(tx, alert.id)
        assert moved is not None
        await ctx.alerts.add_event(
            tx, alert.id, EventKind.POLICY_CHANGED, now, detail={"policy": policy.name}
        )
        staff = await ctx.people.staff(tx)
        return int(await self.start(tx, moved, policy, staff, now, Priority.ESCALATION))
