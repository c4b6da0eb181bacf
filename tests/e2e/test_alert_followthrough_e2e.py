"""What people on each side of an alert need after the first page: late responders see
what was said before, a "thank you" after a resolution does not page everyone, pressing
panic again escalates, and a lawyer busy for hours can say so.

Default policy: step 1 all responders (5 min), step 2 all coordinators (5 min), repeat
once; acknowledgement timeout 30 min.
"""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, RESPONDERS, Cast
from tests.telegram_emulator import SimUser

STEP = 300
ACK_TIMEOUT = 1800
NAME = CONTACTS[0][1]


def texts(user: SimUser) -> list[str]:
    return [str(m.text) for m in user.visible]


def about(user: SimUser, alert: int) -> list[str]:
    return [t for t in texts(user) if f"alert #{alert}" in t]


async def panic(h: BotHarness, contact: SimUser, text: str = "/panic police at the door") -> None:
    seen = len(contact.visible)
    await contact.send(text)
    await h.replies(contact, seen + 1, what="the receipt")
    await h.settle()


async def test_someone_paged_later_gets_what_the_contact_sent_before_with_their_page(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    olga = enrolled.coordinator
    await panic(harness, contact)
    await contact.send("They are 3 men, one in uniform. They have a list with our names.")
    await contact.send_location(55.7558, 37.6173)
    await contact.send_voice(file_id="VOICE-7", duration=5)
    await harness.settle()
    seen = len(olga.visible)
    await harness.advance(STEP)
    page, catch_up, pin = olga.visible[seen:]
    assert str(page.text).startswith("PANIC - alert #1") and "Step 2 of 2" in str(page.text)
    lines = str(catch_up.text).splitlines()
    assert lines[0] == f"What {NAME} sent on alert #1 before this page:"
    assert lines[1].endswith("They are 3 men, one in uniform. They have a list with our names.")
    assert "location 55.75580, 37.61730 https://www.openstreetmap.org/?mlat=55.75580" in lines[2]
    assert lines[3].endswith("a voice message")
    assert [label for label, _ in catch_up.buttons] == ["Voice and photos (1)"]
    assert catch_up.protect_content
    assert pin.kind == "location"
    # One press brings the voice message itself.
    await olga.press_button("Voice and photos (1)")
    await harness.settle()
    assert olga.visible[-1].kind == "voice"
    # The responders had it all as it came: paged again on the second pass, they get the
    # page alone, not the same messages again.
    before = {r.id: len(r.visible) for r in (anna, boris)}
    await harness.advance(STEP)
    for responder in (anna, boris):
        (again,) = responder.visible[before[responder.id] :]
        assert str(again.text).startswith("PANIC - alert #1")
    # The timeline shows what each follow-up said.
    timeline = await harness.reply_to(olga, "/alert 1")
    assert "follow-up (text): They are 3 men, one in uniform." in timeline
    assert "follow-up (location): 55.75580, 37.61730 https://www.openstreetmap.org/" in timeline
    assert "follow-up (voice)" in timeline
    await harness.settle()
    assert str(olga.visible[-1].text) == ("Alert #1: 1 voice messages or photos from the contact.")


async def test_a_long_follow_up_is_shown_whole_in_the_timeline_across_messages(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, olga = enrolled.contacts[0], enrolled.coordinator
    await panic(harness, contact)
    long = " ".join(f"w{i:04d}" for i in range(700))  # 3499 characters
    await contact.send(long)
    await harness.settle()
    seen = len(olga.visible)
    await olga.send("/alert 1")
    await harness.settle()
    shown = "".join(texts(olga)[seen:])
    assert "w0000" in shown and "w0699" in shown
    assert len(olga.visible) - seen >= 2


async def test_a_thank_you_after_a_resolution_goes_to_the_resolver_not_to_everyone(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    olga = enrolled.coordinator
    await panic(harness, contact)
    await harness.reply_to(anna, "/resolve 1 released")
    seen = {u.id: len(u.visible) for u in (anna, boris, olga)}
    await contact.send("thank you")
    await harness.replies(contact, 2)
    await harness.settle()
    (held,) = anna.visible[seen[anna.id] :]
    assert str(held.text).startswith(
        f"{NAME} wrote after alert #1 was resolved (now alert #2):\nthank you"
    )
    assert [label for label, _ in held.buttons] == ["New alert", "Not an alert"]
    assert held.protect_content
    assert len(boris.visible) == seen[boris.id] and len(olga.visible) == seen[olga.id]
    await anna.press_button("Not an alert")
    await harness.settle()
    assert anna.callback_answers[-1]["text"] == "Alert #2 is closed: not an alert."
    await harness.advance(4 * STEP)
    assert len(boris.visible) == seen[boris.id] and len(olga.visible) == seen[olga.id]
    timeline = await harness.reply_to(olga, "/alert 2")
    assert "held for" in timeline and "closed as not an alert by" in timeline


async def test_a_held_message_no_one_answers_becomes_an_alert_after_the_first_wait(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact)
    await harness.reply_to(anna, "/resolve 1 released")
    await contact.send("they came back")
    await harness.settle()
    assert about(boris, 2) == []
    await harness.advance(STEP - 1)
    assert about(boris, 2) == []
    await harness.advance(1)
    (page,) = about(boris, 2)
    assert page.startswith("PANIC - alert #2") and "Step 1 of 2" in page


async def test_new_alert_on_a_held_message_pages_at_once_and_panic_is_never_held(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact)
    await harness.reply_to(anna, "/resolve 1 released")
    await contact.send("they came back")
    await harness.settle()
    await anna.press_button("New alert")
    await harness.settle()
    assert about(boris, 2)[-1].startswith("PANIC - alert #2")
    await harness.reply_to(anna, "/resolve 2 false alarm")
    await panic(harness, contact, "/panic now they are really here")
    assert about(boris, 3)[-1].startswith("PANIC - alert #3")


async def test_pressing_panic_again_tells_everyone_paged_and_escalates_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    olga = enrolled.coordinator
    await panic(harness, contact)
    assert about(olga, 1) == []
    await panic(harness, contact, "/panic")
    for responder in (anna, boris):
        assert f"{NAME} pressed panic again on alert #1." in texts(responder)
    # Nobody had acknowledged: step 2 is paged now, not five minutes later.
    page = about(olga, 1)[0]
    assert page.startswith("PANIC - alert #1") and "Step 2 of 2" in page
    timeline = await harness.reply_to(olga, "/alert 1")
    assert "follow-up (pressed panic again)" in timeline


async def test_still_on_it_puts_off_the_reminder_and_resumed_pages_say_who_held_it(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact)
    await anna.press_button("Acknowledge")
    await harness.settle()
    await harness.advance(ACK_TIMEOUT)
    reminder = anna.visible[-1]
    assert str(reminder.text).startswith("REMINDER: you acknowledged this alert 30m ago")
    assert [label for label, _ in reminder.buttons] == ["Still on it", "Resolve"]
    await anna.press_button("Still on it")
    await harness.settle()
    assert anna.callback_answers[-1]["text"] == (
        "Noted: you will be reminded about alert #1 again in 30m."
    )
    # When escalation would have resumed, it does not: she is reminded again instead.
    seen = len(boris.visible)
    await harness.advance(ACK_TIMEOUT)
    assert len(boris.visible) == seen
    assert str(anna.visible[-1].text).startswith("REMINDER: you acknowledged this alert 1h ago")
    # This time she does nothing: escalation resumes, and says who held it since when.
    await harness.advance(ACK_TIMEOUT)
    page = about(boris, 1)[-1]
    assert page.startswith("PANIC - alert #1")
    assert f"Acknowledged by {RESPONDERS[0][1]} at 2026-03-01 09:" in page
    assert "but not resolved in time: paging again." in page
    # Boris was not the holder: he cannot say he is still on it.
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert "is still on it: reminder in 30m" in timeline


async def test_resolving_by_button_asks_for_a_note_which_one_tap_skips(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact)
    await anna.press_button("Resolve")
    await harness.settle()
    ask = anna.visible[-1]
    assert str(ask.text) == (
        "Alert #1 is resolved. What happened? Reply with a short note for the record, "
        "or press No note."
    )
    assert [label for label, _ in ask.buttons] == ["No note"]
    assert await harness.reply_to(anna, "released after two hours, no papers signed") == (
        "Note added to alert #1."
    )
    await harness.settle()
    page = about(boris, 1)[0]
    assert f"Resolved by {RESPONDERS[0][1]} at" in page
    assert page.endswith(": released after two hours, no papers signed")
    # A second alert, closed with No note: the next text is not taken as a note.
    await panic(harness, contact, "/panic again")
    await boris.press_button("Resolve")
    await harness.settle()
    await boris.press_button("No note")
    await harness.settle()
    assert texts(boris)[-1] == "Alert #2 is resolved, without a note."
    assert (await harness.reply_to(boris, "hello")).startswith("I don't know that command.")


async def test_whatever_a_contact_writes_reaches_someone_even_as_a_mistyped_command(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, _ = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact, "/panik they took me to OVD")
    assert "Message: /panik they took me to OVD" in about(anna, 1)[-1]
    await harness.reply_to(anna, "/resolve 1 a test")
    await harness.advance(3601)  # past the hour in which text goes to the resolver first
    await panic(harness, contact, "/help me, detained at Lenina 5")
    assert "Message: /help me, detained at Lenina 5" in about(anna, 2)[-1]
    await contact.send("/help they are beating me")
    await harness.settle()
    assert texts(anna)[-1].endswith("/help they are beating me")
    # A bare /help still shows the help, and is no alert.
    assert (await harness.reply_to(contact, "/help")).startswith("/panic [text]")


async def test_a_photo_that_opens_an_alert_reaches_everyone_paged_with_its_caption(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, _ = enrolled.contacts[0], *enrolled.responders
    seen = len(anna.visible)
    await contact.send_photo(file_id="PHOTO-VAN", caption="the van, plate A123")
    await harness.replies(contact, 1)
    await harness.settle()
    page, catch_up = anna.visible[seen:]
    assert str(page.text).startswith("PANIC - alert #1")
    assert "Message: the van, plate A123" in str(page.text)
    assert str(catch_up.text).splitlines()[1].endswith("a photo the van, plate A123")
    await anna.press_button("Voice and photos (1)")
    await harness.settle()
    relayed = anna.visible[-1]
    assert relayed.kind == "photo" and relayed.text == (
        f"Follow-up on alert #1 from {NAME}:\nthe van, plate A123"
    )


async def test_a_typed_command_after_a_resolution_is_never_held_for_the_resolver(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    await panic(harness, contact)
    await harness.reply_to(anna, "/resolve 1 released")
    await panic(harness, contact, "/sos! they came back")
    page = about(boris, 2)[-1]
    assert page.startswith("PANIC - alert #2") and "Message: /sos! they came back" in page
