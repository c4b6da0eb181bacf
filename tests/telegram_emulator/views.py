"""What tests read: recorded API calls and snapshots of messages."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tests.telegram_emulator.state import StoredMessage


@dataclass
class Call:
    """One HTTP request to the Bot API, failed ones included.

    `status` is 0 while the call is still being answered (a long poll), 499 when the client
    hung up before the answer.
    """

    method: str  # canonical case ("sendMessage") when the method exists
    params: dict[str, Any]  # decoded: chat_id is an int, reply_markup a dict
    status: int
    response: dict[str, Any]
    at: datetime  # arrival, by the emulator clock

    @property
    def ok(self) -> bool:
        return self.status == 200

    @property
    def result(self) -> Any:
        return self.response.get("result")


@dataclass(frozen=True)
class BotMessage:
    """A message as it stands now; take a new one after the bot changes it."""

    message_id: int
    chat_id: int
    kind: str  # "text", "location", "voice", "photo", "document"
    text: str | None  # text or caption as the user sees it (HTML already parsed)
    reply_markup: dict[str, Any] | None
    protect_content: bool
    parse_mode: str | None
    date: datetime
    deleted: bool
    edits: list[str]  # earlier texts, oldest first
    from_bot: bool = True
    source_text: str | None = None  # text or caption exactly as the bot sent it
    entities: list[dict[str, Any]] = field(default_factory=list)
    edit_date: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False)  # the Bot API Message
    upload: bytes | None = field(default=None, repr=False)  # the bytes of a sent document

    @property
    def buttons(self) -> list[tuple[str, str]]:
        """Inline buttons, row by row, as (text, callback_data); "" for other button kinds."""
        markup = self.reply_markup or {}
        return [
            (button.get("text", ""), button.get("callback_data", ""))
            for row in markup.get("inline_keyboard", [])
            for button in row
        ]

    @property
    def file_name(self) -> str | None:
        """A document's file name, as the bot gave it."""
        document = self.raw.get("document")
        return document.get("file_name") if document else None

    @property
    def location(self) -> tuple[float, float] | None:
        place = self.raw.get("location")
        return (place["latitude"], place["longitude"]) if place else None

    @classmethod
    def of(cls, message: StoredMessage) -> BotMessage:
        return cls(
            message_id=message.message_id,
            chat_id=message.chat.id,
            kind=message.kind,
            text=message.text,
            reply_markup=message.reply_markup,
            protect_content=message.protect_content,
            parse_mode=message.parse_mode,
            date=message.date.astimezone(UTC),
            deleted=message.deleted,
            edits=list(message.edits),
            from_bot=message.from_bot,
            source_text=message.source_text,
            entities=list(
                message.content.get("entities", message.content.get("caption_entities", []))
            ),
            edit_date=message.edit_date,
            raw=message.to_json(),
            upload=message.upload,
        )
