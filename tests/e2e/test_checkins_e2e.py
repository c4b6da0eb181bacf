"""Check-ins end to end, on the test's clock: schedules, quiet hours, DST, late and down,
trips, pauses, PINs, duress, and a restart between due and grace.

Every scenario also checks that nobody got a message the scenario did not expect. The
contact's chat is read as the emulator holds it, deleted messages included.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, Cast
from tests.support.steps import confirm_last, pages, panic, texts
from tests.telegram_emulator import SimUser

K17 = CONTACTS[0][1]
HOUR = 3600.0
REMINDER = "Hello. Tap OK when you see this."


def history(user: SimUser) -> list[tuple[str, list[tuple[str, str]]]]:
    """Everything the bot ever showed in the chat, deleted or not: text and buttons."""
    return [
        (str(m.text), m.buttons)
        for m in user.history
        if m.from_bot and not str(m.text).startswith("You are set up.")  # the enrolment
    ]


async def schedule(h: BotHarness, cast: Cast, spec: str) -> str:
    """Set a schedule from Telegram with the one-line form, Confirm it, return the preview."""
    preview = await h.reply_to(cast.coordinator, f"/schedule {spec}")
    assert [label for label, _ in cast.coordinator.visible[-1].buttons] == ["Confirm", "Cancel"]
    done = await confirm_last(h, cast.coordinator)
    assert done.startswith(f"Check-ins for {K17.split()[0]}") or "are set" in done, done
    return preview


async def at(h: BotHarness, when: datetime) -> None:
    """Move the clock to `when` (UTC), a step at a time, as the scheduler's tick would."""
    seconds = (when - h.clock.now()).total_seconds()
    assert seconds >= 0
    await h.advance(seconds)


async def press_ok(h: BotHarness, contact: SimUser) -> None:
    seen = len(contact.visible)
    await contact.press_button("OK")
    await h.replies(contact, seen + 1, what="the answer to OK")
    await h.settle()


async def say(h: BotHarness, contact: SimUser, words: str) -> str:
    return await h.reply_to(contact, words)


def nobody_else(cast: Cast, *involved: SimUser) -> None:
    """No one outside the scenario got a message (the enrolment greeting aside)."""
    for user in (*cast.contacts, *cast.responders, cast.coordinator, cast.stranger):
        if user not in involved:
            assert history(user) == [] if user in cast.contacts else pages(user) == [], user


def missed(user: SimUser) -> list[str]:
    return [t for t in pages(user) if t.startswith("MISSED CHECK-IN")]


async def test_an_interval_schedule_reminds_with_one_neutral_button_and_ok_checks_in(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    preview = await schedule(harness, enrolled, f"{K17} | every 12h grace 1h")
    assert "every 12h grace 1h" in preview and "Confirm?" in preview
    start = harness.clock.now()
    await at(harness, start + timedelta(hours=12) - timedelta(seconds=1))
    assert texts(k17) == []
    await harness.advance(1)
    (reminder,) = k17.visible
    assert reminder.text == REMINDER and [b for b, _ in reminder.buttons] == ["OK"]
    for word in ("safe", "lawyer", "panic", "nabat", "alert"):
        assert word not in reminder.text.lower()
    await press_ok(harness, k17)
    assert texts(k17)[-1] == "Noted."
    nobody_else(enrolled, k17, enrolled.coordinator)
    # Next due 12 hours after the check-in; the rota never heard of any of it.
    await harness.advance(12 * HOUR - 2)
    assert [t for t, _ in history(k17)] == [REMINDER, "Noted."]
    await harness.advance(2)
    assert [t for t, _ in history(k17)] == [REMINDER, "Noted.", REMINDER]
    for person in [*enrolled.responders, enrolled.coordinator]:
        assert pages(person) == []


async def test_late_gets_one_silent_reprompt_then_down_pages_the_rota_and_a_check_in_closes_it(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    await schedule(harness, enrolled, "#4 every 6h grace 1h reprompt 20m")
    due = harness.clock.now() + timedelta(hours=6)
    await at(harness, due)
    await at(harness, due + timedelta(minutes=20))
    sends = [c for c in harness.emu.calls_to(k17.id) if c.method == "sendMessage" and c.ok]
    assert [bool(c.params.get("disable_notification")) for c in sends[-2:]] == [False, True]
    assert [t for t, _ in history(k17)] == [REMINDER, REMINDER]
    assert all(pages(r) == [] for r in enrolled.responders)
    await at(harness, due + timedelta(hours=1))
    for responder in enrolled.responders:
        (page,) = missed(responder)
        assert f"From: {K17}" in page
        assert "Last check-in: never" in page and "Due: " in page
        assert [b for b, _ in responder.visible[-1].buttons] == ["Acknowledge", "Resolve"]
    # Anna acknowledges; then the contact checks in: every page says so, Anna is told.
    anna = enrolled.responders[0]
    await anna.press_button("Acknowledge")
    await harness.settle()
    # The reminders left the chat after the reply TTL, and an acknowledged missed check-in
    # says nothing there (the phone may be in other hands); the contact types /ok.
    assert texts(k17) == []
    assert await say(harness, k17, "/ok") == "Noted."
    await harness.settle()
    for responder in enrolled.responders:
        shown = next(m for m in responder.visible if str(m.text).startswith("MISSED CHECK-IN"))
        assert "Checked in at" in str(shown.text), shown.text
        assert shown.buttons == []
    assert any("checked in" in t and "#1" in t for t in texts(anna))
    alert = await harness.services.alerts.context.alerts.get(harness.services.db, 1)
    assert alert is not None and alert.state.value == "resolved"
    assert [t for t, _ in history(k17)] == [REMINDER, REMINDER, "Noted."]


async def test_a_daily_time_keeps_its_local_hour_across_the_berlin_dst_change(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    harness.clock.set(datetime(2026, 3, 28, 10, 0, tzinfo=UTC))
    await schedule(harness, enrolled, "#4 daily 09:00 grace 1h tz Europe/Berlin")
    # 09:00 CEST on the day the clocks go forward is 07:00 UTC.
    await at(harness, datetime(2026, 3, 29, 6, 59, tzinfo=UTC))
    assert texts(k17) == []
    await at(harness, datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    assert texts(k17) == [REMINDER]
    await press_ok(harness, k17)
    await at(harness, datetime(2026, 3, 30, 6, 59, tzinfo=UTC))
    assert [t for t, _ in history(k17)] == [REMINDER, "Noted."]
    await at(harness, datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    assert texts(k17)[-1] == REMINDER


async def test_no_reminder_in_quiet_hours_the_due_time_moves_to_their_end(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    harness.clock.set(datetime(2026, 3, 1, 17, 0, tzinfo=UTC))  # 20:00 MSK
    await schedule(harness, enrolled, "#4 every 4h quiet 22:00-07:00 tz Europe/Moscow")
    # Due at 00:00 MSK, inside quiet hours: moves to 07:00 MSK (04:00 UTC).
    await at(harness, datetime(2026, 3, 2, 3, 59, tzinfo=UTC))
    assert texts(k17) == []
    await at(harness, datetime(2026, 3, 2, 4, 0, tzinfo=UTC))
    assert texts(k17) == [REMINDER]
    nobody_else(enrolled, k17, enrolled.coordinator)


async def test_a_trip_runs_out_into_an_alert_that_names_it_and_extensions_are_capped(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    start = harness.clock.now()
    answer = await say(harness, k17, "/trip 2h migration office")
    assert answer.startswith("Noted. Until ")
    await harness.advance(HOUR)
    # Moving it to 3 hours from now is past the first deadline plus one hour.
    refused = await say(harness, k17, "/trip 3h")
    assert refused.startswith("The latest you can set is ")
    latest = (start + timedelta(hours=3)).strftime("%H:%M")  # the first deadline + 1h
    assert latest in refused
    moved = await say(harness, k17, "/trip 2h")
    assert latest in moved
    # A coordinator may move it further.
    told = await harness.reply_to(enrolled.coordinator, "/trip #4 4h")
    assert "runs out at" in told
    await at(harness, start + timedelta(hours=5))
    assert texts(k17)[-1] == REMINDER
    await at(harness, start + timedelta(hours=5, minutes=15))
    (page,) = missed(enrolled.responders[0])
    assert "migration office" in page
    # The contact's own messages (the trip commands) left the chat at once.
    assert all(m.deleted for m in k17.history if not m.from_bot)


async def test_a_pause_is_sticky_a_check_in_does_not_lift_it(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    await schedule(harness, enrolled, "#4 every 12h")
    told = await harness.reply_to(enrolled.coordinator, "/pause #4 3d")
    assert "paused until" in told
    assert await say(harness, k17, "/ok") == "Noted."
    await harness.advance(3 * 24 * HOUR - 1)
    assert REMINDER not in texts(k17)
    assert all(pages(r) == [] for r in enrolled.responders)
    # The schedule starts again at the pause's end: the first reminder 12 hours later.
    await harness.advance(1 + 12 * HOUR)
    assert texts(k17)[-1] == REMINDER
    nobody_else(enrolled, k17, enrolled.coordinator)


async def _set_pins(h: BotHarness, contact: SimUser, safe: str, duress: str) -> None:
    assert await say(h, contact, "/pin") == "Send a code of 4 to 8 digits."
    assert (await say(h, contact, safe)) == "Send a second code of the same length."
    assert await say(h, contact, duress) == "Saved."


async def test_a_duress_pin_answers_exactly_like_the_safe_one_and_pages_duress(
    harness: BotHarness, enrolled: Cast
) -> None:
    safe_user, forced_user = enrolled.contacts
    for contact in (safe_user, forced_user):
        await _set_pins(harness, contact, "2468", "1357")
    await schedule(harness, enrolled, "#4 every 12h")
    await schedule(harness, enrolled, "#5 every 12h")
    await harness.advance(12 * HOUR)
    for contact, pin in ((safe_user, "2468"), (forced_user, "1357")):
        await contact.press_button("OK")
        await harness.replies(contact, len(contact.visible) + 0, what="ask")
        await harness.settle()
        assert texts(contact)[-1] == "Send your code."
        assert await say(harness, contact, pin) == "Noted."
    await harness.settle()
    (page,) = [t for t in pages(enrolled.responders[0]) if t.startswith("DURESS")]
    assert CONTACTS[1][1] in page
    assert not any(
        t.startswith("DURESS") and CONTACTS[0][1] in t for t in pages(enrolled.responders[0])
    )
    # Later acknowledgement says nothing to the forced contact's chat.
    await enrolled.responders[0].press_button("Acknowledge")
    await harness.advance(HOUR)
    # Whoever holds the phone tries to cancel "whatever was sent": both chats hear there
    # is nothing to cancel, though the forced contact's DURESS alert stays open.
    for contact in (safe_user, forced_user):
        assert await say(harness, contact, "/cancel 2468") == "There is nothing to cancel."
    alert = await harness.services.alerts.context.alerts.get(harness.services.db, 1)
    assert alert is not None and alert.state.value == "acknowledged"
    await harness.advance(HOUR)
    assert history(safe_user) == history(forced_user)
    # Every PIN and /pin the contacts typed is gone from their chats.
    for contact in (safe_user, forced_user):
        assert all(m.deleted for m in contact.history if not m.from_bot)


async def test_the_duress_word_inside_a_check_in_raises_a_duress_alert(
    harness: BotHarness, enrolled: Cast
) -> None:
    forced, other = enrolled.contacts
    for contact in (forced, other):
        assert (
            await say(harness, contact, "/word rain" if contact is forced else "/word sun")
            == "Saved."
        )
        assert await say(harness, contact, "/ok all fine, rain later") == "Noted."
    await harness.settle()
    (page,) = pages(enrolled.responders[0])
    assert page.startswith("DURESS - alert #1") and CONTACTS[0][1] in page
    await harness.advance(HOUR)
    assert history(forced) == history(other) == [("Saved.", []), ("Noted.", [])]


async def test_three_wrong_pins_in_a_row_are_a_missed_check_in(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    await _set_pins(harness, k17, "2468", "1357")
    assert await say(harness, k17, "/ok 1111") == "That code is not right. Send it again."
    assert await say(harness, k17, "2222") == "That code is not right. Send it again."
    assert all(pages(r) == [] for r in enrolled.responders)
    assert await say(harness, k17, "3333") == "That code is not right. Send it again."
    await harness.settle()
    (page,) = missed(enrolled.responders[0])
    assert "wrong code" in page.lower()


async def test_cancel_with_the_pin_resolves_and_the_duress_pin_keeps_escalating_as_duress(
    harness: BotHarness, enrolled: Cast
) -> None:
    safe_user, forced_user = enrolled.contacts
    for contact in (safe_user, forced_user):
        await _set_pins(harness, contact, "2468", "1357")
    await panic(harness, safe_user, "/panic false alarm")
    await panic(harness, forced_user, "/panic help")
    assert await say(harness, safe_user, "/cancel") == "Send your code."
    assert await say(harness, safe_user, "2468") == "Cancelled."
    assert await say(harness, forced_user, "/cancel") == "Send your code."
    assert await say(harness, forced_user, "1357") == "Cancelled."
    await harness.settle()
    anna = enrolled.responders[0]
    first = next(m for m in anna.visible if "alert #1" in str(m.text))
    assert "Cancelled by the contact with their PIN" in str(first.text)
    second = [m for m in anna.visible if "alert #2" in str(m.text)]
    assert str(second[0].text).startswith("DURESS - alert #2")
    a2 = await harness.services.alerts.context.alerts.get(harness.services.db, 2)
    assert a2 is not None and a2.state.value == "triggered"
    # Still escalating: step 2 pages the coordinator when its time comes.
    await harness.advance(300)
    assert any(t.startswith("DURESS - alert #2") for t in pages(enrolled.coordinator))
    await anna.press_button("Acknowledge")
    await harness.advance(HOUR)
    assert history(safe_user) == history(forced_user)


async def test_a_restart_between_due_and_grace_loses_nothing_and_sends_nothing_twice(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17 = enrolled.contacts[0]
    await schedule(harness, enrolled, "#4 every 6h grace 1h")
    due = harness.clock.now() + timedelta(hours=6)
    await at(harness, due)
    assert texts(k17) == [REMINDER]
    await harness.stop()
    harness.clock.set(due + timedelta(hours=2))
    await harness.start()
    await harness.advance(0)
    await harness.advance(60)
    for responder in enrolled.responders:
        assert len(missed(responder)) == 1
    # One reminder, no second one after the restart; the re-prompt's time had passed.
    assert [t for t, _ in history(k17)] == [REMINDER]


async def test_checkins_lists_every_contacts_state(harness: BotHarness, enrolled: Cast) -> None:
    await schedule(harness, enrolled, "#4 every 12h pin")
    # A PIN is required and not set: the contact is asked for codes, and a check-in
    # without one still counts.
    k17 = enrolled.contacts[0]
    await harness.replies(k17, 1)
    assert texts(k17) == ["Please set your codes: send /pin."]
    assert await say(harness, k17, "/ok") == "Noted. Please set your codes now: send /pin."
    report = await harness.reply_to(enrolled.coordinator, "/checkins")
    assert "K-17" in report and "up" in report and "every 12h" in report
    assert "PIN required but not set" in report
    assert "K-42" in report and "no check-ins" in report


async def test_bad_schedules_say_which_field_and_change_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    answer = await harness.reply_to(c, "/schedule #4 every 5m")
    assert answer.startswith("That schedule can't be used: every:")
    answer = await harness.reply_to(c, "/schedule #4 daily 25:00")
    assert "daily:" in answer
    answer = await harness.reply_to(c, "/schedule #99 every 12h")
    assert answer.startswith("No contact")
    answer = await harness.reply_to(enrolled.responders[0], "/schedule #4 every 12h")
    assert answer.startswith("I don't know that command")
    row = await harness.services.checkins.state_of(
        (await harness.services.people.people.list_all(harness.services.db))[-2]
    )
    assert row is None


async def test_the_guided_schedule_asks_step_by_step_and_ends_in_the_same_preview(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator

    async def press(label: str) -> str:
        seen = len(c.messages)
        await c.press_button(label)
        await harness.settle()
        assert len(c.messages) >= seen
        return str(c.visible[-1].text)

    question = await harness.reply_to(c, "/schedule")
    assert question.startswith("Check-ins, step 1 of 6")
    assert await press(K17) != question
    assert "step 2 of 6" in str(c.visible[-1].text)
    await press("Daily times")
    await press("09:00")
    await press("21:00")
    assert "chosen: 09:00, 21:00" in str(c.visible[-1].text)
    await press("Done")
    assert "step 4 of 6" in str(c.visible[-1].text)
    # A typed answer the rules refuse is told, and the question stays open.
    refused = await harness.reply_to(c, "3d")
    assert refused.startswith("That schedule can't be used: grace:")
    await press("30m")
    await press("22:00-07:00")
    preview = await press("No PIN needed")
    assert "daily 09:00,21:00 grace 30m quiet 22:00-07:00" in preview
    assert [label for label, _ in c.visible[-1].buttons] == ["Confirm", "Cancel"]
    assert "are set" in await confirm_last(harness, c)
    report = await harness.reply_to(c, "/checkins")
    assert "daily 09:00,21:00 grace 30m quiet 22:00-07:00" in report


async def test_a_missed_check_in_page_carries_the_last_location_the_contact_shared(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17, anna = enrolled.contacts[0], enrolled.responders[0]
    await panic(harness, k17, "/panic at the office")
    await k17.send_location(55.751244, 37.618423)
    await harness.settle()
    await harness.reply_to(anna, "/resolve 1 fine")
    await schedule(harness, enrolled, "#4 every 6h grace 30m")
    await harness.advance(6 * HOUR + 30 * 60)
    (page,) = missed(anna)
    assert "Location: 55.75124, 37.61842" in page
    assert "Last check-in: never" in page


async def _safe_and_forced(h: BotHarness, cast: Cast) -> tuple[SimUser, SimUser]:
    safe_user, forced_user = cast.contacts
    for contact in (safe_user, forced_user):
        await _set_pins(h, contact, "2468", "1357")
    return safe_user, forced_user


async def test_after_a_duress_check_in_a_new_panic_and_its_cancel_read_as_in_the_safe_world(
    harness: BotHarness, enrolled: Cast
) -> None:
    safe_user, forced_user = await _safe_and_forced(harness, enrolled)
    for contact, pin in ((safe_user, "2468"), (forced_user, "1357")):
        assert await say(harness, contact, f"/ok {pin}") == "Noted."
        await panic(harness, contact, "/panic help")
    # The safe contact's panic is acknowledged; so is the forced one's DURESS alert, which
    # their panic joined: both phones hear that someone is on it.
    anna = enrolled.responders[0]
    for alert_id in (1, 2):
        await harness.reply_to(anna, f"/ack {alert_id}")
    for contact in (safe_user, forced_user):
        assert await say(harness, contact, "/cancel 2468") == "Cancelled."
        assert await say(harness, contact, "/cancel 2468") == "There is nothing to cancel."
    await harness.advance(HOUR)
    assert history(safe_user) == history(forced_user)
    forced = await harness.services.alerts.context.alerts.get(harness.services.db, 2)
    assert forced is not None and forced.kind.value == "duress" and forced.state.value != "resolved"


async def test_after_a_duress_check_in_a_missed_one_and_a_cancel_read_as_in_the_safe_world(
    harness: BotHarness, enrolled: Cast
) -> None:
    safe_user, forced_user = await _safe_and_forced(harness, enrolled)
    await schedule(harness, enrolled, "#4 every 6h grace 1h")
    await schedule(harness, enrolled, "#5 every 6h grace 1h")
    for contact, pin in ((safe_user, "2468"), (forced_user, "1357")):
        assert await say(harness, contact, f"/ok {pin}") == "Noted."
    await harness.advance(7 * HOUR)  # both missed the next one
    for contact in (safe_user, forced_user):
        assert await say(harness, contact, "/cancel 2468") == "Cancelled."
    await harness.advance(HOUR)
    assert history(safe_user) == history(forced_user)


async def test_words_beside_a_check_in_reach_whoever_handles_the_open_alert(
    harness: BotHarness, enrolled: Cast
) -> None:
    k17, anna = enrolled.contacts[0], enrolled.responders[0]
    await panic(harness, k17, "/panic taken to the station")
    assert await say(harness, k17, "/ok they took my passport, Lenina 5") == "Noted."
    await harness.settle()
    assert any("they took my passport, Lenina 5" in str(m.text) for m in anna.visible)


async def test_answering_a_missed_check_in_warns_that_the_phone_may_be_in_other_hands(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna = enrolled.responders[0]
    await schedule(harness, enrolled, "#4 every 6h grace 1h")
    await harness.advance(7 * HOUR)
    await anna.press_button("Acknowledge")
    await harness.settle()
    await anna.press_button("Answer the contact")
    await harness.settle()
    assert str(anna.visible[-1].text).startswith("Careful: this is a missed check-in")
    assert len(anna.visible[-1].buttons) == 6
