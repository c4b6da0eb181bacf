"""Faults: the bot killed mid fan-out, a Telegram outage, a 429 storm. Nothing lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from datetime import timedelta
from pathlib import Path

from bot.__main__ import main
from bot.domain.models import Role
from bot.services.alerts import ContactMessage, Incoming
from config import load_settings
from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, COORDINATOR, RESPONDERS, Cast
from tests.support.seed import seed_people
from tests.support.steps import pages, texts
from tests.telegram_emulator import Emulator

FAN_OUT = 30


class BotProcess:
    """`nabat run` as a real child process against the emulator."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = env
        self.cwd = cwd
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, emu: Emulator) -> None:
        polls = sum(1 for c in emu.calls if c.method == "getUpdates")
        clean = {k: v for k, v in os.environ.items() if not k.startswith("NABAT_")}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env={**clean, **self.env},
            cwd=self.cwd,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        await emu.wait_for(
            lambda: sum(1 for c in emu.calls if c.method == "getUpdates") > polls,
            timeout=30.0,
            what="the bot process polling",
        )

    async def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        await self.proc.wait()

    async def stop(self) -> str:
        """SIGTERM, as a service manager stops it; returns what it logged."""
        assert self.proc is not None
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(self.proc.communicate(), 30)
        return err.decode()


def sent_pages_in_db(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        row = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE priority = 0 AND state = 'sent'"
        ).fetchone()
    return int(row[0])


async def test_a_bot_killed_mid_fan_out_loses_no_page_and_doubles_none(
    emulator: Emulator, tmp_path: Path
) -> None:
    env = {
        "NABAT_TELEGRAM_TOKEN": emulator.token,
        "NABAT_TELEGRAM_API_URL": emulator.base_url,
        "NABAT_DATA_DIR": str(tmp_path / "data"),
        "NABAT_KEYS_FILE": str(tmp_path / "keys.json"),
    }
    assert main(["keygen", "--output", env["NABAT_KEYS_FILE"]], env, configure_logging=False) == 0
    responders = [emulator.user(710000000 + i, f"R{i}") for i in range(FAN_OUT)]
    contact = emulator.user(720000001, "C")
    for user in [*responders, contact]:
        user.open_chat()
    people = [(u.id, f"Responder {i}", Role.RESPONDER) for i, u in enumerate(responders)]
    await seed_people(load_settings(env), [*people, (contact.id, "Contact", Role.CONTACT)])
    emulator.set_latency(0.08)  # a real Bot API round trip: the fan-out takes a while

    first = BotProcess(env, tmp_path)
    await first.start(emulator)
    await contact.send("/panic detained at the airport")

    def delivered() -> int:
        return sum(1 for u in responders if any(m.from_bot for m in u.messages))

    await emulator.wait_for(lambda: delivered() >= 5, timeout=30.0, what="the fan-out started")
    # From here no page gets through: requests stall, unprocessed, like a dead network.
    emulator.faults.timeout(n=10_000, seconds=60.0, methods="sendMessage")
    got_through = delivered()
    assert got_through < FAN_OUT
    db = tmp_path / "data" / "nabat.db"
    # Wait until the bot has recorded every page Telegram answered, then kill it outright.
    await emulator.wait_for(
        lambda: sent_pages_in_db(db) >= got_through,
        timeout=30.0,
        what="the bot recorded the delivered pages",
    )
    await first.kill()

    emulator.faults.clear()
    second = BotProcess(env, tmp_path)
    await second.start(emulator)
    try:
        await emulator.wait_for(
            lambda: delivered() == FAN_OUT,
            timeout=60.0,
            what="every responder paged after the restart",
        )
        await emulator.wait_for(
            lambda: len(contact.visible) == 1, timeout=30.0, what="the contact's receipt"
        )
    finally:
        log = await second.stop()
    for user in responders:
        page = [m for m in user.messages if m.from_bot]
        assert len(page) == 1, (user, [m.text for m in page])
        assert str(page[0].text).startswith("PANIC - alert #1")
    assert [m.text for m in contact.messages] == ["Received."]
    assert "interrupted deliveries returned to the queue" in log
    assert "detained" not in log and emulator.token not in log


async def test_pages_queued_during_an_outage_are_all_delivered_after_it_most_urgent_first(
    emulator: Emulator, tmp_path: Path, clock, cast: Cast
) -> None:
    # A low global rate makes the order of delivery observable. People are enrolled
    # directly, so no chat starts out waiting on its 1 message/s from a welcome.
    h = BotHarness(emulator, tmp_path, clock, NABAT_RATE_GLOBAL="4")
    people = [(cast.coordinator, COORDINATOR[1], Role.COORDINATOR)]
    people += [
        (u, n, Role.RESPONDER) for u, (_, n) in zip(cast.responders, RESPONDERS, strict=True)
    ]
    people += [(u, n, Role.CONTACT) for u, (_, n) in zip(cast.contacts, CONTACTS, strict=True)]
    for user, _, _ in people:
        user.open_chat()
    await seed_people(load_settings(h.env), [(u.id, n, r) for u, n, r in people], clock)
    await h.start()
    try:
        services = h.services
        coordinator = await services.people.identify(cast.coordinator.id)
        assert coordinator is not None
        emulator.faults.outage(60)
        # Two panics arrive just as Telegram goes away, and an ordinary reply is queued.
        await services.people.list_people(coordinator)
        for contact in cast.contacts:
            person = await services.people.identify(contact.id)
            assert person is not None
            await services.alerts.intake.contact_message(
                person, ContactMessage(Incoming.TEXT, 999, text="help", panic=True)
            )
        for _step in range(5):
            await h.advance(10)
        assert all(pages(r) == [] for r in cast.responders)
        calls_before = len(emulator.calls)
        await h.advance(120)
        await emulator.wait_for(
            lambda: all(len(pages(r)) == 2 for r in cast.responders),
            timeout=20.0,
            what="both alerts paged",
        )
        await h.settle()
    finally:
        await h.stop()
    after = [
        c for c in emulator.calls[calls_before:] if c.method == "sendMessage" and c.status == 200
    ]

    def is_urgent(c: object) -> bool:
        text = str(getattr(c, "params", {}).get("text"))
        return "alert #" in text or text == "Received."

    ordinary = [i for i, c in enumerate(after) if "Enrolled people" in str(c.params.get("text"))]
    assert len(ordinary) == 1 and sum(map(is_urgent, after)) == 6
    # Priority order: the ordinary reply went out only once no urgent message could; an
    # urgent one after it was waiting for its own chat's 1 message/s, not for the reply.
    served = {c.params["chat_id"] for c in after[: ordinary[0]] if is_urgent(c)}
    later = [c for c in after[ordinary[0] :] if is_urgent(c)]
    assert all(c.params["chat_id"] in served for c in later), [c.params for c in later]
    assert len(served) == 4  # both responders and both contacts were served first
    failed_during = [c for c in emulator.calls if c.status == 502 and c.method == "sendMessage"]
    assert failed_during, "the outage should have refused deliveries"


async def test_a_429_storm_delays_pages_by_retry_after_and_loses_none(
    harness: BotHarness, enrolled: Cast
) -> None:
    emu = harness.emu
    emu.faults.flood(n=6, retry_after=2, methods="sendMessage")
    contact = enrolled.contacts[0]
    await contact.send("/panic")
    for _ in range(10):
        await harness.advance(2)
        if all(len(pages(r)) == 1 for r in enrolled.responders) and texts(contact):
            break
    assert [len(pages(r)) for r in enrolled.responders] == [1, 1]
    assert texts(contact) == ["Received."]
    sends = [c for c in emu.calls if c.method == "sendMessage"]
    floods = [c for c in sends if c.status == 429]
    assert len(floods) == 6
    # Nothing was sent within retry_after of a 429, on the emulator's (the test's) clock.
    for flood in floods:
        assert not [
            c
            for c in sends
            if c.status == 200 and flood.at < c.at < flood.at + timedelta(seconds=2)
        ]
