"""Drafts: a coordinator's change waiting for its Confirm button, a guided change's answers
so far, a note asked for: kept encrypted, by kind (`DraftKind`)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from bot.domain.models import DraftKind
from storage.crypto import FieldCipher
from storage.db import Transaction, to_db_time
from storage.people import Queryable


class DraftRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    async def add(
        self,
        tx: Transaction,
        actor_id: int,
        kind: DraftKind,
        payload: dict[str, Any],
        now: datetime,
    ) -> int:
        draft_id = await tx.next_id("drafts")
        blob = self._cipher.encrypt(
            json.dumps(payload), table="drafts", column="payload", row_id=draft_id
        )
        await tx.insert_row(
            "drafts",
            draft_id,
            {
                "actor_id": actor_id,
                "kind": kind.value,
                "payload_enc": blob,
                "created_at": to_db_time(now),
            },
        )
        return draft_id

    async def take(
        self, tx: Transaction, draft_id: int, kind: DraftKind, actor_id: int
    ) -> tuple[int, dict[str, Any]] | None:
        """Remove and return (actor id, payload): a draft is confirmed or cancelled once,
        and only by the coordinator who saw its preview."""
        row = await tx.fetchone(
            "SELECT actor_id, payload_enc FROM drafts WHERE id = ? AND kind = ? AND actor_id = ?",
            (draft_id, kind.value, actor_id),
        )
        if row is None:
            return None
        await tx.execute("DELETE FROM drafts WHERE id = ?", (draft_id,))
        payload = json.loads(
            self._cipher.decrypt_str(row[1], table="drafts", column="payload", row_id=draft_id)
        )
        return int(row[0]), payload

    async def latest(
        self, q: Queryable, actor_id: int, kind: DraftKind, since: datetime
    ) -> tuple[int, dict[str, Any]] | None:
        """The actor's newest draft of `kind` begun after `since`."""
        row = await q.fetchone(
            "SELECT id, payload_enc FROM drafts WHERE actor_id = ? AND kind = ?"
            " AND created_at >= ? ORDER BY id DESC LIMIT 1",
            (actor_id, kind.value, to_db_time(since)),
        )
        if row is None:
            return None
        payload = json.loads(
            self._cipher.decrypt_str(row[1], table="drafts", column="payload", row_id=row[0])
        )
        return int(row[0]), payload

    async def update(self, tx: Transaction, draft_id: int, payload: dict[str, Any]) -> None:
        blob = self._cipher.encrypt(
            json.dumps(payload), table="drafts", column="payload", row_id=draft_id
        )
        await tx.execute("UPDATE drafts SET payload_enc = ? WHERE id = ?", (blob, draft_id))

    async def drop(self, tx: Transaction, actor_id: int, kind: DraftKind) -> None:
        await tx.execute(
            "DELETE FROM drafts WHERE actor_id = ? AND kind = ?", (actor_id, kind.value)
        )

    async def purge(self, tx: Transaction, now: datetime, older_than: timedelta) -> int:
        return await tx.execute(
            "DELETE FROM drafts WHERE created_at < ?", (to_db_time(now - older_than),)
        )


__all__ = ["DraftRepo", "Queryable"]
