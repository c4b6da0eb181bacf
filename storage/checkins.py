"""Check-in rows: each contact's Watch (encrypted), their PIN hashes, and the check-in log.

Only `wake_at`, the time the tick must next look at the row, is stored in the clear; the
schedule, the state and every other time are one encrypted JSON value, so a copied
database does not show anyone's routine.

PINs: a safe PIN and a duress PIN are stored as two keyed hashes (HMAC under the index
key, which never rotates) in random order inside one encrypted value. The hash input
says which PIN it is, so verifying a typed PIN tells the two apart, but nothing stored
does: the two hashes look alike and their order is random. A duress word is stored the
same way, one hash.
"""

from __future__ import annotations

import enum
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from bot.domain.checkin import Cycle, Kind, Quiet, Schedule, State, Watch
from storage.crypto import FieldCipher
from storage.db import Transaction, from_db_time, to_db_time
from storage.people import Queryable

SEALED = "event"  # checkin_events.kind in the clear: the real kind is encrypted
KIND, AT = "_kind", "_at"


def _day(now: datetime) -> str:
    """A date without the time of day (the clear columns may not show a routine)."""
    return to_db_time(now.replace(hour=0, minute=0, second=0, microsecond=0))


class PinMatch(enum.Enum):
    SAFE = "safe"
    DURESS = "duress"
    WRONG = "wrong"


@dataclass(frozen=True, slots=True)
class Secrets:
    pins: tuple[bytes, bytes] | None = None
    word: bytes | None = None


@dataclass(frozen=True, slots=True)
class CheckinRow:
    person_id: int
    watch: Watch
    version: int
    alert_id: int | None
    secrets: Secrets


@dataclass(frozen=True, slots=True)
class CheckinEvent:
    id: int
    person_id: int
    at: datetime
    kind: str
    actor_id: int | None
    detail: dict[str, Any]


class CheckinRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    # -- rows ----------------------------------------------------------------------------

    async def get(self, q: Queryable, person_id: int, tz: str) -> CheckinRow | None:
        row = await q.fetchone("SELECT * FROM checkins WHERE person_id = ?", (person_id,))
        return self._decode(row, tz) if row else None

    async def due(self, q: Queryable, now: datetime, limit: int = 500) -> list[int]:
        """The people whose rows have something due at `now`, oldest first."""
        rows = await q.fetchall(
            "SELECT person_id FROM checkins WHERE wake_at IS NOT NULL AND wake_at <= ?"
            " ORDER BY wake_at, id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [int(r[0]) for r in rows]

    async def next_wake(self, q: Queryable) -> datetime | None:
        row = await q.fetchone("SELECT MIN(wake_at) FROM checkins WHERE wake_at IS NOT NULL")
        return from_db_time(row[0]) if row and row[0] else None

    async def all(self, q: Queryable) -> list[tuple[int, int]]:
        """(person id, version) of every row, by person."""
        rows = await q.fetchall("SELECT person_id, version FROM checkins ORDER BY person_id")
        return [(int(r[0]), int(r[1])) for r in rows]

    async def save(
        self,
        tx: Transaction,
        person_id: int,
        watch: Watch,
        now: datetime,
        *,
        version: int | None,
    ) -> bool:
        """Write `watch`: a new row when `version` is None, else claim the row at that
        version (False when someone else changed it first: act on nothing)."""
        wake = watch.wake_at(now)
        if version is None:
            row_id = await tx.next_id("checkins")
            await tx.insert_row(
                "checkins",
                row_id,
                {
                    "person_id": person_id,
                    "wake_at": to_db_time(wake) if wake else None,
                    "state_enc": self._enc_state(watch, row_id),
                    "updated_at": _day(now),
                },
            )
            return True
        row = await tx.fetchone("SELECT id FROM checkins WHERE person_id = ?", (person_id,))
        if row is None:
            return False
        row_id = int(row[0])
        changed = await tx.execute(
            "UPDATE checkins SET state_enc = ?, wake_at = ?, version = version + 1,"
            " updated_at = ? WHERE id = ? AND version = ?",
            (
                self._enc_state(watch, row_id),
                to_db_time(wake) if wake else None,
                _day(now),
                row_id,
                version,
            ),
        )
        return changed == 1

    async def postpone(self, tx: Transaction, person_id: int, until: datetime) -> None:
        await tx.execute(
            "UPDATE checkins SET wake_at = ? WHERE person_id = ?", (to_db_time(until), person_id)
        )

    async def set_alert(self, tx: Transaction, person_id: int, alert_id: int | None) -> None:
        await tx.execute(
            "UPDATE checkins SET alert_id = ? WHERE person_id = ?", (alert_id, person_id)
        )

    async def ensure(self, tx: Transaction, person_id: int, tz: str, now: datetime) -> CheckinRow:
        """The person's row, created empty (no schedule) if they have none yet."""
        found = await self.get(tx, person_id, tz)
        if found is not None:
            return found
        await self.save(tx, person_id, Watch(tz), now, version=None)
        made = await self.get(tx, person_id, tz)
        assert made is not None
        return made

    # -- secrets -------------------------------------------------------------------------

    def pin_hash(self, person_id: int, pin: str, *, duress: bool) -> bytes:
        return self._pin_hash(person_id, pin, "duress" if duress else "safe")

    async def set_pins(self, tx: Transaction, person_id: int, safe: bytes, duress: bytes) -> None:
        """Store the two hashes (from `pin_hash`), in random order."""
        hashes = [safe, duress]
        # Random order: which of the two is the duress PIN is not in the data.
        if secrets.randbelow(2):
            hashes.reverse()
        await self._write_secrets(tx, person_id, pins=(hashes[0], hashes[1]), keep_word=True)

    async def clear_pins(self, tx: Transaction, person_id: int) -> None:
        await self._write_secrets(tx, person_id, pins=None, keep_word=True)

    async def set_word(self, tx: Transaction, person_id: int, word: str | None) -> None:
        hashed = self._word_hash(person_id, word) if word else None
        await self._write_secrets(tx, person_id, word=hashed, keep_pins=True)

    def match_pin(self, person_id: int, held: Secrets, typed: str) -> PinMatch:
        if held.pins is None:
            return PinMatch.WRONG
        safe = self._pin_hash(person_id, typed, "safe")
        duress = self._pin_hash(person_id, typed, "duress")
        found = PinMatch.WRONG
        # Compare against both stored hashes every time, in constant time.
        for stored in held.pins:
            if hmac.compare_digest(stored, safe):
                found = PinMatch.SAFE
            if hmac.compare_digest(stored, duress):
                found = PinMatch.DURESS
        return found

    def has_word(self, person_id: int, held: Secrets, words: list[str]) -> bool:
        if held.word is None:
            return False
        hit = False
        for word in words:
            hit |= hmac.compare_digest(held.word, self._word_hash(person_id, word))
        return hit

    def _pin_hash(self, person_id: int, pin: str, which: str) -> bytes:
        return self._cipher.blind_index(f"{person_id}:{pin}", purpose=f"checkin.pin.{which}")

    def _word_hash(self, person_id: int, word: str) -> bytes:
        return self._cipher.blind_index(
            f"{person_id}:{word.casefold()}", purpose="checkin.duress_word"
        )

    async def _write_secrets(
        self,
        tx: Transaction,
        person_id: int,
        *,
        pins: tuple[bytes, bytes] | None = None,
        word: bytes | None = None,
        keep_pins: bool = False,
        keep_word: bool = False,
    ) -> None:
        row = await tx.fetchone(
            "SELECT id, secrets_enc FROM checkins WHERE person_id = ?", (person_id,)
        )
        assert row is not None, "ensure() the row first"
        old = self._dec_secrets(row[1], int(row[0]))
        new = Secrets(pins=old.pins if keep_pins else pins, word=old.word if keep_word else word)
        data = {
            "pins": [p.hex() for p in new.pins] if new.pins else None,
            "word": new.word.hex() if new.word else None,
        }
        blob = self._cipher.encrypt(
            json.dumps(data).encode(), table="checkins", column="secrets", row_id=int(row[0])
        )
        await tx.execute("UPDATE checkins SET secrets_enc = ? WHERE id = ?", (blob, row[0]))

    # -- events --------------------------------------------------------------------------

    async def add_event(
        self,
        tx: Transaction,
        person_id: int,
        kind: str,
        now: datetime,
        *,
        actor_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        event_id = await tx.next_id("checkin_events")
        # What happened and exactly when are inside the encrypted value: in the clear, the
        # log would list each contact's routine (reminded 09:00, checked in 09:04...). The
        # clear columns hold only the day, and a kind that says nothing.
        await tx.insert_row(
            "checkin_events",
            event_id,
            {
                "person_id": person_id,
                "at": _day(now),
                "kind": SEALED,
                "actor_id": actor_id,
                "detail_enc": self._cipher.encrypt(
                    json.dumps({**(detail or {}), KIND: kind, AT: to_db_time(now)}).encode(),
                    table="checkin_events",
                    column="detail",
                    row_id=event_id,
                ),
            },
        )

    async def events(self, q: Queryable, person_id: int, limit: int = 50) -> list[CheckinEvent]:
        rows = await q.fetchall(
            "SELECT * FROM checkin_events WHERE person_id = ? ORDER BY id DESC LIMIT ?",
            (person_id, limit),
        )
        out = []
        for r in reversed(rows):
            detail = json.loads(
                self._cipher.decrypt_str(
                    r["detail_enc"], table="checkin_events", column="detail", row_id=r["id"]
                )
            )
            kind = str(detail.pop(KIND, r["kind"]))
            at = from_db_time(str(detail.pop(AT))) if AT in detail else from_db_time(r["at"])
            out.append(
                CheckinEvent(int(r["id"]), int(r["person_id"]), at, kind, r["actor_id"], detail)
            )
        return out

    # -- encoding ------------------------------------------------------------------------

    def _enc_state(self, watch: Watch, row_id: int) -> bytes:
        data = {"watch": watch_to_json(watch)}
        return self._cipher.encrypt(
            json.dumps(data).encode(), table="checkins", column="state", row_id=row_id
        )

    def _dec_secrets(self, blob: bytes | None, row_id: int) -> Secrets:
        if not blob:
            return Secrets()
        data = json.loads(
            self._cipher.decrypt_str(blob, table="checkins", column="secrets", row_id=row_id)
        )
        pins = data.get("pins")
        return Secrets(
            pins=(bytes.fromhex(pins[0]), bytes.fromhex(pins[1])) if pins else None,
            word=bytes.fromhex(data["word"]) if data.get("word") else None,
        )

    def _decode(self, row: Any, tz: str) -> CheckinRow:
        row_id = int(row["id"])
        data = json.loads(
            self._cipher.decrypt_str(
                row["state_enc"], table="checkins", column="state", row_id=row_id
            )
        )
        return CheckinRow(
            person_id=int(row["person_id"]),
            watch=watch_from_json(data["watch"], tz),
            version=int(row["version"]),
            alert_id=row["alert_id"],
            secrets=self._dec_secrets(row["secrets_enc"], row_id),
        )


# -- the Watch as JSON (also the shape the rota file's check-in section is read into) ---


def schedule_to_json(s: Schedule) -> dict[str, Any]:
    return {
        "kind": s.kind.value,
        "grace": int(s.grace.total_seconds()),
        "every": int(s.every.total_seconds()) if s.every else None,
        "times": [t.strftime("%H:%M") for t in s.times],
        "reprompt": int(s.reprompt.total_seconds()) if s.reprompt else None,
        "quiet": [s.quiet.start.strftime("%H:%M"), s.quiet.end.strftime("%H:%M")]
        if s.quiet
        else None,
        "pin_required": s.pin_required,
        "word": s.word,
    }


def schedule_from_json(d: dict[str, Any]) -> Schedule:
    quiet = d.get("quiet")
    return Schedule(
        Kind(d["kind"]),
        grace=timedelta(seconds=d["grace"]),
        every=timedelta(seconds=d["every"]) if d.get("every") else None,
        times=tuple(time.fromisoformat(t) for t in d.get("times") or ()),
        reprompt=timedelta(seconds=d["reprompt"]) if d.get("reprompt") else None,
        quiet=Quiet(time.fromisoformat(quiet[0]), time.fromisoformat(quiet[1])) if quiet else None,
        pin_required=bool(d.get("pin_required")),
        word=d.get("word"),
    )


_TIMES = (
    "next_due_at",
    "trip_due_at",
    "trip_limit_at",
    "late_since",
    "last_checkin_at",
    "paused_until",
)


def watch_to_json(w: Watch) -> dict[str, Any]:
    data: dict[str, Any] = {
        "schedule": schedule_to_json(w.schedule) if w.schedule else None,
        "state": w.state.value,
        "cycle": w.cycle.value if w.cycle else None,
        "reprompted": w.reprompted,
        "wrong_pins": w.wrong_pins,
        "trip_note": w.trip_note,
    }
    for name in _TIMES:
        value = getattr(w, name)
        data[name] = to_db_time(value) if value else None
    return data


def watch_from_json(d: dict[str, Any], tz: str) -> Watch:
    times = {name: from_db_time(d[name]) if d.get(name) else None for name in _TIMES}
    return Watch(
        tz=tz,
        schedule=schedule_from_json(d["schedule"]) if d.get("schedule") else None,
        state=State(d["state"]),
        cycle=Cycle(d["cycle"]) if d.get("cycle") else None,
        reprompted=bool(d.get("reprompted")),
        wrong_pins=int(d.get("wrong_pins", 0)),
        trip_note=d.get("trip_note"),
        **times,
    )
