"""Durable, rate-limited delivery of every outgoing message (DESIGN.md invariant 2).

Rows are written by services inside their own transactions (`Outbox.send` and friends);
this worker delivers them: most urgent first, at most `rate_global` messages a second
and `rate_per_chat` a second in any one chat, one call in flight per chat so a chat
sees its messages in order. Each row is claimed before it is attempted, so two passes
or a restart never send it twice (a crash *during* the call may: delivery is
at-least-once). Telegram's 429 pauses everything for `retry_after`; 5xx, timeouts and
network errors back off exponentially with jitter; 400 and 403 are final.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Protocol

from aiolimiter import AsyncLimiter

from bot.domain.clock import Clock
from bot.domain.errors import DeliveryError
from bot.domain.limits import MAX_BUTTONS, MAX_CAPTION, MAX_TEXT, clip, fits, split_text
from bot.domain.models import (
    Button,
    Notice,
    OutboxItem,
    OutboxOp,
    OutboxState,
    Person,
    Priority,
    Role,
)
from bot.words.catalogue import Rendered, chunk_lines, render
from storage.db import Database, Transaction
from storage.outbox import OutboxRepo

log = logging.getLogger(__name__)
STOP_GRACE = 10.0  # seconds an in-flight delivery may take to finish at shutdown

LEASE = timedelta(minutes=2)
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
# Ordinary replies are pointless a day late; pages and escalations are retried for as
# long as it takes.
NORMAL_TTL = timedelta(hours=24)
FINISHED_KEPT = timedelta(hours=48)


class Sender(Protocol):
    async def send(self, chat_id: int, rendered: Rendered) -> int: ...
    async def edit(self, chat_id: int, message_id: int, rendered: Rendered) -> None: ...
    async def delete(self, chat_id: int, message_id: int) -> None: ...


FailureHook = Callable[[OutboxItem, DeliveryError], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Delivered:
    item: OutboxItem
    message_id: int | None


def fit(notice: Notice) -> list[Notice]:
    """`notice` as messages Telegram accepts (bot/limits.py): text over the limit becomes a
    first message, with the buttons, and continuations; a caption is clipped; a keyboard
    over the limit keeps its first buttons (every guided question also takes typed answers).
    """
    buttons = _cap_buttons(notice)
    kind = (notice.media or {}).get("type")
    if kind == "location":  # no text is sent with a map pin
        return [replace(notice, buttons=buttons)]
    rendered = render(notice).text
    if kind is not None:
        if fits(rendered, MAX_CAPTION):
            return [replace(notice, buttons=buttons)]
        return [_as_block(notice, clip(rendered, MAX_CAPTION), buttons)]
    if fits(rendered, MAX_TEXT):
        return [replace(notice, buttons=buttons)]
    head, *rest = split_text(rendered)
    return [_as_block(notice, head, buttons), *(_as_block(notice, part, ()) for part in rest)]


def fit_edit(notice: Notice) -> Notice:
    """An edit cannot add messages: text over the limit is clipped (pages are built so
    that theirs never is: bot/words/alert_text.py)."""
    buttons = _cap_buttons(notice)
    if (notice.media or {}).get("type") == "location":
        return replace(notice, buttons=buttons)
    rendered = render(notice).text
    if fits(rendered, MAX_TEXT):
        return replace(notice, buttons=buttons)
    log.warning("outbox: an edit's text was clipped to Telegram's limit (key %s)", notice.key)
    return _as_block(notice, clip(rendered, MAX_TEXT), buttons)


def _as_block(notice: Notice, text: str, buttons: tuple[tuple[Button, ...], ...]) -> Notice:
    # Already rendered text, so it is not formatted again.
    return replace(notice, key="text.block", params={"text": text}, buttons=buttons)


def _cap_buttons(notice: Notice) -> tuple[tuple[Button, ...], ...]:
    if sum(len(row) for row in notice.buttons) <= MAX_BUTTONS:
        return notice.buttons
    log.warning("outbox: a keyboard over %d buttons was cut (key %s)", MAX_BUTTONS, notice.key)
    kept: list[tuple[Button, ...]] = []
    room = MAX_BUTTONS
    for row in notice.buttons:
        if room <= 0:
            break
        kept.append(row[:room])
        room -= len(kept[-1])
    return tuple(kept)


def backoff(attempts: int) -> float:
    """Seconds before attempt `attempts + 1`: exponential, capped, half of it jittered."""
    ceiling = min(BACKOFF_CAP, BACKOFF_BASE * float(2 ** min(10, max(0, attempts - 1))))
    jitter: float = random.uniform(0, ceiling / 2)  # noqa: S311 - jitter, not secrecy
    return ceiling / 2 + jitter


class Outbox:
    def __init__(
        self,
        db: Database,
        repo: OutboxRepo,
        clock: Clock,
        *,
        rate_global: float = 30.0,
        rate_per_chat: float = 1.0,
        max_in_flight: int = 32,
        contact_reply_ttl: timedelta = timedelta(minutes=10),
    ) -> None:
        self._db = db
        self.repo = repo
        self._clock = clock
        self._per_chat_gap = 1.0 / rate_per_chat
        self._stopping = False
        self._contact_ttl = contact_reply_ttl
        self._limiter = AsyncLimiter(max(1.0, rate_global), 1.0)
        self._slots = asyncio.Semaphore(max_in_flight)
        self._wake = asyncio.Event()
        self._in_flight: set[bytes] = set()
        self._chat_ready_at: dict[bytes, float] = {}
        self._paused_until = 0.0
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: asyncio.Task[None] | None = None
        self._sender: Sender | None = None
        self.on_failure: list[FailureHook] = []
        # Seconds until pacing (a chat's rate, or a flood wait) lets held-back work go,
        # as of the last pass; None when nothing due was held back by pacing.
        self.pacing_wait: float | None = None
        self.on_delivered: list[Callable[[Delivered], Awaitable[None]]] = []

    # -- writing work (inside a caller's transaction) ------------------------------------

    @property
    def contact_ttl(self) -> timedelta:
        """How long a message to a contact stays in their chat (NABAT_CONTACT_REPLY_TTL)."""
        return self._contact_ttl

    async def send(
        self,
        tx: Transaction,
        chat_id: int,
        notice: Notice,
        *,
        priority: Priority = Priority.NORMAL,
        person_id: int | None = None,
        dedupe_key: str | None = None,
        not_before: datetime | None = None,
        about_id: int | None = None,
        erase_done: bool = False,
    ) -> int | None:
        """Queue a message; returns the row of its first part (None when deduplicated).

        `about_id` names the person the message is about, whoever it goes to, so that
        removing them finds it; `erase_done` deletes the row once it is delivered.

        Text longer than Telegram takes goes out as that first part, with the buttons,
        then continuations, each sent only once the one before it is out.
        """
        now = self._clock.now()
        expires = now + NORMAL_TTL if priority >= Priority.REMINDER else None
        head, *rest = fit(notice)
        row = await self.repo.add(
            tx,
            op=OutboxOp.SEND,
            chat_id=chat_id,
            priority=priority,
            now=now,
            notice=head,
            person_id=person_id,
            dedupe_key=dedupe_key,
            not_before=not_before,
            expires_at=expires,
            about_id=about_id,
            erase_done=erase_done,
        )
        if row is not None:
            await self.send_after(
                tx, chat_id, row, rest, priority, person_id, now, expires, about_id=about_id
            )
        self._wake_after(tx)
        return row

    async def send_after(
        self,
        tx: Transaction,
        chat_id: int,
        after: int,
        parts: list[Notice],
        priority: Priority,
        person_id: int | None,
        now: datetime | None = None,
        expires: datetime | None = None,
        *,
        about_id: int | None = None,
    ) -> int:
        """Queue `parts` to follow the message of row `after`, in order; return the row
        of the last part (`after` itself when there are none)."""
        now = now or self._clock.now()
        # Each part waits for the one before it (ref_id), so they arrive in order, and
        # fails with it if it fails for good.
        for part in (piece for whole in parts for piece in fit(whole)):
            after_row = await self.repo.add(
                tx,
                op=OutboxOp.SEND,
                chat_id=chat_id,
                priority=priority,
                now=now,
                notice=part,
                ref_id=after,
                person_id=person_id,
                expires_at=expires,
                about_id=about_id,
            )
            assert after_row is not None
            after = after_row
        return after

    async def tell(
        self,
        tx: Transaction,
        person: Person,
        key: str,
        *,
        priority: Priority = Priority.NORMAL,
        about_id: int | None = None,
        **params: Any,
    ) -> int | None:
        """Send `person` the catalogue message `key`, in their own language. `about_id`:
        the person it names, so that removing them cancels it if still queued."""
        return await self.to_person(
            tx, person, Notice(key, params, lang=person.lang), priority=priority, about_id=about_id
        )

    async def to_person(
        self,
        tx: Transaction,
        person: Person,
        notice: Notice,
        *,
        priority: Priority = Priority.NORMAL,
        about_id: int | None = None,
    ) -> int | None:
        """Send `person` a notice. Nothing the bot says to a contact stays in their chat
        past the reply TTL (their phone may be read by others): its deletion is queued
        with it, and kept even if they are removed meanwhile (storage/erasure.py)."""
        if not person.has(Role.CONTACT):
            return await self.send(
                tx,
                person.chat_id,
                notice,
                priority=priority,
                person_id=person.id,
                about_id=about_id,
            )
        # Every part of a long message is deleted, not only the first.
        head, *rest = fit(notice)
        row = await self.send(
            tx, person.chat_id, head, priority=priority, person_id=person.id, about_id=about_id
        )
        if row is None:
            return None
        now = self._clock.now()
        expires = now + NORMAL_TTL if priority >= Priority.REMINDER else None
        rows, after = [row], row
        for part in rest:
            after = await self.send_after(
                tx,
                person.chat_id,
                after,
                [part],
                priority,
                person.id,
                now,
                expires,
                about_id=about_id,
            )
            rows.append(after)
        for sent in rows:
            await self.delete(
                tx,
                person.chat_id,
                ref_id=sent,
                not_before=now + self._contact_ttl,
                person_id=person.id,
            )
        return row

    async def tell_lines(
        self,
        tx: Transaction,
        person: Person,
        lines: list[str],
        *,
        priority: Priority = Priority.NORMAL,
        buttons: tuple[tuple[Button, ...], ...] = (),
        protect: bool = False,
        about_id: int | None = None,
    ) -> None:
        """Lines of text, in as few messages as Telegram's length limit allows; `buttons`
        go under the last. `protect`: not forwardable or savable (a case file);
        `about_id`: the person the lines describe, so removing them finds the messages."""
        blocks = chunk_lines(lines)
        for n, block in enumerate(blocks, start=1):
            notice = Notice(
                "text.block",
                {"text": block},
                buttons=buttons if n == len(blocks) else (),
                protect=protect,
                lang=person.lang,
            )
            await self.to_person(tx, person, notice, priority=priority, about_id=about_id)

    async def send_many(
        self,
        tx: Transaction,
        sends: list[tuple[int, Notice, int | None]],
        *,
        priority: Priority,
        about_id: int | None = None,
    ) -> list[int]:
        """`send` to many chats in one statement: (chat id, notice, person id) each."""
        now = self._clock.now()
        expires = now + NORMAL_TTL if priority >= Priority.REMINDER else None
        fitted = [(chat_id, fit(notice), person) for chat_id, notice, person in sends]
        rows = await self.repo.add_sends(
            tx,
            [(chat_id, parts[0], person) for chat_id, parts, person in fitted],
            priority=priority,
            now=now,
            expires_at=expires,
            about_id=about_id,
        )
        for row, (chat_id, parts, person) in zip(rows, fitted, strict=True):
            await self.send_after(
                tx, chat_id, row, parts[1:], priority, person, now, expires, about_id=about_id
            )
        self._wake_after(tx)
        return rows

    async def edit(
        self,
        tx: Transaction,
        chat_id: int,
        notice: Notice,
        *,
        ref_id: int | None = None,
        message_id: int | None = None,
        priority: Priority = Priority.NORMAL,
        person_id: int | None = None,
        about_id: int | None = None,
        erase_done: bool = False,
    ) -> int | None:
        """Edit a message: one this outbox sent (`ref_id`) or a known `message_id`."""
        if (message_id is None) == (ref_id is None):
            raise ValueError("edit needs exactly one of message_id and ref_id")
        row = await self.repo.add(
            tx,
            op=OutboxOp.EDIT,
            chat_id=chat_id,
            priority=priority,
            now=self._clock.now(),
            notice=fit_edit(notice),
            ref_id=ref_id,
            target_message_id=message_id,
            person_id=person_id,
            about_id=about_id,
            erase_done=erase_done,
        )
        self._wake_after(tx)
        return row

    async def delete(
        self,
        tx: Transaction,
        chat_id: int,
        *,
        message_id: int | None = None,
        ref_id: int | None = None,
        not_before: datetime | None = None,
        person_id: int | None = None,
        priority: Priority = Priority.NORMAL,
    ) -> int | None:
        if (message_id is None) == (ref_id is None):
            raise ValueError("delete needs exactly one of message_id and ref_id")
        row = await self.repo.add(
            tx,
            op=OutboxOp.DELETE,
            chat_id=chat_id,
            priority=priority,
            now=self._clock.now(),
            target_message_id=message_id,
            ref_id=ref_id,
            not_before=not_before,
            person_id=person_id,
        )
        self._wake_after(tx)
        return row

    def _wake_after(self, tx: Transaction) -> None:
        if self.wake not in tx.after_commit:
            tx.after_commit.append(self.wake)

    # -- the worker ----------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    async def purge(self) -> int:
        """Delete finished rows after FINISHED_KEPT: delivered text does not linger at rest."""
        async with self._db.transaction() as tx:
            return await self.repo.purge_finished(tx, self._clock.now() - FINISHED_KEPT)

    @property
    def busy(self) -> bool:
        """True while a delivery is in flight."""
        return bool(self._in_flight)

    async def start(self, sender: Sender) -> None:
        self._sender = sender
        self._stopping = False
        async with self._db.transaction() as tx:
            # We are the only process: whatever was mid-flight when we died is pending again.
            released = await self.repo.release_leases(tx, self._clock.now(), all_=True)
        if released:
            log.warning("outbox: %d interrupted deliveries returned to the queue", released)
        self._runner = asyncio.create_task(self._run(), name="outbox")

    async def stop(self) -> None:
        self._stopping = True
        self.wake()
        if self._runner is not None:
            self._runner.cancel()
            await asyncio.gather(self._runner, return_exceptions=True)
            self._runner = None
        if self._tasks:
            # Deliveries under way may finish (they are short), but a call stalled on the
            # network must not hold the shutdown: a cancelled one is retried after a
            # restart, from its row (its lease runs out).
            _, stalled = await asyncio.wait(set(self._tasks), timeout=STOP_GRACE)
            for task in stalled:
                task.cancel()
            await asyncio.gather(*stalled, return_exceptions=True)

    async def _run(self) -> None:
        # The loop also ends on `_stopping`, not only on cancellation: on Python 3.11,
        # asyncio.wait_for can swallow a cancel that arrives as the wake-up does (gh-86296),
        # which left this loop running and `stop` waiting for it for ever.
        while not self._stopping:
            self._wake.clear()
            try:
                wait = await self._pass()
            except Exception:  # a bad row must not stop all delivery
                log.exception("outbox pass failed")
                wait = 1.0
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _pass(self) -> float:
        """Start every delivery that may go now; return how long to wait before looking again."""
        now = self._clock.now()
        mono = self._clock.monotonic()
        wait = 5.0  # safety net; the scheduler's tick and every commit wake us sooner
        if mono < self._paused_until:
            self.pacing_wait = self._paused_until - mono
            return self.pacing_wait
        self.pacing_wait = None
        for row in await self.repo.due(self._db, now, limit=500):
            key = row.chat_key
            if key in self._in_flight:
                continue
            if row.op is OutboxOp.SEND and self._chat_ready_at.get(key, 0.0) > mono:
                wait = min(wait, self._chat_ready_at[key] - mono)
                self.pacing_wait = min(self.pacing_wait or wait, wait)
                continue
            if row.ref_id is not None:
                if row.ref_state in (None, "failed", "expired"):
                    await self._finish(
                        row.id, OutboxState.FAILED, "nothing to act on: the message was never sent"
                    )
                    continue
                if row.ref_message_id is None:
                    continue  # the message it edits or deletes is not out yet
            if row.expires_at is not None and now >= row.expires_at:
                await self._finish(
                    row.id, OutboxState.EXPIRED, "expired before it could be delivered"
                )
                continue
            async with self._db.transaction() as tx:
                claimed = await self.repo.claim(tx, row.id, now + LEASE)
            item = await self.repo.load(self._db, row.id) if claimed else None
            if item is None:
                continue
            target = row.ref_message_id if row.ref_id is not None else item.target_message_id
            self._in_flight.add(key)
            await self._slots.acquire()
            if item.op is OutboxOp.SEND:
                await self._limiter.acquire()
            task = asyncio.create_task(self._deliver(item, target), name=f"outbox-{item.id}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        next_at = await self.repo.next_due_at(self._db)
        if next_at is not None:
            wait = min(wait, max(0.05, (next_at - self._clock.now()).total_seconds()))
        return max(0.01, wait)

    async def _deliver(self, item: OutboxItem, target: int | None) -> None:
        assert self._sender is not None
        key = item.chat_key
        message_id: int | None = None
        paced_until = self._chat_ready_at.get(key, 0.0)
        try:
            if item.op is OutboxOp.SEND:
                assert item.notice is not None
                # Paced from when the call leaves, as Telegram counts arrivals: pacing from
                # completion would add a round trip to every message in a busy chat.
                self._chat_ready_at[key] = self._clock.monotonic() + self._per_chat_gap
                message_id = await self._sender.send(item.chat_id, render(item.notice))
            elif item.op is OutboxOp.EDIT:
                assert item.notice is not None and target is not None
                await self._sender.edit(item.chat_id, target, render(item.notice))
            else:
                assert target is not None
                await self._sender.delete(item.chat_id, target)
        except DeliveryError as exc:
            if exc.retry_after is None:
                # It never reached the chat: it does not count against the chat's pace.
                self._chat_ready_at[key] = paced_until
            await self._failed(item, exc)
        except Exception as exc:  # a bug in rendering or the seam: keep the row, retry later
            log.exception("outbox: item %d raised %s", item.id, type(exc).__name__)
            await self._retry(item, f"{type(exc).__name__}", backoff(item.attempts + 1))
        else:
            async with self._db.transaction() as tx:
                await self.repo.mark_sent(tx, item.id, self._clock.now(), message_id)
                if item.erase_done:
                    await self.repo.sweep_erased(tx)
            log.debug(
                "outbox: item %d delivered (%s, priority %d)", item.id, item.op, item.priority
            )
            for hook in self.on_delivered:
                await hook(Delivered(item, message_id))
        finally:
            self._in_flight.discard(key)
            self._slots.release()
            self.wake()

    async def _failed(self, item: OutboxItem, exc: DeliveryError) -> None:
        if exc.permanent:
            log.warning("outbox: item %d failed for good: %s", item.id, exc.reason)
            await self._finish(item.id, OutboxState.FAILED, exc.reason)
            for hook in self.on_failure:
                await hook(item, exc)
            return
        if exc.retry_after is not None:
            # Flood control is per bot: stop everything, not just this chat.
            self._paused_until = max(self._paused_until, self._clock.monotonic() + exc.retry_after)
            delay = exc.retry_after
        else:
            delay = backoff(item.attempts + 1)
        log.info("outbox: item %d will retry in %.1fs: %s", item.id, delay, exc.reason)
        await self._retry(item, exc.reason, delay)

    async def _retry(self, item: OutboxItem, error: str, delay: float) -> None:
        async with self._db.transaction() as tx:
            await self.repo.mark_retry(
                tx, item.id, self._clock.now() + timedelta(seconds=delay), error
            )

    async def _finish(self, item_id: int, state: OutboxState, error: str) -> None:
        async with self._db.transaction() as tx:
            await self.repo.mark_final(tx, item_id, state, error)
            await self.repo.sweep_erased(tx)
