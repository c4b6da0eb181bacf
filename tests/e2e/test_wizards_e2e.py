"""Guided changes with buttons, end to end: who takes turns, an override, a policy step.

Each flow is driven as a coordinator would: press buttons, or type an answer; a bad
answer says what to write and keeps the question open; the end is the same preview and
Confirm as the one-line commands.
"""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import COORDINATOR, Cast
from tests.support.steps import ANNA, BORIS, confirm_last, make_rotation
from tests.telegram_emulator import SimUser

OLGA = COORDINATOR[1]
ROTATION = f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}, {BORIS}"


def labels(user: SimUser) -> list[str]:
    """The buttons of the newest message that has any."""
    message = next((m for m in reversed(user.visible) if m.buttons), None)
    return [label for label, _ in message.buttons] if message else []


def _seen(user: SimUser) -> tuple[int, int]:
    return len(user.visible), sum(len(m.edits) for m in user.visible)


async def press(h: BotHarness, user: SimUser, label: str) -> str:
    """Press the button labelled exactly `label` on the newest message that has it. Return
    the bot's answer: its newest message if it sent one, else the pressed message as the
    bot edited it."""
    before = _seen(user)
    message = next(m for m in reversed(user.visible) if label in [b[0] for b in m.buttons])
    await user.press(message.message_id, next(d for lbl, d in message.buttons if lbl == label))
    await h.emu.wait_for(lambda: _seen(user) != before, what=f"the answer to {label!r}")
    await h.settle()
    if len(user.visible) > before[0]:
        return str(user.visible[-1].text)
    return str(next(m for m in user.visible if m.message_id == message.message_id).text)


async def test_people_are_added_to_and_reordered_in_a_rotation_with_buttons(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}"
    )
    # Without a name, the rotation is asked first.
    assert (await harness.reply_to(c, "/rotation people")).startswith("Which rotation?")
    prompt = await press(harness, c, "Moscow day")
    # The current order is chosen already: adding someone is one press.
    assert prompt.startswith(f"Who takes turns in Moscow day, in order? Now: {ANNA}.")
    assert labels(c)[:2] == [f"1. {ANNA}", BORIS]
    assert (await press(harness, c, BORIS)).startswith(
        f"Who takes turns in Moscow day, in order? Now: {ANNA}, {BORIS}."
    )
    preview = await press(harness, c, "Done")
    assert preview.startswith("Moscow day (Europe/Moscow) with the new people.")
    assert f"Mon 2026-03-02 06:00 UTC - Tue 2026-03-03 06:00 UTC: {BORIS}" in preview
    # The answered question keeps its text and loses its buttons.
    question = c.visible[-2]
    assert str(question.text).startswith("Who takes turns") and question.buttons == []
    assert (await confirm_last(harness, c)) == "Rotation Moscow day updated."

    # Reordering: Start over, then press the names in their new order.
    await harness.reply_to(c, "/rotation people Moscow day")
    assert (await press(harness, c, "Start over")).startswith(
        "Who takes turns in Moscow day, in order? Now: -."
    )
    # Done with nobody chosen is refused, and the question stays.
    assert (await press(harness, c, "Done")) == "Choose at least one person first."
    await press(harness, c, BORIS)
    await press(harness, c, ANNA)
    assert labels(c)[:2] == [f"2. {ANNA}", f"1. {BORIS}"]
    preview = await press(harness, c, "Done")
    assert f"Sun 2026-03-01 09:10 UTC - Mon 2026-03-02 06:00 UTC: {BORIS}" in preview
    assert (await confirm_last(harness, c)) == "Rotation Moscow day updated."
    assert f"now: {BORIS}" in await harness.reply_to(c, "/oncall")


async def test_an_override_that_replaces_someone_covers_their_whole_shift_in_a_few_presses(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await make_rotation(harness, enrolled, ROTATION)
    assert (await harness.reply_to(c, "/override")).startswith(
        "New override, step 1 of 5: which rotation?"
    )
    assert (await press(harness, c, "Moscow day")).startswith(
        "Step 2 of 5: what changes in Moscow day?"
    )
    assert labels(c) == ["Add", "Remove", "Replace", "Cancel"]
    assert (await press(harness, c, "Replace")).startswith(
        "Step 3 of 5: who steps in on Moscow day?"
    )
    assert (await press(harness, c, BORIS)).startswith(
        f"Step 3 of 5: whose turn does {BORIS} take over?"
    )
    # Boris cannot take over his own turn: only the others are offered.
    assert BORIS not in labels(c)
    prompt = await press(harness, c, ANNA)
    assert prompt.startswith(f"Step 4 of 5: from when? Press one of {ANNA}'s next shifts")
    # Anna's next shifts, in the coordinator's zone (UTC): the one in progress first.
    assert labels(c)[:3] == [
        "Now",
        "Sun 01 Mar 09:10 – Mon 02 Mar 06:00",
        "Tue 03 Mar 06:00 – Wed 04 Mar 06:00",
    ]
    preview = await press(harness, c, "Tue 03 Mar 06:00 – Wed 04 Mar 06:00")
    assert preview.startswith("Moscow day (Europe/Moscow) with this override:")
    assert f"Tue 2026-03-03 06:00 UTC - Wed 2026-03-04 06:00 UTC: {BORIS}" in preview
    assert (await confirm_last(harness, c)) == "Override #1 is in place."
    harness.clock.advance(2 * 86400)  # Tue 2026-03-03 09:00 UTC: Anna's turn, Boris's cover
    # Boris covers Anna's Tuesday, then has his own Wednesday.
    assert f"now: {BORIS}, until Thu 2026-03-05 06:00 UTC" in await harness.reply_to(c, "/oncall")


async def test_an_override_answered_by_typing_says_what_was_wrong_and_keeps_asking(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await make_rotation(harness, enrolled, ROTATION)
    # Naming the rotation skips its question.
    assert (await harness.reply_to(c, "/override Moscow day")).startswith("Step 2 of 5")
    assert (await harness.reply_to(c, "add")).startswith("Step 3 of 5: who is added to Moscow day?")
    assert (await harness.reply_to(c, "Nobody")).startswith(
        "No responder or coordinator matches 'Nobody'."
    )
    await harness.settle()
    assert str(c.visible[-1].text).startswith("Step 3 of 5: who is added")
    step4 = await harness.reply_to(c, OLGA)
    assert step4.startswith(f"Step 4 of 5: from when is {OLGA} on call in Moscow day?")
    # The next handoffs are offered (06:00 UTC is 09:00 in Moscow).
    assert labels(c)[:4] == ["Now", "Mon 02 Mar 06:00", "Tue 03 Mar 06:00", "Wed 04 Mar 06:00"]
    assert (await harness.reply_to(c, "tonight")).startswith("'tonight' is not a time.")
    await harness.settle()
    step5 = await harness.reply_to(c, "2026-03-02 12:00")
    assert step5.startswith("Step 5 of 5: until when? From Mon 2026-03-02 12:00 UTC.")
    assert (await harness.reply_to(c, "+soon")).startswith("'+soon' is not a length of time.")
    await harness.settle()
    preview = await press(harness, c, "+4h")
    assert f"Mon 2026-03-02 12:00 UTC - Mon 2026-03-02 16:00 UTC: {OLGA}, {BORIS}" in preview
    assert (await confirm_last(harness, c)) == "Override #1 is in place."


async def test_a_clashing_override_is_refused_in_the_guided_flow_and_cancel_changes_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await make_rotation(harness, enrolled, ROTATION)
    await harness.reply_to(
        c, f"/override Moscow day | remove | {ANNA} | 2026-03-01 12:00 | 2026-03-01 20:00"
    )
    assert (await confirm_last(harness, c)) == "Override #1 is in place."
    await harness.reply_to(c, "/override Moscow day")
    await press(harness, c, "Remove")
    # Only the rotation's people can be taken off it.
    assert labels(c) == [ANNA, BORIS, "Cancel"]
    await press(harness, c, ANNA)
    await harness.reply_to(c, "2026-03-01 14:00")
    question = c.visible[-1]
    answer = await press(harness, c, "+1h")
    assert answer.startswith("That clashes with override #1 (remove) for the same time.")
    # The question is still open; Cancel ends it in place and nothing changed.
    assert await press(harness, c, "Cancel") == "Cancelled: nothing changed."
    rotation = await harness.services.rota.repo.by_name(harness.services.db, "Moscow day")
    assert rotation is not None
    overrides = await harness.services.rota.repo.overrides(
        harness.services.db, rotation.id, ending_after=harness.clock.now()
    )
    assert [o.id for o in overrides] == [1]
    # A press on the finished question (an old client may still show it) is refused.
    await c.forge_press(question.message_id, question.buttons[0][1])
    await harness.settle()
    assert c.callback_answers[-1]["text"] == (
        "This change was already confirmed, cancelled or has expired."
    )


async def test_a_policy_step_is_changed_with_buttons_starting_from_its_current_targets(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await make_rotation(harness, enrolled, ROTATION)
    assert (await harness.reply_to(c, "/policy step")).startswith(
        "Change a policy step, step 1 of 4: which policy?"
    )
    which = await press(harness, c, "default")
    assert which.startswith("Step 2 of 4: which step of default?")
    assert "step 1: all responders, then wait 5m" in which
    assert labels(c) == ["Step 1", "Step 2", "Add step 3", "Cancel"]
    wait = await press(harness, c, "Step 1")
    assert wait.startswith("Step 3 of 4: once step 1 has paged, how long does it wait")
    assert labels(c)[0] == "Keep 5m"
    targets = await press(harness, c, "10m")
    assert targets.startswith("Step 4 of 4: whom does step 1 page?")
    assert targets.endswith("Chosen: all responders.")
    assert "✓ All responders" in labels(c)
    # A forged press naming no one there is refused, and the choice stays as it was.
    question = c.visible[-1]
    draft = question.buttons[0][1].split(":")[1]
    await c.forge_press(question.message_id, f"wz:{draft}:tp:999")
    await harness.replies(c, len(c.visible) + 1, what="the refusal")
    assert c.visible[-1].text == "Use the buttons above for this step."
    await press(harness, c, "On call: Moscow day")
    chosen = await press(harness, c, "✓ All responders")
    assert chosen.endswith("Chosen: rotation:Moscow day.")
    preview = await press(harness, c, "Done")
    assert preview.startswith("Policy default after this change:")
    assert "step 1: rotation:Moscow day, then wait 10m" in preview
    assert "step 2: all coordinators, then wait 5m" in preview
    assert (await confirm_last(harness, c)).startswith("Policy default updated.")
    assert "step 1: rotation:Moscow day, then wait 10m" in await harness.reply_to(c, "/policy")


async def test_a_policy_step_is_added_by_typing_and_one_is_removed_with_a_button(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await harness.reply_to(c, "/policy step default")
    await press(harness, c, "Add step 3")
    assert (await harness.reply_to(c, "forever")).startswith(
        "'forever' is not a wait between 1s and 24h."
    )
    await harness.settle()
    assert (await harness.reply_to(c, "7m")).startswith("Step 4 of 4: whom does step 3 page?")
    assert (await press(harness, c, "Done")) == "Choose at least one target first."
    assert (await harness.reply_to(c, "group:Nowhere")).startswith("There is no group chat")
    await harness.settle()
    preview = await harness.reply_to(c, f"all coordinators, {ANNA}")
    assert f"step 3: all coordinators, {ANNA}, then wait 7m" in preview
    assert (await confirm_last(harness, c)).startswith("Policy default updated.")

    await harness.reply_to(c, "/policy step default")
    await press(harness, c, "Step 2")
    preview = await press(harness, c, "Remove step 2")
    assert f"step 2: all coordinators, {ANNA}, then wait 7m" in preview
    assert "step 3" not in preview
    assert (await confirm_last(harness, c)).startswith("Policy default updated.")

    # Keep and Done leave a step as it was.
    await harness.reply_to(c, "/policy step default")
    await press(harness, c, "Step 2")
    await press(harness, c, "Keep 7m")
    preview = await press(harness, c, "Done")
    assert f"step 2: all coordinators, {ANNA}, then wait 7m" in preview


async def test_guided_changes_are_for_coordinators_only_and_survive_a_restart(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    anna = enrolled.responders[0]
    await make_rotation(harness, enrolled, ROTATION)
    for command in ("/override", "/policy step", "/rotation people"):
        assert "don't know that command" in await harness.reply_to(anna, command)
    await harness.reply_to(c, "/override Moscow day")
    await press(harness, c, "Add")
    # A responder forging a press on the coordinator's question changes nothing.
    question = c.visible[-1]
    await anna.forge_press(question.message_id, question.buttons[0][1])
    await harness.settle()
    assert c.visible[-1].text == question.text
    # The answers so far are stored: after a restart the question still works.
    await harness.stop()
    await harness.start()
    assert (await press(harness, c, BORIS)).startswith(
        f"Step 4 of 5: from when is {BORIS} on call in Moscow day?"
    )
    # Starting another guided change replaces this one; its buttons are then refused.
    old = c.visible[-1]
    await harness.reply_to(c, "/policy step")
    await c.press(old.message_id, next(d for lbl, d in old.buttons if lbl == "Now"))
    await harness.settle()
    assert c.callback_answers[-1]["text"] == (
        "This change was already confirmed, cancelled or has expired."
    )
