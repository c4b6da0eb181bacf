"""Commands that must not run beside the bot refuse while it runs (storage/lock.py)."""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import Cast


async def test_rotate_key_beside_the_running_bot_refuses_and_the_next_panic_is_paged(
    harness: BotHarness, enrolled: Cast
) -> None:
    keys = harness.root / "keys.json"
    before = keys.read_text()
    result = await harness.cli("rotate-key", "--drop-old")
    assert result.code == 2
    assert keys.read_text() == before  # no key added, none dropped
    contact, anna, _ = enrolled.contacts[0], *enrolled.responders
    seen = len(anna.visible)
    await contact.send("/panic right after the rotation attempt")
    await harness.replies(contact, 1)
    await harness.settle()
    (page,) = anna.visible[seen:]
    assert "Message: right after the rotation attempt" in str(page.text)
    # Once the bot has stopped, the rotation goes through.
    await harness.stop()
    rotated = await harness.cli("rotate-key", "--drop-old")
    assert rotated.code == 0 and "Old keys removed" in rotated.out
    await harness.start()
    await harness.settle()
