"""The Bot API emulator answers like Telegram: routing, validation, errors, limits, faults.

Driven through a real python-telegram-bot 22.8 Bot, and through raw HTTP where PTB would
refuse to send the malformed call itself.
"""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest
import telegram
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut

from tests.telegram_emulator import Emulator, SimUser
from tests.telegram_emulator.testkit import ManualClock, ptb_bot, raw_call, retry_seconds

# PTB warns that RetryAfter.retry_after will become a timedelta; not this suite's concern.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

KEYBOARD = telegram.InlineKeyboardMarkup(
    [[telegram.InlineKeyboardButton("Yes", callback_data="yes")]]
)


async def started_user(emu: Emulator, user_id: int = 1001, name: str = "Anna") -> SimUser:
    user = emu.user(user_id, name)
    await user.send("/start")
    return user


# -- routing and identity ------------------------------------------------------------------


async def test_get_me_through_ptb_returns_the_configured_bot(emulator: Emulator) -> None:
    async with ptb_bot(emulator) as bot:
        me = await bot.get_me()
    assert (me.id, me.is_bot, me.username) == (123456, True, "nabat_test_bot")
    assert me.can_join_groups is True
    assert [c.method for c in emulator.calls] == ["getMe", "getMe"]  # initialize + the call


async def test_wrong_token_raises_invalid_token(emulator: Emulator) -> None:
    bot = ptb_bot(emulator, token="999:wrong-token")
    with pytest.raises(InvalidToken):
        await bot.get_me()
    status, body = await raw_call(emulator, "getMe", token="999:wrong-token")
    assert (status, body) == (401, {"ok": False, "error_code": 401, "description": "Unauthorized"})


async def test_unknown_method_is_404_and_method_names_ignore_case(emulator: Emulator) -> None:
    status, body = await raw_call(emulator, "sendTelepathy")
    assert (status, body["description"]) == (404, "Not Found: method not found")
    status, body = await raw_call(emulator, "GETME")
    assert status == 200 and body["result"]["username"] == "nabat_test_bot"
    assert emulator.calls[-1].method == "getMe"


async def test_get_with_query_parameters_and_json_bodies_are_understood(emulator: Emulator) -> None:
    await started_user(emulator)
    status, _ = await raw_call(
        emulator, "sendMessage", {"chat_id": "1001", "text": "via GET"}, http_method="GET"
    )
    assert status == 200
    markup = {"inline_keyboard": [[{"text": "Go", "callback_data": "go"}]]}
    status, body = await raw_call(
        emulator,
        "sendMessage",
        json_body={"chat_id": 1001, "text": "via JSON", "reply_markup": markup},
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    assert emulator.calls[-1].params == {
        "chat_id": 1001,
        "text": "via JSON",
        "reply_markup": markup,
    }


async def test_calls_are_recorded_with_decoded_parameters(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator) as bot:
        await bot.send_message(anna.id, "Hello", reply_markup=KEYBOARD, protect_content=True)
        with pytest.raises(BadRequest):
            await bot.send_message(4242, "nobody")
    sent = emulator.sent()
    assert len(sent) == 1 and sent[0].params["chat_id"] == 1001
    assert sent[0].params["reply_markup"] == KEYBOARD.to_dict()
    assert sent[0].params["protect_content"] is True
    assert emulator.calls_to(4242)[0].status == 400
    assert anna.last.buttons == [("Yes", "yes")] and anna.last.protect_content


async def test_message_ids_rise_per_chat_across_both_sides(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    boris = await started_user(emulator, 1002, "Boris")
    async with ptb_bot(emulator) as bot:
        first = await bot.send_message(anna.id, "one")
        await anna.send("two")
        second = await bot.send_message(anna.id, "three")
        other = await bot.send_message(boris.id, "hi")
    assert (first.message_id, second.message_id, other.message_id) == (2, 4, 2)
    assert [m.from_bot for m in anna.history] == [False, True, False, True]


# -- message rules ---------------------------------------------------------------------------


async def test_text_length_and_emptiness_are_enforced(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(anna.id, "x" * 4097)
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(anna.id, "")
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(anna.id, "<b> </b>", parse_mode="HTML")
        # 4096 characters after entity parsing: the tags do not count
        await bot.send_message(anna.id, "<b>" + "é" * 4096 + "</b>", parse_mode="HTML")
    assert len(anna.messages) == 1


@pytest.mark.parametrize(
    ("html", "detail"),
    [
        ("line<br>break", 'Unsupported start tag "br"'),
        ("<b>bold<i>both</b></i>", "Unmatched end tag"),
        ("<b>never closed", "Can't find end tag"),
        ("1 < 2", "Unsupported start tag"),
        ('<span class="x">s</span>', "tg-spoiler"),
    ],
)
async def test_bad_html_fails_with_cant_parse_entities(
    emulator: Emulator, html: str, detail: str
) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities") as caught:
            await bot.send_message(anna.id, html, parse_mode="HTML")
    assert detail.lower() in caught.value.message.lower()


async def test_good_html_becomes_plain_text_and_entities(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    html = (
        '<b>Alert</b> from <a href="https://t.me/x">Anna</a> &lt;3 &amp; <tg-spoiler>s</tg-spoiler>'
    )
    async with ptb_bot(emulator) as bot:
        message = await bot.send_message(anna.id, html, parse_mode="HTML")
    assert message.text == "Alert from Anna <3 & s"
    assert [e.type for e in message.entities] == ["bold", "text_link", "spoiler"]
    assert anna.last.text == "Alert from Anna <3 & s" and anna.last.source_text == html


async def test_callback_data_over_64_bytes_is_button_data_invalid(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    too_long = telegram.InlineKeyboardMarkup(
        [[telegram.InlineKeyboardButton("x", callback_data="ж" * 33)]]  # 66 bytes
    )
    async with ptb_bot(emulator) as bot:
        with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
            await bot.send_message(anna.id, "pick", reply_markup=too_long)
    assert anna.messages == []


async def test_editing_to_identical_content_is_not_modified(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator) as bot:
        sent = await bot.send_message(anna.id, "Status: open", reply_markup=KEYBOARD)
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text(
                "Status: open", anna.id, sent.message_id, reply_markup=KEYBOARD
            )
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_reply_markup(anna.id, sent.message_id, reply_markup=KEYBOARD)
        edited = await bot.edit_message_text("Status: taken", anna.id, sent.message_id)
        assert isinstance(edited, telegram.Message) and edited.edit_date is not None
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", anna.id, 999)
    # Leaving reply_markup out removes the keyboard, as Telegram does.
    assert anna.last.text == "Status: taken" and anna.last.reply_markup is None
    assert anna.last.edits == ["Status: open"]


async def test_only_messages_younger_than_48_hours_can_be_deleted() -> None:
    clock = ManualClock()
    async with Emulator(token="1:T", clock=clock) as emu:
        anna = await started_user(emu)
        async with ptb_bot(emu) as bot:
            old = await bot.send_message(anna.id, "old")
            clock.advance(timedelta(hours=47))
            young = await bot.send_message(anna.id, "young")
            clock.advance(timedelta(hours=2))
            with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
                await bot.delete_message(anna.id, old.message_id)
            assert await bot.delete_message(anna.id, young.message_id) is True
            with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
                await bot.delete_message(anna.id, young.message_id)
            await anna.send("my own words")
            assert await bot.delete_message(anna.id, anna.history[-1].message_id)
            assert await bot.delete_messages(anna.id, [555, 556]) is True  # missing: skipped
        assert [m.deleted for m in anna.messages] == [False, True]
        assert [m.text for m in anna.visible] == ["old"]
        assert emu.violations == []


async def test_blocked_user_gives_forbidden_until_unblocked(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    anna.block()
    async with ptb_bot(emulator) as bot:
        with pytest.raises(Forbidden, match=r"(?i)bot was blocked by the user"):
            await bot.send_message(anna.id, "are you there?")
        anna.unblock()
        await bot.send_message(anna.id, "welcome back")
    assert [m.text for m in anna.messages] == ["welcome back"]


async def test_never_started_user_and_unknown_chat_are_refused(emulator: Emulator) -> None:
    stranger = emulator.user(2002, "Stranger")
    async with ptb_bot(emulator) as bot:
        with pytest.raises(Forbidden, match=r"(?i)bot can't initiate conversation with a user"):
            await bot.send_message(stranger.id, "hi")
        with pytest.raises(BadRequest, match=r"(?i)chat not found"):
            await bot.send_message(777, "hi")


# -- validation against the specification ------------------------------------------------------


async def test_unknown_parameter_is_accepted_but_recorded_as_violation() -> None:
    async with Emulator(token="1:T") as emu:
        anna = await started_user(emu)
        async with ptb_bot(emu) as bot:
            await bot.send_message(anna.id, "hi", api_kwargs={"disable_web_preview": True})
        assert len(anna.messages) == 1
        assert emu.violations == [
            "sendMessage: unknown parameter 'disable_web_preview' (Telegram would ignore it)"
        ]


async def test_missing_required_parameter_is_400(emulator: Emulator) -> None:
    await started_user(emulator)
    status, body = await raw_call(emulator, "sendMessage", {"chat_id": "1001"})
    assert status == 400 and body["error_code"] == 400
    assert body["description"] == "Bad Request: parameter 'text' is required"


@pytest.mark.parametrize(
    ("method", "params", "detail"),
    [
        ("getUpdates", {"limit": "ten"}, "'limit' must be Integer"),
        ("sendLocation", {"chat_id": "1001", "latitude": "north", "longitude": "1"}, "latitude"),
        ("sendMessage", {"chat_id": "1001", "text": "x", "protect_content": "yes"}, "Boolean"),
        ("sendMessage", {"chat_id": "1001", "text": "x", "reply_markup": "{oops"}, "reply_markup"),
        ("deleteMessages", {"chat_id": "1001", "message_ids": '[1, "2"]'}, "message_ids[1]"),
    ],
)
async def test_wrong_parameter_type_is_400(
    emulator: Emulator, method: str, params: dict[str, str], detail: str
) -> None:
    await started_user(emulator)
    status, body = await raw_call(emulator, method, params)
    assert status == 400, body
    assert body["description"].startswith("Bad Request: ") and detail in body["description"]


async def test_nested_reply_markup_is_validated_field_by_field() -> None:
    async with Emulator(token="1:T") as emu:
        await started_user(emu)
        bad_type = {
            "inline_keyboard": [
                [{"text": "a", "callback_data": "a"}, {"text": "b", "callback_data": 5}]
            ]
        }
        status, body = await raw_call(
            emu, "sendMessage", json_body={"chat_id": 1001, "text": "x", "reply_markup": bad_type}
        )
        assert status == 400
        assert (
            "reply_markup.inline_keyboard[0][1].callback_data: expected String"
            in body["description"]
        )
        no_action = {"inline_keyboard": [[{"text": "just text"}]]}
        status, body = await raw_call(
            emu, "sendMessage", json_body={"chat_id": 1001, "text": "x", "reply_markup": no_action}
        )
        assert status == 400 and "Text buttons are unallowed" in body["description"]
        typo = {"inline_keyboard": [[{"text": "a", "callback_data": "a", "colour": "red"}]]}
        status, _ = await raw_call(
            emu, "sendMessage", json_body={"chat_id": 1001, "text": "x", "reply_markup": typo}
        )
        assert status == 200
        assert emu.violations == [
            "reply_markup.inline_keyboard[0][0]: unknown field 'colour' in InlineKeyboardButton"
        ]


async def test_subtype_unions_check_the_discriminator(emulator: Emulator) -> None:
    commands = '[{"command": "help", "description": "What I do"}]'
    for scope, status in [
        ('{"type": "chat", "chat_id": 1001}', 200),
        ('{"type": "all_private_chats"}', 200),
        ('{"type": "chat"}', 400),  # chat_id missing: no subtype fits
        ('{"type": "everyone"}', 400),
    ]:
        got, body = await raw_call(
            emulator, "setMyCommands", {"commands": commands, "scope": scope}
        )
        assert got == status, (scope, body)


# -- flood limits -------------------------------------------------------------------------------


async def test_fourth_quick_message_to_one_chat_gets_retry_after(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    boris = await started_user(emulator, 1002, "Boris")
    async with ptb_bot(emulator) as bot:
        for n in range(3):
            await bot.send_message(anna.id, f"burst {n}")
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(anna.id, "one too many")
        assert retry_seconds(caught.value) == 1
        await bot.send_message(boris.id, "another chat is fine")
        # edits and answers do not count against the message limit
        await bot.edit_message_text("edited", anna.id, anna.last.message_id)
    assert len(anna.messages) == 3
    refused = [c for c in emulator.calls_to(anna.id) if c.status == 429]
    assert [c.response["parameters"] for c in refused] == [{"retry_after": 1}]


async def test_global_and_group_limits() -> None:
    async with Emulator(
        token="1:T", global_burst=5, global_rate=5.0, chat_burst=50, chat_rate=50.0
    ) as emu:
        users = [await started_user(emu, 1000 + n) for n in range(6)]
        statuses = [
            (await raw_call(emu, "sendMessage", {"chat_id": str(u.id), "text": "x"}))[0]
            for u in users
        ]
        assert statuses == [200] * 5 + [429]
    async with Emulator(token="1:T", chat_burst=50, chat_rate=50.0) as emu:
        group = emu.group(-100500, "Duty lawyers")
        statuses = [
            (await raw_call(emu, "sendMessage", {"chat_id": "-100500", "text": "x"}))[0]
            for _ in range(21)
        ]
        assert statuses == [200] * 20 + [429]
        assert emu.calls[-1].response["parameters"]["retry_after"] == 3  # 60 s / 20 messages
        assert len(group.messages) == 20


async def test_limits_can_be_switched_off() -> None:
    async with Emulator(token="1:T", limits=False) as emu:
        anna = await started_user(emu)
        for _ in range(10):
            assert (await raw_call(emu, "sendMessage", {"chat_id": "1001", "text": "x"}))[0] == 200
        assert len(anna.messages) == 10


# -- injected faults ----------------------------------------------------------------------------


async def test_injected_flood_gives_retry_after_with_its_value(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    emulator.faults.flood(retry_after=7, methods=["sendMessage"])
    async with ptb_bot(emulator) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(anna.id, "x")
        assert retry_seconds(caught.value) == 7
        await bot.send_message(anna.id, "second try passes")
    assert [m.text for m in anna.messages] == ["second try passes"]


async def test_server_error_is_a_network_error_and_creates_nothing(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator) as bot:
        emulator.faults.server_error(n=2, status=500)
        for _ in range(2):
            with pytest.raises(NetworkError) as caught:
                await bot.send_message(anna.id, "x")
            assert not isinstance(caught.value, BadRequest | Forbidden)
        await bot.send_message(anna.id, "third time lucky")
    assert [m.text for m in anna.messages] == ["third time lucky"]
    assert [c.status for c in emulator.calls_to(1001)] == [500, 500, 200]


async def test_stalled_call_times_out_and_is_not_processed(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    emulator.faults.timeout(seconds=30.0, methods="sendMessage")
    async with ptb_bot(emulator, read_timeout=0.3) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(anna.id, "lost")
        await bot.send_message(anna.id, "delivered")
    assert [m.text for m in anna.messages] == ["delivered"]
    assert emulator.calls_to(1001)[0].status == 504


async def test_outage_lasts_until_the_emulator_clock_passes_it() -> None:
    clock = ManualClock()
    async with Emulator(token="1:T", clock=clock) as emu:
        async with ptb_bot(emu) as bot:
            emu.faults.outage(60)
            with pytest.raises(NetworkError, match=r"(?i)Bad Gateway"):
                await bot.get_me()
            with pytest.raises(NetworkError):
                await bot.get_updates(timeout=0)
            clock.advance(59)
            with pytest.raises(NetworkError):
                await bot.get_me()
            clock.advance(2)
            assert (await bot.get_me()).username == "nabat_test_bot"
        assert [c.status for c in emu.calls[1:]] == [502, 502, 502, 200]


async def test_latency_delays_every_answer() -> None:
    async with Emulator(token="1:T", latency=0.2) as emu:
        started = time.monotonic()
        await raw_call(emu, "getMe")
        assert time.monotonic() - started >= 0.2
        emu.set_latency(0)
        started = time.monotonic()
        await raw_call(emu, "getMe")
        assert time.monotonic() - started < 0.2


async def test_wait_for_wakes_on_change_and_names_what_timed_out(emulator: Emulator) -> None:
    anna = await started_user(emulator)

    async def send_later() -> None:
        await asyncio.sleep(0.05)
        await raw_call(emulator, "sendMessage", {"chat_id": "1001", "text": "late"})

    task = asyncio.create_task(send_later())
    message = await emulator.wait_for(lambda: anna.visible, timeout=2, what="a reply")
    await task
    assert message[0].text == "late"

    async def async_predicate() -> bool:
        return len(emulator.sent()) == 1

    assert await emulator.wait_for(async_predicate, timeout=1)
    with pytest.raises(AssertionError, match=r"(?i)a second reply"):
        await emulator.wait_for(lambda: len(anna.visible) == 2, timeout=0.1, what="a second reply")
