"""The message catalogue: every word nabat says to a Telegram user, wrapped for gettext.

Strings are English msgids marked with N_() so `pybabel extract -k N_` or `xgettext -k N_`
finds them; a translation is a `bot/locale/<lang>/LC_MESSAGES/nabat.mo` file, not code.
Contacts' strings stay short and neutral: their phone may be read by someone else.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from storage.models import Notice

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "nabat"


def N_(text: str) -> str:
    return text


CATALOGUE: dict[str, str] = {
    # Anyone not enrolled, and every failed invitation: one line that says nothing.
    "neutral": N_("Sorry, I can't help with that."),
    # Enrolment.
    "welcome.contact": N_(
        "You are set up. If you need help, send /panic or just write here. "
        "Send /help to see what you can do."
    ),
    "welcome.responder": N_(
        "Welcome, {name}. You are enrolled as a responder: you will be paged when a "
        "contact needs help. Send /help to see your commands."
    ),
    "welcome.coordinator": N_(
        "Welcome, {name}. You are enrolled as a coordinator: you can invite people and "
        "run the rota. Send /help to see your commands."
    ),
    "enrol.already": N_("You are already enrolled as {role}. Send /help to see what you can do."),
    "enrol.role_conflict": N_(
        "This invitation is for a {role}, which cannot be combined with your current role. "
        "Ask a coordinator for the right invitation."
    ),
    # Help, by role.
    "help.contact": N_("/panic [text] - ask for help now\n/help - this list"),
    "help.responder": N_("Responder commands:\n/help - this list"),
    "help.coordinator": N_(
        "Coordinator commands:\n"
        "/invite <role> [name] - invite a contact, responder or coordinator "
        "(e.g. /invite responder Anna)\n"
        "/people - list enrolled people\n"
        "/remove <number or name> - end an enrolment and delete that person's data\n"
        "/help - this list"
    ),
    "help.unknown_command": N_("I don't know that command. Send /help to see what you can do."),
    # Invitations.
    "invite.created": N_(
        "Invitation for a {role}{named} created. It works once and expires {expires}.\n\n"
        "Send this link to the person:\n{link}\n\n"
        "or ask them to send the bot this line:\n/start {token}"
    ),
    "invite.named": N_(" ({name})"),
    "invite.usage": N_(
        "Usage: /invite <role> [name], where role is contact, responder or coordinator. "
        "Example: /invite responder Anna"
    ),
    "invite.bad_role": N_(
        "'{given}' is not a role. Use contact, responder or coordinator. "
        "Example: /invite contact K-17"
    ),
    "invite.bad_name": N_(
        "A name must be 1 to {max} characters of text, without line breaks. "
        "Example: /invite responder Anna"
    ),
    # People.
    # A block of text already put together in the reader's language (lists).
    "text.block": "{text}",
    "people.header": N_("Enrolled people ({count}):"),
    "people.line": N_("#{id} {name} - {roles}"),
    "people.empty": N_("No one is enrolled yet. Invite someone with /invite."),
    "role.contact": N_("contact"),
    "role.responder": N_("responder"),
    "role.coordinator": N_("coordinator"),
    "remove.usage": N_(
        "Usage: /remove <number or name>. /people shows each person's number. Example: /remove 3"
    ),
    "remove.not_found": N_("No enrolled person matches '{query}'. Send /people to see everyone."),
    "remove.ambiguous": N_(
        "More than one person matches '{query}': {matches}. "
        "Use the number instead, e.g. /remove {example}"
    ),
    "remove.confirm": N_(
        "Remove #{id} {name} ({roles})? This ends their enrolment and deletes their data. "
        "It cannot be undone."
    ),
    "remove.last_coordinator": N_(
        "#{id} {name} is the last coordinator. Invite another coordinator before removing them."
    ),
    "remove.done": N_("Removed #{id} {name}. Their data has been deleted."),
    "remove.cancelled": N_("Cancelled: #{id} {name} stays enrolled."),
    "remove.gone": N_("That person is no longer enrolled."),
    "button.remove": N_("Remove"),
    "button.cancel": N_("Cancel"),
    "callback.expired": N_("This button no longer applies."),
    "callback.done": N_("Done."),
    # Errors everyone may see.
    "error.not_allowed": N_("You can't do that."),
    "error.internal": N_("Something went wrong on our side. Please try again."),
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """A notice turned into words: text and (label, callback data) buttons."""

    text: str
    buttons: tuple[tuple[tuple[str, str], ...], ...] = ()
    protect: bool = False


@lru_cache(maxsize=16)
def _translation(lang: str) -> gettext.NullTranslations:
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang, "en"], fallback=True)


def text(key: str, lang: str = "en", **params: Any) -> str:
    """The catalogue string `key` in `lang` (English if untranslated), formatted."""
    msgid = CATALOGUE[key]
    return _translation(lang).gettext(msgid).format(**params)


def render(notice: Notice) -> Rendered:
    # Parameters whose value is a catalogue key are translated too ("role": "role.contact").
    params = {
        k: text(v, notice.lang) if isinstance(v, str) and v in CATALOGUE else v
        for k, v in notice.params.items()
    }
    buttons = tuple(
        tuple((text(b.key, notice.lang, **b.params), b.data) for b in row) for row in notice.buttons
    )
    return Rendered(text(notice.key, notice.lang, **params), buttons, notice.protect)
