"""Invitations: single-use tokens stored only as keyed hashes."""

from __future__ import annotations

import secrets
import sqlite3
from datetime import datetime

from bot.domain.models import Invitation, Role
from storage.crypto import FieldCipher
from storage.db import Transaction, from_db_time, to_db_time
from storage.people import Queryable

TOKEN_PURPOSE = "invitation"  # noqa: S105 - a label, not a secret
# 24 random bytes = 192 bits, as 32 URL-safe characters: within Telegram's 64-character
# limit for deep-link start parameters, and far past guessing.
TOKEN_BYTES = 24


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(text: str) -> bool:
    # isascii(): str.isalnum() is also True for 'é' and '²', never in a token we make.
    return len(text) == 32 and text.isascii() and all(c.isalnum() or c in "-_" for c in text)


class InvitationRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def token_index(self, token: str) -> bytes:
        return self._cipher.blind_index(token, purpose=TOKEN_PURPOSE)

    async def create(
        self,
        tx: Transaction,
        *,
        role: Role,
        name: str | None,
        created_by: int | None,
        now: datetime,
        expires_at: datetime,
        lang: str | None = None,
    ) -> tuple[str, Invitation]:
        token = new_token()
        inv_id = await tx.insert_new(
            "invitations",
            {
                "token_index": self.token_index(token),
                "role": role.value,
                "created_by": created_by,
                "created_at": to_db_time(now),
                "expires_at": to_db_time(expires_at),
            },
        )
        if name is not None:
            await tx.execute(
                "UPDATE invitations SET name_enc = ? WHERE id = ?",
                (
                    self._cipher.encrypt(name, table="invitations", column="name", row_id=inv_id),
                    inv_id,
                ),
            )
        if lang is not None:
            await tx.execute(
                "UPDATE invitations SET lang_enc = ? WHERE id = ?",
                (
                    self._cipher.encrypt(lang, table="invitations", column="lang", row_id=inv_id),
                    inv_id,
                ),
            )
        return token, Invitation(inv_id, role, name, created_by, now, expires_at, None, None, lang)

    async def find_by_token(self, q: Queryable, token: str) -> Invitation | None:
        row = await q.fetchone(
            "SELECT * FROM invitations WHERE token_index = ?", (self.token_index(token),)
        )
        return self._decode(row) if row else None

    async def mark_used(self, tx: Transaction, inv_id: int, person_id: int, now: datetime) -> bool:
        """Claim the invitation; False if someone else used it first."""
        changed = await tx.execute(
            "UPDATE invitations SET used_at = ?, used_by = ? WHERE id = ? AND used_at IS NULL",
            (to_db_time(now), person_id, inv_id),
        )
        return changed == 1

    async def purge_expired(self, tx: Transaction, before: datetime) -> int:
        """Unused invitations past their expiry carry a name and nothing else: drop them."""
        return await tx.execute(
            "DELETE FROM invitations WHERE used_at IS NULL AND expires_at < ?",
            (to_db_time(before),),
        )

    def _decode(self, row: sqlite3.Row) -> Invitation:
        name = (
            self._cipher.decrypt_str(
                row["name_enc"], table="invitations", column="name", row_id=row["id"]
            )
            if row["name_enc"] is not None
            else None
        )
        return Invitation(
            id=row["id"],
            role=Role(row["role"]),
            name=name,
            created_by=row["created_by"],
            created_at=from_db_time(row["created_at"]),
            expires_at=from_db_time(row["expires_at"]),
            used_at=from_db_time(row["used_at"]) if row["used_at"] else None,
            used_by=row["used_by"],
            lang=self._cipher.decrypt_str(
                row["lang_enc"], table="invitations", column="lang", row_id=row["id"]
            )
            if row["lang_enc"] is not None
            else None,
        )
