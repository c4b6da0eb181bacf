"""Escalation policy as pure functions: which step comes next, who it pages, and when.

A position is (pass, step). Step 0 of pass 0 is paged when the alert opens; each step
waits its delay from when it started; after the last step the policy starts again from
step 0, `repeat` more times; after that the alert is UNANSWERED and everyone is paged.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.models import Person, Policy, Role, Step, TargetKind


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


@dataclass(frozen=True, slots=True)
class PlannedStep:
    pos: Position
    targets: list[Person]


@dataclass(frozen=True, slots=True)
class Plan:
    """What entering `start` means: steps passed for want of anyone, the step that pages,
    or None for it when the policy is spent (the alert becomes UNANSWERED)."""

    skipped: list[Position]
    paged: PlannedStep | None


def plan_from(
    policy: Policy, start: Position | None, people: list[Person], on_call: OnCall | None = None
) -> Plan:
    skipped: list[Position] = []
    pos = start
    while pos is not None:
        targets = step_targets(policy.steps[pos.step], people, on_call or {})
        if targets:
            return Plan(skipped, PlannedStep(pos, targets))
        skipped.append(pos)
        pos = next_position(policy, pos)
    return Plan(skipped, None)
