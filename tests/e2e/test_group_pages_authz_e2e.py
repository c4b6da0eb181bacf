"""Who may see and act on an alert paged to a group chat: staff pressing in that group;
in private, only people paged themselves, whoever acknowledged, and coordinators.

Every command and button that touches an alert, for each persona, on an alert whose only
step pages the group "Duty lawyers" (Boris is in it, Anna is not, K-42 is).
"""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import RESPONDERS, Cast
from tests.telegram_emulator import SimGroup, SimUser

NOT_YOURS = "There is no alert #1 you can see."


async def group_paged_alert(h: BotHarness, cast: Cast) -> SimGroup:
    boris = cast.responders[1]
    group = h.emu.group(-1001234567890, "Duty lawyers")
    group.add_member(boris)
    group.add_member(cast.contacts[1])
    group.add_bot(cast.coordinator)
    await h.emu.wait_for(lambda: group.visible, what="the group greeted")
    await h.settle()
    for change in ("step default | 1 | 5m | group:Duty lawyers", "drop default | 2"):
        await h.reply_to(cast.coordinator, f"/policy {change}")
        seen = len(cast.coordinator.visible)
        await cast.coordinator.press_button("Confirm")
        await h.replies(cast.coordinator, seen + 1, what="a confirmation")
    await h.settle()
    listing = await h.reply_to(cast.coordinator, "/policy")
    assert listing.endswith("step 1: group:Duty lawyers, then wait 5m"), listing
    await cast.contacts[0].send("/panic they have a list with our names")
    await h.replies(cast.contacts[0], 1)
    await h.settle()
    assert str(group.visible[-1].text).startswith("PANIC - alert #1")
    return group


async def state(h: BotHarness) -> str:
    alert = await h.services.alerts.context.alerts.get(h.services.db, 1)
    assert alert is not None
    return alert.state.value


async def refused_everywhere_in_private(h: BotHarness, who: SimUser) -> None:
    """Every command and every (forged) button on alert #1, in `who`'s private chat."""
    for command in ("/alert 1", "/ack 1", "/resolve 1 done"):
        assert (await h.reply_to(who, command)).startswith(NOT_YOURS), command
    if not who.visible:
        await who.send("/help")
        await h.replies(who, 1)
    seen = len(who.visible)
    for data in ("ack:1", "res:1", "al:1"):
        await who.forge_press(who.visible[-1].message_id, data)
        await h.settle()
        assert who.callback_answers[-1].get("text", "").startswith(NOT_YOURS), data
    assert len(who.visible) == seen  # no timeline was sent
    listing = await h.reply_to(who, "/alerts")
    assert listing == "No open alerts."
    assert await state(h) == "triggered"


async def test_a_group_page_opens_the_alert_only_to_staff_pressing_in_that_group(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    group = await group_paged_alert(harness, enrolled)
    page = group.visible[-1]

    # Anna was never paged and is not in the group: nothing, anywhere.
    await refused_everywhere_in_private(harness, anna)
    # Boris is in the paged group, but was not paged himself: not in private.
    await refused_everywhere_in_private(harness, boris)
    # A contact in the group pressing there: nothing.
    await group.press(enrolled.contacts[1], page.message_id, "ack:1")
    await harness.settle()
    assert await state(harness) == "triggered"
    # A second group the alert was not paged to is no back door.
    other = harness.emu.group(-1001234567899, "Other lawyers")
    other.add_member(boris)
    other.add_bot(enrolled.coordinator)
    await harness.emu.wait_for(lambda: other.visible, what="the other group greeted")
    await other.forge_press(boris, other.visible[-1].message_id, "ack:1")
    await harness.settle()
    assert await state(harness) == "triggered"

    # Boris pressing in the paged group acknowledges it; from then on it is his, in
    # private too.
    await group.press(boris, page.message_id, "ack:1")
    await harness.emu.wait_for(
        lambda: "Acknowledged by" in str(group.visible[-1].text), what="the group page edited"
    )
    await harness.settle()
    assert f"Acknowledged by {RESPONDERS[1][1]}" in str(group.visible[-1].text)
    timeline = await harness.reply_to(boris, "/alert 1")
    assert timeline.startswith("Alert #1 - PANIC") and "acknowledged by" in timeline
    assert (await harness.reply_to(boris, "/alerts")).startswith("Open alerts (1):")

    # Anna still cannot see or take it, and so gets none of its follow-ups.
    for command in ("/alert 1", "/ack 1", "/resolve 1 done"):
        assert (await harness.reply_to(anna, command)).startswith(NOT_YOURS), command
    seen = len(anna.visible)
    await enrolled.contacts[0].send("the address is Lenina 5")
    await harness.settle()
    assert len(anna.visible) == seen
    assert "the address is Lenina 5" in str(boris.visible[-1].text)

    # The coordinator may always look, and Boris may close it.
    assert (await harness.reply_to(enrolled.coordinator, "/alert 1")).startswith("Alert #1")
    assert (await harness.reply_to(boris, "/resolve 1 moved to safety")) == (
        "You resolved alert #1."
    )
