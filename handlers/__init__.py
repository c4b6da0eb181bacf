"""Thin Telegram handlers: parse the update, call a service in bot/, let it reply.

- context.py: the typed context (services, the caller) every handler gets.
- common.py: the gate, /start, /help, errors, what no other handler takes.
- contact.py: everything a contact sends: panics, follow-ups, check-ins.
- responder.py: alerts: /alerts, /alert, /ack, /resolve, /export and the page buttons.
- coordinator.py: /invite, /people, /remove.
- rota.py: the rota, policies, Confirm / Cancel, guided changes' buttons.
- checkins.py: /schedule, /pause, /trip, /checkins.
- casefiles.py: /case and the page's Case file button.
- membership.py: the bot added to or removed from a group.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import (
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from handlers import (
    casefiles,
    checkins,
    common,
    contact,
    coordinator,
    membership,
    responder,
    rota,
)

if TYPE_CHECKING:
    from handlers.context import NabatApp

MEMBERSHIP_GROUP = -3
GATE_GROUP = -2
CONTACT_GROUP = -1


def register(app: NabatApp) -> None:
    # The gate runs first for every update and stops what must go no further.
    app.add_handler(
        ChatMemberHandler(membership.my_membership, ChatMemberHandler.MY_CHAT_MEMBER),
        group=MEMBERSHIP_GROUP,
    )
    app.add_handler(TypeHandler(Update, common.gate), group=GATE_GROUP)
    # Contacts' messages are panics and follow-ups, and go nowhere else.
    app.add_handler(TypeHandler(Update, contact.contact_update), group=CONTACT_GROUP)
    app.add_handlers(
        [
            CommandHandler("start", common.start),
            CommandHandler("help", common.help_),
            CommandHandler("lang", common.lang),
            CommandHandler("invite", coordinator.invite),
            CommandHandler("people", coordinator.people),
            CommandHandler("remove", coordinator.remove),
            CommandHandler("alerts", responder.alerts),
            CommandHandler("alert", responder.alert),
            CommandHandler("ack", responder.ack),
            CommandHandler("say", responder.say),
            CommandHandler("resolve", responder.resolve),
            CommandHandler("export", responder.export),
            CommandHandler("tz", rota.tz),
            CommandHandler("oncall", rota.oncall),
            CommandHandler("shifts", rota.shifts),
            CommandHandler("remind", rota.remind),
            CommandHandler("rotation", rota.rotation),
            CommandHandler("override", rota.override),
            CommandHandler("swap", rota.swap),
            CommandHandler("policy", rota.policy),
            CommandHandler("assign", rota.assign),
            CommandHandler("schedule", checkins.schedule),
            CommandHandler("pause", checkins.pause),
            CommandHandler("trip", checkins.trip),
            CommandHandler("checkins", checkins.checkins),
            CommandHandler("case", casefiles.case),
            CallbackQueryHandler(rota.draft_button, pattern=rota.DRAFT_PATTERN),
            CallbackQueryHandler(rota.swap_button, pattern=rota.SWAP_PATTERN),
            CallbackQueryHandler(rota.wizard_button, pattern=rota.WIZARD_PATTERN),
            CallbackQueryHandler(rota.tz_button, pattern=rota.TZ_PATTERN),
            CallbackQueryHandler(coordinator.remove_button, pattern=coordinator.REMOVE_PATTERN),
            CallbackQueryHandler(responder.alert_button, pattern=responder.ALERT_BUTTON_PATTERN),
            CallbackQueryHandler(casefiles.case_button, pattern=casefiles.CASE_BUTTON_PATTERN),
            CallbackQueryHandler(common.stale_button),
            MessageHandler(filters.ALL, common.anything_else),
        ]
    )
    app.add_error_handler(common.on_error)
