"""The typed context every handler gets, and the application-wide state it reaches.

Services are built in post_init (bot/app.py) and reached as `context.services`, not as
`bot_data["x"]` plus a cast.
"""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.delivery.update_guard import SkippedUpdates
from bot.domain.models import Person
from bot.wiring import Services


class BotData:
    """Application-wide state: the services, typed (not `bot_data["x"]` plus a cast)."""

    def __init__(self) -> None:
        self.services: Services | None = None
        self.since_housekeeping = 0.0
        self.since_heartbeat = float("inf")  # the first tick writes the heartbeat
        self.since_watch = 0.0  # first look a minute after start, when the bot has settled
        self.last_tick: float | None = None  # the event loop's time at the last tick
        # Updates PTB could not parse, skipped by id (build_application shares the guard's).
        self.skipped_updates = SkippedUpdates()


class NabatContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler gets; one per update, shared across handler groups."""

    # Set by the gate (handler group -2) for the update at hand: None for strangers.
    person: Person | None = None
    stranger_may_reply: bool = False

    @property
    def services(self) -> Services:
        services = self.bot_data.services
        if services is None:
            raise RuntimeError("services used before post_init")
        return services


NabatApp = Application[ExtBot[None], NabatContext, dict[Any, Any], dict[Any, Any], BotData, Any]
