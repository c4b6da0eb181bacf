"""Thin Telegram handlers: parse the update, call a service in bot/, let it reply."""

from __future__ import annotations

from typing import TYPE_CHECKING

from telegram import Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, TypeHandler, filters

from handlers import common, coordinator

if TYPE_CHECKING:
    from bot.app import NabatApp

GATE_GROUP = -2


def register(app: NabatApp) -> None:
    # The gate runs first for every update and stops what must go no further.
    app.add_handler(TypeHandler(Update, common.gate), group=GATE_GROUP)
    app.add_handlers(
        [
            CommandHandler("start", common.start),
            CommandHandler("help", common.help_),
            CommandHandler("invite", coordinator.invite),
            CommandHandler("people", coordinator.people),
            CommandHandler("remove", coordinator.remove),
            CallbackQueryHandler(coordinator.remove_button, pattern=coordinator.REMOVE_PATTERN),
            CallbackQueryHandler(common.stale_button),
            MessageHandler(filters.ALL, common.anything_else),
        ]
    )
    app.add_error_handler(common.on_error)
