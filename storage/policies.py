"""Escalation policies and their steps."""

from __future__ import annotations

import json
from typing import Any

from bot.errors import StorageError
from storage.models import Policy, Step, Target, TargetKind
from storage.people import Queryable


def targets_to_json(targets: tuple[Target, ...]) -> str:
    out: list[dict[str, Any]] = []
    for t in targets:
        item: dict[str, Any] = {"kind": t.kind.value}
        if t.person_id is not None:
            item["id"] = t.person_id
        if t.rotation_id is not None:
            item["rotation"] = t.rotation_id
        out.append(item)
    return json.dumps(out)


def targets_from_json(text: str) -> tuple[Target, ...]:
    return tuple(
        Target(TargetKind(t["kind"]), t.get("id"), t.get("rotation")) for t in json.loads(text)
    )


class PolicyRepo:
    async def get(self, q: Queryable, policy_id: int) -> Policy | None:
        row = await q.fetchone("SELECT * FROM policies WHERE id = ?", (policy_id,))
        if row is None:
            return None
        steps = await q.fetchall(
            "SELECT delay_s, targets FROM policy_steps WHERE policy_id = ? ORDER BY position",
            (policy_id,),
        )
        return Policy(
            id=row["id"],
            name=row["name"],
            steps=tuple(Step(s["delay_s"], targets_from_json(s["targets"])) for s in steps),
            repeat=row["repeat"],
            ack_timeout_s=row["ack_timeout_s"],
            is_default=bool(row["is_default"]),
            retired=bool(row["retired"]),
        )

    async def default(self, q: Queryable) -> Policy:
        row = await q.fetchone("SELECT id FROM policies WHERE is_default = 1 ORDER BY id LIMIT 1")
        policy = await self.get(q, row["id"]) if row else None
        if policy is None or not policy.steps:
            raise StorageError("no default escalation policy with steps: the database is damaged")
        return policy
