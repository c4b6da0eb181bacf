"""The outbox table: durable, claimable delivery work. Payloads and chat ids are encrypted."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.domain.models import Button, Notice, OutboxItem, OutboxOp, OutboxState, Priority
from storage.crypto import FieldCipher
from storage.db import Transaction, from_db_time, to_db_time
from storage.people import Queryable

CHAT_PURPOSE = "chat"
_INSERT = (
    "INSERT INTO outbox (id, created_at, priority, op, chat_index, chat_enc, payload_enc,"
    " person_id, ref_id, dedupe_key, state, not_before, expires_at, about_id, erase_done)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)"
)


def _notice_to_json(notice: Notice) -> dict[str, Any]:
    return {
        "key": notice.key,
        "params": notice.params,
        "buttons": [[[b.key, b.data, b.params] for b in row] for row in notice.buttons],
        "protect": notice.protect,
        "lang": notice.lang,
        "media": notice.media,
        "silent": notice.silent,
    }


def _notice_from_json(data: dict[str, Any]) -> Notice:
    return Notice(
        key=data["key"],
        params=data["params"],
        buttons=tuple(tuple(Button(k, d, p) for k, d, p in row) for row in data["buttons"]),
        protect=data["protect"],
        lang=data["lang"],
        media=data.get("media"),
        silent=bool(data.get("silent")),
    )


@dataclass(frozen=True, slots=True)
class DueRow:
    """The clear-text columns of a due row: enough to decide whether to start it."""

    id: int
    op: OutboxOp
    chat_key: bytes
    ref_id: int | None
    ref_state: str | None
    ref_message_id: int | None
    expires_at: datetime | None


class OutboxRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def chat_key(self, chat_id: int) -> bytes:
        return self._cipher.blind_index(chat_id, purpose=CHAT_PURPOSE)

    async def add(
        self,
        tx: Transaction,
        *,
        op: OutboxOp,
        chat_id: int,
        priority: Priority,
        now: datetime,
        notice: Notice | None = None,
        target_message_id: int | None = None,
        ref_id: int | None = None,
        person_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
        about_id: int | None = None,
        erase_done: bool = False,
    ) -> int | None:
        """Queue one operation; None when `dedupe_key` was queued before.

        `about_id`: the person the content is about (storage/erasure.py); `erase_done`:
        delete the row as soon as it is finished."""
        if dedupe_key is not None:
            seen = await tx.fetchone("SELECT id FROM outbox WHERE dedupe_key = ?", (dedupe_key,))
            if seen is not None:
                return None
        row_id = await tx.next_id("outbox")
        await tx.execute(
            _INSERT,
            self._row(
                row_id,
                op=op,
                chat_id=chat_id,
                priority=priority,
                now=now,
                notice=notice,
                target_message_id=target_message_id,
                ref_id=ref_id,
                person_id=person_id,
                dedupe_key=dedupe_key,
                not_before=not_before,
                expires_at=expires_at,
                about_id=about_id,
                erase_done=erase_done,
            ),
        )
        return row_id

    async def add_sends(
        self,
        tx: Transaction,
        sends: list[tuple[int, Notice, int | None]],
        *,
        priority: Priority,
        now: datetime,
        expires_at: datetime | None = None,
        about_id: int | None = None,
    ) -> list[int]:
        """Queue one message each to many chats ((chat id, notice, person id)) at once."""
        ids = [await tx.next_id("outbox") for _ in sends]
        await tx.executemany(
            _INSERT,
            [
                self._row(
                    row_id,
                    op=OutboxOp.SEND,
                    chat_id=chat_id,
                    priority=priority,
                    now=now,
                    notice=notice,
                    person_id=person_id,
                    expires_at=expires_at,
                    about_id=about_id,
                )
                for row_id, (chat_id, notice, person_id) in zip(ids, sends, strict=True)
            ],
        )
        return ids

    def _row(
        self,
        row_id: int,
        *,
        op: OutboxOp,
        chat_id: int,
        priority: Priority,
        now: datetime,
        notice: Notice | None = None,
        target_message_id: int | None = None,
        ref_id: int | None = None,
        person_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        expires_at: datetime | None = None,
        about_id: int | None = None,
        erase_done: bool = False,
    ) -> tuple[Any, ...]:
        payload: dict[str, Any] = {}
        if notice is not None:
            payload["notice"] = _notice_to_json(notice)
        if target_message_id is not None:
            payload["message_id"] = target_message_id
        enc = self._cipher
        return (
            row_id,
            to_db_time(now),
            int(priority),
            op.value,
            self.chat_key(chat_id),
            enc.encrypt_int(chat_id, table="outbox", column="chat", row_id=row_id),
            enc.encrypt(json.dumps(payload), table="outbox", column="payload", row_id=row_id),
            person_id,
            ref_id,
            dedupe_key,
            to_db_time(not_before or now),
            to_db_time(expires_at) if expires_at else None,
            about_id,
            int(erase_done),
        )

    async def due(self, q: Queryable, now: datetime, limit: int) -> list[DueRow]:
        """Pending work whose time has come, most urgent first. Nothing is decrypted here:
        a pass looks at many rows and starts few, so only claimed rows are opened."""
        rows = await q.fetchall(
            "SELECT o.id, o.op, o.chat_index, o.ref_id, o.expires_at,"
            " r.state AS ref_state, r.message_id AS ref_message_id"
            " FROM outbox o LEFT JOIN outbox r ON r.id = o.ref_id"
            " WHERE o.state = 'pending' AND o.not_before <= ?"
            " ORDER BY o.priority, o.id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [
            DueRow(
                id=r["id"],
                op=OutboxOp(r["op"]),
                chat_key=bytes(r["chat_index"]),
                ref_id=r["ref_id"],
                ref_state=r["ref_state"],
                ref_message_id=r["ref_message_id"],
                expires_at=from_db_time(r["expires_at"]) if r["expires_at"] else None,
            )
            for r in rows
        ]

    async def load(self, q: Queryable, item_id: int) -> OutboxItem | None:
        row = await q.fetchone("SELECT * FROM outbox WHERE id = ?", (item_id,))
        return self._decode(row) if row else None

    async def next_due_at(self, q: Queryable) -> datetime | None:
        row = await q.fetchone("SELECT MIN(not_before) FROM outbox WHERE state = 'pending'")
        return from_db_time(row[0]) if row and row[0] else None

    async def claim(self, tx: Transaction, item_id: int, lease_until: datetime) -> bool:
        """Take the row for one attempt; False if another pass already has it."""
        changed = await tx.execute(
            "UPDATE outbox SET state = 'sending', lease_until = ?, attempts = attempts + 1"
            " WHERE id = ? AND state = 'pending'",
            (to_db_time(lease_until), item_id),
        )
        return changed == 1

    async def mark_sent(
        self, tx: Transaction, item_id: int, now: datetime, message_id: int | None
    ) -> None:
        await tx.execute(
            "UPDATE outbox SET state = 'sent', sent_at = ?, message_id = ?, lease_until = NULL,"
            " last_error = NULL WHERE id = ?",
            (to_db_time(now), message_id, item_id),
        )

    async def mark_retry(
        self, tx: Transaction, item_id: int, not_before: datetime, error: str
    ) -> None:
        await tx.execute(
            "UPDATE outbox SET state = 'pending', not_before = ?, lease_until = NULL,"
            " last_error = ? WHERE id = ?",
            (to_db_time(not_before), error, item_id),
        )

    async def mark_final(
        self, tx: Transaction, item_id: int, state: OutboxState, error: str
    ) -> None:
        await tx.execute(
            "UPDATE outbox SET state = ?, lease_until = NULL, last_error = ? WHERE id = ?",
            (state.value, error, item_id),
        )

    async def release_leases(self, tx: Transaction, now: datetime, *, all_: bool = False) -> int:
        """Return abandoned attempts to the queue (after a crash, or leases past due)."""
        if all_:
            return await tx.execute(
                "UPDATE outbox SET state = 'pending', lease_until = NULL WHERE state = 'sending'"
            )
        return await tx.execute(
            "UPDATE outbox SET state = 'pending', lease_until = NULL"
            " WHERE state = 'sending' AND lease_until < ?",
            (to_db_time(now),),
        )

    async def person_of(self, q: Queryable, item_id: int) -> int | None:
        row = await q.fetchone("SELECT person_id FROM outbox WHERE id = ?", (item_id,))
        return int(row[0]) if row and row[0] is not None else None

    async def state_of(self, q: Queryable, item_id: int) -> tuple[OutboxState, int | None] | None:
        row = await q.fetchone("SELECT state, message_id FROM outbox WHERE id = ?", (item_id,))
        return (OutboxState(row["state"]), row["message_id"]) if row else None

    async def sweep_erased(self, tx: Transaction) -> int:
        """Delete finished rows marked `erase_done` that nothing still waiting refers to."""
        return await tx.execute(
            "DELETE FROM outbox WHERE erase_done = 1 AND state IN ('sent', 'failed', 'expired')"
            " AND id NOT IN (SELECT ref_id FROM outbox WHERE ref_id IS NOT NULL AND state IN"
            " ('pending', 'sending'))"
        )

    async def purge_finished(self, tx: Transaction, before: datetime) -> int:
        """Drop finished rows nothing refers to any more: delivered text does not linger."""
        return await tx.execute(
            "DELETE FROM outbox WHERE state IN ('sent', 'failed', 'expired') AND created_at < ?"
            " AND id NOT IN (SELECT ref_id FROM outbox WHERE ref_id IS NOT NULL AND state IN"
            " ('pending', 'sending'))",
            (to_db_time(before),),
        )

    def _decode(self, row: sqlite3.Row) -> OutboxItem:
        rid = row["id"]
        payload = json.loads(
            self._cipher.decrypt_str(
                row["payload_enc"], table="outbox", column="payload", row_id=rid
            )
        )
        return OutboxItem(
            id=rid,
            op=OutboxOp(row["op"]),
            priority=Priority(row["priority"]),
            chat_id=self._cipher.decrypt_int(
                row["chat_enc"], table="outbox", column="chat", row_id=rid
            ),
            chat_key=bytes(row["chat_index"]),
            notice=_notice_from_json(payload["notice"]) if "notice" in payload else None,
            target_message_id=payload.get("message_id"),
            ref_id=row["ref_id"],
            person_id=row["person_id"],
            attempts=row["attempts"],
            not_before=from_db_time(row["not_before"]),
            expires_at=from_db_time(row["expires_at"]) if row["expires_at"] else None,
            erase_done=bool(row["erase_done"]),
        )
