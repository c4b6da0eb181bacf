"""Case files from Telegram: `/case` (coordinators: any contact's, and changes to it;
anyone staff: `/case <alert number>`) and the page's Case file button. The service
decides who may see what (bot/services/casefiles.py); Confirm and Cancel go through
handlers/rota.py with every other preview."""

from __future__ import annotations

import logging
import re

from telegram import Update
from telegram.error import TelegramError

from bot.domain.errors import DomainError
from bot.domain.limits import clip
from bot.domain.models import Person, Role
from bot.services.casefiles import parse_command
from bot.words.catalogue import text
from handlers.common import answer_quietly, staff_caller, staff_only
from handlers.context import NabatContext

log = logging.getLogger(__name__)

CASE_BUTTON_PATTERN = r"^cf:"
# ASCII digits only: re's \d also matches '１' and '٣'.
_CASE_BUTTON = re.compile(r"cf:(\d{1,12})", re.ASCII)


def _rest(update: Update) -> str:
    """Everything after the command, as typed: line breaks and | separators survive."""
    msg = update.effective_message
    raw = msg.text if msg is not None and msg.text else ""
    parts = raw.split(maxsplit=1)
    return parts[1] if len(parts) > 1 else ""


@staff_only
async def case(update: Update, context: NabatContext, actor: Person) -> None:
    command = parse_command(_rest(update))
    services = context.services
    if command.verb == "edit" and actor.has(Role.COORDINATOR):
        if not command.who:
            await services.wizard.start(actor, "case")
            return
        contact = await services.casefiles.contact(actor, command.who)
        await services.casefiles.guided(actor, contact)  # audited: the questions show it
        await services.wizard.start(actor, "case", f"#{contact.id}")
        return
    await services.casefiles.run(actor, command)


async def case_button(update: Update, context: NabatContext) -> None:
    """A page's Case file button: the case file comes in a private message; the right
    to see it is checked anew, as for `/case <alert number>`."""
    query = update.callback_query
    assert query is not None
    actor = staff_caller(context)
    match = _CASE_BUTTON.fullmatch(query.data or "")
    chat = update.effective_chat
    in_group = chat is not None and chat.type != chat.PRIVATE
    if actor is None or match is None or in_group:
        # A group's page never has the button: a press there is forged or stale.
        log.info("case file button refused (update %d)", update.update_id)
        await answer_quietly(update)
        return
    answer = text("callback.done", actor.lang)
    try:
        await context.services.casefiles.show_for_alert(actor, int(match.group(1)))
    except DomainError as err:
        answer = text(err.key, actor.lang, **err.params)
    try:
        shown = clip(answer, 200)  # Telegram refuses a callback answer over 200 characters
        await query.answer(shown, show_alert=len(shown) > 40)
    except TelegramError as exc:
        log.info("could not answer a callback query: %s", type(exc).__name__)
