"""Panic alerts end to end: paging, escalation, acknowledgement, follow-ups, timelines.

The default policy: step 1 all responders (5 min), step 2 all coordinators (5 min),
repeated once, then UNANSWERED to everyone. Every scenario also checks that nobody got a
message the scenario did not expect.
"""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, RESPONDERS, Cast
from tests.support.steps import pages, panic, texts

STEP = 300  # seconds: the default policy's delay


async def test_a_panic_pages_every_responder_at_once_and_no_one_else(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact = enrolled.contacts[0]
    await panic(harness, contact)
    for responder in enrolled.responders:
        (page,) = pages(responder)
        assert page.startswith("PANIC - alert #1")
        assert f"From: {CONTACTS[0][1]}" in page and "Message: police at the door" in page
        assert "Step 1 of 2" in page
        message = responder.visible[-1]
        assert message.protect_content
        assert [label for label, _ in message.buttons] == ["Acknowledge", "Resolve"]
    assert pages(enrolled.coordinator) == []
    assert texts(contact) == ["Received."]
    assert texts(enrolled.contacts[1]) == [] or pages(enrolled.contacts[1]) == []


async def test_step_two_is_paged_only_after_step_ones_delay(
    harness: BotHarness, enrolled: Cast
) -> None:
    await panic(harness, enrolled.contacts[0])
    await harness.advance(STEP - 1)
    assert pages(enrolled.coordinator) == []
    await harness.advance(1)
    (page,) = pages(enrolled.coordinator)
    assert page.startswith("PANIC - alert #1") and "Step 2 of 2" in page
    # Step 1 is not paged again while step 2 waits.
    assert all(len(pages(r)) == 1 for r in enrolled.responders)


async def test_the_policy_repeats_then_pages_everyone_unanswered(
    harness: BotHarness, enrolled: Cast
) -> None:
    await panic(harness, enrolled.contacts[0])
    for _ in range(3):
        await harness.advance(STEP)
    # Pass 1: responders, coordinator; pass 2: responders, coordinator.
    assert [len(pages(r)) for r in enrolled.responders] == [2, 2]
    assert len(pages(enrolled.coordinator)) == 2
    await harness.advance(STEP)
    for person in [*enrolled.responders, enrolled.coordinator]:
        assert pages(person)[-1].startswith("UNANSWERED: no one has acknowledged this alert.")
    # And then nothing more, however long it stays open.
    counts = [len(texts(p)) for p in [*enrolled.responders, enrolled.coordinator]]
    await harness.advance(10 * STEP)
    assert [len(texts(p)) for p in [*enrolled.responders, enrolled.coordinator]] == counts


async def test_acknowledging_stops_every_later_page_and_tells_everyone(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact)
    await anna.press_button("Acknowledge")
    await harness.emu.wait_for(
        lambda: "Acknowledged by" in str(boris.visible[-1].text), what="Boris's page edited"
    )
    await harness.settle()
    for responder in (anna, boris):
        page = responder.visible[-1]
        assert f"Acknowledged by {RESPONDERS[0][1]}" in str(page.text)
    # Whoever acknowledged can also answer the contact from their page.
    assert [label for label, _ in anna.visible[-1].buttons] == ["Resolve", "Answer the contact"]
    assert [label for label, _ in boris.visible[-1].buttons] == ["Resolve"]
    assert texts(contact) == ["Received.", "Someone is on it."]
    assert anna.callback_answers[-1].get("text") == "Done."
    await harness.advance(4 * STEP)
    assert pages(enrolled.coordinator) == []
    # A second press says who was first.
    # (A press on a page whose edit has not reached Boris yet.)
    await boris.forge_press(boris.visible[-1].message_id, "ack:1")
    await harness.settle()
    assert boris.callback_answers[-1]["text"] == (
        f"Alert #1 is already acknowledged by {RESPONDERS[0][1]}."
    )


async def test_resolving_cancels_everything(harness: BotHarness, enrolled: Cast) -> None:
    anna, boris = enrolled.responders
    await panic(harness, enrolled.contacts[0])
    reply = await harness.reply_to(boris, "/resolve 1 false alarm, she is safe")
    assert reply == "You resolved alert #1."
    await harness.settle()
    page = next(m for m in anna.messages if "alert #1" in str(m.text))
    assert f"Resolved by {RESPONDERS[1][1]}" in str(page.text)
    assert "false alarm, she is safe" in str(page.text)
    assert page.buttons == []
    before = [len(texts(p)) for p in [anna, boris, enrolled.coordinator]]
    await harness.advance(10 * STEP)
    assert [len(texts(p)) for p in [anna, boris, enrolled.coordinator]] == before
    assert (await harness.reply_to(anna, "/ack 1")) == (
        f"Alert #1 is already resolved by {RESPONDERS[1][1]}."
    )


async def test_an_acknowledged_alert_left_unresolved_reminds_then_escalates_again(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await panic(harness, enrolled.contacts[0])
    assert await harness.reply_to(anna, "/ack 1") == (
        "You acknowledged alert #1. Resolve it with /resolve 1 [note]."
    )
    await harness.advance(30 * 60 - 1)
    assert not any(t.startswith("REMINDER") for t in texts(anna))
    await harness.advance(1)
    assert texts(anna)[-1].startswith("REMINDER: you acknowledged this alert 30m ago")
    assert len(pages(boris)) == 1
    await harness.advance(30 * 60)
    # Escalation resumes from step 1: both responders paged again.
    assert len(pages(boris)) == 2 and pages(boris)[-1].startswith("PANIC - alert #1")
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert "acknowledgement timed out: reminded" in timeline
    assert "escalation resumed from step 1" in timeline


async def test_follow_ups_go_to_everyone_paged_then_only_to_the_acknowledger(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact)
    await contact.send("they are taking me to the station on Lenina")
    await harness.settle()
    for responder in (anna, boris):
        assert texts(responder)[-1] == (
            f"Follow-up on alert #1 from {CONTACTS[0][1]}:\n"
            "they are taking me to the station on Lenina"
        )
    await anna.press_button("Acknowledge")
    await harness.settle()
    boris_count = len(boris.visible)
    await contact.send_location(55.7558, 37.6173, live_period=3600)
    await contact.send_voice(file_id="VOICE-42", duration=5)
    await harness.settle()
    kinds = [m.kind for m in anna.visible[-2:]]
    assert kinds == ["location", "voice"]
    shared = [m for m in contact.history if not m.from_bot and m.kind == "location"]
    await contact.edit_live_location(shared[-1].message_id, 55.7600, 37.6200)
    await harness.emu.wait_for(
        lambda: anna.visible[-2].edit_date is not None, what="the relayed live location moved"
    )
    assert anna.visible[-2].location is not None
    assert anna.visible[-2].location == (55.76, 37.62)
    await harness.settle()
    assert len(boris.visible) == boris_count
    timeline = await harness.reply_to(anna, "/alert 1")
    assert "follow-up (text)" in timeline and "follow-up (live location)" in timeline
    assert "follow-up (voice)" in timeline


async def test_a_contacts_messages_are_deleted_and_the_bots_replies_expire(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact = enrolled.contacts[0]
    await panic(harness, contact)
    own = [m for m in contact.history if not m.from_bot]
    assert own and all(m.deleted for m in own), own
    assert texts(contact) == ["Received."]
    await harness.advance(10 * 60 - 1)
    assert texts(contact) == ["Received."]
    await harness.advance(1)
    assert texts(contact) == []


async def test_a_step_with_no_one_to_page_is_passed_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    for name in (RESPONDERS[0][1], RESPONDERS[1][1]):
        person = await harness.services.people.people.list_all(harness.services.db)
        target = next(p for p in person if p.name == name)
        await harness.services.people.remove(
            next(p for p in person if p.name.startswith("Olga")), target.id
        )
    await harness.settle()
    await panic(harness, enrolled.contacts[0])
    (page,) = pages(enrolled.coordinator)
    assert "Step 2 of 2" in page
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert "step 1 passed: no one to page" in timeline


async def test_responders_who_blocked_the_bot_are_skipped_and_their_step_passed_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    anna.block()
    boris.block()
    await harness.settle()
    await panic(harness, enrolled.contacts[0])
    # Telegram told the bot of the blocks: step 1 has no one, step 2 is paged at once.
    assert len(pages(enrolled.coordinator)) == 1
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert "step 1 passed: no one to page" in timeline
    # The next alert skips them straight away, until they write to the bot again.
    boris.unblock()
    await boris.send("/help")
    await harness.settle()
    await panic(harness, enrolled.contacts[1])
    assert len(pages(boris)) == 1 and pages(anna) == []


async def test_pages_refused_for_good_escalate_the_step_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    # Both pages of step 1 refused with 403 (blocks the bot never heard of): the step
    # escalates without waiting for its five minutes.
    for responder in enrolled.responders:
        responder.block(notify=False)
    await enrolled.contacts[0].send("/panic")
    await harness.emu.wait_for(lambda: pages(enrolled.coordinator), what="step 2 paged early")
    await harness.settle()
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert timeline.count("failed: Forbidden: bot was blocked by the user") == 2
    assert "no one on step 1 could be reached: escalating at once" in timeline
    assert "cannot be reached (blocked the bot or left); skipped from now on" in timeline


async def test_a_redelivered_panic_opens_one_alert(harness: BotHarness, enrolled: Cast) -> None:
    await panic(harness, enrolled.contacts[0])
    harness.emu.redeliver(harness.emu.update_ids[-1])
    await harness.settle()
    assert [len(pages(r)) for r in enrolled.responders] == [1, 1]
    assert texts(enrolled.contacts[0]) == ["Received."]


async def test_forged_alert_buttons_from_a_contact_or_a_stranger_change_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, stranger = enrolled.contacts[0], enrolled.stranger
    await panic(harness, contact)
    await contact.forge_press(contact.visible[-1].message_id, "ack:1")
    await stranger.send("hello")
    await harness.replies(stranger, 1)
    await stranger.forge_press(stranger.visible[-1].message_id, "res:1")
    await harness.settle()
    alert = await harness.services.alerts.context.alerts.get(harness.services.db, 1)
    assert alert is not None and alert.state.value == "triggered"
    assert texts(contact) == ["Received."]


async def test_only_people_paged_for_an_alert_and_coordinators_may_act_on_it(
    harness: BotHarness, enrolled: Cast
) -> None:
    await panic(harness, enrolled.contacts[0])
    newcomer = harness.emu.user(700200099, "Nina", last_name="Novaya")
    result = await harness.cli("invite", "--role", "responder", "--name", "Nina Novaya")
    from tests.support.harness import enrol, token_from

    await enrol(harness, newcomer, token_from(result.out))
    reply = await harness.reply_to(newcomer, "/ack 1")
    assert reply.startswith("There is no alert #1 you can see.")
    assert await harness.reply_to(newcomer, "/alerts") == "No open alerts."
    listing = await harness.reply_to(enrolled.coordinator, "/alerts")
    assert listing.startswith("Open alerts (1):")
    assert f"#1 PANIC - {CONTACTS[0][1]} - not acknowledged" in listing
    assert (await harness.reply_to(enrolled.coordinator, "/ack 1")).startswith("You acknowledged")


async def test_bad_alert_commands_say_what_to_send(harness: BotHarness, enrolled: Cast) -> None:
    anna = enrolled.responders[0]
    assert (await harness.reply_to(anna, "/ack")).startswith("Usage: /ack <alert number>")
    assert (await harness.reply_to(anna, "/ack twelve")).startswith("Usage: /ack")
    assert (await harness.reply_to(anna, "/resolve")).startswith("Usage: /resolve")
    assert (await harness.reply_to(anna, "/alert 77")).startswith("There is no alert #77")


async def test_one_contacts_flood_of_follow_ups_does_not_delay_anothers_first_page(
    harness: BotHarness, enrolled: Cast
) -> None:
    flooder, other = enrolled.contacts
    anna = enrolled.responders[0]
    await panic(harness, flooder)
    # Anna's chat takes one message a second: while those seconds have not passed, the
    # follow-ups queue up behind the first page, and the second contact panics.
    async with harness.pacing_held():
        for i in range(15):
            await flooder.send(f"follow-up {i}")
        await other.send("/panic")
        await harness.handled_all()
    await harness.emu.wait_for(
        lambda: len(pages(anna)) == 2, timeout=10.0, what="the second contact's first page"
    )
    # Anna's chat takes one message a second; the new alert's page jumps the queue.
    relayed_before = sum(1 for t in texts(anna) if "follow-up " in t)
    assert relayed_before <= 3, texts(anna)


async def test_plain_text_gets_a_hint_instead_of_an_alert_when_the_setting_is_off(
    emulator, tmp_path, clock, cast: Cast
) -> None:
    h = BotHarness(emulator, tmp_path, clock, NABAT_PANIC_ON_TEXT="false")
    await h.start()
    try:
        from tests.support.steps import enrol_all

        await enrol_all(h, cast)
        contact = cast.contacts[0]
        assert await h.reply_to(contact, "hello, is this working?") == (
            "Send /panic if you need help now."
        )
        assert all(pages(r) == [] for r in cast.responders)
        await contact.send_photo(file_id="PHOTO-7", caption="the van")
        await h.settle()
        assert all(pages(r) == [] for r in cast.responders)
        await panic(h, contact, "/sos")
        assert all(len(pages(r)) == 1 for r in cast.responders)
        await contact.send_photo(file_id="PHOTO-8", caption="the van's plate")
        await h.settle()
        photo = cast.responders[0].visible[-1]
        assert photo.kind == "photo" and photo.protect_content
        assert str(photo.text).startswith(f"Follow-up on alert #1 from {CONTACTS[0][1]}")
    finally:
        await h.stop()
