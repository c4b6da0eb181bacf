"""Contacts: every message they send is a panic or a follow-up on their open alert.

Runs in its own handler group before the shared handlers, so a contact's message never
reaches anything else; only a bare /help or /start falls through to the shared handlers.
"""

from __future__ import annotations

from telegram import Message, Update
from telegram.ext import ApplicationHandlerStop

from bot.domain.errors import DomainError
from bot.domain.models import Location, Notice, Role
from bot.services.alerts import ContactMessage, Incoming
from bot.services.checkins import CHECKIN_BUTTON
from handlers.common import answer_quietly
from handlers.context import NabatContext

PANIC_COMMANDS = ("panic", "sos")
# A contact's check-in commands (bot/services/checkins.py).
CHECKIN_COMMANDS = ("ok", "trip", "pin", "word", "cancel")


def _command(msg: Message) -> str | None:
    if msg.text and msg.text.startswith("/"):
        return msg.text.split()[0][1:].split("@")[0].lower()
    return None


def parse(update: Update) -> ContactMessage | None:
    """The update as a ContactMessage, or None if it is not something a contact sends us."""
    if update.edited_message is not None:
        edited = update.edited_message
        if edited.location is not None:
            return ContactMessage(
                Incoming.LIVE_EDIT,
                edited.message_id,
                location=Location(edited.location.latitude, edited.location.longitude, True),
            )
        return None
    msg = update.message
    return None if msg is None else parse_message(msg)


def parse_message(msg: Message) -> ContactMessage:
    """A new message from a contact, as plain values: never nothing."""
    if msg.location is not None:
        # Read the wire value: PTB 22 warns on the attribute while it moves to timedelta.
        period = msg.location.to_dict().get("live_period")
        live = period is not None
        return ContactMessage(
            Incoming.LIVE_LOCATION if live else Incoming.LOCATION,
            msg.message_id,
            location=Location(msg.location.latitude, msg.location.longitude, live),
            live_period=int(period) if period is not None else None,
        )
    if msg.voice is not None:
        return ContactMessage(
            Incoming.VOICE, msg.message_id, text=msg.caption or "", file_id=msg.voice.file_id
        )
    if msg.photo:
        return ContactMessage(
            Incoming.PHOTO, msg.message_id, text=msg.caption or "", file_id=msg.photo[-1].file_id
        )
    if msg.text is not None:
        command = _command(msg)
        if command in PANIC_COMMANDS:
            rest = msg.text.split(maxsplit=1)
            return ContactMessage(
                Incoming.TEXT, msg.message_id, text=rest[1] if len(rest) > 1 else "", panic=True
            )
        # Any other command ("/sos!", "/panik", "/help me") is words for someone to read.
        return ContactMessage(Incoming.TEXT, msg.message_id, text=msg.text)
    # A video, a document, a sticker, a contact card...: nabat cannot pass these on, but
    # that the contact sent something, and its caption, must reach someone.
    kind = _other_kind(msg)
    caption = msg.caption or ""
    return ContactMessage(
        Incoming.TEXT, msg.message_id, text=f"[{kind}] {caption}".strip(), panic=False
    )


def _other_kind(msg: Message) -> str:
    for kind in ("video", "video_note", "document", "audio", "sticker", "contact", "animation"):
        if getattr(msg, kind, None):
            return kind.replace("_", " ")
    return "message"


async def contact_update(update: Update, context: NabatContext) -> None:
    person = context.person
    if person is None or not person.has(Role.CONTACT):
        return
    checkins = context.services.checkins
    if update.callback_query is not None:
        # The one button a contact is sent is a check-in reminder's OK; any other press
        # is stale or forged. Either way, stop the spinner without a word.
        await answer_quietly(update)
        if update.callback_query.data == CHECKIN_BUTTON:
            await checkins.button(person)
        raise ApplicationHandlerStop
    parsed = parse(update)
    msg = update.message
    command = _command(msg) if msg is not None else None
    if msg is not None and (command == "start" or (command == "help" and not _has_words(msg))):
        # /start (with its invitation token) and a bare /help: the shared handlers answer;
        # the command itself leaves the chat.
        await context.services.alerts.intake.forget(person, msg.message_id)
        return
    if parsed is None:
        raise ApplicationHandlerStop
    if msg is not None and msg.text is not None:
        args = msg.text.split(maxsplit=1)[1] if len(msg.text.split(maxsplit=1)) > 1 else ""
        if command == "lang":
            await context.services.alerts.intake.forget(person, msg.message_id)
            try:
                await context.services.people.set_lang(person, args)
            except DomainError as err:
                await context.services.people.reply(
                    person, Notice(err.key, dict(err.params), lang=person.lang)
                )
            raise ApplicationHandlerStop
        if command in CHECKIN_COMMANDS:
            handle = {
                "ok": checkins.ok_command,
                "trip": checkins.trip,
                "pin": checkins.pin,
                "word": checkins.word,
                "cancel": checkins.cancel,
            }[command]
            await handle(person, args, msg.message_id)
            raise ApplicationHandlerStop
        if command is None and await checkins.typed(person, msg.text, msg.message_id):
            raise ApplicationHandlerStop
    # Anything else a contact writes is words for someone to read, whatever it starts
    # with: "/help me, detained at Lenina 5", "/panik", "/sos!" open an alert (or add to
    # the open one) like plain text does. Nothing a contact writes may fall silent.
    await context.services.alerts.intake.contact_message(person, parsed)
    raise ApplicationHandlerStop


def _has_words(msg: Message) -> bool:
    """A command with something written after it."""
    return bool(msg.text and len(msg.text.split(maxsplit=1)) > 1)
