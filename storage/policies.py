"""Escalation policies and their steps.

A policy that alerts still refer to cannot be deleted (alerts.policy_id has no cascade):
it is retired instead, kept for those alerts' timelines and escalation, and never the
default again.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

from bot.domain.errors import StorageError
from bot.domain.models import Policy, Step, Target, TargetKind
from storage.db import Transaction
from storage.people import Queryable


def targets_to_json(targets: tuple[Target, ...]) -> str:
    out: list[dict[str, Any]] = []
    for t in targets:
        item: dict[str, Any] = {"kind": t.kind.value}
        if t.person_id is not None:
            item["id"] = t.person_id
        if t.rotation_id is not None:
            item["rotation"] = t.rotation_id
        if t.group_id is not None:
            item["group"] = t.group_id
        out.append(item)
    return json.dumps(out)


def targets_from_json(text: str) -> tuple[Target, ...]:
    return tuple(
        Target(TargetKind(t["kind"]), t.get("id"), t.get("rotation"), t.get("group"))
        for t in json.loads(text)
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
        return self._decode(row, steps)

    async def all(self, q: Queryable, include_retired: bool = False) -> list[Policy]:
        """Every policy in id order; retired ones only when asked for."""
        where = "" if include_retired else " WHERE retired = 0"
        rows = await q.fetchall(f"SELECT * FROM policies{where} ORDER BY id")  # noqa: S608
        steps: dict[int, list[sqlite3.Row]] = {}
        for s in await q.fetchall(
            "SELECT policy_id, delay_s, targets FROM policy_steps ORDER BY policy_id, position"
        ):
            steps.setdefault(s["policy_id"], []).append(s)
        return [self._decode(row, steps.get(row["id"], [])) for row in rows]

    async def default(self, q: Queryable) -> Policy:
        row = await q.fetchone(
            "SELECT id FROM policies WHERE is_default = 1 AND retired = 0 ORDER BY id LIMIT 1"
        )
        policy = await self.get(q, row["id"]) if row else None
        if policy is None or not policy.steps:
            raise StorageError("no default escalation policy with steps: the database is damaged")
        return policy

    async def create(
        self,
        tx: Transaction,
        *,
        name: str,
        repeat: int,
        ack_timeout_s: int,
        is_default: bool,
        steps: Sequence[Step],
    ) -> int:
        policy_id = await tx.insert_new(
            "policies",
            {
                "name": name,
                "repeat": repeat,
                "ack_timeout_s": ack_timeout_s,
                "is_default": int(is_default),
                "retired": 0,
            },
        )
        await self.set_steps(tx, policy_id, steps)
        return policy_id

    async def update(self, tx: Transaction, policy: Policy) -> None:
        """Write every field of `policy`, steps included, over the row with its id."""
        await tx.execute(
            "UPDATE policies SET name = ?, repeat = ?, ack_timeout_s = ?, is_default = ?,"
            " retired = ? WHERE id = ?",
            (
                policy.name,
                policy.repeat,
                policy.ack_timeout_s,
                int(policy.is_default),
                int(policy.retired),
                policy.id,
            ),
        )
        await self.set_steps(tx, policy.id, policy.steps)

    async def set_steps(self, tx: Transaction, policy_id: int, steps: Sequence[Step]) -> None:
        await self._bump(tx, policy_id)
        await tx.execute("DELETE FROM policy_steps WHERE policy_id = ?", (policy_id,))
        await tx.executemany(
            "INSERT INTO policy_steps (policy_id, position, delay_s, targets) VALUES (?, ?, ?, ?)",
            [(policy_id, i, s.delay_s, targets_to_json(s.targets)) for i, s in enumerate(steps)],
        )

    async def forget_target(self, tx: Transaction, gone: Target) -> list[str]:
        """Take `gone` (a removed person, a group the bot left) out of every step naming
        it; return the names of the policies changed. A step left with no target stays
        where it is and pages no one until it is edited: the coverage report names it."""
        changed: list[str] = []
        for policy in await self.all(tx, include_retired=True):
            steps = tuple(
                Step(s.delay_s, tuple(t for t in s.targets if t != gone)) for s in policy.steps
            )
            if steps != policy.steps:
                await self.set_steps(tx, policy.id, steps)
                changed.append(policy.name)
        return changed

    async def retire(self, tx: Transaction, policy_id: int) -> bool:
        """Take a policy out of use but keep it for the alerts that refer to it."""
        changed = await tx.execute(
            "UPDATE policies SET retired = 1, is_default = 0, version = version + 1"
            " WHERE id = ? AND retired = 0",
            (policy_id,),
        )
        return changed == 1

    async def _bump(self, tx: Transaction, policy_id: int) -> None:
        """Every change raises the version: a preview made before it no longer applies."""
        await tx.execute("UPDATE policies SET version = version + 1 WHERE id = ?", (policy_id,))

    async def delete(self, tx: Transaction, policy_id: int) -> bool:
        """Delete a policy no alert refers to (see `in_use`); contacts fall back to the default."""
        return await tx.execute("DELETE FROM policies WHERE id = ?", (policy_id,)) == 1

    async def in_use(self, q: Queryable, policy_id: int) -> bool:
        """True if any alert, open or resolved, refers to the policy."""
        row = await q.fetchone("SELECT 1 FROM alerts WHERE policy_id = ? LIMIT 1", (policy_id,))
        return row is not None

    async def has_open_alerts(self, q: Queryable, policy_id: int) -> bool:
        row = await q.fetchone(
            "SELECT 1 FROM alerts WHERE policy_id = ? AND state != 'resolved' LIMIT 1",
            (policy_id,),
        )
        return row is not None

    @staticmethod
    def _decode(row: sqlite3.Row, steps: Sequence[sqlite3.Row]) -> Policy:
        return Policy(
            id=row["id"],
            name=row["name"],
            steps=tuple(Step(s["delay_s"], targets_from_json(s["targets"])) for s in steps),
            repeat=row["repeat"],
            ack_timeout_s=row["ack_timeout_s"],
            is_default=bool(row["is_default"]),
            retired=bool(row["retired"]),
            version=row["version"],
        )
