"""Runs the real Application that bot/app.py builds against the Bot API emulator."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.__main__ import load_keys, main
from bot.app import ALLOWED_UPDATES, build_application
from bot.domain.clock import FakeClock
from bot.wiring import Services
from config import load_settings
from handlers.context import NabatApp
from tests.telegram_emulator import Emulator, SimUser

START_LINE = re.compile(r"/start ([A-Za-z0-9_-]{32})")
LINK = re.compile(r"https://t\.me/(\w+)\?start=([A-Za-z0-9_-]{32})")


@dataclass
class CliResult:
    code: int
    out: str


class BotHarness:
    def __init__(self, emu: Emulator, root: Path, clock: FakeClock, **extra_env: str) -> None:
        self.emu = emu
        self.root = root
        self.clock = clock
        self.env: dict[str, str] = {
            "NABAT_TELEGRAM_TOKEN": emu.token,
            "NABAT_TELEGRAM_API_URL": emu.base_url,
            "NABAT_DATA_DIR": str(root / "data"),
            "NABAT_KEYS_FILE": str(root / "keys.json"),
            **extra_env,
        }
        self.app: NabatApp | None = None
        self.handled: set[int] = set()
        self._pacer: asyncio.Task[None] | None = None
        self._pacing_held = False
        # Pacing runs on the test's clock: the bot's messages-per-second and Telegram's
        # flood limits both count it, and the pacer lets it pass (no real waiting).
        emu.pace_on(clock.monotonic)
        # The key ring file is created once, as `nabat keygen` would.
        if not (root / "keys.json").exists():
            assert (
                main(
                    ["keygen", "--output", str(root / "keys.json")],
                    self.env,
                    configure_logging=False,
                )
                == 0
            )

    @property
    def services(self) -> Services:
        assert self.app is not None and self.app.bot_data.services is not None
        return self.app.bot_data.services

    @property
    def database_path(self) -> Path:
        return self.root / "data" / "nabat.db"

    async def start(self) -> None:
        settings = load_settings(self.env)
        app = build_application(settings, load_keys(settings).ring, self.clock)
        # Count updates whose handling has finished, so tests can tell "idle" from "busy".
        process = app.process_update

        async def counted(update: object) -> None:
            try:
                await process(update)
            finally:
                if hasattr(update, "update_id"):
                    self.handled.add(update.update_id)

        app.process_update = counted  # type: ignore[method-assign]
        # What run_polling does, step by step, so the test keeps the event loop.
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(
            poll_interval=0.0, timeout=1, allowed_updates=ALLOWED_UPDATES
        )
        self.app = app
        self._pacer = asyncio.create_task(self._pace(), name="test-pacer")

    async def _pace(self) -> None:
        """Whenever the outbox holds work back only for pacing, let that pacing pass on
        the test's clock at once: a chat still gets one message per (fake) second, in
        order, and Telegram's flood limits are kept, but no test waits for them."""
        while True:
            await asyncio.sleep(0.002)
            app = self.app
            if app is None or app.bot_data.services is None or self._pacing_held:
                continue
            outbox = app.bot_data.services.outbox
            wait = outbox.pacing_wait
            if wait is not None and wait > 0 and not outbox.busy:
                outbox.pacing_wait = None
                self.clock.let_pacing_pass(wait)
                outbox.wake()

    async def stop(self) -> None:
        if self._pacer is not None:
            self._pacer.cancel()
            await asyncio.gather(self._pacer, return_exceptions=True)
            self._pacer = None
        app, self.app = self.app, None
        if app is None:
            return
        assert app.updater is not None
        if app.updater.running:
            await app.updater.stop()
        if app.running:
            await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)

    @contextlib.asynccontextmanager
    async def pacing_held(self) -> AsyncIterator[None]:
        """Inside: the test's clock does not move for pacing, so what is queued behind a
        chat's rate stays queued, as it would for the real seconds a test cannot see."""
        self._pacing_held = True
        try:
            yield
        finally:
            self._pacing_held = False

    async def handled_all(self) -> None:
        """Wait until every update sent so far has been handled (the outbox may be busy)."""
        await self.emu.wait_for(
            lambda: set(self.emu.update_ids) <= self.handled, what="every update handled"
        )

    async def cli(self, *argv: str) -> CliResult:
        """Run `nabat ARGV` in-process (its own event loop, in a thread), capturing stdout."""
        out = io.StringIO()

        def run() -> int:
            with contextlib.redirect_stdout(out):
                return main(list(argv), self.env, clock=self.clock, configure_logging=False)

        code = await asyncio.to_thread(run)
        return CliResult(code, out.getvalue())

    async def replies(self, user: SimUser, count: int, what: str = "") -> list[Any]:
        """Wait until `user` has `count` visible messages from the bot; return them."""
        await self.emu.wait_for(
            lambda: len(user.visible) >= count,
            timeout=10.0,
            what=what or f"{count} messages to {user.id}",
        )
        return user.visible

    async def reply_to(self, user: SimUser, text: str) -> str:
        """Send `text` as `user` and return the text of the bot's next message."""
        before = len(user.visible)
        await user.send(text)
        await self.replies(user, before + 1, what=f"a reply to {text!r}")
        return str(user.visible[before].text)

    async def advance(self, seconds: float) -> None:
        """Move the clock, run the services' tick as the scheduler would, and settle."""
        self.clock.advance(seconds)
        await self.services.tick()
        self.services.outbox.wake()
        await self.settle()

    async def quiet(self, user: SimUser, count: int) -> None:
        """Assert that `user` still has exactly `count` messages once the bot is idle."""
        await self.settle()
        assert len(user.visible) == count, [m.text for m in user.visible]

    async def settle(self) -> None:
        """Wait until every queued update is handled, no early tick the bot asked for is
        still to run (the scheduler's job serves it, as in production), and the outbox
        has nothing due."""
        app = self.app
        assert app is not None
        for _ in range(1600):  # 8 s
            # Looked at before the outbox is counted: an update handled, or a tick run,
            # while the count runs has written its rows before it counts as done, and
            # must not pass for idle with rows the count did not see.
            handled = set(self.emu.update_ids) <= self.handled
            ticked = not self.services.wakeups.pending
            busy = self.services.outbox.busy
            pending = await self.services.db.fetchone(
                "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')"
                " AND not_before <= ?",
                (_now(self.clock),),
            )
            busy = busy or self.services.outbox.busy
            if handled and ticked and not busy and pending is not None and pending[0] == 0:
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the bot did not settle")


def _now(clock: FakeClock) -> str:
    from storage.db import to_db_time

    return to_db_time(clock.now())


def token_from(text: str) -> str:
    found = START_LINE.search(text)
    assert found, f"no /start line in {text!r}"
    return found.group(1)


async def invite(h: BotHarness, coordinator: SimUser, role: str, name: str) -> str:
    reply = await h.reply_to(coordinator, f"/invite {role} {name}")
    link = LINK.search(reply)
    assert link and link.group(1) == h.emu.bot_username, reply
    assert token_from(reply) == link.group(2)
    return link.group(2)


async def enrol(h: BotHarness, user: SimUser, token: str) -> str:
    return await h.reply_to(user, f"/start {token}")
