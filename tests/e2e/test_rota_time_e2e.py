"""Time on the rota, as a new user meets it, end to end on the fake clock: the first
handoff a guided rotation offers, who hears they are on call when a change takes effect,
the time zone asked at enrolment, typed people, the preview's last shift, keyboards that
fit Telegram, and replies that say what to write.

The clock starts at Sun 2026-03-01 09:10 UTC (the `enrolled` fixture's greetings took
ten minutes).
"""

from __future__ import annotations

import pytest

from bot.domain.models import Role
from bot.services.people import common_zones
from bot.wizards.engine import SHOWN
from tests.support.harness import BotHarness, enrol, token_from
from tests.support.personas import COORDINATOR, RESPONDERS, Cast
from tests.telegram_emulator import SimUser

ANNA, BORIS = RESPONDERS[0][1], RESPONDERS[1][1]
OLGA = COORDINATOR[1]
ON_CALL_NOW = "You are on call now in"


def texts(user: SimUser) -> list[str]:
    return [str(m.text) for m in user.visible]


def labels(user: SimUser) -> list[str]:
    """The buttons of the newest message that has any."""
    message = next((m for m in reversed(user.visible) if m.buttons), None)
    return [label for label, _ in message.buttons] if message else []


def _seen(user: SimUser) -> tuple[int, int]:
    return len(user.visible), sum(len(m.edits) for m in user.visible)


async def press(h: BotHarness, user: SimUser, label: str) -> str:
    """Press the newest button labelled `label`; the bot's newest message, or the pressed
    one as the bot edited it."""
    before = _seen(user)
    message = next(m for m in reversed(user.visible) if label in [b[0] for b in m.buttons])
    await user.press(message.message_id, next(d for lbl, d in message.buttons if lbl == label))
    await h.emu.wait_for(lambda: _seen(user) != before, what=f"the answer to {label!r}")
    await h.settle()
    if len(user.visible) > before[0]:
        return str(user.visible[-1].text)
    return str(next(m for m in user.visible if m.message_id == message.message_id).text)


async def confirm_last(h: BotHarness, user: SimUser) -> str:
    seen = len(user.visible)
    await user.press_button("Confirm")
    await h.replies(user, seen + 1, what="the confirmation")
    await h.settle()
    return str(user.visible[seen].text)


async def make_rotation(h: BotHarness, cast: Cast, spec: str) -> str:
    preview = await h.reply_to(cast.coordinator, f"/rotation new {spec}")
    assert (await confirm_last(h, cast.coordinator)).startswith("Rotation "), preview
    return preview


async def tick(h: BotHarness) -> None:
    """The scheduler's minute tick of the rota watch."""
    await h.services.watch.tick()
    await h.settle()


async def test_the_guided_first_handoff_offers_only_times_still_ahead(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await harness.reply_to(c, "/rotation new")
    await harness.reply_to(c, "Azores day")
    await harness.reply_to(c, "Atlantic/Azores")
    step4 = await harness.reply_to(c, "1d")
    assert step4.startswith("Step 4 of 5: when is the first handoff (Atlantic/Azores)?")
    # 09:10 UTC is 08:10 in the Azores: today's 09:00 is still ahead.
    assert labels(c)[:2] == ["Sun 2026-03-01 09:00 -01", "Mon 2026-03-02 09:00 -01"]
    # At 09:01 there, pressing it is refused; asked again, only later ones are offered.
    await harness.advance(51 * 60)
    assert (await press(harness, c, "Sun 2026-03-01 09:00 -01")) == (
        "That time has passed. Press a later one, or reply with a time."
    )
    assert (await harness.reply_to(c, "soon")).startswith("'soon' is not a time.")
    await harness.settle()
    assert labels(c)[:2] == ["Mon 2026-03-02 09:00 -01", "Tue 2026-03-03 09:00 -01"]
    await press(harness, c, "Mon 2026-03-02 09:00 -01")
    # The order chosen so far is named, not counted.
    await press(harness, c, BORIS)
    assert (await press(harness, c, ANNA)).endswith(f"Chosen: {BORIS}, {ANNA}.")
    preview = await press(harness, c, "Done")
    assert f"Mon 2026-03-02 10:00 UTC - Tue 2026-03-03 10:00 UTC: {BORIS}" in preview
    assert (await confirm_last(harness, c)) == "Rotation Azores day created."
    # Nobody is on call before the first handoff, so nobody is told they are.
    assert not any(t.startswith(ON_CALL_NOW) for r in enrolled.responders for t in texts(r))


async def test_whoever_is_on_call_when_a_rotation_is_confirmed_hears_it_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await harness.reply_to(anna, "/tz Europe/Moscow")
    await enrolled.contacts[0].send("/panic police at the door")
    await harness.settle()
    # A first handoff two hours ago (09:00 Moscow is 06:00 UTC): Anna is on call already.
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1d | 2026-03-01 09:00 | {ANNA}, {BORIS}"
    )
    assert texts(anna)[-1] == (
        "You are on call now in Moscow day until Mon 2026-03-02 09:00 MSK.\n"
        "Open alert #1 (PANIC) is not acknowledged yet."
    )
    assert not any(t.startswith(ON_CALL_NOW) for t in texts(boris))
    await tick(harness)
    assert sum(t.startswith(ON_CALL_NOW) for t in texts(anna)) == 1


async def test_a_change_of_people_or_an_override_that_takes_effect_now_is_told_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    anna, boris = enrolled.responders
    await harness.reply_to(anna, "/tz Europe/Moscow")
    await harness.reply_to(boris, "/tz Asia/Vladivostok")
    # The first handoff ten minutes ago: inside the tick's grace, so the tick would have
    # told Anna too; it does not say it twice.
    await make_rotation(harness, enrolled, f"Night | UTC | 1d | 2026-03-01 09:00 | {ANNA}, {BORIS}")
    assert texts(anna)[-1] == (
        "You are on call now in Night until Mon 2026-03-02 12:00 MSK.\nNo alerts are open."
    )
    await tick(harness)
    assert not any(t.startswith("Handoff in Night") for t in texts(anna))

    # Boris first, typed in the guided change: his turn is the one running now.
    await harness.reply_to(c, "/rotation people Night")
    preview = await harness.reply_to(c, f"{BORIS}, {ANNA}")
    assert preview.startswith("Night (UTC) with the new people.")
    assert (await confirm_last(harness, c)) == "Rotation Night updated."
    assert texts(boris)[-1] == (
        "You are on call now in Night until Mon 2026-03-02 19:00 +10.\nNo alerts are open."
    )

    # Anna takes over from now for eight hours: she hears it at once, Boris at the tick.
    await harness.reply_to(c, f"/override Night | replace | {ANNA} for {BORIS} | now | +8h")
    assert (await confirm_last(harness, c)) == "Override #1 is in place."
    assert texts(anna)[-1] == (
        "You are on call now in Night until Sun 2026-03-01 20:10 MSK.\nNo alerts are open."
    )
    await tick(harness)
    assert texts(boris)[-1].startswith(f"Handoff in Night: now on call: {ANNA} (before: {BORIS}).")
    assert not any(t.startswith("Handoff in Night") for t in texts(anna))
    assert sum(t.startswith(ON_CALL_NOW) for t in texts(anna)) == 2


async def test_staff_are_offered_the_organisations_time_zones_as_they_enrol_contacts_are_not(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1d | now | {ANNA}, {BORIS}"
    )
    await harness.reply_to(anna, "/tz Asia/Vladivostok")
    await harness.reply_to(boris, "/tz Asia/Vladivostok")
    invited = await harness.cli("invite", "--role", "responder", "--name", "Vera Novaya")
    vera = harness.emu.user(700200777, "Vera", last_name="Novaya")
    welcome = await enrol(harness, vera, token_from(invited.out))
    assert welcome.startswith("Welcome, Vera Novaya. You are enrolled as a responder")
    assert "Which time zone are you in? I show you every time in it (now UTC)." in welcome
    # Most used first (two people, then one rotation), then UTC.
    assert labels(vera) == ["Asia/Vladivostok", "Europe/Moscow", "UTC"]
    assert (await press(harness, vera, "Europe/Moscow")) == (
        "Your time zone is now Europe/Moscow. It is Sun 2026-03-01 12:10 MSK there."
    )
    assert f"now: {ANNA}, until Mon 2026-03-02 12:10 MSK" in await harness.reply_to(vera, "/oncall")
    # A forged zone changes nothing; /tz still works.
    await vera.forge_press(vera.visible[0].message_id, "tz:Mars/Olympus")
    await harness.settle()
    assert vera.callback_answers[-1]["text"].startswith("'Mars/Olympus' is not a time zone.")
    assert (await harness.reply_to(vera, "/tz Asia/Yekaterinburg")).startswith(
        "Your time zone is now Asia/Yekaterinburg."
    )
    # A contact's chat stays bare: no question, no buttons.
    invited = await harness.cli("invite", "--role", "contact", "--name", "K-99")
    contact = harness.emu.user(700300099, "K-99")
    greeting = await enrol(harness, contact, token_from(invited.out))
    assert greeting.startswith("You are set up.") and "time zone" not in greeting
    assert all(not m.buttons for m in contact.messages)


def test_the_zones_offered_are_the_most_used_at_most_eight_with_utc_last() -> None:
    used = ["Europe/Moscow"] * 3 + ["Asia/Vladivostok"] * 2 + ["UTC"] * 9
    used += [f"Etc/GMT+{i}" for i in range(1, 10)]
    offered = common_zones(used)
    assert len(offered) == 8
    assert offered[:2] == ["Europe/Moscow", "Asia/Vladivostok"] and offered[-1] == "UTC"
    assert common_zones([]) == ["UTC"]


async def test_people_typed_at_the_people_step_go_to_the_preview_or_get_the_one_line_errors(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await harness.reply_to(c, "/rotation new")
    await harness.reply_to(c, "Moscow day")
    await harness.reply_to(c, "Europe/Moscow")
    await harness.reply_to(c, "1d")
    step5 = await harness.reply_to(c, "2026-03-02 09:00")
    assert "or reply with the names in order" in step5
    for typed, refusal in (
        ("Nobody", "No responder or coordinator matches 'Nobody'."),
        (f"{BORIS}, {ANNA}, {BORIS.lower()}", f"'{BORIS.lower()}' is named twice."),
    ):
        assert (await harness.reply_to(c, typed)).startswith(refusal)
        await harness.settle()
        assert str(c.visible[-1].text).startswith("Step 5 of 5")  # still open
        one_line = await harness.reply_to(c, f"/rotation new X | UTC | 1d | now | {typed}")
        assert one_line.startswith(refusal)
    # By name and by #number, a coordinator too, in the order typed.
    olga = await harness.services.people.identify(c.id)
    assert olga is not None
    preview = await harness.reply_to(c, f"{BORIS}, #{olga.id}")
    assert preview.startswith("New rotation Moscow day (Europe/Moscow).")
    assert f"Mon 2026-03-02 06:00 UTC - Tue 2026-03-03 06:00 UTC: {BORIS}" in preview
    assert f"Tue 2026-03-03 06:00 UTC - Wed 2026-03-04 06:00 UTC: {OLGA}" in preview
    assert (await confirm_last(harness, c)) == "Rotation Moscow day created."


async def test_the_two_week_preview_ends_on_a_whole_minute_without_an_empty_shift(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    await harness.reply_to(c, "/rotation new")
    for answer in ("Now day", "UTC", "1d"):
        await harness.reply_to(c, answer)
    await harness.reply_to(c, "now")  # 09:10 sharp
    await harness.advance(30)  # the coordinator takes half a minute over the names
    await press(harness, c, ANNA)
    await press(harness, c, BORIS)
    lines = (await press(harness, c, "Done")).splitlines()
    assert lines[1] == f"Sun 2026-03-01 09:10 UTC - Mon 2026-03-02 09:10 UTC: {ANNA}"
    assert lines[-1] == f"Sat 2026-03-14 09:10 UTC - Sun 2026-03-15 09:10 UTC: {BORIS}"
    assert len(lines) == 1 + 14


async def test_keyboards_stay_under_telegrams_limit_and_the_rest_can_be_typed(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    services = harness.services
    async with services.db.transaction() as tx:
        for i in range(100):
            await services.people.people.create(
                tx,
                telegram_id=700800000 + i,
                name=f"Extra {i:03d}",
                lang="en",
                role=Role.RESPONDER,
                now=harness.clock.now(),
            )
    await harness.reply_to(c, "/rotation new")
    for answer in ("Big", "UTC", "1d"):
        await harness.reply_to(c, answer)
    question = await harness.reply_to(c, "2026-03-02 09:00")
    shown = labels(c)
    assert len(shown) == SHOWN + 2 and shown[-2:] == ["Done", "Cancel"]
    assert question.endswith("62 more are not shown as buttons: reply by typing instead.")
    # Someone without a button is typed.
    preview = await harness.reply_to(c, f"Extra 099, {ANNA}")
    assert "Mon 2026-03-02 09:00 UTC - Tue 2026-03-03 09:00 UTC: Extra 099" in preview
    # The same for an override's people.
    await confirm_last(harness, c)
    await harness.reply_to(c, "/override Big")
    await press(harness, c, "Add")
    assert len(labels(c)) == SHOWN + 1 and labels(c)[-1] == "Cancel"


async def test_replies_say_what_to_write(
    harness: BotHarness, enrolled: Cast, capsys: pytest.CaptureFixture[str]
) -> None:
    c = enrolled.coordinator
    await make_rotation(harness, enrolled, f"Moscow day | Europe/Moscow | 1d | now | {ANNA}")
    assert await harness.reply_to(c, f"/override Moscow day | add | {BORIS} | now | +999d") == (
        "'+999d' is too long: a length after + is at most 366d. "
        "For a later end, give it as a time, like 2026-03-05 21:00."
    )
    assert (await harness.reply_to(c, f"/rotation new X | UTC | 0d | now | {ANNA}")) == (
        "'0d' is not a shift length. Write a whole number and h, d or w: 1h to 672h, "
        "1d to 366d or 1w to 52w, e.g. 8h, 1d or 2w."
    )
    await harness.reply_to(c, "/policy step default | 1 | 5m | all responders")
    assert (await confirm_last(harness, c)) == (
        "Policy default updated. No open alerts were affected."
    )
    assert (await harness.reply_to(c, "/swap garbage")) == (
        "/swap is for responders, to offer a window of their own shifts for someone else "
        "to take. To change who is on call, use /override."
    )
    # The rota file says it the same way.
    path = harness.root / "rota.toml"
    assert (await harness.cli("rota", "export", str(path))).code == 0
    capsys.readouterr()
    path.write_text(path.read_text().replace("length = 1\n", "length = 0\n"))
    assert (await harness.cli("rota", "import", "--dry-run", str(path))).code == 2
    assert "length: write a whole number of days from 1 to 366, not 0" in capsys.readouterr().err
