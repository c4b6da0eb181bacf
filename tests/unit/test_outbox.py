"""The outbox against a recording sender (a fake only at the Telegram edge)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.delivery.outbox import Outbox
from bot.domain.clock import FakeClock
from bot.domain.errors import DeliveryError
from bot.domain.models import Notice, OutboxState, Priority, Role
from bot.words.catalogue import Rendered
from storage.crypto import FieldCipher
from storage.db import Database
from storage.keyring import KeyRing
from storage.outbox import OutboxRepo
from storage.people import PeopleRepo
from tests.support.factories import T0


class RecordingSender:
    """Records each call, stamped with the pacing clock the outbox runs on; `fail` maps a
    text to the errors its next attempts raise."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self._clock = clock or FakeClock(T0)
        self.calls: list[tuple[str, int, str | int, float]] = []
        self.fail: dict[str, list[DeliveryError]] = {}
        self.changed = asyncio.Condition()
        self._next_id = 100

    async def _record(self, entry: tuple[str, int, str | int]) -> None:
        async with self.changed:
            self.calls.append((*entry, self._clock.monotonic()))
            self.changed.notify_all()

    async def send(self, chat_id: int, rendered: Rendered) -> int:
        errors = self.fail.get(rendered.text)
        if errors:
            err = errors.pop(0)
            await self._record(("fail", chat_id, rendered.text))
            raise err
        self._next_id += 1
        await self._record(("send", chat_id, rendered.text))
        return self._next_id

    async def edit(self, chat_id: int, message_id: int, rendered: Rendered) -> None:
        await self._record(("edit", chat_id, f"{message_id}:{rendered.text}"))

    async def delete(self, chat_id: int, message_id: int) -> None:
        await self._record(("delete", chat_id, message_id))

    def sent(self) -> list[str]:
        return [str(c[2]) for c in self.calls if c[0] == "send"]

    async def until(self, predicate: Callable[[], bool], limit: float = 5.0) -> None:
        async with self.changed:
            await asyncio.wait_for(self.changed.wait_for(predicate), limit)


def note(text: str) -> Notice:
    return Notice("text.block", {"text": text})


@pytest.fixture
async def env(tmp_path: Path):
    db = await Database.open(tmp_path / "nabat.db")
    await db.migrate()
    clock = FakeClock(T0)
    repo = OutboxRepo(FieldCipher(KeyRing.generate()))
    made: list[Outbox] = []

    def make(**kw: Any) -> Outbox:
        box = Outbox(db, repo, clock, **kw)
        made.append(box)
        return box

    yield db, clock, repo, make
    for box in made:
        await box.stop()
    await db.close()


async def test_more_urgent_work_goes_first_whatever_order_it_was_queued_in(env) -> None:
    db, _, _, make = env
    box, sender = make(), RecordingSender()
    async with db.transaction() as tx:
        for i in range(3):
            await box.send(tx, 10 + i, note(f"reply {i}"))
        await box.send(tx, 20, note("escalation"), priority=Priority.ESCALATION)
        await box.send(tx, 30, note("first page"), priority=Priority.FIRST_PAGE)
    await box.start(sender)
    await sender.until(lambda: len(sender.sent()) == 5)
    assert sender.sent() == ["first page", "escalation", "reply 0", "reply 1", "reply 2"]


async def test_one_chat_gets_its_messages_in_order_and_no_faster_than_its_rate(env) -> None:
    db, clock, _, make = env
    box, sender = make(rate_per_chat=20.0), RecordingSender(clock)
    await box.start(sender)
    async with db.transaction() as tx:
        for i in range(4):
            await box.send(tx, 7, note(f"m{i}"))
    pacer = asyncio.create_task(_let_pacing_pass(box, clock))
    try:
        await sender.until(lambda: len(sender.sent()) == 4)
    finally:
        pacer.cancel()
    assert sender.sent() == ["m0", "m1", "m2", "m3"]
    stamps = [c[3] for c in sender.calls]
    # A lower bound only: the outbox must wait at least 1/rate between two sends to a chat.
    assert all(b - a >= 0.049 for a, b in itertools.pairwise(stamps))


async def test_a_transient_failure_is_retried_after_its_backoff(env) -> None:
    db, clock, repo, make = env
    box, sender = make(), RecordingSender()
    sender.fail["page"] = [DeliveryError("NetworkError: down", permanent=False)]
    await box.start(sender)
    async with db.transaction() as tx:
        row = await box.send(tx, 5, note("page"), priority=Priority.FIRST_PAGE)
    assert row is not None
    await sender.until(lambda: len(sender.calls) == 1)
    await _until_state(db, repo, row, OutboxState.PENDING)
    assert sender.sent() == []
    clock.advance(timedelta(seconds=2))  # backoff after one failure is at most 1 s
    box.wake()
    await sender.until(lambda: sender.sent() == ["page"])
    await _until_state(db, repo, row, OutboxState.SENT)


async def test_a_permanent_failure_is_final_and_reported(env) -> None:
    db, _, repo, make = env
    box, sender = make(), RecordingSender()
    sender.fail["page"] = [DeliveryError("Forbidden: bot was blocked by the user", permanent=True)]
    reported: list[str] = []

    async def hook(item, err: DeliveryError) -> None:
        reported.append(err.reason)

    box.on_failure.append(hook)
    await box.start(sender)
    async with db.transaction() as tx:
        row = await box.send(tx, 5, note("page"))
    assert row is not None
    await _until_state(db, repo, row, OutboxState.FAILED)
    assert reported == ["Forbidden: bot was blocked by the user"]
    assert sender.sent() == []


async def test_flood_control_pauses_every_chat_for_retry_after(env) -> None:
    db, clock, _repo, make = env
    box, sender = make(), RecordingSender(clock)
    sender.fail["a"] = [DeliveryError("RetryAfter", permanent=False, retry_after=0.3)]
    await box.start(sender)
    async with db.transaction() as tx:
        await box.send(tx, 1, note("a"))
    await sender.until(lambda: len(sender.calls) == 1)
    failed_at = sender.calls[0][3]
    async with db.transaction() as tx:
        await box.send(tx, 2, note("b"))
    clock.advance(timedelta(seconds=1))
    await sender.until(lambda: sorted(sender.sent()) == ["a", "b"])
    assert all(c[3] - failed_at >= 0.29 for c in sender.calls if c[0] == "send")


async def test_work_interrupted_mid_flight_is_delivered_after_a_restart(env) -> None:
    db, _, repo, make = env
    first = make()
    async with db.transaction() as tx:
        row = await first.send(tx, 9, note("page"), priority=Priority.FIRST_PAGE)
        assert row is not None
        # A process that died after claiming the row, before finishing the call.
        assert await repo.claim(tx, row, T0 + timedelta(minutes=2))
    second, sender = make(), RecordingSender()
    await second.start(sender)
    await sender.until(lambda: sender.sent() == ["page"])
    await _until_state(db, repo, row, OutboxState.SENT)


async def test_a_dedupe_key_queues_a_message_once(env) -> None:
    db, _, _, make = env
    box = make()
    async with db.transaction() as tx:
        assert await box.send(tx, 1, note("x"), dedupe_key="k") is not None
        assert await box.send(tx, 1, note("x"), dedupe_key="k") is None


async def test_an_edit_waits_for_the_message_it_edits(env) -> None:
    db, _, _, make = env
    box, sender = make(), RecordingSender()
    async with db.transaction() as tx:
        page = await box.send(tx, 4, note("page"))
        assert page is not None
        await box.edit(tx, 4, note("acknowledged"), ref_id=page)
        await box.delete(tx, 4, ref_id=page)
    await box.start(sender)
    await sender.until(lambda: len(sender.calls) == 3)
    assert [c[0] for c in sender.calls] == ["send", "edit", "delete"]
    assert sender.calls[1][2] == "101:acknowledged"


async def test_an_ordinary_reply_that_could_not_go_out_for_a_day_is_dropped(env) -> None:
    db, clock, repo, make = env
    box, sender = make(), RecordingSender()
    async with db.transaction() as tx:
        row = await box.send(tx, 4, note("stale"))
        page = await box.send(tx, 5, note("page"), priority=Priority.FIRST_PAGE)
    assert row is not None and page is not None
    clock.advance(timedelta(hours=25))
    await box.start(sender)
    await _until_state(db, repo, row, OutboxState.EXPIRED)
    await sender.until(lambda: sender.sent() == ["page"])


async def _let_pacing_pass(box: Outbox, clock: FakeClock) -> None:
    """What the end-to-end harness does: whenever pacing holds work back, let exactly
    that much pacing time pass on the test's clock."""
    while True:
        await asyncio.sleep(0.002)
        wait = box.pacing_wait
        if wait and not box.busy:
            box.pacing_wait = None
            clock.let_pacing_pass(wait)
            box.wake()


async def _until_state(db: Database, repo: OutboxRepo, row: int, state: OutboxState) -> None:
    for _ in range(500):
        found = await repo.state_of(db, row)
        if found is not None and found[0] is state:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"row {row} never reached {state}")


async def test_finished_rows_are_purged_after_two_days_but_pending_ones_stay(env) -> None:
    db, clock, repo, make = env
    box, sender = make(), RecordingSender()
    await box.start(sender)
    async with db.transaction() as tx:
        sent = await box.send(tx, 1, note("delivered"))
    await sender.until(lambda: sender.sent() == ["delivered"])
    await _until_state(db, repo, sent, OutboxState.SENT)
    async with db.transaction() as tx:
        waiting = await box.send(tx, 2, note("later"), not_before=clock.now() + timedelta(days=5))
    assert await box.purge() == 0
    clock.advance(timedelta(hours=49))
    assert await box.purge() == 1
    assert await repo.state_of(db, sent) is None
    assert await repo.state_of(db, waiting) is not None


async def test_every_part_of_a_long_message_to_a_contact_leaves_their_chat_after_the_ttl(
    env,
) -> None:
    db, clock, _, make = env
    box, sender = make(contact_reply_ttl=timedelta(minutes=10)), RecordingSender(clock)
    people = PeopleRepo(FieldCipher(KeyRing.generate()))
    async with db.transaction() as tx:
        contact = await people.create(
            tx, telegram_id=7, name="K-17", lang="en", role=Role.CONTACT, now=T0
        )
        await box.to_person(tx, contact, note("x" * 5000))
    await box.start(sender)
    pacer = asyncio.create_task(_let_pacing_pass(box, clock))
    try:
        await sender.until(lambda: len(sender.sent()) == 2)
        clock.advance(timedelta(minutes=11))
        box.wake()
        await sender.until(lambda: len([c for c in sender.calls if c[0] == "delete"]) == 2)
    finally:
        pacer.cancel()
    deleted = sorted(int(c[2]) for c in sender.calls if c[0] == "delete")
    assert deleted == [101, 102]  # both parts the sender was given ids for
