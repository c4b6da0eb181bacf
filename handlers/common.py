"""Handlers every audience shares: the gate, /start, /help, and the error handler."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.domain.errors import DomainError
from bot.domain.models import Notice, Person, Role
from bot.services.people import EnrolOutcome
from bot.words.catalogue import text
from bot.words.locales import language_of
from handlers.context import NabatContext

log = logging.getLogger(__name__)

Handler = Callable[[Update, NabatContext], Coroutine[Any, Any, None]]


def start_token(update: Update) -> str | None:
    """The token of a `/start <token>` message, if that is what this update is."""
    msg = update.message
    if msg is None or msg.text is None:
        return None
    parts = msg.text.split()
    if len(parts) == 2 and parts[0].split("@")[0] == "/start":
        return parts[1]
    return None


async def answer_quietly(update: Update) -> None:
    """Stop the button's spinner. Not a message, so it skips the outbox; failures don't matter."""
    if update.callback_query is not None:
        try:
            await update.callback_query.answer()
        except TelegramError as exc:
            log.info("could not answer a callback query: %s", type(exc).__name__)


def replying(handler: Handler) -> Handler:
    """Turn a DomainError into the catalogue message it names, for enrolled people only."""

    @functools.wraps(handler)
    async def wrapper(update: Update, context: NabatContext) -> None:
        try:
            await handler(update, context)
        except DomainError as err:
            person = context.person
            await answer_quietly(update)
            if person is not None:
                await context.services.people.reply(
                    person, Notice(err.key, dict(err.params), lang=person.lang)
                )

    return wrapper


async def unknown_command(context: NabatContext) -> None:
    """What a command outside the caller's role gets: the same reply as a typo."""
    if context.person is not None:
        await context.services.people.reply(
            context.person, Notice("help.unknown_command", lang=context.person.lang)
        )


def staff_caller(context: NabatContext) -> Person | None:
    """The caller if a responder or coordinator (buttons check this anew on every press)."""
    person = context.person
    return person if person is not None and person.is_staff else None


ActorHandler = Callable[[Update, NabatContext, Person], Coroutine[Any, Any, None]]


def only_for(allowed: Callable[[Person], bool]) -> Callable[[ActorHandler], Handler]:
    """A command that exists only for some roles; to anyone else it is unknown.

    The wrapped handler gets the caller as a third argument, and its DomainErrors become
    the catalogue messages they name (see `replying`)."""

    def decorate(handler: ActorHandler) -> Handler:
        @replying
        async def wrapper(update: Update, context: NabatContext) -> None:
            person = context.person
            if person is None or not allowed(person):
                return await unknown_command(context)
            await handler(update, context, person)

        wrapper.__name__ = handler.__name__
        return wrapper

    return decorate


staff_only = only_for(lambda person: person.is_staff)
coordinators_only = only_for(lambda person: person.has(Role.COORDINATOR))


async def gate(update: Update, context: NabatContext) -> None:
    user, chat = update.effective_user, update.effective_chat
    if user is None or chat is None or user.is_bot:
        raise ApplicationHandlerStop
    in_group = chat.type != chat.PRIVATE
    # In groups only buttons count (a page posted there); nothing else is read.
    if in_group and update.callback_query is None:
        raise ApplicationHandlerStop
    services = context.services
    if not await services.gate.first_time(update.update_id):
        raise ApplicationHandlerStop
    context.person = await services.people.identify(user.id)
    if in_group:
        if context.person is None or not context.person.is_staff:
            await answer_quietly(update)
            raise ApplicationHandlerStop
        return
    if context.person is not None:
        if context.person.unreachable:
            await services.people.reachable_again(context.person)
        return
    token = start_token(update)
    lang = language_of(user.language_code) or services.settings.language
    verdict = await services.gate.stranger(user.id, wants_enrolment=token is not None, lang=lang)
    if not verdict.proceed:
        await answer_quietly(update)
        raise ApplicationHandlerStop
    context.stranger_may_reply = verdict.may_reply


@replying
async def start(update: Update, context: NabatContext) -> None:
    user = update.effective_user
    assert user is not None
    services = context.services
    token = context.args[0] if context.args and len(context.args) == 1 else None
    if token is None:
        if context.person is not None:
            await _send_help(context)
        return
    outcome, person = await services.people.enrol(
        token=token,
        telegram_id=user.id,
        telegram_name=user.full_name,
        telegram_lang=user.language_code,
    )
    if outcome is EnrolOutcome.ENROLLED and person is not None and person.has(Role.CONTACT):
        # The invitation token has no business staying in a contact's chat.
        assert update.message is not None
        await services.alerts.intake.forget(person, update.message.message_id)
    if outcome is EnrolOutcome.ENROLLED and context.person is None:
        await services.gate.enrolled(user.id)
    elif outcome is EnrolOutcome.REFUSED and person is None and context.stranger_may_reply:
        await services.gate.neutral(
            user.id, language_of(user.language_code) or services.settings.language
        )


@replying
async def lang(update: Update, context: NabatContext) -> None:
    """`/lang ko`: anyone enrolled chooses the language they read."""
    if context.person is None:
        return
    await context.services.people.set_lang(context.person, " ".join(context.args or []))


@replying
async def help_(update: Update, context: NabatContext) -> None:
    await _send_help(context)


async def _send_help(context: NabatContext) -> None:
    person = context.person
    if person is None:
        return
    parts = [text(f"help.{role.value}", person.lang) for role in Role if person.has(role)]
    await context.services.people.reply(
        person, Notice("text.block", {"text": "\n\n".join(parts)}, lang=person.lang)
    )


@replying
async def anything_else(update: Update, context: NabatContext) -> None:
    person = context.person
    if person is None:
        return
    msg = update.message
    typed = msg.text if msg is not None and msg.text and not msg.text.startswith("/") else None
    if typed is not None and person.is_staff:
        # Staff's plain text answers whichever question they were asked last: the note
        # asked for after a Resolve button, or a step of a coordinator's guided change.
        services = context.services
        replied = msg.reply_to_message if msg is not None else None
        if replied is not None:
            # A reply to a page is words for that alert's contact.
            alert_id = await services.alerts.answers.alert_of_reply(person, replied.message_id)
            if alert_id is not None:
                await services.alerts.answers.say(person, alert_id, typed)
                return
        note = await services.alerts.actions.note_requested(person)
        step = await services.wizard.open_id(person) if person.has(Role.COORDINATOR) else None
        note_first = note is not None and (step is None or note > step)
        if note_first and await services.alerts.actions.typed_note(person, typed):
            return
        if step is not None and await services.wizard.typed(person, typed):
            return
    await unknown_command(context)


async def stale_button(update: Update, context: NabatContext) -> None:
    """A press whose data no handler recognises: old, forged, or from a removed feature."""
    query = update.callback_query
    if query is None:
        return
    log.info("callback with unrecognised data refused (update %d)", update.update_id)
    lang = context.person.lang if context.person else "en"
    try:
        await query.answer(text("callback.expired", lang))
    except TelegramError as exc:
        log.info("could not answer a callback query: %s", type(exc).__name__)


async def on_error(update: object, context: NabatContext) -> None:
    """Log the error's type and the update id only: an update may hold a panic message."""
    err = context.error
    update_id = update.update_id if isinstance(update, Update) else None
    log.error(
        "error while handling update %s: %s",
        update_id,
        type(err).__name__,
        exc_info=(type(err), err, err.__traceback__) if _log_traceback() and err else None,
    )
    # The error handler gets a fresh context: find the person again from the update.
    user = update.effective_user if isinstance(update, Update) else None
    if user is None or context.bot_data.services is None:
        return
    try:
        person = await context.services.people.identify(user.id)
        if person is None:
            return
        await context.services.people.reply(person, Notice("error.internal", lang=person.lang))
    except Exception as exc:  # the error handler must never raise
        log.error("could not tell the user about an error: %s", type(exc).__name__)


def _log_traceback() -> bool:
    # Tracebacks name code, not data, but locals can leak into some formatters: only at DEBUG.
    return log.isEnabledFor(logging.DEBUG)
