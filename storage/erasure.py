"""What `/remove` erases: every stored value that names or describes the person.

One place lists every table a person reaches, so a new table is added here or the
at-rest removal test (tests/test_removal_e2e.py) finds what it left. Called in the
removal's own transaction, before the person's row is deleted (its foreign keys then
delete their roles, drafts, rota places, their alerts and what hangs on those).

- Queued messages **to** them are cancelled, except the deletions of messages already in
  their chat (the bot's replies, their own messages): those go on until done, then their
  rows are deleted at once (`erase_done`), since they need the chat's id until then.
- Messages **about** them (pages and relays of their alerts, notices naming them), to
  anyone: cancelled if still queued; if sent, their content is overwritten.
- Any other sent message whose content holds their name or Telegram id: content
  overwritten (a sent row is kept only for the edits and deletions that refer to it).
- The invitation they used loses its name; audit entries and the timelines of other
  people's alerts keep what happened, with their name replaced by "#<number>" where
  nabat wrote it. What people wrote (follow-ups, notes) is kept as written: it is the
  record of what happened, for a court.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from storage.crypto import FieldCipher
from storage.db import Transaction

_EMPTY_PAYLOAD = "{}"
_NAME_FIELDS = frozenset({"name", "names"})  # where a timeline event names staff


@dataclass(frozen=True, slots=True)
class Erased:
    cancelled: int  # queued messages that will never be sent
    kept_deletions: int  # deletions in their chat that go on until done
    shredded: int  # sent messages whose content was overwritten
    rewritten: int  # audit entries and timeline events that named them


class Eraser:
    """Erases a person from everything but their own rows (see the module docstring)."""

    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    async def erase(
        self, tx: Transaction, *, person_id: int, name: str, telegram_id: int
    ) -> Erased:
        return await erase_person(
            tx, self._cipher, person_id=person_id, name=name, telegram_id=telegram_id
        )


async def erase_person(
    tx: Transaction, cipher: FieldCipher, *, person_id: int, name: str, telegram_id: int
) -> Erased:
    mention = _Mention(name, telegram_id, person_id)
    kept = await _keep_deletions(tx, cipher, person_id)
    cancelled = await tx.execute(
        "DELETE FROM outbox WHERE state IN ('pending', 'sending') AND erase_done = 0"
        " AND (person_id = ? OR about_id = ?)",
        (person_id, person_id),
    )
    shredded = await _shred_sent(tx, cipher, person_id, mention)
    await tx.execute(
        "UPDATE invitations SET name_enc = NULL, lang_enc = NULL WHERE used_by = ?", (person_id,)
    )
    rewritten = await _rewrite_json(tx, cipher, "audit_log", "detail_enc", "detail", mention)
    # In timelines, only the names nabat wrote: what people wrote (a contact's follow-up,
    # a lawyer's note) is kept as written, since it is the record of what happened.
    rewritten += await _rewrite_json(
        tx, cipher, "alert_events", "detail_enc", "detail", mention, only=_NAME_FIELDS
    )
    await tx.execute(
        "UPDATE rotations SET version = version + 1 WHERE id IN"
        " (SELECT rotation_id FROM rotation_members WHERE person_id = ?)",
        (person_id,),
    )
    await _drop_drafts_about(tx, cipher, person_id)
    return Erased(cancelled, kept, shredded, rewritten)


async def _drop_drafts_about(tx: Transaction, cipher: FieldCipher, person_id: int) -> None:
    """Other people's unconfirmed changes about them (a case file or a schedule waiting for
    Confirm, a guided case-file edit) hold what describes them: they go too."""
    for row in await tx.fetchall("SELECT id, payload_enc FROM drafts"):
        payload = json.loads(
            cipher.decrypt_str(row[1], table="drafts", column="payload", row_id=row[0])
        )
        if isinstance(payload, dict) and payload.get("contact") == person_id:
            await tx.execute("DELETE FROM drafts WHERE id = ?", (row[0],))


async def _keep_deletions(tx: Transaction, cipher: FieldCipher, person_id: int) -> int:
    """Detach the pending deletions in their chat (and the sent messages they delete)
    from the person, so they outlive the row, and mark them to vanish once done."""
    rows = await tx.fetchall(
        "SELECT id, ref_id FROM outbox WHERE person_id = ? AND op = 'delete'"
        " AND state IN ('pending', 'sending')",
        (person_id,),
    )
    for row in rows:
        await tx.execute(
            "UPDATE outbox SET person_id = NULL, about_id = NULL, erase_done = 1 WHERE id = ?",
            (row["id"],),
        )
        if row["ref_id"] is not None:
            # The message it deletes: only its Telegram message id is still needed.
            await tx.execute(
                "UPDATE outbox SET person_id = NULL, about_id = NULL, erase_done = 1,"
                " payload_enc = ? WHERE id = ? AND state = 'sent'",
                (_empty(cipher, row["ref_id"]), row["ref_id"]),
            )
    return len(rows)


async def _shred_sent(
    tx: Transaction, cipher: FieldCipher, person_id: int, mention: _Mention
) -> int:
    shredded = 0
    rows = await tx.fetchall(
        "SELECT id, person_id, about_id, payload_enc FROM outbox"
        " WHERE state NOT IN ('pending', 'sending') AND erase_done = 0"
    )
    for row in rows:
        rid = row["id"]
        if row["person_id"] != person_id and row["about_id"] != person_id:
            payload = cipher.decrypt_str(
                row["payload_enc"], table="outbox", column="payload", row_id=rid
            )
            if payload == _EMPTY_PAYLOAD or not mention.found_in(payload):
                continue
        await tx.execute(
            "UPDATE outbox SET payload_enc = ?, about_id = NULL WHERE id = ?",
            (_empty(cipher, rid), rid),
        )
        shredded += 1
    return shredded


async def _rewrite_json(
    tx: Transaction,
    cipher: FieldCipher,
    table: str,
    column: str,
    bound: str,
    mention: _Mention,
    *,
    only: frozenset[str] | None = None,
) -> int:
    rewritten = 0
    rows = await tx.fetchall(
        f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608 - fixed names
    )
    for row in rows:
        text = cipher.decrypt_str(row[1], table=table, column=bound, row_id=row[0])
        if not mention.found_in(text):
            continue
        value = json.loads(text)
        if only is not None and isinstance(value, dict):
            kept = {k: v for k, v in value.items() if k not in only}
            named = mention.replaced({k: v for k, v in value.items() if k in only})
            if {**kept, **named} == value:
                continue
            fresh = json.dumps({**kept, **named}, sort_keys=True)
        else:
            fresh = json.dumps(mention.replaced(value), sort_keys=True)
        await tx.execute(
            f"UPDATE {table} SET {column} = ? WHERE id = ?",  # noqa: S608 - fixed names
            (cipher.encrypt(fresh, table=table, column=bound, row_id=row[0]), row[0]),
        )
        rewritten += 1
    return rewritten


def _empty(cipher: FieldCipher, row_id: int) -> bytes:
    return cipher.encrypt(_EMPTY_PAYLOAD, table="outbox", column="payload", row_id=row_id)


class _Mention:
    """The person's name and Telegram id, as whole words, and what stands for them."""

    def __init__(self, name: str, telegram_id: int, person_id: int) -> None:
        self.placeholder = f"#{person_id}"
        self._telegram_id = telegram_id
        self._pattern = _words([name, str(telegram_id)])
        # Stored JSON may escape non-ASCII letters: look for that spelling as well.
        self._escaped = _words([json.dumps(name)[1:-1], str(telegram_id)])

    def found_in(self, text: str) -> bool:
        return bool(self._pattern.search(text) or self._escaped.search(text))

    def replaced(self, value: Any) -> Any:
        """`value` (decoded JSON, or text) with every mention replaced by the placeholder."""
        if isinstance(value, str):
            return self._pattern.sub(self.placeholder, value)
        if isinstance(value, list):
            return [self.replaced(v) for v in value]
        if isinstance(value, dict):
            return {k: self.replaced(v) for k, v in value.items()}
        if value == self._telegram_id and not isinstance(value, bool):
            return self.placeholder
        return value


def _words(words: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(re.escape(w) for w in words) + r")(?!\w)")
