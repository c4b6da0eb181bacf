"""Planning an import: the file read and compared with the database, in the import's
transaction, giving what would change without changing it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.domain.models import Policy, Role, Target, TargetKind
from bot.domain.rota import Override, Rotation
from bot.services.rota_file.checkins import _CheckinChange, _plan_checkins
from bot.services.rota_file.groups import _Groups
from bot.services.rota_file.lines import _Lines
from bot.services.rota_file.people import _People
from bot.services.rota_file.problems import RotaFileError, _Problems
from bot.services.rota_file.read import _load, _read
from bot.services.rota_file.spec import (
    _key,
    _OverrideSpec,
    _PolicySpec,
    _RotationSpec,
    _StepSpec,
    _TargetSpec,
)
from storage.crypto import FieldCipher
from storage.groups import GroupRepo
from storage.people import PeopleRepo, Queryable
from storage.policies import PolicyRepo
from storage.rota import RotaRepo


@dataclass(frozen=True, slots=True)
class _RotationChange:
    spec: _RotationSpec
    old: Rotation | None  # None: created
    fields_changed: bool
    add: tuple[_OverrideSpec, ...]
    remove: tuple[Override, ...]

    @property
    def changed(self) -> bool:
        return self.old is not None and (self.fields_changed or bool(self.add or self.remove))


@dataclass(frozen=True, slots=True)
class _PolicyChange:
    spec: _PolicySpec
    old: Policy | None  # None: created
    changed: bool
    restart: bool  # steps or repeat changed while alerts on it are open


@dataclass(frozen=True, slots=True)
class ImportSummary:
    rotations_created: int
    rotations_updated: int
    rotations_deleted: int
    overrides_added: int
    overrides_removed: int
    overrides_ended: int
    policies_created: int
    policies_updated: int
    policies_deleted: int
    policies_retired: int
    contacts_reassigned: int
    restarted: tuple[str, ...]  # policies whose open alerts start again at the new step 1
    unpaged: tuple[str, ...] = ()  # "policy step n" for each step with no target
    checkins_added: int = 0  # contacts given a schedule they did not have
    checkins_changed: int = 0  # a different schedule or zone
    checkins_off: int = 0  # contacts not in the file whose schedule was turned off

    def __str__(self) -> str:
        text = (
            f"rotations: {self.rotations_created} created, {self.rotations_updated} updated,"
            f" {self.rotations_deleted} deleted; overrides: {self.overrides_added} added,"
            f" {self.overrides_removed} removed; policies: {self.policies_created} created,"
            f" {self.policies_updated} updated, {self.policies_deleted} deleted,"
            f" {self.policies_retired} retired; contacts: {self.contacts_reassigned} reassigned;"
            f" check-ins: {self.checkins_added} added, {self.checkins_changed} changed,"
            f" {self.checkins_off} turned off"
        )
        if self.overrides_ended:
            text += f"; {self.overrides_ended} override(s) in the file had ended and were skipped"
        if self.restarted:
            names = ", ".join(repr(n) for n in self.restarted)
            text += f"; open alerts restart at step 1 of the changed policies {names}"
        if self.unpaged:
            steps = ", ".join(self.unpaged)
            text += f"; WARNING: these steps page no one and are passed at once: {steps}"
        return text


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import changes, worked out against the database but not yet applied."""

    rotations: tuple[_RotationChange, ...]
    deleted_rotations: tuple[Rotation, ...]
    policies: tuple[_PolicyChange, ...]
    removed_policies: tuple[tuple[Policy, bool], ...]  # (policy, retire rather than delete)
    contacts: tuple[tuple[int, str | None], ...]  # (person id, _key of the new policy or None)
    ended: int
    checkins: tuple[_CheckinChange, ...]  # contacts whose schedule or zone changes

    @property
    def summary(self) -> ImportSummary:
        return ImportSummary(
            rotations_created=sum(1 for c in self.rotations if c.old is None),
            rotations_updated=sum(1 for c in self.rotations if c.changed),
            rotations_deleted=len(self.deleted_rotations),
            overrides_added=sum(len(c.add) for c in self.rotations),
            overrides_removed=sum(len(c.remove) for c in self.rotations),
            overrides_ended=self.ended,
            policies_created=sum(1 for c in self.policies if c.old is None),
            policies_updated=sum(1 for c in self.policies if c.old is not None and c.changed),
            policies_deleted=sum(1 for _, retire in self.removed_policies if not retire),
            policies_retired=sum(1 for _, retire in self.removed_policies if retire),
            contacts_reassigned=len(self.contacts),
            restarted=tuple(c.spec.name for c in self.policies if c.restart),
            unpaged=tuple(
                f"{c.spec.name!r} step {i}"
                for c in self.policies
                for i, step in enumerate(c.spec.steps, start=1)
                if not step.targets
            ),
            checkins_added=sum(1 for c in self.checkins if c.old is None),
            checkins_changed=sum(
                1 for c in self.checkins if c.old is not None and c.schedule is not None
            ),
            checkins_off=sum(1 for c in self.checkins if c.schedule is None),
        )


async def plan_import(
    q: Queryable, cipher: FieldCipher, text: str, *, source: str, now: datetime
) -> ImportPlan:
    """Validate the file against the database; RotaFileError lists every problem.

    Call it with the import's transaction so nothing changes between check and apply.
    """
    document = _load(text, source)
    everyone = await PeopleRepo(cipher).list_all(q)
    problems = _Problems(source, _Lines(text))
    groups = _Groups(await GroupRepo(cipher).all(q))
    spec = _read(document, problems, _People(everyone), groups, now)
    if problems.found:
        raise RotaFileError(problems.messages())

    rotas, policies = RotaRepo(), PolicyRepo()
    rotation_changes: list[_RotationChange] = []
    stored = await rotas.rotations(q)
    current = {_key(r.name): r for r in stored}  # left holding those the file drops
    for r in spec.rotations:
        old = current.pop(_key(r.name), None)
        existing = await rotas.overrides(q, old.id, ending_after=now) if old else []
        wanted = list(r.overrides)
        remove: list[Override] = []
        for o in existing:
            same = _OverrideSpec(o.kind, o.person_id, o.replaces, o.start, o.end)
            if same in wanted:
                wanted.remove(same)
            else:
                remove.append(o)
        fields_changed = old is None or _shape(old) != _shape(r)
        rotation_changes.append(
            _RotationChange(r, old, fields_changed, tuple(wanted), tuple(remove))
        )
    kept = {r.id: _key(r.name) for r in stored if _key(r.name) not in current}

    policy_changes: list[_PolicyChange] = []
    every_policy = await policies.all(q, include_retired=True)
    existing_policies = {_key(p.name): p for p in every_policy}  # left holding those dropped
    for p in spec.policies:
        found = existing_policies.pop(_key(p.name), None)
        if found is None:
            policy_changes.append(_PolicyChange(p, None, True, False))
            continue
        steps = tuple(_StepSpec(s.delay_s, _target_specs(s.targets, kept)) for s in found.steps)
        moved = steps != p.steps or found.repeat != p.repeat
        changed = (
            moved
            or found.retired
            or (found.name, found.ack_timeout_s, found.is_default)
            != (p.name, p.ack_timeout_s, p.is_default)
        )
        restart = moved and await policies.has_open_alerts(q, found.id)
        policy_changes.append(_PolicyChange(p, found, changed, restart))
    removed = [
        (p, await policies.in_use(q, p.id)) for p in existing_policies.values() if not p.retired
    ]

    names = {p.id: _key(p.name) for p in every_policy}
    contacts = [
        (person.id, spec.contacts.get(person.id))
        for person in everyone
        if person.has(Role.CONTACT)
        and (names.get(person.policy_id) if person.policy_id else None)
        != spec.contacts.get(person.id)
    ]
    return ImportPlan(
        rotations=tuple(rotation_changes),
        deleted_rotations=tuple(current.values()),
        policies=tuple(policy_changes),
        removed_policies=tuple(removed),
        contacts=tuple(contacts),
        ended=sum(r.ended for r in spec.rotations),
        checkins=await _plan_checkins(q, cipher, everyone, spec.checkins),
    )


def _shape(r: Rotation | _RotationSpec) -> tuple[object, ...]:
    return (r.name, r.tz, r.unit, r.length, r.start, r.participants)


def _target_specs(targets: Sequence[Target], rotations: dict[int, str]) -> tuple[_TargetSpec, ...]:
    return tuple(
        _TargetSpec(
            t.kind,
            t.person_id if t.kind is TargetKind.PERSON else None,
            rotations.get(t.rotation_id, f"#{t.rotation_id}")
            if t.kind is TargetKind.ROTATION and t.rotation_id is not None
            else None,
            t.group_id if t.kind is TargetKind.GROUP else None,
        )
        for t in targets
    )
