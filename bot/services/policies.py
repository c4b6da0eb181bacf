"""Escalation policies from Telegram: list, change a step, assign a contact's policy.

Each change is previewed (the policy as it would be) and waits for **Confirm**, like rota
changes; confirmed, it is audited, open alerts on the policy restart at its new step 1
(GoAlert's reassignment rule), and coverage is checked again.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.models import (
    Button,
    DraftKind,
    Notice,
    Person,
    Policy,
    Role,
    Step,
    Target,
    TargetKind,
)
from bot.domain.parsing import quoted, whole_number
from bot.services.rota import NAME_MAX, find_person, parts
from bot.words.catalogue import text
from config.durations import format_duration, parse_duration
from storage.audit import AuditRepo
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.groups import GroupRepo
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo

PolicyChanged = Callable[[Transaction, int, datetime], Awaitable[int]]
ContactMoved = Callable[[Transaction, int, Policy, datetime], Awaitable[int]]
MAX_DELAY = timedelta(hours=24)


def parse_wait(raw: str) -> timedelta:
    """How long a step waits for an acknowledgement: 1 second to 24 hours."""
    try:
        delay = parse_duration(raw)
    except ValueError:
        raise InvalidInput("policy.bad_delay", given=quoted(raw, 20)) from None
    if delay > MAX_DELAY:
        raise InvalidInput("policy.bad_delay", given=quoted(raw, 20))
    return delay


def step_index(raw: str, count: int) -> int:
    """A step number people type, 1 to `count`, as a 0-based index."""
    number = whole_number(raw.strip(), max_digits=3)
    if number is None or not 1 <= number <= count:
        raise InvalidInput("policy.bad_step", count=count)
    return number - 1


class PolicyService:
    def __init__(
        self,
        db: Database,
        policies: PolicyRepo,
        rota: RotaRepo,
        groups: GroupRepo,
        people: PeopleRepo,
        drafts: DraftRepo,
        audit: AuditRepo,
        outbox: Outbox,
        clock: Clock,
        *,
        on_policy_changed: PolicyChanged,
        on_contact_moved: ContactMoved,
    ) -> None:
        self.db = db
        self.policies = policies
        self.rota = rota
        self.groups = groups
        self.people = people
        self.drafts = drafts
        self.audit = audit
        self.outbox = outbox
        self.clock = clock
        self.on_policy_changed = on_policy_changed
        self.on_contact_moved = on_contact_moved
        self.after_change: list[Callable[[], Awaitable[object]]] = []

    async def show(self, actor: Person) -> None:
        self._coordinator(actor)
        lines: list[str] = []
        for policy in await self.policies.all(self.db):
            lines.extend(await self.describe(actor, policy))
        await self._send(actor, "\n".join(lines) or text("policy.none", actor.lang))

    async def draft_step(self, actor: Person, raw: str) -> None:
        """`policy | step number | delay | targets` (a number one past the end adds a step)."""
        self._coordinator(actor)
        name, number, delay_raw, targets_raw = parts(raw, 4, "policy.step_usage")
        policy = await self.find(name)
        index = step_index(number, len(policy.steps) + 1)
        delay = parse_wait(delay_raw)
        targets = await self.parse_targets(targets_raw)
        await self.propose_step(actor, policy, index, delay, targets)

    async def propose_step(
        self,
        actor: Person,
        policy: Policy,
        index: int,
        delay: timedelta,
        targets: tuple[Target, ...],
    ) -> None:
        """Preview `policy` with step `index` (0-based; one past the end adds one) set."""
        self._coordinator(actor)
        if not 0 <= index <= len(policy.steps):
            raise InvalidInput("policy.bad_step", count=len(policy.steps) + 1)
        if not targets:
            raise InvalidInput("policy.targets_none")
        if not timedelta(seconds=1) <= delay <= MAX_DELAY:
            raise InvalidInput("policy.bad_delay", given=format_duration(delay))
        step = Step(int(delay.total_seconds()), targets)
        steps = list(policy.steps)
        if index == len(steps):
            steps.append(step)
        else:
            steps[index] = step
        await self._draft_policy(actor, dataclasses.replace(policy, steps=tuple(steps)))

    async def draft_drop(self, actor: Person, raw: str) -> None:
        self._coordinator(actor)
        name, number = parts(raw, 2, "policy.drop_usage")
        policy = await self.find(name)
        await self.propose_drop(actor, policy, step_index(number, len(policy.steps)))

    async def propose_drop(self, actor: Person, policy: Policy, index: int) -> None:
        self._coordinator(actor)
        if not 0 <= index < len(policy.steps):
            raise InvalidInput("policy.bad_step", count=len(policy.steps))
        if len(policy.steps) == 1:
            raise InvalidInput("policy.last_step")
        steps = [s for i, s in enumerate(policy.steps) if i != index]
        await self._draft_policy(actor, dataclasses.replace(policy, steps=tuple(steps)))

    async def assign(self, actor: Person, raw: str) -> None:
        """`contact | policy` (or `default`): which policy pages for that contact."""
        self._coordinator(actor)
        who, name = parts(raw, 2, "policy.assign_usage")
        everyone = await self.people.list_all(self.db)
        try:
            contact = find_person([p for p in everyone if p.has(Role.CONTACT)], who)
        except NotFound:
            raise NotFound("policy.contact_unknown", ref=quoted(who, NAME_MAX)) from None
        policy = None if name.lower() == "default" else await self.find(name)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            await self.people.set_policy(tx, contact.id, policy.id if policy else None)
            await self.audit.record(
                tx,
                actor_id=actor.id,
                action="policy.assign",
                now=now,
                detail={"contact": contact.id, "policy": policy.name if policy else "default"},
            )
            target = policy or await self.policies.default(tx)
            moved = await self.on_contact_moved(tx, contact.id, target, now)
            await self._say(
                tx,
                actor,
                "policy.assigned_moved" if moved else "policy.assigned",
                name=contact.name,
                policy=target.name,
            )

    async def confirm(self, actor: Person, draft_id: int) -> None:
        self._coordinator(actor)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            taken = await self.drafts.take(tx, draft_id, DraftKind.POLICY_EDIT, actor.id)
            if taken is None:
                raise NotFound("draft.gone")
            data = taken[1]
            current = await self.policies.get(tx, data["id"])
            if current is None:
                raise NotFound("draft.gone")
            if current.version != data.get("version"):
                # Someone changed it after this preview was made: writing the previewed
                # policy back would undo their change.
                raise InvalidInput("draft.stale_policy", name=current.name)
            steps = tuple(
                Step(
                    s["delay"],
                    tuple(Target(TargetKind(t[0]), t[1], t[2], t[3]) for t in s["targets"]),
                )
                for s in data["steps"]
            )
            await self._check_targets_exist(tx, steps)
            await self.policies.set_steps(tx, current.id, steps)
            await self.audit.record(
                tx,
                actor_id=actor.id,
                action="policy.edit",
                now=now,
                detail={"policy": current.name, "steps": len(steps)},
            )
            restarted = await self.on_policy_changed(tx, current.id, now)
            key = {0: "policy.updated", 1: "policy.updated_one"}.get(
                restarted, "policy.updated_many"
            )
            await self._say(tx, actor, key, name=current.name, restarted=restarted)
        for hook in self.after_change:
            await hook()

    async def _check_targets_exist(self, tx: Transaction, steps: tuple[Step, ...]) -> None:
        """Everyone and everything the previewed steps name is still there."""
        staff = {p.id for p in await self.people.staff(tx)}
        rotations = {r.id for r in await self.rota.rotations(tx)}
        groups = {g.id for g in await self.groups.all(tx)}
        for step in steps:
            for t in step.targets:
                if (
                    (t.kind is TargetKind.PERSON and t.person_id not in staff)
                    or (t.kind is TargetKind.ROTATION and t.rotation_id not in rotations)
                    or (t.kind is TargetKind.GROUP and t.group_id not in groups)
                ):
                    raise InvalidInput("draft.target_gone")

    async def cancel(self, actor: Person, draft_id: int) -> None:
        async with self.db.transaction() as tx:
            await self.drafts.take(tx, draft_id, DraftKind.POLICY_EDIT, actor.id)
            await self._say(tx, actor, "draft.cancelled")

    # -- helpers -------------------------------------------------------------------------

    def _coordinator(self, actor: Person) -> None:
        if not actor.has(Role.COORDINATOR):
            raise NotAllowed("error.not_allowed")

    async def find(self, name: str) -> Policy:
        for policy in await self.policies.all(self.db):
            if policy.name.casefold() == name.strip().casefold():
                return policy
        raise NotFound("policy.unknown", name=quoted(name, NAME_MAX))

    async def parse_targets(self, raw: str) -> tuple[Target, ...]:
        """`rotation:<name>, group:<title>, all responders, all coordinators, <person>`."""
        staff = await self.people.staff(self.db)
        out: list[Target] = []
        for item in (t.strip() for t in raw.split(",") if t.strip()):
            key = item.casefold()
            if key in ("all responders", "responders"):
                out.append(Target(TargetKind.ALL_RESPONDERS))
            elif key in ("all coordinators", "coordinators"):
                out.append(Target(TargetKind.ALL_COORDINATORS))
            elif key.startswith("group:"):
                title = item.split(":", 1)[1].strip()
                groups = [
                    g
                    for g in await self.groups.all(self.db)
                    if g.title.casefold() == title.casefold()
                ]
                if len(groups) != 1:
                    raise NotFound("group.unknown", title=quoted(title, NAME_MAX))
                out.append(Target(TargetKind.GROUP, group_id=groups[0].id))
            elif key.startswith("rotation:"):
                name = item.split(":", 1)[1].strip()
                found = await self.rota.by_name(self.db, name)
                if found is None:
                    raise NotFound("rotation.unknown", name=quoted(name, NAME_MAX))
                out.append(Target(TargetKind.ROTATION, rotation_id=found.id))
            else:
                out.append(Target(TargetKind.PERSON, person_id=find_person(staff, item).id))
        if not out:
            raise InvalidInput("policy.step_usage")
        return tuple(out)

    async def describe(self, reader: Person, policy: Policy) -> list[str]:
        """The policy's header line, then a line per step."""
        lines = [
            text(
                "policy.line",
                reader.lang,
                id=policy.id,
                name=policy.name,
                default=text("policy.is_default", reader.lang) if policy.is_default else "",
                repeat=policy.repeat,
                ack=format_duration(timedelta(seconds=policy.ack_timeout_s)),
            )
        ]
        for i, step in enumerate(policy.steps, start=1):
            lines.append(
                text(
                    "policy.step",
                    reader.lang,
                    n=i,
                    targets=await self.name_targets(reader, step.targets),
                    delay=format_duration(timedelta(seconds=step.delay_s)),
                )
            )
        return lines

    async def name_targets(self, reader: Person, targets: tuple[Target, ...]) -> str:
        """Targets the way `/policy step` takes them: `rotation:Moscow day, Anna`."""
        staff = {p.id: p.name for p in await self.people.staff(self.db)}
        rotations = {r.id: r.name for r in await self.rota.rotations(self.db)}
        groups = {g.id: g.title for g in await self.groups.all(self.db)}
        names = []
        for t in targets:
            if t.kind is TargetKind.ROTATION:
                names.append(f"rotation:{rotations.get(t.rotation_id or 0, '?')}")
            elif t.kind is TargetKind.GROUP:
                names.append(f"group:{groups.get(t.group_id or 0, '?')}")
            elif t.kind is TargetKind.PERSON:
                names.append(staff.get(t.person_id or 0, "?"))
            else:
                names.append(text(f"target.{t.kind.value}", reader.lang))
        return ", ".join(names) or text("target.none", reader.lang)

    async def _draft_policy(self, actor: Person, policy: Policy) -> None:
        now = self.clock.now()
        payload: dict[str, Any] = {
            "id": policy.id,
            "version": policy.version,
            "steps": [
                {
                    "delay": s.delay_s,
                    "targets": [
                        [t.kind.value, t.person_id, t.rotation_id, t.group_id] for t in s.targets
                    ],
                }
                for s in policy.steps
            ],
        }
        lines = [text("policy.preview", actor.lang, name=policy.name)]
        lines += await self.describe(actor, policy)
        async with self.db.transaction() as tx:
            draft_id = await self.drafts.add(tx, actor.id, DraftKind.POLICY_EDIT, payload, now)
            await self.outbox.send(
                tx,
                actor.chat_id,
                Notice(
                    "text.block",
                    {"text": "\n".join(lines)},
                    buttons=(
                        (
                            Button("button.confirm", f"dr:y:{DraftKind.POLICY_EDIT}:{draft_id}"),
                            Button("button.cancel", f"dr:n:{DraftKind.POLICY_EDIT}:{draft_id}"),
                        ),
                    ),
                    lang=actor.lang,
                ),
                person_id=actor.id,
            )

    async def _say(self, tx: Transaction, actor: Person, key: str, **params: Any) -> None:
        await self.outbox.tell(tx, actor, key, **params)

    async def _send(self, actor: Person, body: str) -> None:
        async with self.db.transaction() as tx:
            await self.outbox.tell(tx, actor, "text.block", text=body)
