"""A preview applies only to what it was previewed against: Confirm on a stale preview
changes nothing and says why. And a contact's chat learns nothing about staff roles."""

from __future__ import annotations

from tests.support.harness import BotHarness, enrol, token_from
from tests.support.personas import COORDINATOR, RESPONDERS, Cast
from tests.telegram_emulator import SimUser

ANNA, BORIS = (name for _, name in RESPONDERS)
OLGA = COORDINATOR[1]


async def confirm_newest(h: BotHarness, user: SimUser) -> str:
    seen = len(user.visible)
    await user.press_button("Confirm")
    await h.replies(user, seen + 1, what="the answer to Confirm")
    await h.settle()
    return str(user.visible[-1].text)


async def remove(h: BotHarness, coordinator: SimUser, who: str) -> None:
    await h.reply_to(coordinator, f"/remove {who}")
    seen = len(coordinator.visible)
    await coordinator.press_button("Remove")
    await h.replies(coordinator, seen, what="the removal")
    await h.settle()


async def second_coordinator(h: BotHarness) -> SimUser:
    pavel = h.emu.user(700100002, "Pavel", last_name="Vtoroy-Koordinator")
    made = await h.cli("invite", "--role", "coordinator", "--name", "Pavel Vtoroy")
    assert made.code == 0, made.out
    await enrol(h, pavel, token_from(made.out))
    return pavel


async def test_a_preview_naming_someone_removed_since_changes_nothing_on_confirm(
    harness: BotHarness, enrolled: Cast
) -> None:
    olga = enrolled.coordinator
    preview = await harness.reply_to(
        olga, "/policy step default | 1 | 5m | Anna Advokatova-Pervaya"
    )
    assert "Anna Advokatova-Pervaya" in preview
    pavel = await second_coordinator(harness)
    await remove(harness, pavel, "Anna Advokatova-Pervaya")
    answer = await confirm_newest(harness, olga)
    assert answer.startswith("Someone or something this change names is gone since the preview")
    listing = await harness.reply_to(olga, "/policy")
    assert "step 1: all responders, then wait 5m" in listing and "?" not in listing


async def test_two_coordinators_confirming_stale_previews_cannot_undo_each_other(
    harness: BotHarness, enrolled: Cast
) -> None:
    olga = enrolled.coordinator
    pavel = await second_coordinator(harness)
    # Olga previews a change to step 1; meanwhile Pavel changes step 2 and confirms.
    await harness.reply_to(olga, "/policy step default | 1 | 7m | all responders")
    await harness.reply_to(pavel, "/policy step default | 2 | 9m | all coordinators")
    assert (await confirm_newest(harness, pavel)).startswith("Policy default updated.")
    answer = await confirm_newest(harness, olga)
    assert answer.startswith("Policy default was changed by someone else after this preview")
    listing = await harness.reply_to(olga, "/policy")
    assert "step 1: all responders, then wait 5m" in listing
    assert "step 2: all coordinators, then wait 9m" in listing
    # Made again on what is there now, her change goes through and keeps Pavel's.
    await harness.reply_to(olga, "/policy step default | 1 | 7m | all responders")
    assert (await confirm_newest(harness, olga)).startswith("Policy default updated.")
    listing = await harness.reply_to(olga, "/policy")
    assert "then wait 7m" in listing and "then wait 9m" in listing


async def test_rotation_and_override_previews_naming_a_removed_responder_change_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    olga = enrolled.coordinator
    pavel = await second_coordinator(harness)
    await harness.reply_to(
        olga, f"/rotation new Day | Europe/Moscow | 1d | 2026-03-02 09:00 | {ANNA}, {BORIS}"
    )
    assert (await confirm_newest(harness, olga)).startswith("Rotation Day created.")
    # A new rotation, a new order, and an override, each naming Anna; then she is removed.
    await harness.reply_to(
        olga, f"/rotation new Night | Europe/Moscow | 1d | 2026-03-02 21:00 | {ANNA}"
    )
    await remove(harness, pavel, "Anna Advokatova-Pervaya")
    answer = await confirm_newest(harness, olga)
    assert answer.startswith("Someone or something this change names is gone")
    assert "Night" not in await harness.reply_to(olga, "/rotation")

    await harness.reply_to(olga, f"/rotation people Day | {BORIS}, {OLGA}")
    await harness.reply_to(pavel, f"/rotation people Day | {OLGA}, {BORIS}")
    assert (await confirm_newest(harness, pavel)).startswith("Rotation Day updated.")
    answer = await confirm_newest(harness, olga)
    assert answer.startswith("Rotation Day was changed by someone else after this preview")
    assert f"{OLGA}, {BORIS}" in await harness.reply_to(olga, "/rotation")

    await harness.reply_to(olga, f"/override Day | add | {BORIS} | now | +8h")
    await remove(harness, pavel, BORIS)
    answer = await confirm_newest(harness, olga)
    assert answer.startswith(("Someone or something this change names is gone", "Rotation Day"))
    assert not any("Something went wrong" in str(m.text) for m in olga.visible)


async def test_a_contact_opening_a_staff_invitation_hears_only_the_neutral_line(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact = enrolled.contacts[0]
    made = await harness.cli("invite", "--role", "coordinator", "--name", "Mallory")
    answer = await harness.reply_to(contact, f"/start {token_from(made.out)}")
    assert answer == "Sorry, I can't help with that."
    # The invitation was not used up: the person it is for can still use it.
    newcomer = harness.emu.user(700100077, "Mallory", last_name="M")
    assert (await enrol(harness, newcomer, token_from(made.out))).startswith("Welcome, Mallory")
    # And the contact's chat is emptied as always.
    await harness.advance(harness.services.settings.contact_reply_ttl.total_seconds())
    assert contact.visible == []
