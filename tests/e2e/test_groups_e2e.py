"""Group chats as page targets, and the bot's own membership, end to end."""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import RESPONDERS, Cast
from tests.support.steps import confirm_last, pages, panic, texts


async def test_a_group_a_coordinator_adds_the_bot_to_receives_pages_anyone_on_staff_can_ack(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    group = harness.emu.group(-1001234567890, "Duty lawyers")
    for user in (anna, boris):
        group.add_member(user)
    group.add_bot(enrolled.coordinator)
    await harness.emu.wait_for(lambda: group.visible, what="the group greeted")
    await harness.settle()
    assert str(group.visible[0].text).startswith("This group (Duty lawyers) can now receive pages")
    assert texts(enrolled.coordinator)[-1] == (
        "Group Duty lawyers registered. Use it in a policy: group:Duty lawyers."
    )
    await harness.reply_to(
        enrolled.coordinator, "/policy step default | 1 | 5m | group:Duty lawyers"
    )
    await confirm_last(harness, enrolled.coordinator)
    await panic(harness, enrolled.contacts[0])
    page = group.visible[-1]
    assert str(page.text).startswith("PANIC - alert #1") and page.protect_content
    assert pages(anna) == [] and pages(boris) == []
    # Boris was not paged himself, but the page in his group is his to take.
    await group.press(boris, page.message_id, "ack:1")
    await harness.emu.wait_for(
        lambda: "Acknowledged by" in str(group.visible[-1].text), what="the group page edited"
    )
    await harness.settle()
    assert f"Acknowledged by {RESPONDERS[1][1]}" in str(group.visible[-1].text)
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert "step 1: paged Duty lawyers" in timeline
    assert "Duty lawyers (step 1): delivered" in timeline

    # Removed from the group, the bot forgets it, and the step that named it says so.
    seen = len(enrolled.coordinator.visible)
    group.remove_bot(enrolled.coordinator)
    await harness.replies(enrolled.coordinator, seen + 1, what="the coverage report")
    assert "policy 'default' step 1:" in texts(enrolled.coordinator)[-1]
    listing = await harness.reply_to(enrolled.coordinator, "/policy")
    assert "step 1: no one (passed at once; change it" in listing


async def test_a_group_someone_else_adds_the_bot_to_is_left_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    group = harness.emu.group(-1009999999999, "Not ours")
    group.add_bot(enrolled.stranger)
    await harness.emu.wait_for(
        lambda: any(c.method == "leaveChat" for c in harness.emu.calls), what="the bot left"
    )
    await harness.settle()
    assert group.visible == []
    assert await harness.services.groups.groups.all(harness.services.db) == []
    # Adding it as a responder is no better: only coordinators can.
    group.add_bot(enrolled.responders[0])
    await harness.settle()
    assert await harness.services.groups.groups.all(harness.services.db) == []


async def test_a_contact_pressing_a_page_in_a_group_changes_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact = enrolled.contacts[1]
    group = harness.emu.group(-1001234567891, "Mixed")
    group.add_member(contact)
    group.add_bot(enrolled.coordinator)
    await harness.settle()
    await harness.reply_to(enrolled.coordinator, "/policy step default | 1 | 5m | group:Mixed")
    await confirm_last(harness, enrolled.coordinator)
    await panic(harness, enrolled.contacts[0])
    await group.press(contact, group.visible[-1].message_id, "ack:1")
    await harness.settle()
    alert = await harness.services.alerts.context.alerts.get(harness.services.db, 1)
    assert alert is not None and alert.state.value == "triggered"


async def test_a_responder_who_blocks_the_bot_is_flagged_before_any_page_fails(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna = enrolled.responders[0]
    anna.block()
    await harness.emu.wait_for(
        lambda: any("cannot be reached" in t for t in texts(enrolled.coordinator)),
        what="the coordinator told",
    )
    person = await harness.services.people.identify(anna.id)
    assert person is not None and person.unreachable
    anna.unblock()
    await harness.settle()
    person = await harness.services.people.identify(anna.id)
    assert person is not None and not person.unreachable
