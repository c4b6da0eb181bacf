"""Responders and coordinators acting on alerts: /alerts, /alert, /ack, /resolve, /export,
buttons."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import TelegramError

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.limits import clip
from bot.domain.models import Person
from bot.domain.parsing import has_control, whole_number
from bot.words.catalogue import text
from handlers.common import staff_caller, staff_only
from handlers.context import NabatContext

log = logging.getLogger(__name__)

# ack: acknowledge, res: resolve, al: timeline, snz: still on it, new / not: a message
# held after a resolution made an alert or closed, md: voice and photos, nn: no note.
ALERT_BUTTON_PATTERN = r"^(ack|res|al|snz|new|not|md|nn|ans|phr):"
# ASCII digits only: re's \d also matches '１' and '٣', which int() would read.
_ALERT_BUTTON = re.compile(
    r"(ack|res|al|snz|new|not|md|nn|ans|phr):(\d{1,12})(?::(\d{1,2}))?", re.ASCII
)


def _alert_number(args: list[str], usage: str) -> int:
    number = whole_number(args[0].removeprefix("#")) if args else None
    if number is None:
        raise InvalidInput(usage)
    return number


@staff_only
async def alerts(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.alerts.actions.list_open(actor)


@staff_only
async def alert(update: Update, context: NabatContext, actor: Person) -> None:
    number = _alert_number(context.args or [], "alert.usage_show")
    await context.services.alerts.actions.show_timeline(actor, number)


@staff_only
async def say(update: Update, context: NabatContext, actor: Person) -> None:
    """`/say 12 Do not sign anything.`: words to the contact of alert 12, as written."""
    msg = update.effective_message
    raw = msg.text if msg is not None and msg.text else ""
    parts = raw.split(maxsplit=2)
    number = whole_number(parts[1].removeprefix("#")) if len(parts) > 1 else None
    if number is None or len(parts) < 3:
        raise InvalidInput("say.usage")
    await context.services.alerts.answers.say(actor, number, parts[2])


@staff_only
async def export(update: Update, context: NabatContext, actor: Person) -> None:
    """`/export 12`: alert 12's record for a court, as a PDF and signed JSON."""
    number = _alert_number(context.args or [], "export.usage")
    await context.services.exports.send(actor, number)


@staff_only
async def ack(update: Update, context: NabatContext, actor: Person) -> None:
    number = _alert_number(context.args or [], "alert.usage_ack")
    await context.services.alerts.actions.acknowledge(actor, number, reply=True)


@staff_only
async def resolve(update: Update, context: NabatContext, actor: Person) -> None:
    args = context.args or []
    number = _alert_number(args, "alert.usage_resolve")
    note = " ".join(args[1:]) or None
    if note is not None and has_control(note):
        raise InvalidInput("alert.bad_note")
    await context.services.alerts.actions.resolve(actor, number, note, reply=True)


async def alert_button(update: Update, context: NabatContext) -> None:
    """Acknowledge / Resolve / show on a page. The presser's right is checked anew."""
    query = update.callback_query
    assert query is not None
    actor = staff_caller(context)
    match = _ALERT_BUTTON.fullmatch(query.data or "")
    answer: str | None = None
    if actor is None or match is None:
        log.info("alert button refused (update %d)", update.update_id)
        answer = text("error.not_allowed", context.person.lang if context.person else "en")
    else:
        action, number = match.group(1), int(match.group(2))
        service = context.services.alerts.actions
        chat = update.effective_chat
        # Pressed in a group: allowed when this alert was paged to that group.
        group = chat.id if chat is not None and chat.type != chat.PRIVATE else None
        done = text("callback.done", actor.lang)
        try:
            if action == "ack":
                await service.acknowledge(actor, number, reply=False, group_chat=group)
                answer = done
            elif action == "res":
                await service.resolve(
                    actor, number, None, reply=False, group_chat=group, ask_note=True
                )
                answer = done
            elif action == "snz":
                wait = await service.snooze(actor, number)
                answer = text("alert.snoozed", actor.lang, id=number, wait=wait)
            elif action == "new":
                await service.release_held(actor, number)
                answer = text("held.released", actor.lang, id=number)
            elif action == "not":
                await service.dismiss_held(actor, number)
                answer = text("held.dismissed", actor.lang, id=number)
            elif action == "md":
                await service.send_media(actor, number, group_chat=group)
            elif action == "nn":
                await service.no_note(actor, number)
            elif action == "ans":
                await context.services.alerts.answers.menu(actor, number)
            elif action == "phr" and match.group(3) is not None:
                await context.services.alerts.answers.phrase(actor, number, int(match.group(3)))
                answer = done
            else:
                await service.show_timeline(actor, number, group_chat=group)
        except DomainError as err:
            answer = text(err.key, actor.lang, **err.params)
    try:
        # Telegram refuses a callback answer over 200 characters.
        shown = clip(answer, 200) if answer is not None else None
        await query.answer(shown, show_alert=shown is not None and len(shown) > 40)
    except TelegramError as exc:
        log.info("could not answer a callback query: %s", type(exc).__name__)
