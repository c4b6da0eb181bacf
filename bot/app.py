"""Builds the python-telegram-bot Application from settings: the composition root."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram.ext import ApplicationBuilder, ContextTypes, Job, JobQueue
from telegram.request import HTTPXRequest

from bot.delivery.telegram import TelegramSender, tls_context
from bot.delivery.update_guard import GuardedUpdatesRequest
from bot.domain.clock import Clock, SystemClock
from bot.domain.models import Role
from bot.wiring import Services
from config import Settings
from handlers import register
from handlers.context import BotData, NabatApp, NabatContext
from storage.keyring import KeyRing
from storage.lock import DataDirLock

log = logging.getLogger(__name__)

TICK_SECONDS = 1.0
HOUSEKEEPING_EVERY = 3600.0
HEARTBEAT_EVERY = 10.0
WATCH_EVERY = 60.0  # shift reminders, handoffs, the daily gap report
HEARTBEAT_FILE = "heartbeat"


def write_heartbeat(data_dir: Path) -> None:
    """Touch a file whose age `nabat health` (the Docker HEALTHCHECK) reads. No content."""
    try:
        (data_dir / HEARTBEAT_FILE).touch()
    except OSError as exc:
        log.warning("could not write the heartbeat file: %s", type(exc).__name__)


ALLOWED_UPDATES = ["message", "edited_message", "callback_query", "my_chat_member"]


def file_url(api_url: str) -> str:
    """The file URL for a Bot API base URL: .../bot -> .../file/bot, as Telegram lays it out."""
    base = api_url.rstrip("/")
    if base.endswith("/bot"):
        return base[: -len("/bot")] + "/file/bot"
    return base + "/file/bot"


def build_application(
    settings: Settings,
    ring: KeyRing,
    clock: Clock | None = None,
    *,
    lock: DataDirLock | None = None,
) -> NabatApp:
    """`lock`: the data directory's lock when the caller holds it already (`nabat run`);
    otherwise the bot takes it in post_init and lets it go in post_shutdown."""
    clock = clock or SystemClock()
    token = settings.telegram_token
    if token is None:
        raise ValueError("build_application needs settings with a token")
    own_lock: list[DataDirLock] = []

    async def post_init(app: NabatApp) -> None:
        username = settings.bot_username or app.bot.username
        if lock is None:
            own_lock.append(DataDirLock.acquire(settings.data_dir, "run"))
        try:
            services = await Services.open(settings, ring, clock, bot_username=username)
        except BaseException:
            for held in own_lock:
                held.release()
            raise
        app.bot_data.services = services
        await services.outbox.start(TelegramSender(app.bot))
        queue = app.job_queue
        if queue is not None:
            job = queue.run_repeating(_tick, interval=TICK_SECONDS, first=TICK_SECONDS, name="tick")
            # The services' wake-ups run this job now (Services.wakeups).
            services.wakeups.run_now = lambda: _run_now(queue, job)
        log.info("nabat ready as @%s", username)
        # Nobody can invite anyone from Telegram until a coordinator exists: say how.
        if not await services.people.people.count_with_role(services.db, Role.COORDINATOR):
            log.warning(
                "no coordinator yet: run `nabat invite --role coordinator --name NAME` "
                "in another terminal (same settings) and open the link it prints"
            )

    async def post_shutdown(app: NabatApp) -> None:
        services = app.bot_data.services
        if services is not None:
            app.bot_data.services = None
            services.wakeups.run_now = None
            await services.close()
        while own_lock:
            own_lock.pop().release()

    # PTB's own getUpdates request (one connection, HTTP/1.1), plus the screen that skips an
    # update it cannot parse instead of stalling on it (see bot/update_guard.py).
    updates_request = GuardedUpdatesRequest(
        connection_pool_size=1, httpx_kwargs={"verify": tls_context()}
    )
    app: NabatApp = (
        ApplicationBuilder()
        .token(token)
        .request(HTTPXRequest(connection_pool_size=256, httpx_kwargs={"verify": tls_context()}))
        .base_url(settings.telegram_api_url)
        .base_file_url(file_url(settings.telegram_api_url))
        .get_updates_request(updates_request)
        .context_types(ContextTypes(context=NabatContext, bot_data=BotData))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    app.bot_data.skipped_updates = updates_request.skipped
    register(app)
    return app


def _run_now(queue: JobQueue[Any], job: Job[Any]) -> None:
    """A wake-up (Services.wakeups): the repeating tick job's next run is now. APScheduler
    runs it at once, as one run however many wake-ups come before it starts, and counts
    the interval on from there. (A request while Services.tick runs is taken up by that
    run instead; one while this job is busy with the slower chores below waits for the
    next run, a second later: APScheduler runs one run of a job at a time.)"""
    # A stopped scheduler has dropped its jobs: the bot is stopping, nothing to wake.
    if queue.scheduler.running and not job.removed:
        job.job.modify(next_run_time=datetime.now(UTC))


async def _tick(context: NabatContext) -> None:
    """APScheduler only wakes the services; what is due is decided from the database."""
    data = context.bot_data
    services = data.services
    if services is None:
        return
    services.outbox.wake()
    await services.tick()
    # Wake-ups run this job early, so the slower chores count time, not runs.
    now = asyncio.get_running_loop().time()
    elapsed = TICK_SECONDS if data.last_tick is None else now - data.last_tick
    data.last_tick = now
    data.since_heartbeat += elapsed
    if data.since_heartbeat >= HEARTBEAT_EVERY:
        data.since_heartbeat = 0.0
        write_heartbeat(services.settings.data_dir)
    data.since_watch += elapsed
    if data.since_watch >= WATCH_EVERY:
        data.since_watch = 0.0
        await services.watch.tick()
    data.since_housekeeping += elapsed
    if data.since_housekeeping >= HOUSEKEEPING_EVERY:
        data.since_housekeeping = 0.0
        await services.gate.housekeeping()
        await services.people.housekeeping()
        await services.retention.housekeeping()
        purged = await services.outbox.purge()
        log.info("housekeeping: %d finished outbox rows purged", purged)
