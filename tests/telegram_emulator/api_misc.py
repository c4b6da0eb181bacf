"""The bot's other methods: identity, updates and webhooks, callback answers, commands, chats."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from tests.telegram_emulator.api_messages import Params, target_chat
from tests.telegram_emulator.errors import ApiError, bad_request, forbidden
from tests.telegram_emulator.state import CALLBACK_TIMEOUT, ChatType, Profile, World

CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


async def get_me(world: World, p: Params) -> Any:
    return world.bot.to_json()


async def get_updates(world: World, p: Params) -> Any:
    if world.webhook_url:
        raise ApiError(409, WEBHOOK_CONFLICT)
    limit, timeout = p.get("limit", 100), p.get("timeout", 0)
    if not 1 <= limit <= 100:
        raise bad_request("limit must be between 1 and 100")
    if not 0 <= timeout <= 50:
        raise bad_request("timeout must be between 0 and 50")
    if "allowed_updates" in p:
        world.updates.set_allowed(p["allowed_updates"])
    # A newer getUpdates ends an older one that is still waiting.
    world.poll_generation += 1
    generation = world.poll_generation
    world.updates.confirm(p.get("offset", 0))
    world.touch()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        signal = world.changes.current()
        if generation != world.poll_generation:
            raise ApiError(409, CONFLICT)
        batch = world.updates.take(limit)
        remaining = deadline - loop.time()
        if batch or remaining <= 0 or world.closing:
            return batch
        try:
            async with asyncio.timeout(remaining):
                await signal.wait()
        except TimeoutError:
            pass


async def delete_webhook(world: World, p: Params) -> Any:
    world.webhook_url = ""
    if p.get("drop_pending_updates"):
        world.updates.drop_all()
    return True


async def set_webhook(world: World, p: Params) -> Any:
    url = p["url"]
    if url and not url.startswith("https://"):
        raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    world.webhook_url = url
    if "allowed_updates" in p:
        world.updates.set_allowed(p["allowed_updates"])
    if p.get("drop_pending_updates"):
        world.updates.drop_all()
    return True


async def get_webhook_info(world: World, p: Params) -> Any:
    return {
        "url": world.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": world.updates.pending_count,
    }


async def always_true(world: World, p: Params) -> Any:
    return True


async def answer_callback_query(world: World, p: Params) -> Any:
    query = world.callbacks.get(p["callback_query_id"])
    if query is None or query.answered:
        raise bad_request(QUERY_TOO_OLD)
    if world.monotonic() - query.created_mono > CALLBACK_TIMEOUT:
        raise bad_request(QUERY_TOO_OLD)
    if len(p.get("text", "")) > 200:
        raise bad_request("MESSAGE_TOO_LONG")
    query.answered = True
    world.callback_answers.setdefault(query.user.id, []).append(dict(p))
    return True


def _scope_key(p: Params) -> tuple[str, str]:
    scope = p.get("scope") or {"type": "default"}
    return json.dumps(scope, sort_keys=True), p.get("language_code", "")


async def set_my_commands(world: World, p: Params) -> Any:
    commands = p["commands"]
    if len(commands) > 100:
        raise bad_request("too many commands")
    for command in commands:
        if not _COMMAND_RE.fullmatch(command["command"]):
            raise bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(command["description"]) <= 256:
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
    world.commands[_scope_key(p)] = [dict(c) for c in commands]
    return True


async def delete_my_commands(world: World, p: Params) -> Any:
    world.commands.pop(_scope_key(p), None)
    return True


async def get_my_commands(world: World, p: Params) -> Any:
    return world.commands.get(_scope_key(p), [])


async def get_chat(world: World, p: Params) -> Any:
    chat = world.chat(p["chat_id"])
    if chat is None or (chat.type is ChatType.PRIVATE and not chat.started):
        raise bad_request("chat not found")
    return {
        **chat.to_json(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": True,
            "limited_gifts": True,
            "unique_gifts": True,
            "premium_subscription": True,
            "gifts_from_channels": True,
        },
    }


async def send_chat_action(world: World, p: Params) -> Any:
    target_chat(world, p["chat_id"])
    if p["action"] not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")
    return True


async def leave_chat(world: World, p: Params) -> Any:
    chat = world.chat(p["chat_id"])
    if chat is None:
        raise bad_request("chat not found")
    if chat.type is ChatType.PRIVATE:
        raise bad_request("chat member status can't be changed in private chats")
    if not chat.bot_present:
        raise forbidden(f"bot is not a member of the {chat.type} chat")
    chat.bot_present = False
    return True


def _member(status: str, user: Profile) -> dict[str, Any]:
    return {"status": status, "user": user.to_json()}


async def get_chat_member(world: World, p: Params) -> Any:
    chat = world.chat(p["chat_id"])
    if chat is None:
        raise bad_request("chat not found")
    user_id = p["user_id"]
    if user_id == world.bot.id:
        return _member("member" if chat.bot_present else "left", world.bot)
    if chat.user is not None:
        if chat.user.id != user_id:
            raise bad_request("user not found")
        return _member("member", chat.user)
    if user_id in chat.members:
        return _member("member", chat.members[user_id])
    known = world.chat(user_id)
    if known is None or known.user is None:
        raise bad_request("user not found")
    return _member("left", known.user)


HANDLERS = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "deleteWebhook": delete_webhook,
    "setWebhook": set_webhook,
    "getWebhookInfo": get_webhook_info,
    "close": always_true,
    "logOut": always_true,
    "answerCallbackQuery": answer_callback_query,
    "setMyCommands": set_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getMyCommands": get_my_commands,
    "getChat": get_chat,
    "sendChatAction": send_chat_action,
    "leaveChat": leave_chat,
    "getChatMember": get_chat_member,
}
