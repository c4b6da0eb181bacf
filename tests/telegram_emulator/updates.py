"""The bot's update queue, with getUpdates' confirmation rules.

An update stays pending until a getUpdates call passes an `offset` above its id, so a bot
that crashes before confirming gets it again. `redeliver` goes further and re-sends an
already confirmed update once, whatever the next offset says, so tests can prove that the
bot handles a duplicate update_id idempotently. `push_raw` queues an update exactly as
given (only its id is assigned), so tests can send what Telegram never would but a proxy
or a local Bot API server might.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

# What Telegram sends when allowed_updates was never set, or set to [].
DEFAULT_EXCLUDED = frozenset({"chat_member", "message_reaction", "message_reaction_count"})


@dataclass
class QueuedUpdate:
    update_id: int
    kind: str  # "message", "callback_query", ...
    body: dict[str, Any]  # the object under `kind`, as it was when the update was created
    forced: bool = False  # redelivered: ignore the next offset once
    raw: bool = False  # `body` is the whole update but its id, sent unchecked

    def to_json(self) -> dict[str, Any]:
        if self.raw:
            return {"update_id": self.update_id, **self.body}
        return {"update_id": self.update_id, self.kind: self.body}


class UpdateQueue:
    def __init__(self, first_id: int = 700_000_001) -> None:
        self._next_id = first_id
        self._all: dict[int, QueuedUpdate] = {}
        self._pending: list[QueuedUpdate] = []
        self.allowed: frozenset[str] | None = None  # None: Telegram's default set

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    def push(self, kind: str, body: dict[str, Any]) -> int | None:
        """Queue an update; None if the bot's allowed_updates exclude its kind.

        Telegram does not create updates the bot has not asked for, so they get no id.
        """
        if not self.is_allowed(kind):
            return None
        update = QueuedUpdate(self._next_id, kind, body)
        self._next_id += 1
        self._all[update.update_id] = update
        self._pending.append(update)
        return update.update_id

    def push_raw(self, fields: dict[str, Any]) -> int:
        """Queue an update as given, whatever its kind and content; returns its new id.

        allowed_updates does not apply: this is what a misbehaving server sends anyway.
        """
        if "update_id" in fields:
            raise AssertionError("push_raw assigns the update_id itself")
        kind = next(iter(fields), "")
        update = QueuedUpdate(self._next_id, kind, dict(fields), raw=True)
        self._next_id += 1
        self._all[update.update_id] = update
        self._pending.append(update)
        return update.update_id

    def ids(self) -> list[int]:
        """Every update id created so far that the bot can receive, confirmed ones included."""
        return list(self._all)

    def set_allowed(self, kinds: Iterable[str]) -> None:
        """Telegram keeps the last list it was given; an empty one restores the default."""
        chosen = frozenset(kinds)
        self.allowed = chosen or None

    def is_allowed(self, kind: str) -> bool:
        if self.allowed is None:
            return kind not in DEFAULT_EXCLUDED
        return kind in self.allowed

    def confirm(self, offset: int) -> None:
        if offset > 0:
            self._pending = [u for u in self._pending if u.update_id >= offset or u.forced]
        elif offset < 0:  # "-N": keep only the newest N, forget the rest
            self._pending = self._pending[offset:]

    def take(self, limit: int) -> list[dict[str, Any]]:
        # Updates queued before the bot narrowed allowed_updates are dropped, never sent.
        for update in [u for u in self._pending if not u.raw and not self.is_allowed(u.kind)]:
            self._pending.remove(update)
            del self._all[update.update_id]
        self._pending.sort(key=lambda u: u.update_id)
        batch = self._pending[:limit]
        for update in batch:
            update.forced = False
        return [u.to_json() for u in batch]

    def drop_all(self) -> None:
        self._pending = []

    def redeliver(self, update_id: int) -> None:
        update = self._all.get(update_id)
        if update is None:
            raise AssertionError(f"no update {update_id} was ever created")
        update.forced = True
        if update not in self._pending:
            self._pending.append(update)

    def get(self, update_id: int) -> QueuedUpdate | None:
        return self._all.get(update_id)
