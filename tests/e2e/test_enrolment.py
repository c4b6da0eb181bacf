"""Enrolment, roles and removal, end to end: the real Application against the emulator."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.domain.errors import NotAllowed
from bot.logs import quiet_libraries
from tests.support.harness import BotHarness, enrol, invite, token_from
from tests.support.personas import CONTACTS, COORDINATOR, RESPONDERS, Cast
from tests.support.steps import remove_via_buttons

NEUTRAL = "Sorry, I can't help with that."


async def count(h: BotHarness, sql: str, *params: object) -> int:
    row = await h.services.db.fetchone(sql, params)
    assert row is not None
    return int(row[0])


async def test_the_first_coordinator_enrols_with_the_line_the_shell_printed(
    harness: BotHarness, cast: Cast
) -> None:
    result = await harness.cli("invite", "--role", "coordinator", "--name", "Olga")
    assert result.code == 0
    # The link names the bot as Telegram reported it through getMe.
    assert f"https://t.me/{harness.emu.bot_username}?start=" in result.out
    token = token_from(result.out)
    assert token in result.out.split("start=")[1]
    reply = await enrol(harness, cast.coordinator, token)
    assert reply.startswith("Welcome, Olga. You are enrolled as a coordinator")
    assert "/invite" in await harness.reply_to(cast.coordinator, "/help")


async def test_a_coordinator_invites_a_responder_and_a_contact_who_enrol(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, contact = enrolled.responders[0], enrolled.contacts[0]
    assert str(anna.visible[-1].text).startswith(
        f"Welcome, {RESPONDERS[0][1]}. You are enrolled as a responder"
    )
    # A contact's greeting names nobody and nothing, and is gone after the reply TTL.
    greeting = str(contact.messages[-1].text)
    assert contact.messages[-1].deleted
    assert greeting.startswith("You are set up.")
    assert CONTACTS[0][1] not in greeting and "lawyer" not in greeting.lower()
    listing = await harness.reply_to(enrolled.coordinator, "/people")
    assert "Enrolled people (5):" in listing
    assert f"{RESPONDERS[0][1]} - responder" in listing
    assert f"{CONTACTS[0][1]} - contact" in listing
    assert f"{COORDINATOR[1]} - coordinator" in listing


async def test_help_lists_only_what_the_callers_role_can_do(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact_help = await harness.reply_to(enrolled.contacts[0], "/help")
    responder_help = await harness.reply_to(enrolled.responders[0], "/help")
    coordinator_help = await harness.reply_to(enrolled.coordinator, "/help")
    assert "/panic" in contact_help and "/invite" not in contact_help
    assert "/invite" not in responder_help and "/people" not in responder_help
    assert "/invite" in coordinator_help and "/remove" in coordinator_help


async def test_a_used_invitation_is_refused_with_one_neutral_line_and_changes_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    token = await invite(harness, enrolled.coordinator, "responder", "Viktor")
    await enrol(harness, enrolled.stranger, token)
    people_before = await count(harness, "SELECT COUNT(*) FROM people")
    other = harness.emu.user(700900100, "Mallory")
    assert await harness.reply_to(other, f"/start {token}") == NEUTRAL
    await harness.quiet(other, 1)
    assert await count(harness, "SELECT COUNT(*) FROM people") == people_before
    # Still a stranger: their next message gets nothing more.
    await other.send("/help")
    await harness.quiet(other, 1)


async def test_an_expired_invitation_is_refused(harness: BotHarness, enrolled: Cast) -> None:
    token = await invite(harness, enrolled.coordinator, "responder", "Late Larisa")
    harness.clock.advance(timedelta(hours=72, seconds=1))
    assert await enrol(harness, enrolled.stranger, token) == NEUTRAL
    assert await count(harness, "SELECT COUNT(*) FROM people") == 5


async def test_an_unknown_or_malformed_token_gets_the_same_neutral_line(
    harness: BotHarness, cast: Cast
) -> None:
    assert await harness.reply_to(cast.stranger, "/start " + "A" * 32) == NEUTRAL
    await harness.quiet(cast.stranger, 1)


async def test_a_stranger_gets_one_neutral_line_and_learns_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    stranger = enrolled.stranger
    for text in ["hello", "/help", "/panic help me", "/invite responder X", "/people", "/start"]:
        await stranger.send(text)
    await harness.quiet(stranger, 1)
    assert stranger.visible[0].text == NEUTRAL
    # A day later they may get the one line again, and still nothing more.
    harness.clock.advance(timedelta(hours=24))
    await stranger.send("anyone?")
    await harness.quiet(stranger, 2)
    assert stranger.visible[1].text == NEUTRAL


async def test_strangers_get_silence_when_the_setting_says_so(
    emulator, tmp_path, clock, cast: Cast
) -> None:
    h = BotHarness(emulator, tmp_path, clock, NABAT_STRANGER_REPLY="false")
    await h.start()
    try:
        await cast.stranger.send("hello")
        await cast.stranger.send("/start " + "B" * 32)
        await h.quiet(cast.stranger, 0)
    finally:
        await h.stop()


async def test_a_contact_cannot_invite_anyone(harness: BotHarness, enrolled: Cast) -> None:
    before = await count(harness, "SELECT COUNT(*) FROM invitations")
    reply = await harness.reply_to(enrolled.contacts[0], "/invite coordinator Eve")
    # A contact's words always reach someone: an unknown command is read as a message.
    assert reply == "Received."
    assert "https://t.me/" not in reply
    assert await count(harness, "SELECT COUNT(*) FROM invitations") == before


async def test_a_responder_cannot_list_or_remove_people(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna = enrolled.responders[0]
    for command in ["/people", "/remove 1", f"/invite responder {RESPONDERS[1][1]}"]:
        reply = await harness.reply_to(anna, command)
        assert "don't know that command" in reply
    assert await count(harness, "SELECT COUNT(*) FROM people") == 5


async def test_the_service_itself_refuses_a_non_coordinator(
    harness: BotHarness, enrolled: Cast
) -> None:
    services = harness.services
    anna = await services.people.identify(RESPONDERS[0][0])
    assert anna is not None
    with pytest.raises(NotAllowed):
        await services.people.remove(anna, 1)
    with pytest.raises(NotAllowed):
        await services.people.list_people(anna)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/invite", "Usage: /invite <role> [name]"),
        ("/invite boss Eve", "'boss' is not a role. Use contact, responder or coordinator."),
        ("/invite responder " + "x" * 65, "A name must be 1 to 64 characters"),
        ("/remove", "Usage: /remove <number or name>."),
        ("/remove Nobody Atall", "No enrolled person matches 'Nobody Atall'."),
        ("/remove 999", "No enrolled person matches '999'."),
        ("/frobnicate", "I don't know that command."),
    ],
)
async def test_bad_coordinator_input_gets_a_message_saying_what_to_do(
    harness: BotHarness, enrolled: Cast, command: str, expected: str
) -> None:
    assert (await harness.reply_to(enrolled.coordinator, command)).startswith(expected)


async def test_remove_deletes_the_persons_rows_after_confirmation(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna_id = RESPONDERS[0][0]
    person = await harness.services.people.identify(anna_id)
    assert person is not None
    done = await remove_via_buttons(harness, enrolled, RESPONDERS[0][1].lower(), "Remove")
    assert done == f"Removed #{person.id} {RESPONDERS[0][1]}. Their data has been deleted."
    for sql in [
        "SELECT COUNT(*) FROM people WHERE id = ?",
        "SELECT COUNT(*) FROM person_roles WHERE person_id = ?",
        "SELECT COUNT(*) FROM outbox WHERE person_id = ?",
        "SELECT COUNT(*) FROM invitations WHERE used_by = ?",
    ]:
        assert await count(harness, sql, person.id) == 0, sql
    assert await harness.services.people.identify(anna_id) is None
    # The audit log says who removed whom.
    entries = await harness.services.db.fetchall("SELECT action FROM audit_log ORDER BY id")
    assert entries[-1]["action"] == "person.remove"
    # Anna is a stranger now.
    anna = enrolled.responders[0]
    seen = len(anna.visible)
    await anna.send("/help")
    await harness.quiet(anna, seen + 1)
    assert anna.visible[-1].text == NEUTRAL


async def test_cancelling_a_removal_keeps_the_person(harness: BotHarness, enrolled: Cast) -> None:
    done = await remove_via_buttons(harness, enrolled, CONTACTS[1][1], "Cancel")
    assert done.startswith("Cancelled:") and "stays enrolled" in done
    assert await harness.services.people.identify(CONTACTS[1][0]) is not None


async def test_the_last_coordinator_cannot_be_removed(harness: BotHarness, enrolled: Cast) -> None:
    reply = await harness.reply_to(enrolled.coordinator, f"/remove {COORDINATOR[1]}")
    assert "is the last coordinator" in reply
    assert await harness.services.people.identify(COORDINATOR[0]) is not None


async def test_a_forged_remove_button_is_refused_whoever_presses_it(
    harness: BotHarness, enrolled: Cast
) -> None:
    victim = await harness.services.people.identify(RESPONDERS[1][0])
    assert victim is not None
    anna, contact, stranger = enrolled.responders[0], enrolled.contacts[0], enrolled.stranger
    await harness.reply_to(contact, "/help")
    for user in (anna, contact):
        await user.forge_press(user.visible[-1].message_id, f"rm:y:{victim.id}")
    await stranger.send("hi")
    await harness.replies(stranger, 1)
    await stranger.forge_press(stranger.visible[-1].message_id, f"rm:y:{victim.id}")
    await harness.settle()
    assert await harness.services.people.identify(RESPONDERS[1][0]) is not None
    # Every press was answered (no spinner left), and no one got a message for it.
    assert all(len(u.callback_answers) == 1 for u in (anna, contact, stranger))


async def test_a_redelivered_update_changes_nothing_the_second_time(
    harness: BotHarness, enrolled: Cast
) -> None:
    before = await count(harness, "SELECT COUNT(*) FROM invitations")
    coordinator = enrolled.coordinator
    seen = len(coordinator.visible)
    await harness.reply_to(coordinator, "/invite responder Dmitri Dubl")
    harness.emu.redeliver(harness.emu.update_ids[-1])
    await harness.quiet(coordinator, seen + 1)
    assert await count(harness, "SELECT COUNT(*) FROM invitations") == before + 1


async def test_an_internal_error_reaches_the_user_as_one_plain_line_and_the_log_as_a_type(
    harness: BotHarness,
    enrolled: Cast,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(actor: object) -> None:
        raise RuntimeError(f"detail naming {RESPONDERS[0][1]}")

    monkeypatch.setattr(harness.services.people, "list_people", broken)
    with caplog.at_level(logging.INFO):
        reply = await harness.reply_to(enrolled.coordinator, "/people")
    assert reply == "Something went wrong on our side. Please try again."
    assert "RuntimeError" in caplog.text
    assert RESPONDERS[0][1] not in caplog.text and "Traceback" not in reply


async def test_logs_carry_no_names_messages_tokens_or_telegram_ids(
    harness: BotHarness, cast: Cast, caplog: pytest.LogCaptureFixture
) -> None:
    previous = quiet_libraries(logging.DEBUG)
    with caplog.at_level(logging.DEBUG):
        result = await harness.cli("invite", "--role", "coordinator", "--name", COORDINATOR[1])
        token = token_from(result.out)
        await enrol(harness, cast.coordinator, token)
        await invite(harness, cast.coordinator, "contact", CONTACTS[0][1])
        await harness.reply_to(cast.stranger, "my secret words")
    for name, level in previous.items():
        logging.getLogger(name).setLevel(level)
    for secret in [
        COORDINATOR[1],
        CONTACTS[0][1],
        str(COORDINATOR[0]),
        str(STRANGER_ID),
        token,
        "my secret words",
        harness.emu.token,
    ]:
        assert secret not in caplog.text, secret


STRANGER_ID = 700900009
