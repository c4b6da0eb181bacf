"""Coordinators' commands: /invite, /people, /remove and its confirmation buttons."""

from __future__ import annotations

import re

from telegram import Update

from bot.domain.errors import InvalidInput
from bot.domain.models import LANGUAGES, Person, Role
from bot.domain.parsing import quoted
from handlers.common import answer_quietly, coordinators_only, replying
from handlers.context import NabatContext

REMOVE_PATTERN = r"^rm:"
_REMOVE_DATA = re.compile(r"rm:(y|n|k|x|d):(\d{1,12})", re.ASCII)


def _coordinator(context: NabatContext) -> Person | None:
    """The caller if a coordinator. To anyone else these commands do not exist."""
    person = context.person
    if person is not None and person.has(Role.COORDINATOR):
        return person
    return None


def split_language(rest: str) -> tuple[str, str | None]:
    """'K-17 ko' -> ('K-17', 'ko'): a last word that is a language nabat speaks."""
    head, _, last = rest.rstrip().rpartition(" ")
    if last.lower() in LANGUAGES:
        return head.strip(), last.lower()
    return rest, None


@coordinators_only
async def invite(update: Update, context: NabatContext, actor: Person) -> None:
    # The raw text, not context.args: args would turn a line break in the name into a space.
    msg = update.effective_message
    words = (msg.text if msg is not None and msg.text else "").split(maxsplit=2)
    if len(words) < 2:
        raise InvalidInput("invite.usage")
    try:
        role = Role(words[1].lower())
    except ValueError:
        raise InvalidInput("invite.bad_role", given=quoted(words[1], 32)) from None
    name, lang = split_language(words[2] if len(words) > 2 else "")
    await context.services.people.invite(actor, role, name or None, lang=lang)


@coordinators_only
async def people(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.people.list_people(actor)


@coordinators_only
async def remove(update: Update, context: NabatContext, actor: Person) -> None:
    query = " ".join(context.args or [])
    if not query:
        raise InvalidInput("remove.usage")
    await context.services.people.ask_remove(actor, query)


@replying
async def remove_button(update: Update, context: NabatContext) -> None:
    query = update.callback_query
    assert query is not None
    await answer_quietly(update)
    actor = _coordinator(context)
    match = _REMOVE_DATA.fullmatch(query.data or "")
    # Callback data is never authority: the presser's role is checked again here, and
    # the service checks it once more against the target.
    if actor is None or match is None or query.message is None:
        return
    person_id = int(match.group(2))
    message_id = query.message.message_id
    choice = match.group(1)
    people = context.services.people
    if choice == "y":
        await people.remove(actor, person_id, confirm_message_id=message_id)
    elif choice == "d":
        await people.remove(actor, person_id, confirm_message_id=message_id, destroy_alerts=True)
    elif choice == "k":
        await people.remove(actor, person_id, confirm_message_id=message_id, keep_alerts=True)
    elif choice == "x":
        await people.export_before_removal(actor, person_id, confirm_message_id=message_id)
    else:
        await context.services.people.cancel_remove(actor, person_id, confirm_message_id=message_id)
