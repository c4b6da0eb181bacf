"""Escalation policy as pure functions: which step comes next, who it pages, and when.

A position is (pass, step). Step 0 of pass 0 is paged when the alert opens; each step
waits its delay from when it started; after the last step the policy starts again from
step 0, `repeat` more times; after that the alert is UNANSWERED and everyone is paged.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain.models import Person, Policy, Role, Step, TargetKind


@dataclass(frozen=True, slots=True, order=True)
class Position:
    pass_: int
    step: int


START = Position(0, 0)


def next_position(policy: Policy, pos: Position) -> Position | None:
    """The step after `pos`, or None when every pass is spent."""
    if pos.step + 1 < len(policy.steps):
        return Position(pos.pass_, pos.step + 1)
    if pos.pass_ < policy.repeat:
        return Position(pos.pass_ + 1, 0)
    return None


def deadline(policy: Policy, pos: Position, started: datetime) -> datetime:
    return started + timedelta(seconds=policy.steps[pos.step].delay_s)


def pageable(people: Iterable[Person]) -> list[Person]:
    """Staff who can be paged now: not contacts, not known to have blocked the bot."""
    return [p for p in people if p.is_staff and not p.unreachable]


OnCall = Mapping[int, frozenset[int]]  # rotation id -> person ids on call now


def step_targets(step: Step, people: Iterable[Person], on_call: OnCall) -> list[Person]:
    """Everyone a step pages, each once, in a stable order."""
    staff = pageable(people)
    chosen: dict[int, Person] = {}
    for target in step.targets:
        for person in staff:
            if (
                (target.kind is TargetKind.ALL_RESPONDERS and person.has(Role.RESPONDER))
                or (target.kind is TargetKind.ALL_COORDINATORS and person.has(Role.COORDINATOR))
                or (target.kind is TargetKind.PERSON and person.id == target.person_id)
                or (
                    target.kind is TargetKind.ROTATION
                    and target.rotation_id is not None
                    and person.id in on_call.get(target.rotation_id, frozenset())
                )
            ):
                chosen.setdefault(person.id, person)
    return sorted(chosen.values(), key=lambda p: p.id)


def rotations_of(policy: Policy) -> set[int]:
    return {
        t.rotation_id
        for step in policy.steps
        for t in step.targets
        if t.kind is TargetKind.ROTATION and t.rotation_id is not None
    }


def step_groups(step: Step, groups: Collection[int]) -> list[int]:
    """The registered group chats a step pages."""
    return sorted(
        {
            t.group_id
            for t in step.targets
            if t.kind is TargetKind.GROUP and t.group_id is not None and t.group_id in groups
        }
    )


@dataclass(frozen=True, slots=True)
class PlannedStep:
    pos: Position
    targets: list[Person]
    groups: list[int]


@dataclass(frozen=True, slots=True)
class Plan:
    """What entering `start` means: steps passed for want of anyone, the step that pages,
    or None for it when the policy is spent (the alert becomes UNANSWERED)."""

    skipped: list[Position]
    paged: PlannedStep | None


def plan_from(
    policy: Policy,
    start: Position | None,
    people: list[Person],
    on_call: OnCall | None = None,
    groups: Collection[int] = (),
) -> Plan:
    skipped: list[Position] = []
    pos = start
    while pos is not None:
        step = policy.steps[pos.step]
        targets = step_targets(step, people, on_call or {})
        chats = step_groups(step, groups)
        if targets or chats:
            return Plan(skipped, PlannedStep(pos, targets, chats))
        skipped.append(pos)
        pos = next_position(policy, pos)
    return Plan(skipped, None)
