"""The rota from Telegram: /tz, /oncall, /shifts; coordinators' /rotation and /override;
responders' /swap; the Confirm / Cancel and Take buttons."""

from __future__ import annotations

import logging
import re

from telegram import Update

from bot.domain.errors import DomainError, InvalidInput
from bot.domain.models import DraftKind, Notice, Person, Role
from bot.words.catalogue import text
from handlers.common import answer_quietly, coordinators_only, staff_caller, staff_only
from handlers.context import NabatContext

log = logging.getLogger(__name__)

DRAFT_PATTERN = r"^dr:"
SWAP_PATTERN = r"^swp:"
# The drafts a Confirm / Cancel button names.
_CONFIRMED = (
    DraftKind.ROTATION_NEW,
    DraftKind.ROTATION_MEMBERS,
    DraftKind.OVERRIDE_NEW,
    DraftKind.POLICY_EDIT,
    DraftKind.CHECKIN_SCHEDULE,
    DraftKind.CASE_EDIT,
)
# Matched whole (fullmatch) and ASCII only: re's \d also matches '１' and '٣'.
_DRAFT = re.compile(
    rf"dr:(y|n):({'|'.join(re.escape(kind) for kind in _CONFIRMED)}):(\d{{1,12}})", re.ASCII
)
_SWAP = re.compile(r"swp:(\d{1,12})", re.ASCII)
WIZARD_PATTERN = r"^wz:"
_WIZARD = re.compile(r"wz:(\d{1,12}):([a-z]{1,3}):(\d{1,12})", re.ASCII)
TZ_PATTERN = r"^tz:"
# A zone name as tzdata spells them; set_tz checks it is one.
_TZ = re.compile(r"tz:([A-Za-z0-9_+/-]{1,60})", re.ASCII)


def _rest(update: Update) -> str:
    """Everything after the command, as typed (the | separators survive)."""
    msg = update.effective_message
    raw = msg.text if msg is not None and msg.text else ""
    return raw.split(maxsplit=1)[1] if len(raw.split(maxsplit=1)) > 1 else ""


@staff_only
async def tz(update: Update, context: NabatContext, actor: Person) -> None:
    raw = _rest(update).strip()
    if not raw:
        raise InvalidInput("tz.usage", tz=actor.tz)
    await context.services.rota.set_tz(actor, raw)


@staff_only
async def remind(update: Update, context: NabatContext, actor: Person) -> None:
    raw = _rest(update).strip()
    if not raw:
        raise InvalidInput("remind.usage", minutes=actor.remind_minutes)
    await context.services.rota.set_reminder(actor, raw)


@staff_only
async def oncall(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.rota.report_on_call(actor)


@staff_only
async def shifts(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.rota.report_shifts(actor)


@coordinators_only
async def rotation(update: Update, context: NabatContext, actor: Person) -> None:
    raw = _rest(update)
    verb, _, rest = raw.strip().partition(" ")
    service = context.services.rota
    if not verb:
        await service.list_rotations(actor)
    elif verb == "new" and not rest.strip():
        await context.services.wizard.start(actor, "rotation")
    elif verb == "new":
        await service.draft_rotation(actor, rest)
    elif verb == "people" and "|" not in rest:
        await context.services.wizard.start(actor, "members", rest)
    elif verb == "people":
        await service.draft_members(actor, rest)
    else:
        raise InvalidInput("rotation.usage")


@coordinators_only
async def override(update: Update, context: NabatContext, actor: Person) -> None:
    raw = _rest(update)
    if "|" not in raw:  # nothing, or just the rotation: ask the rest step by step
        await context.services.wizard.start(actor, "override", raw)
    else:
        await context.services.rota.draft_override(actor, raw)


@coordinators_only
async def policy(update: Update, context: NabatContext, actor: Person) -> None:
    verb, _, rest = _rest(update).strip().partition(" ")
    service = context.services.policies
    if not verb:
        await service.show(actor)
    elif verb == "step" and "|" not in rest:
        await context.services.wizard.start(actor, "step", rest)
    elif verb == "step":
        await service.draft_step(actor, rest)
    elif verb == "drop":
        await service.draft_drop(actor, rest)
    else:
        raise InvalidInput("policy.step_usage")


@coordinators_only
async def assign(update: Update, context: NabatContext, actor: Person) -> None:
    await context.services.policies.assign(actor, _rest(update))


@staff_only
async def swap(update: Update, context: NabatContext, actor: Person) -> None:
    rest = _rest(update)
    verb, _, number = rest.strip().partition(" ")
    if verb == "cancel":
        await context.services.rota.withdraw_swap(actor, number)
    else:
        await context.services.rota.request_swap(actor, rest)


async def draft_button(update: Update, context: NabatContext) -> None:
    query = update.callback_query
    assert query is not None
    actor = context.person
    match = _DRAFT.fullmatch(query.data or "")
    if actor is None or match is None or not actor.has(Role.COORDINATOR):
        await answer_quietly(update)
        return
    confirm, kind, draft_id = match.group(1) == "y", DraftKind(match.group(2)), int(match.group(3))
    await _run_button(update, context, actor, confirm, kind, draft_id)


async def _run_button(
    update: Update,
    context: NabatContext,
    actor: Person,
    confirm: bool,
    kind: DraftKind,
    draft_id: int,
) -> None:
    query = update.callback_query
    assert query is not None
    answer = text("callback.done", actor.lang)
    services = context.services
    try:
        if kind is DraftKind.CHECKIN_SCHEDULE:
            if confirm:
                await services.checkin_admin.confirm(actor, draft_id)
            else:
                await services.checkin_admin.cancel(actor, draft_id)
        elif kind is DraftKind.CASE_EDIT:
            if confirm:
                await services.casefiles.confirm(actor, draft_id)
            else:
                await services.casefiles.cancel(actor, draft_id)
        elif kind is DraftKind.POLICY_EDIT:
            if confirm:
                await services.policies.confirm(actor, draft_id)
            else:
                await services.policies.cancel(actor, draft_id)
        elif confirm:
            await services.rota.confirm(actor, draft_id, kind)
        else:
            await services.rota.cancel(actor, draft_id, kind)
    except DomainError as err:
        answer = text(err.key, actor.lang, **err.params)
        await context.services.people.reply(
            actor, Notice(err.key, dict(err.params), lang=actor.lang)
        )
    # A draft is taken once: a second press only hears that it is gone.
    await query.answer(answer[:200])


async def wizard_button(update: Update, context: NabatContext) -> None:
    query = update.callback_query
    assert query is not None
    actor = context.person
    match = _WIZARD.fullmatch(query.data or "")
    if actor is None or match is None or not actor.has(Role.COORDINATOR):
        await answer_quietly(update)
        return
    answer: str | None = None
    message_id = query.message.message_id if query.message is not None else None
    try:
        await context.services.wizard.pressed(
            actor, int(match.group(1)), match.group(2), int(match.group(3)), message_id
        )
    except DomainError as err:
        answer = text(err.key, actor.lang, **err.params)
    await query.answer(answer[:200] if answer else None)


async def tz_button(update: Update, context: NabatContext) -> None:
    """A time zone offered at enrolment: the same as `/tz <zone>`."""
    query = update.callback_query
    assert query is not None
    actor = staff_caller(context)
    match = _TZ.fullmatch(query.data or "")
    if actor is None or match is None:
        await answer_quietly(update)
        return
    answer = text("callback.done", actor.lang)
    try:
        await context.services.rota.set_tz(actor, match.group(1))
    except DomainError as err:
        answer = text(err.key, actor.lang, **err.params)
    await query.answer(answer[:200])


async def swap_button(update: Update, context: NabatContext) -> None:
    query = update.callback_query
    assert query is not None
    actor = staff_caller(context)
    match = _SWAP.fullmatch(query.data or "")
    if actor is None or match is None:
        await answer_quietly(update)
        return
    answer = text("callback.done", actor.lang)
    try:
        await context.services.rota.take_swap(actor, int(match.group(1)))
    except DomainError as err:
        answer = text(err.key, actor.lang, **err.params)
    await query.answer(answer[:200], show_alert=len(answer) > 40)
