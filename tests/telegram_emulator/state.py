"""What the emulated Telegram knows: people, chats, their messages, pending callback queries.

Everything here is plain data changed by the API handlers (the bot's side) and by
`people.py` (the users' side). Each change calls `World.touch()`, which wakes long polls
and `Emulator.wait_for`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from tests.telegram_emulator.limits import FloodLimits
from tests.telegram_emulator.updates import UpdateQueue

Clock = Callable[[], datetime]

# Telegram drops an unanswered callback query after about 15 s: the button spinner stops
# and a late answerCallbackQuery fails with "query is too old".
CALLBACK_TIMEOUT = 15.0


class Changes:
    """A broadcast signal: every waiter wakes on the next change."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self.version = 0

    def notify(self) -> None:
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    def current(self) -> asyncio.Event:
        """Take this before checking a condition, so no change between is missed."""
        return self._event


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"


@dataclass(frozen=True)
class Profile:
    id: int
    first_name: str
    is_bot: bool = False
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None
    extra: tuple[tuple[str, Any], ...] = ()  # getMe's bot capability flags

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {"id": self.id, "is_bot": self.is_bot, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            value = getattr(self, key)
            if value is not None:
                body[key] = value
        body.update(self.extra)
        return body


@dataclass(eq=False)
class StoredMessage:
    message_id: int
    chat: Chat
    sender: Profile
    date: datetime
    kind: str  # "text", "location", "voice", "photo", "document"
    content: dict[str, Any]  # the Bot API fields of the content: text+entities, location, ...
    reply_markup: dict[str, Any] | None = None
    protect_content: bool = False
    parse_mode: str | None = None
    source_text: str | None = None  # text or caption as the bot sent it, before parsing
    reply_to: StoredMessage | None = None
    forward_origin: dict[str, Any] | None = None
    deleted: bool = False
    edits: list[str] = field(default_factory=list)
    edit_date: datetime | None = None
    live_stopped: bool = False
    upload: bytes | None = field(default=None, repr=False)  # a file the bot uploaded

    @property
    def from_bot(self) -> bool:
        return self.sender.is_bot

    @property
    def text(self) -> str | None:
        value = self.content.get("text", self.content.get("caption"))
        return value if isinstance(value, str) else None

    @property
    def inline_markup(self) -> dict[str, Any] | None:
        """Only an inline keyboard belongs to the message; reply keyboards belong to the chat."""
        markup = self.reply_markup
        return markup if markup is not None and "inline_keyboard" in markup else None

    def to_json(self, with_reply: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "message_id": self.message_id,
            "from": self.sender.to_json(),
            "chat": self.chat.to_json(),
            "date": int(self.date.timestamp()),
        }
        if self.forward_origin is not None:
            body["forward_origin"] = self.forward_origin
        if self.reply_to is not None and with_reply:
            body["reply_to_message"] = self.reply_to.to_json(with_reply=False)
        if self.edit_date is not None:
            body["edit_date"] = int(self.edit_date.timestamp())
        if self.protect_content:
            body["has_protected_content"] = True
        body.update(self.content)
        if self.inline_markup is not None:
            body["reply_markup"] = self.inline_markup
        return body


@dataclass(eq=False)
class Chat:
    id: int
    type: ChatType
    title: str | None = None
    user: Profile | None = None  # the person on the other side of a private chat
    started: bool = False  # the user has written to the bot at least once
    blocked: bool = False
    bot_present: bool = True
    members: dict[int, Profile] = field(default_factory=dict)
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    last_message_id: int = 0

    def to_json(self) -> dict[str, Any]:
        if self.user is not None:
            body = {"id": self.id, "type": str(self.type)}
            body.update({k: v for k, v in self.user.to_json().items() if k in _CHAT_NAME_KEYS})
            return body
        return {"id": self.id, "type": str(self.type), "title": self.title or ""}

    def add(
        self, sender: Profile, date: datetime, kind: str, content: dict[str, Any]
    ) -> StoredMessage:
        """message_id rises per chat, shared by both sides."""
        self.last_message_id += 1
        message = StoredMessage(self.last_message_id, self, sender, date, kind, content)
        self.messages[message.message_id] = message
        return message

    def ordered(self) -> list[StoredMessage]:
        return sorted(self.messages.values(), key=lambda m: m.message_id)


_CHAT_NAME_KEYS = ("first_name", "last_name", "username")


@dataclass
class PendingCallback:
    id: str
    user: Profile
    chat_id: int
    message_id: int
    data: str
    created_at: datetime  # emulator clock
    created_mono: float  # real time, for Telegram's 15-second answer window
    answered: bool = False


class World:
    def __init__(self, bot: Profile, clock: Clock, limits: FloodLimits | None) -> None:
        self.bot = bot
        self.clock = clock
        self.limits = limits
        self.monotonic: Callable[[], float] = time.monotonic
        self.chats: dict[int, Chat] = {}
        self.updates = UpdateQueue()
        self.callbacks: dict[str, PendingCallback] = {}
        self.callback_answers: dict[int, list[dict[str, Any]]] = {}
        self.commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.webhook_url = ""
        self.violations: list[str] = []
        self.changes = Changes()
        self.poll_generation = 0
        self.closing = False
        self._callback_counter = 0
        self._file_counter = 0

    def now(self) -> datetime:
        return self.clock()

    def touch(self) -> None:
        self.changes.notify()

    def chat(self, chat_id: Any) -> Chat | None:
        return self.chats.get(chat_id) if isinstance(chat_id, int) else None

    def push_update(self, kind: str, body: dict[str, Any]) -> int | None:
        update_id = self.updates.push(kind, body)
        self.touch()
        return update_id

    def push_raw_update(self, fields: dict[str, Any]) -> int:
        update_id = self.updates.push_raw(fields)
        self.touch()
        return update_id

    def new_callback_id(self) -> str:
        self._callback_counter += 1
        return str(self.bot.id * 10**9 + self._callback_counter)

    def new_file_id(self, kind: str) -> str:
        self._file_counter += 1
        return f"EMU-{kind}-{self._file_counter}"

    def stale_callbacks(self) -> list[str]:
        """Queries nobody answered within Telegram's window, by real or emulator time."""
        stale = []
        now, mono = self.now(), self.monotonic()
        for query in self.callbacks.values():
            if query.answered:
                continue
            age = max(mono - query.created_mono, (now - query.created_at).total_seconds())
            if age > CALLBACK_TIMEOUT:
                stale.append(
                    f"callback query {query.id} (data {query.data!r}, message "
                    f"{query.message_id} in chat {query.chat_id}) was not answered "
                    f"within {CALLBACK_TIMEOUT:.0f} s"
                )
        return stale
