"""The bot's message-creating methods: send (text, location, voice, photo, document), copy,
forward.

Checks run in the order that keeps state honest: chat and permissions, then content, then
the flood limits, and only then is a message created, so a refused call changes nothing
and does not use up a flood-limit token.
"""

from __future__ import annotations

from typing import Any

from tests.telegram_emulator.errors import ApiError, bad_request, forbidden
from tests.telegram_emulator.formatting import (
    MAX_BUTTONS,
    MAX_CAPTION,
    MAX_TEXT,
    EntityParseError,
    ParseModeError,
    callback_data_valid,
    render,
)
from tests.telegram_emulator.state import Chat, ChatType, StoredMessage, World
from tests.telegram_emulator.validation import Upload

Params = dict[str, Any]

LIVE_FOREVER = 0x7FFFFFFF  # live_period meaning "until stopped"
_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


def target_chat(world: World, chat_id: Any) -> Chat:
    """The chat a bot writes to, or the error Telegram gives for it."""
    chat = world.chat(chat_id)
    if chat is None:
        raise bad_request("chat not found")
    if chat.type is ChatType.PRIVATE:
        if chat.blocked:
            raise forbidden("bot was blocked by the user")
        if not chat.started:
            raise forbidden("bot can't initiate conversation with a user")
    elif not chat.bot_present:
        raise forbidden(f"bot is not a member of the {chat.type} chat")
    return chat


def render_text(
    text: str, parse_mode: str | None, limit: int, what: str
) -> tuple[str, list[dict[str, Any]]]:
    try:
        plain, entities = render(text, parse_mode)
    except ParseModeError as exc:
        raise bad_request(f"unsupported parse_mode {exc}") from exc
    except EntityParseError as exc:
        raise bad_request(f"can't parse entities: {exc}") from exc
    if len(plain) > limit:
        raise bad_request(f"{what} is too long")
    return plain, entities


def check_markup(markup: dict[str, Any] | None) -> None:
    """What the type check cannot see: callback_data size, and a button must do something."""
    if markup is None or "inline_keyboard" not in markup:
        return
    # Telegram's limit is not documented; about 100 buttons is what bots run into.
    if sum(len(row) for row in markup["inline_keyboard"]) > MAX_BUTTONS:
        raise bad_request("reply markup is too long")
    for row in markup["inline_keyboard"]:
        for button in row:
            if not any(key in button for key in _BUTTON_ACTIONS):
                raise bad_request(
                    "can't parse inline keyboard button: Text buttons are unallowed in the "
                    "inline keyboard"
                )
            if "callback_data" in button and not callback_data_valid(button["callback_data"]):
                raise bad_request("BUTTON_DATA_INVALID")
            url = button.get("url")
            if url is not None and not str(url).startswith(("http://", "https://", "tg://")):
                raise bad_request("BUTTON_URL_INVALID")


def _reply_target(world: World, chat: Chat, p: Params) -> StoredMessage | None:
    reply = p.get("reply_parameters")
    if not isinstance(reply, dict):
        return None
    source = world.chat(reply.get("chat_id", chat.id))
    message = source.messages.get(reply["message_id"]) if source else None
    if message is None or message.deleted:
        if reply.get("allow_sending_without_reply"):
            return None
        raise bad_request("message to be replied not found")
    return message


def _create(
    world: World, chat: Chat, kind: str, content: dict[str, Any], p: Params, source: str | None
) -> StoredMessage:
    reply_to = _reply_target(world, chat, p)
    if world.limits is not None:
        retry_after = world.limits.acquire(chat.id, chat.type is not ChatType.PRIVATE)
        if retry_after is not None:
            raise ApiError(
                429,
                f"Too Many Requests: retry after {retry_after}",
                {"retry_after": retry_after},
            )
    message = chat.add(world.bot, world.now(), kind, content)
    message.reply_markup = p.get("reply_markup")
    message.protect_content = bool(p.get("protect_content", False))
    message.parse_mode = p.get("parse_mode")
    message.source_text = source
    message.reply_to = reply_to
    return message


def _caption(p: Params) -> dict[str, Any]:
    caption = p.get("caption")
    if caption is None:
        return {}
    plain, entities = render_text(caption, p.get("parse_mode"), MAX_CAPTION, "message caption")
    entities = p.get("caption_entities", entities)
    return {"caption": plain, **({"caption_entities": entities} if entities else {})}


def text_content(p: Params) -> dict[str, Any]:
    text = p["text"]
    plain, entities = render_text(text, p.get("parse_mode"), MAX_TEXT, "message")
    if not plain.strip():
        raise bad_request("message text is empty")
    entities = p.get("entities", entities)
    content: dict[str, Any] = {"text": plain}
    if entities:
        content["entities"] = entities
    if "link_preview_options" in p:
        content["link_preview_options"] = p["link_preview_options"]
    return content


async def send_message(world: World, p: Params) -> Any:
    chat = target_chat(world, p["chat_id"])
    content = text_content(p)
    check_markup(p.get("reply_markup"))
    return _create(world, chat, "text", content, p, p["text"]).to_json()


def location_of(p: Params) -> dict[str, Any]:
    lat, lon = p["latitude"], p["longitude"]
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise bad_request("wrong location specified")
    location: dict[str, Any] = {"latitude": lat, "longitude": lon}
    for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if key in p:
            location[key] = p[key]
    period = location.get("live_period")
    if period is not None and period != LIVE_FOREVER and not 60 <= period <= 86400:
        raise bad_request("wrong live period specified")
    return location


async def send_location(world: World, p: Params) -> Any:
    chat = target_chat(world, p["chat_id"])
    content = {"location": location_of(p)}
    check_markup(p.get("reply_markup"))
    return _create(world, chat, "location", content, p, None).to_json()


def _file_id(world: World, value: Any, kind: str) -> str:
    if isinstance(value, str):
        return value
    # An upload gets a new id, as Telegram assigns one to every stored file.
    return world.new_file_id(kind)


async def send_voice(world: World, p: Params) -> Any:
    chat = target_chat(world, p["chat_id"])
    file_id = _file_id(world, p["voice"], "voice")
    voice = {
        "file_id": file_id,
        "file_unique_id": f"u{file_id}"[:32],
        "duration": p.get("duration", 0),
        "mime_type": "audio/ogg",
    }
    content = {"voice": voice, **_caption(p)}
    check_markup(p.get("reply_markup"))
    return _create(world, chat, "voice", content, p, p.get("caption")).to_json()


def photo_sizes(file_id: str) -> list[dict[str, Any]]:
    return [
        {
            "file_id": f"{file_id}",
            "file_unique_id": f"u{file_id}"[:32],
            "width": 1280,
            "height": 960,
        },
    ]


async def send_photo(world: World, p: Params) -> Any:
    chat = target_chat(world, p["chat_id"])
    content = {"photo": photo_sizes(_file_id(world, p["photo"], "photo")), **_caption(p)}
    check_markup(p.get("reply_markup"))
    return _create(world, chat, "photo", content, p, p.get("caption")).to_json()


MAX_UPLOAD = 50 * 1024 * 1024  # what Telegram takes from a bot in one file


async def send_document(world: World, p: Params) -> Any:
    """A file by id, or uploaded (multipart): the bytes stay on the message for tests."""
    chat = target_chat(world, p["chat_id"])
    value = p["document"]
    upload = value if isinstance(value, Upload) else None
    if upload is not None and len(upload.data) > MAX_UPLOAD:
        raise ApiError(413, "Request Entity Too Large")
    file_id = _file_id(world, value, "document")
    document: dict[str, Any] = {"file_id": file_id, "file_unique_id": f"u{file_id}"[:32]}
    if upload is not None:
        document["file_name"] = upload.filename
        document["mime_type"] = upload.content_type
        document["file_size"] = len(upload.data)
    content = {"document": document, **_caption(p)}
    check_markup(p.get("reply_markup"))
    message = _create(world, chat, "document", content, p, p.get("caption"))
    message.upload = upload.data if upload is not None else None
    return message.to_json()


def _source(world: World, p: Params, verb: str) -> StoredMessage:
    source_chat = world.chat(p["from_chat_id"])
    if source_chat is None:
        raise bad_request("chat not found")
    message = source_chat.messages.get(p["message_id"])
    if message is None or message.deleted:
        raise bad_request(f"message to {verb} not found")
    if message.protect_content:
        raise bad_request(f"message has protected content and can't be {verb}ed")
    return message


def _copied_content(message: StoredMessage, p: Params) -> dict[str, Any]:
    content = {k: v for k, v in message.content.items() if k not in ("caption", "caption_entities")}
    if message.kind == "text":
        return content
    caption = (
        _caption(p)
        if "caption" in p
        else {k: v for k, v in message.content.items() if k in ("caption", "caption_entities")}
    )
    return {**content, **caption}


async def copy_message(world: World, p: Params) -> Any:
    source = _source(world, p, "copy")
    chat = target_chat(world, p["chat_id"])
    check_markup(p.get("reply_markup"))
    content = _copied_content(source, p)
    message = _create(world, chat, source.kind, content, p, source.source_text or source.text)
    return {"message_id": message.message_id}


async def forward_message(world: World, p: Params) -> Any:
    source = _source(world, p, "forward")
    chat = target_chat(world, p["chat_id"])
    message = _create(world, chat, source.kind, dict(source.content), p, source.text)
    message.forward_origin = source.forward_origin or {
        "type": "user",
        "date": int(source.date.timestamp()),
        "sender_user": source.sender.to_json(),
    }
    return message.to_json()


HANDLERS = {
    "sendMessage": send_message,
    "sendLocation": send_location,
    "sendVoice": send_voice,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "copyMessage": copy_message,
    "forwardMessage": forward_message,
}

MESSAGE_CREATING = frozenset(
    {
        "sendMessage",
        "sendLocation",
        "sendVoice",
        "sendPhoto",
        "sendDocument",
        "copyMessage",
        "forwardMessage",
    }
)
