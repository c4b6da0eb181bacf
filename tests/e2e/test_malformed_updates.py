"""An update python-telegram-bot cannot parse is skipped by id, and no log carries content.

A proxy or a local Bot API server may send what Telegram never would: a message without
`date`, `from` as a string. PTB parses a getUpdates batch as a whole, so one such entry
used to stall every update after it and put the raw batch in the log at CRITICAL.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bot.delivery.update_guard import SkippedUpdates, screen_updates
from bot.logs import (
    LIBRARIES,
    LibraryFilter,
    install_library_filter,
    scrub_library_record,
)
from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, Cast
from tests.telegram_emulator import SimUser

PANIC = "/panic police at the door"
MALFORMED_TEXT = "/panic words in a broken update"


def undated_message(contact: SimUser, text: str = MALFORMED_TEXT) -> dict[str, Any]:
    """A contact's message with `date` left out: PTB's Message.de_json raises KeyError."""
    return {
        "message": {
            "message_id": 9_001,
            "from": {"id": contact.id, "is_bot": False, "first_name": contact.first_name},
            "chat": {"id": contact.id, "type": "private", "first_name": contact.first_name},
            "text": text,
        }
    }


def string_sender(contact: SimUser) -> dict[str, Any]:
    """`from` as a string instead of a User object: PTB raises TypeError."""
    body = undated_message(contact)
    body["message"]["date"] = 1_768_467_600
    body["message"]["from"] = str(contact.id)
    return body


def pages(user: SimUser) -> list[str]:
    return [str(m.text) for m in user.visible if "- alert #" in str(m.text)]


def batches(harness: BotHarness) -> list[list[int]]:
    """The update ids of every getUpdates answer, in order."""
    return [
        [u["update_id"] for u in call.result]
        for call in harness.emu.calls
        if call.method == "getUpdates" and call.ok and call.result
    ]


def skipped(harness: BotHarness) -> SkippedUpdates:
    assert harness.app is not None
    return harness.app.bot_data.skipped_updates


async def panic(harness: BotHarness, contact: SimUser) -> None:
    seen = len(contact.visible)
    await contact.send(PANIC)
    await harness.replies(contact, seen + 1, what="the contact's receipt")
    await harness.settle()


# -- end to end -----------------------------------------------------------------------------


async def test_a_malformed_update_is_skipped_by_id_and_panics_around_it_page_responders(
    harness: BotHarness, enrolled: Cast
) -> None:
    first, second = enrolled.contacts
    # Queued together, the bad entry and the panic come in one getUpdates answer.
    bad = harness.emu.push_raw_update(undated_message(first))
    await panic(harness, first)
    assert [bad, bad + 1] in batches(harness)
    for responder in enrolled.responders:
        assert [p.split("\n")[0] for p in pages(responder)] == ["PANIC - alert #1"]

    # And on its own, with the next panic in a later answer.
    later = harness.emu.push_raw_update(string_sender(second))
    await harness.settle()
    await panic(harness, second)
    assert [later] in batches(harness)
    for responder in enrolled.responders:
        assert [p.split("\n")[0] for p in pages(responder)] == [
            "PANIC - alert #1",
            "PANIC - alert #2",
        ]

    assert skipped(harness).count == 2
    assert list(skipped(harness).recent_ids) == [bad, later]
    assert {bad, later} <= harness.handled
    # Nobody heard anything about the broken updates: one receipt per panic, no more.
    assert [m.text for m in first.visible] == ["Received."]
    assert [m.text for m in second.visible] == ["Received."]
    assert pages(enrolled.coordinator) == []


async def test_a_malformed_last_update_is_confirmed_and_never_fetched_again(
    harness: BotHarness, enrolled: Cast
) -> None:
    await harness.settle()
    bad = harness.emu.push_raw_update(undated_message(enrolled.contacts[0]))
    await harness.settle()
    await harness.emu.wait_for(
        lambda: any(
            c.method == "getUpdates" and c.params.get("offset") == bad + 1
            for c in harness.emu.calls
        ),
        what="a poll that confirms the malformed update",
    )
    # Give a stalled updater time to show itself (it would poll again at once, and again):
    # two more long polls must come and go.
    polls = sum(1 for c in harness.emu.calls if c.method == "getUpdates")
    await harness.emu.wait_for(
        lambda: sum(1 for c in harness.emu.calls if c.method == "getUpdates" and c.ok) >= polls + 2,
        timeout=5.0,
        what="two more polls",
    )
    assert [batch for batch in batches(harness) if bad in batch] == [[bad]]
    offsets = [
        c.params.get("offset", 0)
        for c in harness.emu.calls
        if c.method == "getUpdates" and c.ok and c.result == [] and c.params.get("offset", 0) > 0
    ]
    assert offsets and offsets[-1] == bad + 1
    assert skipped(harness).count == 1


@pytest.fixture
def library_filter() -> Iterator[None]:
    """nabat's scrubbing installed as setup_logging installs it, every library at DEBUG."""
    undo = install_library_filter()
    levels = {name: logging.getLogger(name).level for name in LIBRARIES}
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        undo()


@pytest.mark.usefixtures("library_filter")
async def test_no_log_record_carries_the_panic_or_the_contacts_id_but_the_skip_is_logged(
    harness: BotHarness, enrolled: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    contact = enrolled.contacts[0]
    with caplog.at_level(logging.DEBUG):
        bad = harness.emu.push_raw_update(undated_message(contact))
        await panic(harness, contact)
        last = harness.emu.push_raw_update(string_sender(contact))
        await harness.settle()

    # The capture did see PTB's payload-carrying DEBUG lines, only without their payload.
    assert any(
        r.name.startswith("telegram") and "Call to Bot API endpoint" in r.getMessage()
        for r in caplog.records
    )
    secrets = [PANIC, "police at the door", MALFORMED_TEXT, str(CONTACTS[0][0])]
    for record in caplog.records:
        shown = " ".join(
            [record.getMessage(), record.exc_text or "", caplog.handler.format(record)]
        )
        for secret in secrets:
            assert secret not in shown, (record.name, secret)
    for secret in secrets:
        assert secret not in caplog.text, secret
    for update_id, error in ((bad, "KeyError"), (last, "TypeError")):
        assert any(
            r.name == "bot.delivery.update_guard"
            and str(update_id) in r.getMessage()
            and error in r.getMessage()
            for r in caplog.records
        ), update_id


# -- the pieces -----------------------------------------------------------------------------


def test_entries_without_a_usable_update_id_are_dropped_and_counted() -> None:
    good = {"update_id": 5}
    count = SkippedUpdates()
    kept = screen_updates(
        [good, {"message": {}}, {"update_id": "6"}, {"update_id": True}, "junk", None], count
    )
    assert kept == [good] and kept[0] is good
    assert (count.count, count.without_id) == (0, 5)


def test_an_unparsable_entry_becomes_its_bare_id_wherever_it_stands() -> None:
    broken = {"update_id": 8, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}}}
    fine = {"update_id": 9}
    count = SkippedUpdates()
    assert screen_updates([broken, fine, {**broken, "update_id": 10}], count) == [
        {"update_id": 8},
        fine,
        {"update_id": 10},
    ]
    assert (count.count, list(count.recent_ids), count.without_id) == (2, [8, 10], 0)


def _record(name: str, msg: str, *args: object, exc: BaseException | None = None) -> Any:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord(name, logging.DEBUG, __file__, 1, msg, args, exc_info)


def test_a_library_record_keeps_its_template_and_loses_its_arguments_and_traceback() -> None:
    try:
        raise KeyError("police at the door")
    except KeyError as exc:
        record = _record(
            "telegram.ext.Updater",
            "parsing %s failed after %d tries (%.1f%%)",
            {"t": 1},
            3,
            2.0,
            exc=exc,
        )
    scrub_library_record(record)
    assert record.getMessage() == "parsing <dict> failed after <int> tries (<float>%) (KeyError)"
    assert (record.levelno, record.name, record.exc_info) == (
        logging.DEBUG,
        "telegram.ext.Updater",
        None,
    )
    dump = _record("asyncio", "Task exception was never retrieved\nfuture: <Task secret>")
    scrub_library_record(dump)
    assert dump.getMessage() == "Task exception was never retrieved"
    own = _record("bot.services.alerts", "alert %d paged", 7)
    scrub_library_record(own)
    assert own.getMessage() == "alert 7 paged"


def test_a_child_loggers_record_is_scrubbed_for_any_handler() -> None:
    """A handler that is not nabat's, on a child logger: the record factory still applies."""
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    logger = logging.getLogger("httpx.child.for.a.test")
    handler = Keep(logging.DEBUG)
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    before = logging.getLogRecordFactory()
    undo = install_library_filter()
    try:
        logger.debug("HTTP Request: %s %s", "POST", "http://x/bot123:secret/getUpdates")
        install_library_filter()  # a second time changes nothing
        logger.warning("twice")
    finally:
        undo()
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
    assert [r.getMessage() for r in seen] == ["HTTP Request: <str> <str>", "twice"]
    assert logging.getLogRecordFactory() is before
    # Without the factory, the handler-level filter does the same for the handler it is on.
    record = _record("httpx", "HTTP Request: %s", "secret")
    assert LibraryFilter().filter(record) and record.getMessage() == "HTTP Request: <str>"
