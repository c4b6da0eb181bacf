"""A Telegram Bot API server emulator for end-to-end tests of nabat.

    async with Emulator(token="123456:TEST-token") as emu:
        bot = telegram.Bot(emu.token, base_url=emu.base_url)
        anna = emu.user(1001, "Anna")
        await anna.send("/start")

It validates every call against the published Bot API specification, answers like
Telegram (errors and flood limits included), simulates people, records every call and can
inject faults. See EMULATOR.md in ../shared/telegram-bot-api for what it must honour.
"""

from __future__ import annotations

from tests.telegram_emulator.faults import Faults
from tests.telegram_emulator.people import SimGroup, SimUser
from tests.telegram_emulator.server import Emulator
from tests.telegram_emulator.views import BotMessage, Call

__all__ = ["BotMessage", "Call", "Emulator", "Faults", "SimGroup", "SimUser"]
