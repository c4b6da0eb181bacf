"""Re-encrypting every stored value under the key ring's current key, in batches.

Each batch is its own transaction, and a value already under the current key is left
alone, so an interrupted rotation is finished by running it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from storage.crypto import FieldCipher
from storage.db import Database

# (table, column in the database, column name bound into the ciphertext).
# tests/unit/test_storage.py checks that every *_enc column in the schema is listed here.
ENCRYPTED_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("people", "tg_id_enc", "tg_id"),
    ("people", "name_enc", "name"),
    ("people", "lang_enc", "lang"),
    ("invitations", "name_enc", "name"),
    ("audit_log", "detail_enc", "detail"),
    ("outbox", "chat_enc", "chat"),
    ("outbox", "payload_enc", "payload"),
    ("alerts", "body_enc", "body"),
    ("alerts", "location_enc", "location"),
    ("alerts", "resolution_enc", "resolution"),
    ("alert_events", "detail_enc", "detail"),
    ("people", "tz_enc", "tz"),
    ("group_chats", "chat_enc", "chat"),
    ("group_chats", "title_enc", "title"),
    ("drafts", "payload_enc", "payload"),
    ("alerts", "detail_enc", "detail"),
    ("checkins", "state_enc", "state"),
    ("checkins", "secrets_enc", "secrets"),
    ("checkin_events", "detail_enc", "detail"),
    ("invitations", "lang_enc", "lang"),
    ("case_files", "data_enc", "data"),
)


@dataclass(frozen=True, slots=True)
class RotationReport:
    examined: int
    rewritten: int


async def count_stale(db: Database, cipher: FieldCipher) -> int:
    """How many stored values are not under the current key."""
    stale = 0
    for table, column, _ in ENCRYPTED_COLUMNS:
        rows = await db.fetchall(
            f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608 - fixed names
        )
        stale += sum(1 for r in rows if r[0] and not cipher.is_current(bytes(r[0])))
    return stale


async def reencrypt_all(db: Database, cipher: FieldCipher, *, batch: int = 500) -> RotationReport:
    examined = rewritten = 0
    for table, column, bound in ENCRYPTED_COLUMNS:
        last_id = 0
        while True:
            async with db.transaction() as tx:
                rows = await tx.fetchall(
                    f"SELECT id, {column} FROM {table} WHERE id > ? AND {column} IS NOT NULL"  # noqa: S608
                    " ORDER BY id LIMIT ?",
                    (last_id, batch),
                )
                for row in rows:
                    examined += 1
                    blob = bytes(row[1])
                    if not blob or cipher.is_current(blob):
                        continue
                    fresh = cipher.reencrypt(blob, table=table, column=bound, row_id=row[0])
                    await tx.execute(
                        f"UPDATE {table} SET {column} = ? WHERE id = ?",  # noqa: S608
                        (fresh, row[0]),
                    )
                    rewritten += 1
            if not rows:
                break
            last_id = rows[-1][0]
    return RotationReport(examined, rewritten)
