"""Case files: one encrypted JSON value per contact (bot/domain/casefile.py).

Only the row's existence, its version and when it last changed are in the clear. A case
file emptied is kept as an empty value rather than deleted, so its version only ever
rises and a preview made before another coordinator's change is recognised as stale.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from bot.domain.casefile import CaseFile
from storage.crypto import FieldCipher
from storage.db import Transaction, to_db_time
from storage.people import Queryable


@dataclass(frozen=True, slots=True)
class CaseFileRow:
    person_id: int
    case: CaseFile
    version: int


class CaseFileRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    async def get(self, q: Queryable, person_id: int) -> CaseFile | None:
        """The contact's case file; None if none was ever saved."""
        row = await self.row(q, person_id)
        return row.case if row else None

    async def row(self, q: Queryable, person_id: int) -> CaseFileRow | None:
        found = await q.fetchone(
            "SELECT id, data_enc, version FROM case_files WHERE person_id = ?", (person_id,)
        )
        if found is None:
            return None
        return CaseFileRow(person_id, self._decode(found[0], found[1]), int(found[2]))

    async def filled(self, q: Queryable, person_id: int) -> bool:
        """Whether the contact has a case file with anything in it."""
        case = await self.get(q, person_id)
        return case is not None and not case.empty

    async def all(self, q: Queryable) -> list[CaseFileRow]:
        """Every stored case file, by contact."""
        rows = await q.fetchall(
            "SELECT id, person_id, data_enc, version FROM case_files ORDER BY person_id"
        )
        return [CaseFileRow(int(r[1]), self._decode(r[0], r[2]), int(r[3])) for r in rows]

    async def save(
        self,
        tx: Transaction,
        person_id: int,
        case: CaseFile,
        now: datetime,
        *,
        version: int | None = None,
    ) -> bool:
        """Insert or update the contact's case file. With `version` (the one a preview was
        made from; -1: there was none), only if the stored one is still that: False if
        someone saved another meanwhile, and nothing is written."""
        found = await tx.fetchone(
            "SELECT id, version FROM case_files WHERE person_id = ?", (person_id,)
        )
        if found is None:
            if version is not None and version != -1:
                return False
            row_id = await tx.next_id("case_files")
            await tx.insert_row(
                "case_files",
                row_id,
                {
                    "person_id": person_id,
                    "data_enc": self._encode(case, row_id),
                    "updated_at": to_db_time(now),
                },
            )
            return True
        row_id = int(found[0])
        if version is not None and version != int(found[1]):
            return False
        await tx.execute(
            "UPDATE case_files SET data_enc = ?, version = version + 1, updated_at = ?"
            " WHERE id = ?",
            (self._encode(case, row_id), to_db_time(now), row_id),
        )
        return True

    async def delete(self, tx: Transaction, person_id: int) -> int:
        """Forget the contact's case file (removal deletes it with the person's row)."""
        return await tx.execute("DELETE FROM case_files WHERE person_id = ?", (person_id,))

    def _encode(self, case: CaseFile, row_id: int) -> bytes:
        return self._cipher.encrypt(
            json.dumps(case.to_dict(), ensure_ascii=False, sort_keys=True),
            table="case_files",
            column="data",
            row_id=row_id,
        )

    def _decode(self, row_id: int, blob: bytes) -> CaseFile:
        text = self._cipher.decrypt_str(
            bytes(blob), table="case_files", column="data", row_id=row_id
        )
        return CaseFile.from_dict(json.loads(text))
