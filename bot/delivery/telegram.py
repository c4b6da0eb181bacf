"""The one delivery seam: Telegram calls in, DeliveryError out.

python-telegram-bot's errors are mapped here and nowhere else. Order matters:
BadRequest and TimedOut are subclasses of NetworkError, so the specific ones come first.
"""

from __future__ import annotations

import base64
import ssl
import warnings
from collections.abc import Awaitable
from datetime import timedelta
from functools import cache
from typing import TypeVar

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from bot.domain.errors import DeliveryError
from bot.words.catalogue import Rendered

T = TypeVar("T")

# Telegram answers these when the goal of the call already holds: treat them as success.
# (Compared in lower case: PTB capitalises the description it passes on.)
_NOT_MODIFIED = "message is not modified"
_ALREADY_GONE = ("message to delete not found", "message can't be deleted")


@cache
def tls_context() -> ssl.SSLContext:
    """One TLS context for every connection to the Bot API, made once: httpx would load the
    CA bundle again for each client (tens of milliseconds each, twice per application)."""
    return httpx.create_ssl_context()


def to_delivery_error(exc: TelegramError) -> DeliveryError:
    name = type(exc).__name__
    if isinstance(exc, RetryAfter):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PTB 22 deprecates the int form; we take either
            after = exc.retry_after
        seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
        return DeliveryError(
            f"{name}: retry after {seconds:g}s", permanent=False, retry_after=seconds
        )
    if isinstance(exc, Forbidden | BadRequest):
        # Telegram's 403 descriptions already begin "Forbidden: "; don't say it twice.
        reason = exc.message if exc.message.startswith(f"{name}:") else f"{name}: {exc.message}"
        return DeliveryError(reason, permanent=True, blocked=isinstance(exc, Forbidden))
    if isinstance(exc, NetworkError):
        return DeliveryError(f"{name}: {exc.message}", permanent=False)
    # InvalidToken, Conflict and anything new: keep the work, an operator has to look.
    return DeliveryError(f"{name}: {exc.message}", permanent=False)


async def guarded(call: Awaitable[T]) -> T:
    try:
        return await call
    except TelegramError as exc:
        raise to_delivery_error(exc) from None


def _markup(rendered: Rendered) -> InlineKeyboardMarkup | None:
    if not rendered.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in rendered.buttons
        ]
    )


class TelegramSender:
    """Sends rendered notices with a python-telegram-bot Bot. Plain text: no parse mode,
    so nothing a person typed can be read as markup."""

    def __init__(self, bot: Bot) -> None:
        self._bot = bot

    async def send(self, chat_id: int, rendered: Rendered) -> int:
        media = rendered.media or {}
        protect = True if rendered.protect else None
        quiet = True if rendered.silent else None
        markup = _markup(rendered)
        kind = media.get("type")
        call: Awaitable[Message]
        if kind == "location":
            call = self._bot.send_location(
                chat_id=chat_id,
                latitude=media["lat"],
                longitude=media["lon"],
                live_period=media.get("live_period"),
                protect_content=protect,
                disable_notification=quiet,
                reply_markup=markup,
            )
        elif kind == "voice":
            call = self._bot.send_voice(
                chat_id=chat_id,
                voice=media["file_id"],
                caption=rendered.text,
                protect_content=protect,
                disable_notification=quiet,
                reply_markup=markup,
            )
        elif kind == "document":
            # A file nabat made (an export): uploaded, and not protected, since whoever
            # asked for it must be able to save it and file it.
            call = self._bot.send_document(
                chat_id=chat_id,
                document=InputFile(base64.b64decode(media["data"]), filename=media["filename"]),
                caption=rendered.text,
                protect_content=protect,
                disable_notification=quiet,
                reply_markup=markup,
            )
        elif kind == "photo":
            call = self._bot.send_photo(
                chat_id=chat_id,
                photo=media["file_id"],
                caption=rendered.text,
                protect_content=protect,
                disable_notification=quiet,
                reply_markup=markup,
            )
        else:
            call = self._bot.send_message(
                chat_id=chat_id,
                text=rendered.text,
                reply_markup=markup,
                protect_content=protect,
                disable_notification=quiet,
            )
        msg = await guarded(call)
        return msg.message_id

    async def edit(self, chat_id: int, message_id: int, rendered: Rendered) -> None:
        media = rendered.media or {}
        call: Awaitable[object]
        if media.get("type") == "location":
            call = self._bot.edit_message_live_location(
                chat_id=chat_id,
                message_id=message_id,
                latitude=media["lat"],
                longitude=media["lon"],
                reply_markup=_markup(rendered),
            )
        else:
            call = self._bot.edit_message_text(
                chat_id=chat_id,
                message_id=message_id,
                text=rendered.text,
                reply_markup=_markup(rendered),
            )
        try:
            await guarded(call)
        except DeliveryError as exc:
            if _NOT_MODIFIED not in exc.reason.lower():
                raise

    async def delete(self, chat_id: int, message_id: int) -> None:
        try:
            await guarded(self._bot.delete_message(chat_id=chat_id, message_id=message_id))
        except DeliveryError as exc:
            if not any(s in exc.reason.lower() for s in _ALREADY_GONE):
                raise
