"""Nothing nabat sends exceeds Telegram's limits: a panic of Telegram's full length, a
long follow-up, and a page Telegram refuses for good all still reach someone.

The default policy: step 1 all responders (5 min), step 2 all coordinators (5 min).
"""

from __future__ import annotations

import re

from bot.domain.limits import MAX_TEXT
from tests.support.harness import BotHarness
from tests.support.personas import RESPONDERS, Cast
from tests.telegram_emulator import SimUser

STEP = 300


def words(n_chars: int, tag: str) -> str:
    """Distinct numbered words, so a lost or doubled piece shows."""
    out: list[str] = []
    size, i = 0, 0
    while size < n_chars:
        word = f"{tag}{i:05d}"
        out.append(word)
        size += len(word) + 1
        i += 1
    return " ".join(out)[:n_chars].rstrip()


def texts(user: SimUser) -> list[str]:
    return [str(m.text) for m in user.visible]


async def test_a_panic_of_telegrams_full_length_pages_with_the_whole_text_and_no_escalation(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    body = words(MAX_TEXT - len("/panic "), "w")
    seen = {r.id: len(r.visible) for r in (anna, boris)}
    await contact.send("/panic " + body)
    await harness.replies(contact, 1, what="the receipt")
    await harness.settle()
    for responder in (anna, boris):
        page, *rest = responder.visible[seen[responder.id] :]
        assert str(page.text).startswith("PANIC - alert #1")
        assert "Step 1 of 2" in str(page.text)
        assert [label for label, _ in page.buttons] == ["Acknowledge", "Resolve"]
        assert page.protect_content and all(m.protect_content for m in rest)
        assert rest and all(len(str(m.text)) <= MAX_TEXT for m in responder.visible)
        # The page's part, then each continuation, in order: the whole message.
        first = re.search(r"Message: (.*)\n\(The message continues below", str(page.text), re.S)
        assert first is not None
        pieces = [first.group(1)]
        for n, message in enumerate(rest, start=2):
            head, _, piece = str(message.text).partition("\n")
            assert head == f"Alert #1, the message goes on ({n} of {len(rest) + 1}):"
            pieces.append(piece)
        assert " ".join(pieces) == body
    # Delivered, so nothing escalates early and no one is told the alert went unanswered.
    await harness.advance(STEP - 1)
    assert not any("alert #1" in t for t in texts(enrolled.coordinator))
    # Acknowledging edits the page; it still fits, and still says who acknowledged.
    await anna.press_button("Acknowledge")
    at = seen[boris.id]
    await harness.emu.wait_for(
        lambda: "Acknowledged by" in str(boris.visible[at].text), what="Boris's page edited"
    )
    await harness.settle()
    assert f"Acknowledged by {RESPONDERS[0][1]}" in str(anna.visible[seen[anna.id]].text)
    await anna.send("/resolve 1 " + "n" * 1000)
    await harness.emu.wait_for(
        lambda: "Resolved by" in str(boris.visible[at].text), what="Boris's page edited again"
    )
    assert len(str(boris.visible[at].text)) <= MAX_TEXT
    assert str(boris.visible[at].text).endswith("n" * 1000)


async def test_a_long_follow_up_is_relayed_whole_in_numbered_parts(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, _ = enrolled.contacts[0], *enrolled.responders
    await contact.send("/panic police")
    await harness.replies(contact, 1)
    await anna.press_button("Acknowledge")
    await harness.settle()
    before = len(anna.visible)
    body = words(MAX_TEXT, "f")
    await contact.send(body)
    await harness.settle()
    relayed = anna.visible[before:]
    assert len(relayed) == 2
    pieces = []
    for n, message in enumerate(relayed, start=1):
        head, _, piece = str(message.text).partition("\n")
        assert head.startswith("Follow-up on alert #1 from K-17") and head.endswith(f"({n} of 2):")
        assert message.protect_content
        pieces.append(piece)
    assert " ".join(pieces) == body


async def test_a_page_refused_for_good_tells_coordinators_that_delivery_is_broken(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    # Telegram refuses both step-1 pages for a reason that is not "blocked".
    for responder in (anna, boris):
        harness.emu.faults.refuse(1, "Bad Request: chat not found", chat_id=responder.id)
    await contact.send("/panic police at the door")
    await harness.replies(contact, 1)
    await harness.settle()
    coordinator = texts(enrolled.coordinator)
    # Reached no one on step 1: step 2 (the coordinator) is paged at once, and the
    # coordinator is told, once, that Telegram refuses pages.
    assert any(t.startswith("PANIC - alert #1") and "Step 2 of 2" in t for t in coordinator)
    (warning,) = [t for t in coordinator if t.startswith("DELIVERY PROBLEM on alert #1")]
    assert "BadRequest: Chat not found" in warning and "/alert 1" in warning
    # Neither responder was marked as having blocked the bot: they are paged again later.
    await harness.advance(STEP)
    assert all(any("alert #1" in t for t in texts(r)) for r in (anna, boris))
