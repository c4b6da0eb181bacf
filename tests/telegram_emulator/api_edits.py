"""The bot's methods that change existing messages: edit, stop live location, delete.

Telegram lets a bot edit its own messages at any age but delete them only within 48
hours; in a private chat it may delete the user's messages too, within the same window.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.telegram_emulator.api_messages import (
    LIVE_FOREVER,
    Params,
    check_markup,
    location_of,
    text_content,
)
from tests.telegram_emulator.errors import bad_request, forbidden
from tests.telegram_emulator.state import Chat, ChatType, StoredMessage, World

DELETE_WINDOW = timedelta(hours=48)
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _editable(world: World, p: Params) -> StoredMessage:
    if "inline_message_id" in p:
        world.violations.append("inline messages (inline_message_id) are not emulated")
        raise bad_request("inline messages are not emulated")
    if "chat_id" not in p or "message_id" not in p:
        raise bad_request("message identifier is not specified")
    chat = world.chat(p["chat_id"])
    if chat is None:
        raise bad_request("chat not found")
    if chat.type is ChatType.PRIVATE and chat.blocked:
        raise forbidden("bot was blocked by the user")
    message = chat.messages.get(p["message_id"])
    if message is None or message.deleted:
        raise bad_request("message to edit not found")
    if not message.from_bot:
        raise bad_request("message can't be edited")
    return message


def _edited(world: World, message: StoredMessage) -> Any:
    message.edit_date = world.now()
    return message.to_json()


async def edit_message_text(world: World, p: Params) -> Any:
    message = _editable(world, p)
    if message.kind != "text":
        raise bad_request("there is no text in the message to edit")
    content = text_content(p)
    # Leaving reply_markup out of any edit removes the keyboard, as in Telegram.
    markup = p.get("reply_markup")
    check_markup(markup)
    old = {k: v for k, v in message.content.items() if k in ("text", "entities")}
    new = {k: v for k, v in content.items() if k in ("text", "entities")}
    if old == new and markup == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    message.edits.append(message.text or "")
    message.content = content
    message.reply_markup = markup
    message.parse_mode = p.get("parse_mode")
    message.source_text = p["text"]
    return _edited(world, message)


async def edit_message_reply_markup(world: World, p: Params) -> Any:
    message = _editable(world, p)
    markup = p.get("reply_markup")
    check_markup(markup)
    if markup == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    message.reply_markup = markup
    return _edited(world, message)


def _live(world: World, p: Params) -> StoredMessage:
    message = _editable(world, p)
    location = message.content.get("location")
    if message.kind != "location" or not location or "live_period" not in location:
        raise bad_request("message can't be edited")
    period = location["live_period"]
    expired = period != LIVE_FOREVER and world.now() > message.date + timedelta(seconds=period)
    if message.live_stopped or expired:
        raise bad_request("message can't be edited")
    return message


async def edit_message_live_location(world: World, p: Params) -> Any:
    message = _live(world, p)
    old = message.content["location"]
    new = {**old, **location_of(p)}
    markup = p.get("reply_markup")  # left out: the keyboard goes, as with every edit
    check_markup(markup)
    if new == old and markup == message.inline_markup:
        raise bad_request(NOT_MODIFIED)
    message.content = {**message.content, "location": new}
    message.reply_markup = markup
    return _edited(world, message)


async def stop_message_live_location(world: World, p: Params) -> Any:
    message = _live(world, p)
    check_markup(p.get("reply_markup"))
    message.live_stopped = True
    message.reply_markup = p.get("reply_markup")
    return _edited(world, message)


def _deletable(world: World, chat: Chat, message_id: Any) -> StoredMessage:
    message = chat.messages.get(message_id)
    if message is None or message.deleted:
        raise bad_request("message to delete not found")
    # In a private chat the bot may delete both sides; in a group it is no admin here.
    if chat.type is not ChatType.PRIVATE and not message.from_bot:
        raise bad_request("message can't be deleted")
    if world.now() - message.date >= DELETE_WINDOW:
        raise bad_request("message can't be deleted")
    return message


async def delete_message(world: World, p: Params) -> Any:
    chat = world.chat(p["chat_id"])
    if chat is None:
        raise bad_request("chat not found")
    _deletable(world, chat, p["message_id"]).deleted = True
    return True


async def delete_messages(world: World, p: Params) -> Any:
    ids = p["message_ids"]
    if not 1 <= len(ids) <= 100:
        raise bad_request("message_ids must contain 1-100 identifiers")
    chat = world.chat(p["chat_id"])
    if chat is None:
        raise bad_request("chat not found")
    # Missing messages are skipped (documented); an undeletable one fails the whole call.
    found = [m for m in ids if m in chat.messages and not chat.messages[m].deleted]
    messages = [_deletable(world, chat, m) for m in found]
    for message in messages:
        message.deleted = True
    return True


HANDLERS = {
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "editMessageLiveLocation": edit_message_live_location,
    "stopMessageLiveLocation": stop_message_live_location,
    "deleteMessage": delete_message,
    "deleteMessages": delete_messages,
}
