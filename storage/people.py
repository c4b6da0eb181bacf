"""People and their roles. Names, languages and Telegram ids are stored encrypted."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Protocol

from bot.domain.models import Person, Role
from storage.crypto import FieldCipher
from storage.db import Params, Transaction, from_db_time, to_db_time

TELEGRAM_PURPOSE = "telegram_user"


class Queryable(Protocol):
    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None: ...
    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]: ...


class PeopleRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    def telegram_index(self, telegram_id: int) -> bytes:
        return self._cipher.blind_index(telegram_id, purpose=TELEGRAM_PURPOSE)

    async def find_by_telegram(self, q: Queryable, telegram_id: int) -> Person | None:
        row = await q.fetchone(
            "SELECT * FROM people WHERE tg_index = ?", (self.telegram_index(telegram_id),)
        )
        return await self._person(q, row) if row else None

    async def get(self, q: Queryable, person_id: int) -> Person | None:
        row = await q.fetchone("SELECT * FROM people WHERE id = ?", (person_id,))
        return await self._person(q, row) if row else None

    async def list_all(self, q: Queryable) -> list[Person]:
        rows = await q.fetchall("SELECT * FROM people ORDER BY id")
        roles = await self._roles_by_person(q)
        return [self._decode(row, roles.get(row["id"], frozenset())) for row in rows]

    async def staff(self, q: Queryable) -> list[Person]:
        """Responders and coordinators only: who can be paged (contacts stay encrypted)."""
        rows = await q.fetchall(
            "SELECT * FROM people WHERE id IN (SELECT person_id FROM person_roles"
            " WHERE role IN ('responder', 'coordinator')) ORDER BY id"
        )
        roles = await self._roles_by_person(q)
        return [self._decode(row, roles.get(row["id"], frozenset())) for row in rows]

    async def count_with_role(self, q: Queryable, role: Role) -> int:
        row = await q.fetchone("SELECT COUNT(*) FROM person_roles WHERE role = ?", (role.value,))
        return int(row[0]) if row else 0

    async def create(
        self, tx: Transaction, *, telegram_id: int, name: str, lang: str, role: Role, now: datetime
    ) -> Person:
        # The row id is bound into each ciphertext: it is taken before the values.
        person_id = await tx.next_id("people")
        enc = self._cipher
        await tx.insert_row(
            "people",
            person_id,
            {
                "tg_index": self.telegram_index(telegram_id),
                "tg_id_enc": enc.encrypt_int(
                    telegram_id, table="people", column="tg_id", row_id=person_id
                ),
                "name_enc": enc.encrypt(name, table="people", column="name", row_id=person_id),
                "lang_enc": enc.encrypt(lang, table="people", column="lang", row_id=person_id),
                "created_at": to_db_time(now),
            },
        )
        await self.add_role(tx, person_id, role, now)
        return Person(person_id, telegram_id, name, lang, frozenset({role}), now)

    async def add_role(self, tx: Transaction, person_id: int, role: Role, now: datetime) -> None:
        await tx.execute(
            "INSERT INTO person_roles (person_id, role, granted_at) VALUES (?, ?, ?)"
            " ON CONFLICT DO NOTHING",
            (person_id, role.value, to_db_time(now)),
        )

    async def set_unreachable(self, tx: Transaction, person_id: int, now: datetime | None) -> bool:
        """Mark (now) or clear (None) that pages to this person fail for good."""
        if now is None:
            changed = await tx.execute(
                "UPDATE people SET unreachable_at = NULL"
                " WHERE id = ? AND unreachable_at IS NOT NULL",
                (person_id,),
            )
        else:
            changed = await tx.execute(
                "UPDATE people SET unreachable_at = ? WHERE id = ? AND unreachable_at IS NULL",
                (to_db_time(now), person_id),
            )
        return changed == 1

    async def set_lang(self, tx: Transaction, person_id: int, lang: str) -> None:
        blob = self._cipher.encrypt(lang, table="people", column="lang", row_id=person_id)
        await tx.execute("UPDATE people SET lang_enc = ? WHERE id = ?", (blob, person_id))

    async def set_tz(self, tx: Transaction, person_id: int, tz: str) -> None:
        blob = self._cipher.encrypt(tz, table="people", column="tz", row_id=person_id)
        await tx.execute("UPDATE people SET tz_enc = ? WHERE id = ?", (blob, person_id))

    async def set_remind_minutes(self, tx: Transaction, person_id: int, minutes: int) -> None:
        await tx.execute("UPDATE people SET remind_minutes = ? WHERE id = ?", (minutes, person_id))

    async def set_policy(self, tx: Transaction, person_id: int, policy_id: int | None) -> None:
        await tx.execute("UPDATE people SET policy_id = ? WHERE id = ?", (policy_id, person_id))

    async def delete(self, tx: Transaction, person_id: int) -> bool:
        """Delete the person and, through foreign keys, everything that hangs on them."""
        return await tx.execute("DELETE FROM people WHERE id = ?", (person_id,)) == 1

    async def _roles_by_person(self, q: Queryable) -> dict[int, frozenset[Role]]:
        rows = await q.fetchall("SELECT person_id, role FROM person_roles")
        acc: dict[int, set[Role]] = {}
        for row in rows:
            acc.setdefault(row["person_id"], set()).add(Role(row["role"]))
        return {pid: frozenset(r) for pid, r in acc.items()}

    async def _person(self, q: Queryable, row: sqlite3.Row) -> Person:
        rows = await q.fetchall("SELECT role FROM person_roles WHERE person_id = ?", (row["id"],))
        return self._decode(row, frozenset(Role(r["role"]) for r in rows))

    def _decode(self, row: sqlite3.Row, roles: frozenset[Role]) -> Person:
        pid = row["id"]
        dec = self._cipher
        return Person(
            id=pid,
            telegram_id=dec.decrypt_int(
                row["tg_id_enc"], table="people", column="tg_id", row_id=pid
            ),
            name=dec.decrypt_str(row["name_enc"], table="people", column="name", row_id=pid),
            lang=dec.decrypt_str(row["lang_enc"], table="people", column="lang", row_id=pid),
            roles=roles,
            created_at=from_db_time(row["created_at"]),
            unreachable=row["unreachable_at"] is not None,
            tz=(
                dec.decrypt_str(row["tz_enc"], table="people", column="tz", row_id=pid)
                if row["tz_enc"] is not None
                else "UTC"
            ),
            remind_minutes=row["remind_minutes"],
            policy_id=row["policy_id"],
        )
