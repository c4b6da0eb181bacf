"""Applying an import plan: the database made to match the file in one transaction, each
change audited; and `import_rota`, which plans and applies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

from bot.domain.models import Policy, Step, Target
from bot.domain.rota import Rotation
from bot.services.rota_file.checkins import _apply_checkins
from bot.services.rota_file.plan import ImportPlan, ImportSummary, plan_import
from bot.services.rota_file.spec import _key, _TargetSpec
from storage.audit import AuditRepo
from storage.crypto import FieldCipher
from storage.db import Database, Transaction
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo

PolicyChanged = Callable[[Transaction, int, datetime], Awaitable[object]]
"""Told, inside the import's transaction, that a policy with open alerts got new steps or
a new repeat count: Escalation.policy_changed (bot/services/alerts) restarts those alerts
at the new step 1."""


async def apply_import(
    tx: Transaction,
    cipher: FieldCipher,
    plan: ImportPlan,
    *,
    now: datetime,
    on_policy_changed: PolicyChanged | None,
) -> ImportSummary:
    """Make the database match the file, in the caller's transaction, auditing each change."""
    rotas, policies, audit = RotaRepo(), PolicyRepo(), AuditRepo(cipher)

    async def record(action: str, **detail: Any) -> None:
        await audit.record(tx, actor_id=None, action=action, now=now, detail=detail)

    for old in plan.deleted_rotations:
        await rotas.delete(tx, old.id)
        await record("rotation.delete", name=old.name, via="rota import")
    rotation_ids: dict[str, int] = {}
    for change in plan.rotations:
        r = change.spec
        if change.old is None:
            rotation_id = await rotas.create(
                tx,
                name=r.name,
                tz=r.tz,
                unit=r.unit,
                length=r.length,
                start=r.start,
                participants=r.participants,
                now=now,
            )
            await record("rotation.create", name=r.name, via="rota import")
        else:
            rotation_id = change.old.id
            if change.fields_changed:
                built = Rotation(
                    rotation_id, r.name, r.tz, r.unit, r.length, r.start, r.participants
                )
                await rotas.update(tx, built)
            for o in change.remove:
                await rotas.delete_override(tx, o.id)
            if change.changed:
                await record(
                    "rotation.update",
                    name=r.name,
                    via="rota import",
                    overrides_added=len(change.add),
                    overrides_removed=len(change.remove),
                )
        for add in change.add:
            await rotas.add_override(
                tx,
                rotation_id=rotation_id,
                kind=add.kind,
                person_id=add.person_id,
                replaces=add.replaces,
                start=add.start,
                end=add.end,
                created_by=None,
                now=now,
            )
        rotation_ids[_key(r.name)] = rotation_id

    policy_ids: dict[str, int] = {}
    for pc in plan.policies:
        p = pc.spec
        steps = tuple(Step(s.delay_s, _targets(s.targets, rotation_ids)) for s in p.steps)
        if pc.old is None:
            policy_id = await policies.create(
                tx,
                name=p.name,
                repeat=p.repeat,
                ack_timeout_s=p.ack_timeout_s,
                is_default=p.is_default,
                steps=steps,
            )
            await record("policy.create", name=p.name, via="rota import")
        else:
            policy_id = pc.old.id
            if pc.changed:
                await policies.update(
                    tx, Policy(policy_id, p.name, steps, p.repeat, p.ack_timeout_s, p.is_default)
                )
                await record("policy.update", name=p.name, via="rota import")
        policy_ids[_key(p.name)] = policy_id

    people = PeopleRepo(cipher)
    spelled = {_key(pc.spec.name): pc.spec.name for pc in plan.policies}
    for person_id, policy_key in plan.contacts:
        await people.set_policy(tx, person_id, policy_ids[policy_key] if policy_key else None)
        policy_name = spelled[policy_key] if policy_key else None
        await record("contact.policy", person=person_id, policy=policy_name, via="rota import")
    for policy, retire in plan.removed_policies:
        if retire:
            await policies.retire(tx, policy.id)
        else:
            await policies.delete(tx, policy.id)
        await record(
            f"policy.{'retire' if retire else 'delete'}", name=policy.name, via="rota import"
        )
    await _apply_checkins(tx, cipher, plan.checkins, now)

    if on_policy_changed is not None:
        for pc in plan.policies:
            if pc.restart and pc.old is not None:
                await on_policy_changed(tx, pc.old.id, now)
    return plan.summary


def _targets(targets: Sequence[_TargetSpec], rotation_ids: dict[str, int]) -> tuple[Target, ...]:
    return tuple(
        Target(t.kind, t.person_id, rotation_ids[t.rotation] if t.rotation else None, t.group_id)
        for t in targets
    )


async def import_rota(
    db: Database,
    cipher: FieldCipher,
    text: str,
    *,
    source: str,
    now: datetime,
    dry_run: bool = False,
    on_policy_changed: PolicyChanged | None = None,
) -> ImportSummary:
    """Check the whole file, then apply it in one transaction (or, dry run, only report)."""
    if dry_run:
        return (await plan_import(db, cipher, text, source=source, now=now)).summary
    async with db.transaction() as tx:
        plan = await plan_import(tx, cipher, text, source=source, now=now)
        return await apply_import(tx, cipher, plan, now=now, on_policy_changed=on_policy_changed)
