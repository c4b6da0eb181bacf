"""Group chats the bot was added to by a coordinator: a policy step can page one."""

from __future__ import annotations

import sqlite3
from datetime import datetime

from bot.domain.models import GroupChat
from storage.crypto import FieldCipher
from storage.db import Transaction, to_db_time
from storage.people import Queryable

GROUP_PURPOSE = "group_chat"


class GroupRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def _index(self, chat_id: int) -> bytes:
        return self._cipher.blind_index(chat_id, purpose=GROUP_PURPOSE)

    async def add(self, tx: Transaction, chat_id: int, title: str, now: datetime) -> GroupChat:
        found = await self.by_chat(tx, chat_id)
        if found is not None:
            return found
        gid = await tx.next_id("group_chats")
        enc = self._cipher
        await tx.insert_row(
            "group_chats",
            gid,
            {
                "chat_index": self._index(chat_id),
                "chat_enc": enc.encrypt_int(
                    chat_id, table="group_chats", column="chat", row_id=gid
                ),
                "title_enc": enc.encrypt(title, table="group_chats", column="title", row_id=gid),
                "added_at": to_db_time(now),
            },
        )
        return GroupChat(gid, chat_id, title)

    async def remove(self, tx: Transaction, chat_id: int) -> bool:
        return (
            await tx.execute(
                "DELETE FROM group_chats WHERE chat_index = ?", (self._index(chat_id),)
            )
            == 1
        )

    async def by_chat(self, q: Queryable, chat_id: int) -> GroupChat | None:
        row = await q.fetchone(
            "SELECT * FROM group_chats WHERE chat_index = ?", (self._index(chat_id),)
        )
        return self._decode(row) if row else None

    async def all(self, q: Queryable) -> list[GroupChat]:
        return [self._decode(r) for r in await q.fetchall("SELECT * FROM group_chats ORDER BY id")]

    def _decode(self, row: sqlite3.Row) -> GroupChat:
        gid = row["id"]
        return GroupChat(
            gid,
            self._cipher.decrypt_int(
                row["chat_enc"], table="group_chats", column="chat", row_id=gid
            ),
            self._cipher.decrypt_str(
                row["title_enc"], table="group_chats", column="title", row_id=gid
            ),
        )
