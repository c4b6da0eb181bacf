"""Which keys the data was written with, and a refusal to run on any others.

A key ring that cannot read the database is the worst way to fail: the bot would run,
take every contact for a stranger, swallow their panic, and write new rows under keys
that the old ones cannot be mixed with. So the database records a *check value* for
every key it has been used with (`key_checks`, migration 0005): HMAC-SHA256 of a fixed
label under the key, cut to 16 bytes. It tells the right key from a wrong one and says
nothing about the key itself. Every command that opens the data compares the ring
against it first and stops with one line saying what to restore.

A database from before the checks existed is verified once the slow way (one value
decrypted per key id in use, and one blind index recomputed), then recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import struct
from dataclasses import dataclass
from datetime import datetime

from bot.domain.errors import CryptoError, KeyRingError
from storage.crypto import FieldCipher
from storage.db import Database, Transaction, to_db_time
from storage.keyring import KeyRing
from storage.people import TELEGRAM_PURPOSE
from storage.reencrypt import ENCRYPTED_COLUMNS

INDEX_KEY_ID = 0  # the row for the blind-index key; encryption keys are numbered from 1
CHECK_BYTES = 16
_LABEL = b"nabat/key-check/v1"


def check_value(key: bytes) -> bytes:
    """A value that identifies `key` without revealing it."""
    return hmac.new(key, _LABEL, hashlib.sha256).digest()[:CHECK_BYTES]


@dataclass(frozen=True, slots=True)
class Verified:
    recorded: tuple[int, ...]  # key ids recorded just now (a new ring, or after rotate-key)
    forgotten: tuple[int, ...]  # recorded keys the ring dropped after nothing used them


async def holds_data(db: Database) -> bool:
    """True once anything was written with a key: then only the right ring may open it."""
    if await db.fetchone("SELECT 1 FROM key_checks LIMIT 1") is not None:
        return True
    for table, column, _ in ENCRYPTED_COLUMNS:
        found = await db.fetchone(
            f"SELECT 1 FROM {table} WHERE {column} IS NOT NULL LIMIT 1"  # noqa: S608 - fixed names
        )
        if found is not None:
            return True
    return False


async def verify_ring(db: Database, ring: KeyRing, now: datetime, *, source: str) -> Verified:
    """Raise KeyRingError unless `ring` holds every key the stored data needs, unchanged.

    Then record the check values of the ring's keys that are new to the database.
    `source` names where the ring came from, for the message.
    """
    async with db.transaction() as tx:
        recorded = {
            int(r["key_id"]): bytes(r["check_value"])
            for r in await tx.fetchall("SELECT key_id, check_value FROM key_checks")
        }
        if not recorded:
            await _verify_unrecorded(tx, ring, source, db)
        forgotten: list[int] = []
        # Encryption keys first: "key 1 is not the key" says more than "the index key".
        for key_id, value in sorted(
            recorded.items(), key=lambda kv: (kv[0] == INDEX_KEY_ID, kv[0])
        ):
            if key_id == INDEX_KEY_ID:
                if not hmac.compare_digest(value, check_value(ring.index_key)):
                    raise _refusal(source, db, _INDEX_DIFFERS)
                continue
            key = ring.keys.get(key_id)
            if key is None:
                used = await _values_under(tx, key_id)
                if used:
                    raise _refusal(source, db, _lacks(key_id, used))
                # Dropped after `rotate-key` re-encrypted everything: nothing needs it now.
                await tx.execute("DELETE FROM key_checks WHERE key_id = ?", (key_id,))
                forgotten.append(key_id)
            elif not hmac.compare_digest(value, check_value(key)):
                raise _refusal(source, db, _differs(key_id))
        wanted = {INDEX_KEY_ID: ring.index_key, **ring.keys}
        new = sorted(k for k in wanted if k not in recorded)
        for key_id in new:
            await tx.execute(
                "INSERT INTO key_checks (key_id, check_value, recorded_at) VALUES (?, ?, ?)",
                (key_id, check_value(wanted[key_id]), to_db_time(now)),
            )
    return Verified(tuple(new), tuple(forgotten))


async def _verify_unrecorded(tx: Transaction, ring: KeyRing, source: str, db: Database) -> None:
    """A database written before key checks existed (or an empty one): read a value per
    key id in use, and recompute one blind index."""
    cipher = FieldCipher(ring)
    for table, column, bound in ENCRYPTED_COLUMNS:
        rows = await tx.fetchall(
            f"SELECT DISTINCT substr({column}, 2, 4) FROM {table}"  # noqa: S608 - fixed names
            f" WHERE {column} IS NOT NULL"
        )
        for (raw,) in rows:
            header = bytes(raw)
            if len(header) != 4:
                continue  # too short to be a value; the cipher reports it when it is read
            (key_id,) = struct.unpack(">I", header)
            if key_id not in ring.keys:
                used = await _values_under(tx, key_id)
                raise _refusal(source, db, _lacks(key_id, used))
            sample = await tx.fetchone(
                f"SELECT id, {column} FROM {table} WHERE substr({column}, 2, 4) = ?"  # noqa: S608
                " LIMIT 1",
                (header,),
            )
            if sample is None:
                continue
            try:
                cipher.decrypt(bytes(sample[1]), table=table, column=bound, row_id=sample[0])
            except CryptoError:
                raise _refusal(source, db, _differs(key_id)) from None
    person = await tx.fetchone("SELECT id, tg_index, tg_id_enc FROM people LIMIT 1")
    if person is not None:
        tg_id = cipher.decrypt_int(
            bytes(person["tg_id_enc"]), table="people", column="tg_id", row_id=person["id"]
        )
        index = cipher.blind_index(tg_id, purpose=TELEGRAM_PURPOSE)
        if not hmac.compare_digest(index, bytes(person["tg_index"])):
            raise _refusal(source, db, _INDEX_DIFFERS)


async def _values_under(tx: Transaction, key_id: int) -> int:
    header = struct.pack(">I", key_id)
    count = 0
    for table, column, _ in ENCRYPTED_COLUMNS:
        row = await tx.fetchone(
            f"SELECT COUNT(*) FROM {table} WHERE substr({column}, 2, 4) = ?",  # noqa: S608
            (header,),
        )
        count += int(row[0]) if row else 0
    return count


_INDEX_DIFFERS = "its index key is not the one the data was indexed with"


def _lacks(key_id: int, used: int) -> str:
    return f"it lacks key {key_id}, which {used} stored values were written with"


def _differs(key_id: int) -> str:
    return f"its key {key_id} is not the key {key_id} the data was written with"


def _refusal(source: str, db: Database, problem: str) -> KeyRingError:
    return KeyRingError(
        f"{source} cannot read the database {db.path.resolve()}: {problem}. Restore the "
        "key ring from your backup (one made after the last `nabat rotate-key`) and point "
        "NABAT_KEYS_FILE (or NABAT_KEYS) at it; without it the data cannot be read, by design."
    )
