"""nabat benchmarks: the real Application against the Bot API emulator on loopback.

    python -m bench.run [P1 P2 P3 P4 P5] [--latency 0.08] [--json results.json]

Each scenario prints its figures; BENCHMARKS.md records them with the machine and date.
These are measurements, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from datetime import time as dt_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from telegram import Bot

from bot.__main__ import load_keys, main
from bot.app import ALLOWED_UPDATES, build_application
from bot.domain.checkin import Kind, Schedule, Watch
from bot.domain.clock import SystemClock
from bot.domain.models import Role
from bot.wiring import Services
from config import Settings, load_settings
from handlers.context import NabatApp
from storage.db import to_db_time
from tests.support.seed import seed_people, seed_watches
from tests.telegram_emulator import Emulator

TOKEN = "123456:BENCH-token-abcdefghijklmnopqrstuvwxyz"  # noqa: S105 - the emulator's


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


class World:
    """An emulator, a data directory with seeded people, and (once started) the bot."""

    def __init__(self, root: Path, latency: float) -> None:
        self.root = root
        self.emu = Emulator(token=TOKEN, bot_username="nabat_bench_bot", latency=latency)
        self.app: NabatApp | None = None
        self.settings: Settings | None = None
        self.proc: asyncio.subprocess.Process | None = None

    async def setup(self, responders: int, contacts: int, coordinators: int = 1) -> None:
        await self.emu.start()
        env = {
            "NABAT_TELEGRAM_TOKEN": TOKEN,
            "NABAT_TELEGRAM_API_URL": self.emu.base_url,
            "NABAT_DATA_DIR": str(self.root / "data"),
            "NABAT_KEYS_FILE": str(self.root / "keys.json"),
            "NABAT_LOG_LEVEL": "WARNING",
        }
        main(["keygen", "-o", env["NABAT_KEYS_FILE"]], env, configure_logging=False)
        self.settings = load_settings(env)
        self.responders = [self.emu.user(800_000_000 + i, f"R{i}") for i in range(responders)]
        self.contacts = [self.emu.user(810_000_000 + i, f"C{i}") for i in range(contacts)]
        self.coordinators = [self.emu.user(820_000_000 + i, f"K{i}") for i in range(coordinators)]
        people: list[tuple[int, str, Role]] = []
        for users, role in (
            (self.responders, Role.RESPONDER),
            (self.contacts, Role.CONTACT),
            (self.coordinators, Role.COORDINATOR),
        ):
            for u in users:
                u.open_chat()
                people.append((u.id, f"{role.value} {u.id}", role))
        await seed_people(self.settings, people)

    async def start_bot(self) -> float:
        """Start the Application; return the monotonic time it was asked to start."""
        assert self.settings is not None
        started = time.monotonic()
        app = build_application(self.settings, load_keys(self.settings).ring, SystemClock())
        await app.initialize()
        assert app.post_init is not None and app.updater is not None
        await app.post_init(app)
        await app.start()
        await app.updater.start_polling(
            poll_interval=0.0, timeout=10, allowed_updates=ALLOWED_UPDATES
        )
        self.app = app
        return started

    async def start_process(self) -> None:
        """Run `nabat run` as its own process, so the emulator does not share its loop."""
        assert self.settings is not None
        env = {k: v for k, v in os.environ.items() if not k.startswith("NABAT_")}
        env.update(
            {
                "NABAT_TELEGRAM_TOKEN": TOKEN,
                "NABAT_TELEGRAM_API_URL": self.emu.base_url,
                "NABAT_DATA_DIR": str(self.settings.data_dir),
                "NABAT_KEYS_FILE": str(self.root / "keys.json"),
                "NABAT_LOG_LEVEL": "WARNING",
            }
        )
        polls = sum(1 for c in self.emu.calls if c.method == "getUpdates")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            env=env,
            cwd=self.root,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        await self.emu.wait_for(
            lambda: sum(1 for c in self.emu.calls if c.method == "getUpdates") > polls + 1,
            timeout=60,
        )

    @property
    def services(self) -> Services:
        assert self.app is not None and self.app.bot_data.services is not None
        return self.app.bot_data.services

    async def stop(self) -> None:
        if self.proc is not None:
            self.proc.send_signal(signal.SIGTERM)
            await self.proc.wait()
            self.proc = None
        if self.app is not None:
            app, self.app = self.app, None
            assert app.updater is not None
            await app.updater.stop()
            await app.stop()
            await app.shutdown()
            if app.post_shutdown is not None:
                await app.post_shutdown(app)
        await self.emu.stop()


def first_page_at(emu: Emulator, alert_id: int, chats: set[int]) -> datetime | None:
    marker = f"alert #{alert_id}\n"
    for call in emu.calls:
        if (
            call.method == "sendMessage"
            and call.params.get("chat_id") in chats
            and marker in str(call.params.get("text"))
        ):
            return call.at
    return None


def paged_chats(emu: Emulator, alert_id: int, chats: set[int]) -> int:
    marker = f"alert #{alert_id}\n"
    return len({c.params["chat_id"] for c in pages_of(emu, chats) if marker in c.params["text"]})


def pages_of(emu: Emulator, chats: set[int]) -> list[Any]:
    return [
        c
        for c in emu.calls
        if c.method == "sendMessage"
        and c.ok
        and c.params.get("chat_id") in chats
        and "- alert #" in str(c.params.get("text"))
    ]


async def p1(latency: float, n: int = 200) -> dict[str, Any]:
    """Panic → first page at the emulator, over n panics (each from its own contact)."""
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp), latency)
        await w.setup(responders=10, contacts=n)
        await w.start_process()
        chats = {u.id for u in w.responders}
        latencies: list[float] = []
        try:
            for i, contact in enumerate(w.contacts, start=1):
                sent = datetime.now(UTC)
                await contact.send("/panic bench")
                await w.emu.wait_for(lambda i=i: first_page_at(w.emu, i, chats), timeout=30)
                at = first_page_at(w.emu, i, chats)
                assert at is not None
                latencies.append((at - sent).total_seconds() * 1000)
                # Let every responder's chat cool down (1 message/s), so the next panic
                # measures the panic path, not the per-chat pacing of the previous one.
                await w.emu.wait_for(lambda i=i: paged_chats(w.emu, i, chats) == 10, timeout=30)
                await asyncio.sleep(1.05)
        finally:
            await w.stop()
    return {
        "panics": n,
        "responders": 10,
        "latency_s": latency,
        "p50_ms": round(statistics.median(latencies), 1),
        "p99_ms": round(pct(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
    }


async def p2(latency: float, repeats: int = 5) -> dict[str, Any]:
    """One panic to 30 responders: time to the last page, beside awaiting each page in turn."""
    outbox_times: list[float] = []
    serial_times: list[float] = []
    for _ in range(repeats):
        with tempfile.TemporaryDirectory() as tmp:
            w = World(Path(tmp), latency)
            await w.setup(responders=30, contacts=1)
            await w.start_process()
            chats = {u.id for u in w.responders}
            try:
                sent = datetime.now(UTC)
                await w.contacts[0].send("/panic bench")
                await w.emu.wait_for(
                    lambda w=w, chats=chats: len(pages_of(w.emu, chats)) >= 30, timeout=60
                )
                last = max(c.at for c in pages_of(w.emu, chats))
                outbox_times.append((last - sent).total_seconds())
                # The same 30 pages, each awaited before the next (no outbox, no concurrency).
                async with Bot(TOKEN, base_url=w.emu.base_url) as bot:
                    start = time.monotonic()
                    for user in w.responders:
                        await bot.send_message(chat_id=user.id, text="PANIC - alert #1\nbench")
                    serial_times.append(time.monotonic() - start)
            finally:
                await w.stop()
    med_o, med_s = statistics.median(outbox_times), statistics.median(serial_times)
    return {
        "responders": 30,
        "latency_s": latency,
        "repeats": repeats,
        "outbox_median_s": round(med_o, 3),
        "outbox_max_s": round(max(outbox_times), 3),
        "serial_median_s": round(med_s, 3),
        "speedup": round(med_s / med_o, 2),
    }


async def p3(latency: float, panics: int = 100, spread_s: float = 10.0) -> dict[str, Any]:
    """100 panics in 10 s to 10 responders: 1000 pages. When done, lost, order."""
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp), latency)
        await w.setup(responders=10, contacts=panics)
        await w.start_process()
        chats = {u.id for u in w.responders}
        try:
            t0 = datetime.now(UTC)
            for contact in w.contacts:
                await contact.send("/panic bench")
                await asyncio.sleep(spread_s / panics)
            expected = panics * len(chats)
            await w.emu.wait_for(lambda: len(pages_of(w.emu, chats)) >= expected, timeout=600)
            done = max(c.at for c in pages_of(w.emu, chats))
            pages = pages_of(w.emu, chats)
            seen = {(c.params["chat_id"], c.params["text"].split("\n")[0]) for c in pages}
            escalations = [c for c in pages if "Step 2 of 2" in str(c.params.get("text"))]
            receipts = [
                c
                for c in w.emu.calls
                if c.method == "sendMessage" and c.ok and c.params.get("text") == "Received."
            ]
        finally:
            await w.stop()
    elapsed = (done - t0).total_seconds()
    # The per-chat limit dominates: each responder can take 1 page a second.
    bound = max(expected / 30.0, panics / 1.0)
    return {
        "panics": panics,
        "responders": 10,
        "pages": len(pages),
        "distinct_pages": len(seen),
        "lost": expected - len(seen),
        "doubled": len(pages) - len(seen),
        "receipts": len(receipts),
        "escalations_before_done": len(escalations),
        "elapsed_s": round(elapsed, 1),
        "bound_s": bound,
        "ratio_to_bound": round(elapsed / bound, 3),
        "latency_s": latency,
    }


async def p5(latency: float, alerts: int = 500) -> dict[str, Any]:
    """Restart with 500 open, overdue escalations: first resumed page, lost, doubled."""
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp), latency)
        await w.setup(responders=10, contacts=alerts, coordinators=20)
        assert w.settings is not None
        # Open the alerts with the bot's own services, then make every deadline overdue,
        # as if the bot had been down past them.
        services = await Services.open(
            w.settings, load_keys(w.settings).ring, SystemClock(), bot_username="nabat_bench_bot"
        )
        from bot.services.alerts import ContactMessage, Incoming

        for contact in w.contacts:
            person = await services.people.identify(contact.id)
            assert person is not None
            await services.alerts.intake.contact_message(
                person, ContactMessage(Incoming.TEXT, 1, text="bench", panic=True)
            )
        async with services.db.transaction() as tx:
            await tx.execute(
                "UPDATE alerts SET next_escalation_at = ?",
                (to_db_time(datetime.now(UTC) - timedelta(minutes=1)),),
            )
            # The first pages went out before the "crash": only escalations are left.
            await tx.execute("DELETE FROM outbox")
        await services.close()
        coord_chats = {u.id for u in w.coordinators}
        started = await w.start_bot()
        try:
            await w.emu.wait_for(lambda: pages_of(w.emu, coord_chats), timeout=60)
            first = time.monotonic() - started
            queued_at = time.monotonic()
            row = None
            for _ in range(600):
                row = await w.services.db.fetchone(
                    "SELECT COUNT(*), COUNT(DISTINCT alert_id || ':' || person_id)"
                    " FROM alert_pages WHERE step = 1"
                )
                if row and row[0] >= alerts * len(coord_chats):
                    break
                await asyncio.sleep(0.05)
            assert row is not None
            all_queued = time.monotonic() - started
            moved = await w.services.db.fetchone(
                "SELECT COUNT(*) FROM alerts WHERE step = 1 AND pass = 0"
            )
            # Let delivery run a while, then look for doubles among what went out.
            await asyncio.sleep(10)
            delivered = pages_of(w.emu, coord_chats)
            keys = [(c.params["chat_id"], c.params["text"].split("\n")[0]) for c in delivered]
        finally:
            await w.stop()
    del queued_at
    return {
        "alerts": alerts,
        "coordinators": len(coord_chats),
        "first_resumed_page_s": round(first, 3),
        "all_escalations_queued_s": round(all_queued, 3),
        "escalated_once": moved[0] if moved else None,
        "pages_queued": row[0],
        "pages_queued_distinct": row[1],
        "delivered_in_10s": len(delivered),
        "delivered_doubled": len(keys) - len(set(keys)),
        "latency_s": latency,
    }


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process, all its threads (/proc/<pid>/stat)."""
    # Fields after the command name, which may hold spaces: utime and stime are 14 and 15.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_mem_mb(pid: int, field: str = "VmRSS") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise LookupError(field)


async def idle_window(pid: int, seconds: float) -> tuple[float, float]:
    """CPU % of one core over `seconds`, and the largest RSS (MB) sampled each second."""
    cpu0, t0 = proc_cpu_s(pid), time.monotonic()
    rss = proc_mem_mb(pid)
    while time.monotonic() - t0 < seconds:
        await asyncio.sleep(min(1.0, seconds - (time.monotonic() - t0)))
        rss = max(rss, proc_mem_mb(pid))
    cpu = (proc_cpu_s(pid) - cpu0) / (time.monotonic() - t0) * 100
    return cpu, rss


def rate_bound(due: list[datetime], rate: float) -> float:
    """Seconds from the earliest due time until the last message can have left when no
    more than `rate` leave a second and none before its due time."""
    ordered = sorted(due)
    # The k-th cannot leave before its due time, and it and all after it take 1/rate each.
    return max(
        (d - ordered[0]).total_seconds() + (len(ordered) - k) / rate for k, d in enumerate(ordered)
    )


async def p4(
    latency: float, contacts: int = 10_000, due: int = 1_000, idle_s: float = 30.0
) -> dict[str, Any]:
    """10 000 check-in schedules, 1 000 due in one minute: idle CPU and RSS of the bot
    process before and after, and when the last of the 1 000 reminders went out."""
    zones = ("UTC", "Europe/Kyiv")
    grace, every = timedelta(hours=1), timedelta(hours=12)
    with tempfile.TemporaryDirectory() as tmp:
        w = World(Path(tmp), latency)
        seeding = time.monotonic()
        await w.setup(responders=0, contacts=contacts)
        assert w.settings is not None
        rate = w.settings.rate_global
        now = datetime.now(UTC)
        # The deadline: a whole minute (daily times are whole minutes) far enough ahead for
        # the bot to start and sit idle for `idle_s` first.
        at = now + timedelta(seconds=idle_s + 45)
        deadline = at.replace(second=0, microsecond=0) + timedelta(minutes=1)
        step = 2 * contacts // due  # in each run of `step` contacts, one of each kind
        watches: list[tuple[int, Watch]] = []
        due_at: dict[int, datetime] = {}
        for i, user in enumerate(w.contacts):
            tz = zones[(i // 2) % 2]
            falls_due = i % step in (0, step // 2 + 1)
            if i % 2 == 0:  # interval, due every 12 h from now: hours away
                schedule = Schedule(Kind.INTERVAL, grace=grace, every=every)
                watch = Watch(tz).scheduled(schedule, now)
                if falls_due:
                    # Spread over the deadline's first 10 s, like check-ins made at about
                    # the same time 12 h ago.
                    offset = timedelta(seconds=10 * (i // step) / (due // 2))
                    watch = replace(watch, next_due_at=deadline + offset)
            else:  # daily at two local times 12 h apart: the deadline, or hours away
                first = deadline if falls_due else now + timedelta(hours=2 + i % 8)
                local = first.astimezone(ZoneInfo(tz)).time().replace(second=0, microsecond=0)
                other = time_of_day(local, hours=12)
                schedule = Schedule(Kind.DAILY, grace=grace, times=tuple(sorted((local, other))))
                watch = Watch(tz).scheduled(schedule, now)
            assert watch.next_due_at is not None
            if falls_due:
                due_at[user.id] = watch.next_due_at
            else:
                assert watch.next_due_at > now + timedelta(hours=1)
            watches.append((user.id, watch))
        assert len(due_at) == due and min(due_at.values()) == deadline
        await seed_watches(w.settings, watches)
        seeded = time.monotonic() - seeding
        await w.start_process()
        assert w.proc is not None
        pid = w.proc.pid
        due_chats = set(due_at)
        others = {u.id for u in w.contacts} - due_chats
        try:
            await asyncio.sleep(10)  # past the start's own work
            window = min(idle_s, (deadline - datetime.now(UTC)).total_seconds() - 5)
            idle_cpu, idle_rss = await idle_window(pid, window)
            await asyncio.sleep(max(0.0, (deadline - datetime.now(UTC)).total_seconds()))
            cpu_at_deadline = proc_cpu_s(pid)
            await w.emu.wait_for(
                lambda: len({c.params["chat_id"] for c in reminders(w.emu, due_chats)}) >= due,
                timeout=600,
            )
            busy_cpu = proc_cpu_s(pid) - cpu_at_deadline
            sent = reminders(w.emu, due_chats)
            firsts: dict[int, datetime] = {}
            for c in sent:
                firsts.setdefault(c.params["chat_id"], c.at)
            last = max(firsts.values())
            busy_s = (last - deadline).total_seconds()
            await asyncio.sleep(5)
            after_cpu, after_rss = await idle_window(pid, idle_s)
            peak_rss = proc_mem_mb(pid, "VmHWM")
            calls = w.emu.calls
            strays = reminders(w.emu, others)
            flood = sum(1 for c in calls if c.status == 429)
        finally:
            await w.stop()
    lateness = (last - deadline).total_seconds()
    # due / rate here: the spread of due times is shorter than the queue they make.
    bound = rate_bound(list(due_at.values()), rate)
    return {
        "contacts": contacts,
        "due": due,
        "seed_s": round(seeded, 1),
        "idle_window_s": round(window, 1),
        "idle_cpu_pct": round(idle_cpu, 2),
        "idle_rss_mb": round(idle_rss, 1),
        "idle_after_cpu_pct": round(after_cpu, 2),
        "idle_after_rss_mb": round(after_rss, 1),
        "peak_rss_mb": round(peak_rss, 1),
        "first_reminder_s": round((min(firsts.values()) - deadline).total_seconds(), 2),
        "last_reminder_s": round(lateness, 2),
        "bound_s": round(bound, 2),
        "ratio_to_bound": round(lateness / bound, 3),
        "busy_cpu_pct": round(busy_cpu / busy_s * 100, 1),
        "reminders": len(sent),
        "doubled": len(sent) - len(firsts),
        "to_others": len(strays),
        "http_429": flood,
        "latency_s": latency,
    }


def time_of_day(t: dt_time, *, hours: int) -> dt_time:
    minutes = (t.hour * 60 + t.minute + hours * 60) % (24 * 60)
    return dt_time(minutes // 60, minutes % 60)


def reminders(emu: Emulator, chats: set[int]) -> list[Any]:
    return [
        c
        for c in emu.calls
        if c.method == "sendMessage" and c.ok and c.params.get("chat_id") in chats
    ]


SCENARIOS: dict[str, Callable[[float], Awaitable[dict[str, Any]]]] = {
    "P1": p1,
    "P2": p2,
    "P3": p3,
    "P4": p4,
    "P5": p5,
}


def main_cli() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=list(SCENARIOS))
    parser.add_argument(
        "--latency",
        type=float,
        default=0.08,
        help="emulated Bot API round trip, seconds (default 0.08)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args()
    results: dict[str, Any] = {
        "machine": f"{platform.node()} {platform.machine()} {platform.processor() or ''}".strip(),
        "python": sys.version.split()[0],
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
    }
    for name in args.scenarios:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        results[name] = asyncio.run(SCENARIOS[name](args.latency))
        print(name, json.dumps(results[name]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main_cli())
