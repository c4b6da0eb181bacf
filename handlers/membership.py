"""The bot's own membership: blocked or unblocked in a private chat, added to or removed
from a group. Runs before the gate: these updates carry no message to guard."""

from __future__ import annotations

import logging

from telegram import ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from handlers.context import NabatContext

log = logging.getLogger(__name__)

_IN = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR, ChatMember.OWNER)


async def my_membership(update: Update, context: NabatContext) -> None:
    change = update.my_chat_member
    if change is None:
        return
    services = context.services
    if not await services.gate.first_time(update.update_id):
        raise ApplicationHandlerStop
    now_in = change.new_chat_member.status in _IN
    was_in = change.old_chat_member.status in _IN
    chat = change.chat
    actor = await services.people.identify(change.from_user.id)
    if chat.type == chat.PRIVATE:
        if actor is not None and actor.is_staff:
            if not now_in:
                await services.alerts.outcomes.person_unreachable(actor)
            elif actor.unreachable:
                await services.people.reachable_again(actor)
        raise ApplicationHandlerStop
    if now_in and not was_in:
        group = await services.groups.added(chat.id, chat.title or "", actor)
        if group is None:
            try:
                await context.bot.leave_chat(chat.id)
            except TelegramError as exc:
                log.info("could not leave a group: %s", type(exc).__name__)
    elif was_in and not now_in:
        await services.groups.removed(chat.id)
    raise ApplicationHandlerStop
