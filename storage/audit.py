"""The audit log: who did what, when. Details that name people are encrypted."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from storage.crypto import FieldCipher
from storage.db import Transaction, to_db_time


class AuditRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    async def record(
        self,
        tx: Transaction,
        *,
        actor_id: int | None,
        action: str,
        now: datetime,
        detail: dict[str, Any] | None = None,
    ) -> int:
        entry_id = await tx.insert(
            "INSERT INTO audit_log (at, actor_id, action) VALUES (?, ?, ?)",
            (to_db_time(now), actor_id, action),
        )
        if detail:
            blob = self._cipher.encrypt(
                json.dumps(detail, sort_keys=True),
                table="audit_log",
                column="detail",
                row_id=entry_id,
            )
            await tx.execute("UPDATE audit_log SET detail_enc = ? WHERE id = ?", (blob, entry_id))
        return entry_id
