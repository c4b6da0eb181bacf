"""Rotations, their members, overrides and swap requests. Names of rotations are the
organisation's words, not people's, and are stored in clear; members are person ids."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from bot.domain.rota import Override, OverrideKind, Rotation, ShiftUnit
from storage.db import Transaction, from_db_time, to_db_time
from storage.people import Queryable


@dataclass(frozen=True, slots=True)
class SwapRequest:
    id: int
    rotation_id: int
    requester: int
    start: datetime
    end: datetime
    state: str
    taken_by: int | None
    override_id: int | None
    created_at: datetime


class RotaRepo:
    # -- rotations -----------------------------------------------------------------------

    async def rotations(self, q: Queryable) -> list[Rotation]:
        rows = await q.fetchall("SELECT * FROM rotations ORDER BY id")
        members = await self._members(q)
        return [self._rotation(r, members.get(r["id"], ())) for r in rows]

    async def rotation(self, q: Queryable, rotation_id: int) -> Rotation | None:
        row = await q.fetchone("SELECT * FROM rotations WHERE id = ?", (rotation_id,))
        if row is None:
            return None
        members = await self._members(q, rotation_id)
        return self._rotation(row, members.get(rotation_id, ()))

    async def by_name(self, q: Queryable, name: str) -> Rotation | None:
        row = await q.fetchone("SELECT id FROM rotations WHERE name = ? COLLATE NOCASE", (name,))
        return await self.rotation(q, row["id"]) if row else None

    async def create(
        self,
        tx: Transaction,
        *,
        name: str,
        tz: str,
        unit: ShiftUnit,
        length: int,
        start: datetime,
        participants: tuple[int, ...],
        now: datetime,
    ) -> int:
        rotation_id = await tx.insert_new(
            "rotations",
            {
                "name": name,
                "tz": tz,
                "unit": unit.value,
                "length": length,
                "start_at": to_db_time(start),
                "created_at": to_db_time(now),
            },
        )
        await self.set_members(tx, rotation_id, participants)
        return rotation_id

    async def update(self, tx: Transaction, rotation: Rotation) -> None:
        await tx.execute(
            "UPDATE rotations SET name = ?, tz = ?, unit = ?, length = ?, start_at = ?"
            " WHERE id = ?",
            (
                rotation.name,
                rotation.tz,
                rotation.unit.value,
                rotation.length,
                to_db_time(rotation.start),
                rotation.id,
            ),
        )
        await self.set_members(tx, rotation.id, rotation.participants)

    async def set_members(
        self, tx: Transaction, rotation_id: int, participants: tuple[int, ...]
    ) -> None:
        await self._bump(tx, rotation_id)
        await tx.execute("DELETE FROM rotation_members WHERE rotation_id = ?", (rotation_id,))
        await tx.executemany(
            "INSERT INTO rotation_members (rotation_id, position, person_id) VALUES (?, ?, ?)",
            [(rotation_id, i, pid) for i, pid in enumerate(participants)],
        )

    async def delete(self, tx: Transaction, rotation_id: int) -> bool:
        return await tx.execute("DELETE FROM rotations WHERE id = ?", (rotation_id,)) == 1

    # -- overrides -----------------------------------------------------------------------

    async def overrides(
        self, q: Queryable, rotation_id: int | None = None, *, ending_after: datetime | None = None
    ) -> list[Override]:
        sql = "SELECT * FROM overrides WHERE 1 = 1"
        params: list[object] = []
        if rotation_id is not None:
            sql += " AND rotation_id = ?"
            params.append(rotation_id)
        if ending_after is not None:
            sql += " AND end_at > ?"
            params.append(to_db_time(ending_after))
        rows = await q.fetchall(sql + " ORDER BY start_at, id", params)
        return [self._override(r) for r in rows]

    async def add_override(
        self,
        tx: Transaction,
        *,
        rotation_id: int,
        kind: OverrideKind,
        person_id: int,
        replaces: int | None,
        start: datetime,
        end: datetime,
        created_by: int | None,
        now: datetime,
    ) -> int:
        await self._bump(tx, rotation_id)
        return await tx.insert_new(
            "overrides",
            {
                "rotation_id": rotation_id,
                "kind": kind.value,
                "person_id": person_id,
                "replaces": replaces,
                "start_at": to_db_time(start),
                "end_at": to_db_time(end),
                "created_by": created_by,
                "created_at": to_db_time(now),
            },
        )

    async def delete_override(self, tx: Transaction, override_id: int) -> bool:
        await tx.execute(
            "UPDATE rotations SET version = version + 1"
            " WHERE id = (SELECT rotation_id FROM overrides WHERE id = ?)",
            (override_id,),
        )
        return await tx.execute("DELETE FROM overrides WHERE id = ?", (override_id,)) == 1

    async def version(self, q: Queryable, rotation_id: int) -> int | None:
        """The rotation's version: raised by every change to it, its people or overrides."""
        row = await q.fetchone("SELECT version FROM rotations WHERE id = ?", (rotation_id,))
        return int(row[0]) if row else None

    async def _bump(self, tx: Transaction, rotation_id: int) -> None:
        await tx.execute("UPDATE rotations SET version = version + 1 WHERE id = ?", (rotation_id,))

    # -- swap requests -------------------------------------------------------------------

    async def add_swap(
        self,
        tx: Transaction,
        *,
        rotation_id: int,
        requester: int,
        start: datetime,
        end: datetime,
        now: datetime,
    ) -> int:
        return await tx.insert_new(
            "swap_requests",
            {
                "rotation_id": rotation_id,
                "requester": requester,
                "start_at": to_db_time(start),
                "end_at": to_db_time(end),
                "state": "open",
                "created_at": to_db_time(now),
            },
        )

    async def swap(self, q: Queryable, swap_id: int) -> SwapRequest | None:
        row = await q.fetchone("SELECT * FROM swap_requests WHERE id = ?", (swap_id,))
        return self._swap(row) if row else None

    async def take_swap(self, tx: Transaction, swap_id: int, taker: int, override_id: int) -> bool:
        """Claim an open request; False if it was taken or cancelled first."""
        changed = await tx.execute(
            "UPDATE swap_requests SET state = 'taken', taken_by = ?, override_id = ?"
            " WHERE id = ? AND state = 'open'",
            (taker, override_id, swap_id),
        )
        return changed == 1

    async def cancel_swap(self, tx: Transaction, swap_id: int, requester: int) -> bool:
        """Withdraw an open request, by the one who made it; False if it is not theirs or
        no longer open."""
        changed = await tx.execute(
            "UPDATE swap_requests SET state = 'cancelled'"
            " WHERE id = ? AND requester = ? AND state = 'open'",
            (swap_id, requester),
        )
        return changed == 1

    # -- notices -------------------------------------------------------------------------

    async def claim_notice(self, tx: Transaction, key: str, now: datetime) -> bool:
        """True the first time a notice's key is claimed: each goes out once."""
        changed = await tx.execute(
            "INSERT INTO notices_sent (key, sent_at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (key, to_db_time(now)),
        )
        return changed == 1

    async def forget_notices(self, tx: Transaction, before: datetime) -> int:
        return await tx.execute("DELETE FROM notices_sent WHERE sent_at < ?", (to_db_time(before),))

    # -- decoding ------------------------------------------------------------------------

    async def _members(
        self, q: Queryable, rotation_id: int | None = None
    ) -> dict[int, tuple[int, ...]]:
        if rotation_id is None:
            rows = await q.fetchall(
                "SELECT rotation_id, person_id FROM rotation_members ORDER BY rotation_id, position"
            )
        else:
            rows = await q.fetchall(
                "SELECT rotation_id, person_id FROM rotation_members WHERE rotation_id = ?"
                " ORDER BY position",
                (rotation_id,),
            )
        acc: dict[int, list[int]] = {}
        for r in rows:
            acc.setdefault(r["rotation_id"], []).append(r["person_id"])
        return {k: tuple(v) for k, v in acc.items()}

    @staticmethod
    def _rotation(r: sqlite3.Row, members: tuple[int, ...]) -> Rotation:
        return Rotation(
            id=r["id"],
            name=r["name"],
            tz=r["tz"],
            unit=ShiftUnit(r["unit"]),
            length=r["length"],
            start=from_db_time(r["start_at"]),
            participants=members,
        )

    @staticmethod
    def _override(r: sqlite3.Row) -> Override:
        return Override(
            id=r["id"],
            rotation_id=r["rotation_id"],
            kind=OverrideKind(r["kind"]),
            person_id=r["person_id"],
            replaces=r["replaces"],
            start=from_db_time(r["start_at"]),
            end=from_db_time(r["end_at"]),
        )

    @staticmethod
    def _swap(r: sqlite3.Row) -> SwapRequest:
        return SwapRequest(
            id=r["id"],
            rotation_id=r["rotation_id"],
            requester=r["requester"],
            start=from_db_time(r["start_at"]),
            end=from_db_time(r["end_at"]),
            state=r["state"],
            taken_by=r["taken_by"],
            override_id=r["override_id"],
            created_at=from_db_time(r["created_at"]),
        )
