"""The rota from Telegram, end to end: rotations, overrides, swaps, time zones, and pages
that follow whoever is on call."""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import Cast
from tests.support.steps import (
    ANNA,
    BORIS,
    confirm_last,
    make_rotation,
    pages,
    panic,
    route_step_one_to,
    texts,
)


async def test_a_coordinator_creates_a_rotation_after_seeing_its_next_two_weeks(
    harness: BotHarness, enrolled: Cast
) -> None:
    preview = await make_rotation(
        harness,
        enrolled,
        f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}, {BORIS}",
    )
    assert preview.startswith("New rotation Moscow day (Europe/Moscow).")
    # Shifts alternate daily at 09:00 Moscow (06:00 UTC), shown in the reader's zone.
    assert f"Sun 2026-03-01 09:10 UTC - Mon 2026-03-02 06:00 UTC: {ANNA}" in preview
    assert f"Mon 2026-03-02 06:00 UTC - Tue 2026-03-03 06:00 UTC: {BORIS}" in preview
    listing = await harness.reply_to(enrolled.coordinator, "/oncall")
    assert f"now: {ANNA}, until Mon 2026-03-02 06:00 UTC" in listing
    assert f"next: {BORIS}, from Mon 2026-03-02 06:00 UTC" in listing


async def test_a_moscow_day_and_a_vladivostok_night_rotation_page_whoever_is_on_call(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}"
    )
    await make_rotation(
        harness,
        enrolled,
        f"Vladivostok night | Asia/Vladivostok | 12h | 2026-02-28 21:00 | {BORIS}",
    )
    await route_step_one_to(harness, "Moscow day")
    await panic(harness, enrolled.contacts[0])
    assert len(pages(anna)) == 1 and pages(boris) == []
    await route_step_one_to(harness, "Vladivostok night")
    await panic(harness, enrolled.contacts[1])
    assert len(pages(boris)) == 1 and len(pages(anna)) == 1
    await harness.reply_to(anna, "/tz Asia/Vladivostok")
    listing = await harness.reply_to(anna, "/oncall")
    assert "Vladivostok night (Asia/Vladivostok)" in listing and "+10" in listing


async def test_a_panic_during_a_replace_override_pages_the_stand_in(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1w | 2026-03-01 09:00 | {ANNA}"
    )
    await route_step_one_to(harness, "Moscow day")
    preview = await harness.reply_to(
        enrolled.coordinator,
        f"/override Moscow day | replace | {BORIS} for {ANNA} | 2026-03-01 10:00 | +2h",
    )
    assert preview.startswith("Moscow day (Europe/Moscow) with this override:")
    assert f"Sun 2026-03-01 10:00 UTC - Sun 2026-03-01 12:00 UTC: {BORIS}" in preview
    assert (await confirm_last(harness, enrolled.coordinator)).startswith("Override #1")
    await harness.advance(3600)  # 10:00 UTC: inside the override
    await panic(harness, enrolled.contacts[0])
    assert len(pages(boris)) == 1 and pages(anna) == []
    await harness.advance(3 * 3600)  # 13:00 UTC: Anna again
    await panic(harness, enrolled.contacts[1])
    assert len(pages(anna)) == 1


async def test_two_overrides_for_the_same_window_one_wins_the_other_is_told_why(
    harness: BotHarness, enrolled: Cast
) -> None:
    coordinator = enrolled.coordinator
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}, {BORIS}"
    )
    window = "2026-03-02 10:00 | 2026-03-02 18:00"
    await harness.reply_to(coordinator, f"/override Moscow day | remove | {ANNA} | {window}")
    first = coordinator.visible[-1]
    await harness.reply_to(coordinator, f"/override Moscow day | remove | {ANNA} | {window}")
    # Both drafts exist; the first confirmed wins, the second is refused on confirmation.
    await coordinator.press(first.message_id, first.buttons[0][1])
    await harness.settle()
    answer = await confirm_last(harness, coordinator)
    assert answer.startswith("That clashes with override #1 (remove) for the same time.")
    # And a third attempt is refused straight away, before any preview.
    refused = await harness.reply_to(
        coordinator, f"/override Moscow day | remove | {ANNA} | {window}"
    )
    assert refused.startswith("That clashes with override #1")


async def test_a_swap_changes_nothing_until_someone_takes_it(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1w | 2026-03-01 09:00 | {ANNA}"
    )
    await route_step_one_to(harness, "Moscow day")
    reply = await harness.reply_to(anna, "/swap Moscow day | 2026-03-01 12:00 | +6h")
    assert reply == "Swap #1 offered. Nothing changes until someone takes it."
    offer = boris.visible[-1]
    assert str(offer.text).startswith(f"{ANNA} asks someone to take Moscow day")
    assert "Swap #1" not in str(enrolled.coordinator.visible[-1].buttons)
    await harness.advance(3 * 3600)  # 12:00 UTC, not yet taken: Anna is paged
    await panic(harness, enrolled.contacts[0])
    assert len(pages(anna)) == 1 and pages(boris) == []
    await boris.press_button("Take it")
    await harness.settle()
    assert texts(anna)[-1] == f"Swap #1: {BORIS} takes Moscow day from {ANNA}."
    await panic(harness, enrolled.contacts[1])
    assert len(pages(boris)) == 1
    # A second taker is told it is gone.
    await enrolled.coordinator.send("/help")
    await harness.settle()


async def test_only_coordinators_change_the_rota_and_responders_swap_only_their_own_shifts(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    for command in (
        "/rotation",
        f"/rotation new X | UTC | 1d | now | {ANNA}",
        f"/override X | add | {ANNA} | now | +1h",
    ):
        assert "don't know that command" in await harness.reply_to(anna, command)
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1w | 2026-03-01 09:00 | {ANNA}"
    )
    refused = await harness.reply_to(boris, "/swap Moscow day | 2026-03-01 12:00 | +6h")
    assert refused == "You are not on call in Moscow day during that time."
    await harness.reply_to(anna, "/swap Moscow day | 2026-03-01 12:00 | +6h")
    await anna.forge_press(anna.visible[-1].message_id, "swp:1")
    await harness.settle()
    assert anna.callback_answers[-1]["text"] == "You cannot take your own swap #1."


async def test_bad_rota_input_says_what_to_write(harness: BotHarness, enrolled: Cast) -> None:
    c = enrolled.coordinator
    cases = {
        "/rotation new Moscow day | Europe/Moskva | 1d | now | Anna": (
            "'Europe/Moskva' is not a time zone."
        ),
        f"/rotation new M | UTC | daily | now | {ANNA}": "'daily' is not a shift length.",
        f"/rotation new M | UTC | 1d | tomorrow | {ANNA}": "'tomorrow' is not a time.",
        "/rotation new M | UTC | 1d | now | Nobody": (
            "No responder or coordinator matches 'Nobody'."
        ),
        "/rotation new only two | parts": "Usage: /rotation new <name>",
        f"/override Nope | add | {ANNA} | now | +1h": "There is no rotation 'Nope'.",
        "/tz Mars/Olympus": "'Mars/Olympus' is not a time zone.",
    }
    for command, expected in cases.items():
        assert (await harness.reply_to(c, command)).startswith(expected), command


async def test_a_policy_edited_mid_alert_pages_its_new_first_step_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await panic(harness, enrolled.contacts[0])
    assert len(pages(anna)) == 1 and len(pages(boris)) == 1
    services = harness.services
    coordinator = await services.people.identify(enrolled.coordinator.id)
    assert coordinator is not None
    now = harness.clock.now()
    async with services.db.transaction() as tx:
        # The new policy: the coordinator first, for ten minutes.
        await tx.execute("DELETE FROM policy_steps WHERE policy_id = 1")
        await tx.execute(
            "INSERT INTO policy_steps (policy_id, position, delay_s, targets)"
            " VALUES (1, 0, 600, ?)",
            (f'[{{"kind": "person", "id": {coordinator.id}}}]',),
        )
        assert await services.alerts.escalation.policy_changed(tx, 1, now) == 1
    services.outbox.wake()
    await harness.settle()
    assert len(pages(enrolled.coordinator)) == 1
    # The old policy's step 2 (due at 5 minutes) never fires; the new one's timing holds.
    await harness.advance(300)
    assert len(pages(enrolled.coordinator)) == 1 and len(pages(anna)) == 1
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert "escalation policy 'default' changed: restarted from its step 1" in timeline


async def test_a_coordinator_builds_a_rotation_step_by_step_with_buttons(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    assert (await harness.reply_to(c, "/rotation new")).startswith(
        "New rotation, step 1 of 5: what is it called?"
    )
    step2 = await harness.reply_to(c, "Vladivostok night")
    assert step2.startswith("Step 2 of 5: in which time zone are Vladivostok night's handoffs?")
    prompt = c.visible[-1]
    assert "Asia/Vladivostok" in [label for label, _ in prompt.buttons]

    async def press(label: str) -> str:
        message = c.visible[-1]
        data = next(d for lbl, d in message.buttons if lbl == label)
        await c.press(message.message_id, data)
        await harness.emu.wait_for(lambda: c.visible[-1].edits, what=f"the step after {label}")
        await harness.settle()
        return str(c.visible[-1].text)

    assert (await press("Asia/Vladivostok")).startswith("Step 3 of 5: how long is a shift?")
    assert (await press("12h")).startswith("Step 4 of 5: when is the first handoff")
    # A typed answer works as well as a button, and a bad one says what to write.
    assert (await harness.reply_to(c, "tonight")).startswith("'tonight' is not a time.")
    await harness.settle()
    step5 = await harness.reply_to(c, "2026-03-01 21:00")
    assert step5.startswith("Step 5 of 5: who takes turns, in order?")
    await press(BORIS)
    assert (await press(ANNA)).endswith(f"Chosen: {BORIS}, {ANNA}.")
    assert [label for label, _ in c.visible[-1].buttons][:2] == [f"2. {ANNA}", f"1. {BORIS}"]
    seen = len(c.visible)
    message = c.visible[-1]
    await c.press(message.message_id, next(d for lbl, d in message.buttons if lbl == "Done"))
    await harness.replies(c, seen + 1, what="the preview")
    preview = str(c.visible[-1].text)
    assert preview.startswith("New rotation Vladivostok night (Asia/Vladivostok).")
    # 21:00 Vladivostok is 11:00 UTC: Boris first, then Anna, twelve hours each.
    assert f"Sun 2026-03-01 11:00 UTC - Sun 2026-03-01 23:00 UTC: {BORIS}" in preview
    assert f"Sun 2026-03-01 23:00 UTC - Mon 2026-03-02 11:00 UTC: {ANNA}" in preview
    assert (await confirm_last(harness, c)) == "Rotation Vladivostok night created."


async def test_a_responder_withdraws_a_swap_nobody_took_and_it_can_no_longer_be_taken(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1w | 2026-03-01 09:00 | {ANNA}"
    )
    await harness.reply_to(anna, "/swap Moscow day | 2026-03-01 12:00 | +6h")
    offer = boris.visible[-1]
    assert (await harness.reply_to(boris, "/swap cancel 1")) == "Swap #1 is no longer open."
    assert (await harness.reply_to(anna, "/swap cancel 1")) == (
        f"Swap #1 was withdrawn by {ANNA}: nothing changes."
    )
    await harness.settle()
    assert texts(boris)[-1] == f"Swap #1 was withdrawn by {ANNA}: nothing changes."
    await boris.press(offer.message_id, "swp:1")
    await harness.settle()
    assert boris.callback_answers[-1]["text"] == "Swap #1 is no longer open."
    assert (await harness.reply_to(anna, "/swap cancel one")).startswith("Usage: /swap cancel")
