"""Check-ins from Telegram: coordinators' /schedule, /pause, /trip and /checkins.

What a contact sends (/ok, the reminder's button, the check-in word, /trip, /pin, /word,
/cancel, a PIN asked for) is routed in handlers/contact.py, before anything else sees it.
"""

from __future__ import annotations

from telegram import Update

from bot.domain.models import Person
from bot.services.checkin_admin import is_one_line
from handlers.common import coordinators_only
from handlers.context import NabatContext


def _rest(update: Update) -> str:
    msg = update.effective_message
    raw = msg.text if msg is not None and msg.text else ""
    parts = raw.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


@coordinators_only
async def schedule(update: Update, context: NabatContext, actor: Person) -> None:
    raw = _rest(update).strip()
    if not is_one_line(raw):
        # `/schedule` or `/schedule <contact>`: the guided flow asks the rest.
        await context.services.wizard.start(actor, "checkin", raw)
        return
    await context.services.checkin_admin.propose(actor, raw)


@coordinators_only
async def pause(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.checkin_admin.pause(actor, _rest(update))


@coordinators_only
async def trip(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.checkin_admin.trip_for(actor, _rest(update))


@coordinators_only
async def checkins(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.checkin_admin.overview(actor)
