"""The emulator's updates and simulated people: long polls, confirmation, what users do.

Every update a simulated user produces must be something python-telegram-bot can turn
into a proper Update object, and every result must fit the published Bot API types.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
import telegram
from telegram.error import BadRequest, Conflict
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from tests.telegram_emulator import Emulator, SimUser
from tests.telegram_emulator.spec import load_spec
from tests.telegram_emulator.testkit import ManualClock, ptb_bot, raw_call
from tests.telegram_emulator.validation import check_value

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

KEYBOARD = telegram.InlineKeyboardMarkup(
    [
        [telegram.InlineKeyboardButton("I'm on it", callback_data="ack:7")],
        [telegram.InlineKeyboardButton("Not me", callback_data="pass:7")],
    ]
)


async def started_user(emu: Emulator, user_id: int = 1001, name: str = "Anna") -> SimUser:
    user = emu.user(user_id, name)
    await user.send("/start")
    return user


async def raw_updates(emu: Emulator, **params: Any) -> list[dict[str, Any]]:
    status, body = await raw_call(emu, "getUpdates", {k: str(v) for k, v in params.items()})
    assert status == 200, body
    updates: list[dict[str, Any]] = body["result"]
    return updates


# -- getUpdates -----------------------------------------------------------------------------


async def test_long_poll_returns_as_soon_as_an_update_arrives(emulator: Emulator) -> None:
    anna = emulator.user(1001, "Anna")
    async with ptb_bot(emulator) as bot:
        poll = asyncio.create_task(bot.get_updates(timeout=1))
        await emulator.wait_for(
            lambda: any(c.method == "getUpdates" for c in emulator.calls), what="the poll"
        )
        started = time.monotonic()
        await anna.send("help")
        updates = await poll
    assert time.monotonic() - started < 0.5
    assert updates[0].message is not None and updates[0].message.text == "help"


async def test_long_poll_with_nothing_pending_returns_empty_after_its_timeout(
    emulator: Emulator,
) -> None:
    async with ptb_bot(emulator) as bot:
        started = time.monotonic()
        assert await bot.get_updates(timeout=1) == ()
    assert 0.9 <= time.monotonic() - started < 2


async def test_second_long_poll_ends_the_first_with_conflict(emulator: Emulator) -> None:
    async with ptb_bot(emulator) as first, ptb_bot(emulator) as second:
        poll = asyncio.create_task(first.get_updates(timeout=1))
        await emulator.wait_for(
            lambda: any(c.method == "getUpdates" for c in emulator.calls), what="the poll"
        )
        assert await second.get_updates(timeout=0) == ()
        with pytest.raises(Conflict, match=r"(?i)terminated by other getUpdates request"):
            await poll


async def test_offset_confirms_and_redeliver_sends_again_with_same_id(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    await anna.send("second")
    first, second = await raw_updates(emulator)
    assert second["update_id"] == first["update_id"] + 1
    assert len(await raw_updates(emulator)) == 2  # unconfirmed: sent again
    assert await raw_updates(emulator, offset=second["update_id"] + 1) == []
    assert emulator.update_ids == [first["update_id"], second["update_id"]]
    emulator.redeliver(first["update_id"])
    assert await raw_updates(emulator, offset=second["update_id"] + 1) == [first]
    assert await raw_updates(emulator, offset=second["update_id"] + 1) == []


async def test_a_raw_update_goes_out_as_given_with_the_next_id_whatever_allowed_updates_say(
    emulator: Emulator,
) -> None:
    anna = await started_user(emulator)
    (started,) = await raw_updates(emulator)
    assert (
        await raw_updates(emulator, offset=started["update_id"] + 1, allowed_updates='["poll"]')
        == []
    )
    raw = {"message": {"message_id": 1, "chat": {"id": anna.id, "type": "private"}}}
    update_id = emulator.push_raw_update(raw)
    assert update_id == started["update_id"] + 1
    assert emulator.update_ids == [started["update_id"], update_id]
    assert await raw_updates(emulator, offset=started["update_id"] + 1) == [
        {"update_id": update_id, **raw}
    ]
    assert await raw_updates(emulator, offset=update_id + 1) == []
    with pytest.raises(AssertionError, match="assigns the update_id"):
        emulator.push_raw_update({"update_id": 1})


async def test_limit_and_timeout_ranges_are_enforced(emulator: Emulator) -> None:
    for params in ({"limit": "0"}, {"limit": "101"}, {"timeout": "-1"}, {"timeout": "51"}):
        status, _ = await raw_call(emulator, "getUpdates", params)
        assert status == 400, params
    anna = await started_user(emulator)
    await anna.send("two")
    assert len(await raw_updates(emulator, limit=1)) == 1


async def test_allowed_updates_is_remembered_and_filters(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator) as bot:
        sent = await bot.send_message(anna.id, "pick", reply_markup=KEYBOARD)
        await anna.press(sent.message_id, "ack:7")
        updates = await bot.get_updates(allowed_updates=["callback_query"])
        assert [u.callback_query is not None for u in updates] == [True]
        created = emulator.update_ids
        await anna.send("text is not even created now")
        anna.block()  # nor is my_chat_member
        assert await bot.get_updates(offset=updates[-1].update_id + 1) == ()
        assert emulator.update_ids == created
        await bot.answer_callback_query(updates[0].callback_query.id)  # type: ignore[union-attr]


async def test_webhook_blocks_polling_until_deleted(emulator: Emulator) -> None:
    async with ptb_bot(emulator) as bot:
        assert await bot.set_webhook("https://example.org/hook")
        assert (await bot.get_webhook_info()).url == "https://example.org/hook"
        with pytest.raises(Conflict, match=r"(?i)webhook is active"):
            await bot.get_updates()
        assert await bot.delete_webhook(drop_pending_updates=True)
        assert await bot.get_updates() == ()


async def test_a_ptb_application_polls_replies_and_shuts_down_cleanly(
    emulator: Emulator,
) -> None:
    async def start(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await update.effective_chat.send_message(f"token {context.args}", reply_markup=KEYBOARD)

    async def pressed(update: telegram.Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("noted")
        await query.edit_message_text(f"taken: {query.data}")

    app = Application.builder().token(emulator.token).base_url(emulator.base_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(pressed))
    await app.initialize()
    assert app.updater is not None
    await app.updater.start_polling(timeout=10)
    await app.start()
    try:
        anna = emulator.user(1001, "Anna")
        await anna.send("/start TOKEN42")
        await emulator.wait_for(lambda: anna.visible, what="the reply to /start")
        assert anna.last.text == "token ['TOKEN42']"
        await anna.press_button("on it")
        await emulator.wait_for(lambda: anna.last.text == "taken: ack:7", what="the edit")
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert anna.callback_answers[0]["text"] == "noted"
    methods = [c.method for c in emulator.calls]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    assert emulator.pending_updates == 0  # the shutdown poll confirmed everything


# -- simulated people -------------------------------------------------------------------------


async def test_what_a_user_does_becomes_proper_ptb_updates(emulator: Emulator) -> None:
    anna = emulator.user(1001, "Anna", username="anna_k", language_code="ru")
    await anna.send("/start@nabat_test_bot TOKEN42")
    static = await anna.send_location(55.75, 37.61)
    live = await anna.send_location(55.75, 37.61, live_period=900)
    await anna.edit_live_location(live["message_id"], 55.76, 37.62)
    await anna.send_voice(file_id="VOICE1", duration=3)
    await anna.send_photo(file_id="PHOTO1", caption="the car")
    async with ptb_bot(emulator) as bot:
        sent = await bot.send_message(anna.id, "Alert!", reply_markup=KEYBOARD)
        query_id = await anna.press(sent.message_id, "ack:7")
        updates = [telegram.Update.de_json(u, bot) for u in await raw_updates(emulator)]
        await bot.answer_callback_query(query_id, text="Thanks")

    start, loc, live_loc, moved, voice, photo, press = updates
    assert start.message is not None and start.message.text == "/start@nabat_test_bot TOKEN42"
    assert start.message.parse_entities(["bot_command"])
    assert list(start.message.parse_entities(["bot_command"]).values()) == ["/start@nabat_test_bot"]
    assert start.effective_user is not None and start.effective_user.username == "anna_k"
    assert start.effective_chat is not None and start.effective_chat.type == "private"
    assert loc.message is not None and loc.message.location is not None
    assert loc.message.location.live_period is None and static["location"]["latitude"] == 55.75
    assert live_loc.message is not None and live_loc.message.location is not None
    assert live_loc.message.location.live_period is not None
    assert moved.edited_message is not None and moved.edited_message.location is not None
    assert moved.edited_message.location.latitude == 55.76
    assert moved.edited_message.message_id == live["message_id"]
    assert voice.message is not None and voice.message.voice is not None
    assert voice.message.voice.file_id == "VOICE1"
    assert photo.message is not None and photo.message.photo[-1].file_id == "PHOTO1"
    assert photo.message.caption == "the car"
    query = press.callback_query
    assert query is not None and query.data == "ack:7" and query.id == query_id
    assert query.message is not None and query.message.message_id == sent.message_id
    assert query.from_user.id == anna.id
    assert anna.callback_answers == [{"callback_query_id": query_id, "text": "Thanks"}]
    ids = [u.update_id for u in updates]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)


async def test_press_refuses_buttons_that_are_not_there(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator) as bot:
        plain = await bot.send_message(anna.id, "no buttons")
        with_keyboard = await bot.send_message(anna.id, "buttons", reply_markup=KEYBOARD)
        with pytest.raises(AssertionError, match=r"(?i)no button with callback_data 'ack:8'"):
            await anna.press(with_keyboard.message_id, "ack:8")
        with pytest.raises(AssertionError):
            await anna.press(plain.message_id, "ack:7")
        with pytest.raises(AssertionError, match=r"(?i)not the bot's"):
            await anna.press(1, "ack:7")  # her own /start
        with pytest.raises(AssertionError, match=r"(?i)no visible button labelled 'Maybe'"):
            await anna.press_button("Maybe")
        query_id = await anna.press_button("Not me")
        await bot.answer_callback_query(query_id)
        await bot.delete_message(anna.id, with_keyboard.message_id)
        with pytest.raises(AssertionError, match=r"(?i)was deleted"):
            await anna.press(with_keyboard.message_id, "ack:7")
        forged = await anna.forge_press(with_keyboard.message_id, "admin:grant")
        await bot.answer_callback_query(forged)
    updates = await raw_updates(emulator)
    assert updates[-2]["callback_query"]["data"] == "pass:7"
    last = telegram.Update.de_json(updates[-1], None)
    assert last.callback_query is not None and last.callback_query.data == "admin:grant"
    # A deleted message arrives as an inaccessible one (date 0), as Telegram sends it.
    assert last.callback_query.message is not None
    assert not last.callback_query.message.is_accessible


async def test_callback_answers_follow_telegrams_rules() -> None:
    clock = ManualClock()
    async with Emulator(token="1:T", clock=clock) as emu:
        anna = await started_user(emu)
        async with ptb_bot(emu) as bot:
            sent = await bot.send_message(anna.id, "pick", reply_markup=KEYBOARD)
            answered = await anna.press(sent.message_id, "ack:7")
            assert await bot.answer_callback_query(answered, text="ok")
            with pytest.raises(BadRequest, match=r"(?i)query is too old"):
                await bot.answer_callback_query(answered)
            with pytest.raises(BadRequest, match=r"(?i)query ID is invalid"):
                await bot.answer_callback_query("12345")
            forgotten = await anna.press(sent.message_id, "pass:7")
        assert emu.violations == []
        clock.advance(16)
        assert emu.violations == [
            f"callback query {forgotten} (data 'pass:7', message {sent.message_id} in chat "
            "1001) was not answered within 15 s"
        ]


async def test_blocking_produces_my_chat_member_updates(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    anna.block()
    with pytest.raises(AssertionError, match=r"(?i)unblock"):
        await anna.send("hello?")
    anna.unblock()
    updates = [telegram.Update.de_json(u, None) for u in await raw_updates(emulator)]
    changes = [u.my_chat_member for u in updates if u.my_chat_member is not None]
    assert [(c.old_chat_member.status, c.new_chat_member.status) for c in changes] == [
        ("member", "kicked"),
        ("kicked", "member"),
    ]


# -- the other methods -------------------------------------------------------------------------


async def test_media_location_copy_and_forward_create_messages(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    boris = await started_user(emulator, 1002, "Boris")
    async with ptb_bot(emulator) as bot:
        await bot.send_voice(anna.id, "VOICE-ID", duration=4)
        await bot.send_photo(
            anna.id, b"\x89PNG fake bytes", caption="<i>map</i>", parse_mode="HTML"
        )
        live = await bot.send_location(anna.id, 55.7, 37.6, live_period=600)
        moved = await bot.edit_message_live_location(
            anna.id, live.message_id, latitude=55.8, longitude=37.7
        )
        assert isinstance(moved, telegram.Message) and moved.location is not None
        await bot.stop_message_live_location(anna.id, live.message_id)
        with pytest.raises(BadRequest, match=r"(?i)can't be edited"):
            await bot.edit_message_live_location(
                anna.id, live.message_id, latitude=1.0, longitude=1.0
            )
        copied = await bot.copy_message(boris.id, anna.id, 1)  # Anna's /start
        forwarded = await bot.forward_message(boris.id, anna.id, live.message_id)
    assert [m.kind for m in anna.messages] == ["voice", "photo", "location"]
    assert anna.messages[1].text == "map" and anna.messages[1].entities[0]["type"] == "italic"
    assert anna.messages[2].location == (55.8, 37.7)
    assert [m.message_id for m in boris.messages] == [copied.message_id, forwarded.message_id]
    assert boris.messages[0].text == "/start"
    assert forwarded.forward_origin is not None
    assert len(emulator.sent(anna.id)) == 3 and len(emulator.sent()) == 5


async def test_an_uploaded_document_keeps_its_bytes_and_over_50_mb_is_refused(
    emulator: Emulator,
) -> None:
    anna = await started_user(emulator)
    async with ptb_bot(emulator, read_timeout=20.0) as bot:
        sent = await bot.send_document(
            anna.id, telegram.InputFile(b"%PDF-1.7 tiny", filename="alert-1.pdf"), caption="PDF"
        )
        assert sent.document is not None and sent.document.file_name == "alert-1.pdf"
        again = await bot.send_document(anna.id, sent.document.file_id)
        assert again.document is not None
        assert again.document.file_id == sent.document.file_id
        too_big = telegram.InputFile(b"x" * (50 * 2**20 + 1), filename="big.bin")
        with pytest.raises(telegram.error.NetworkError):
            await bot.send_document(anna.id, too_big)
    first, second = anna.messages
    assert (first.kind, first.text, first.upload) == ("document", "PDF", b"%PDF-1.7 tiny")
    assert first.file_name == "alert-1.pdf" and first.raw["document"]["mime_type"] == (
        "application/pdf"
    )
    assert second.upload is None  # sent again by file id: nothing was uploaded


async def test_commands_chats_members_and_groups(emulator: Emulator) -> None:
    anna = await started_user(emulator)
    stranger = emulator.user(3003, "Stranger")
    group = emulator.group(-100500, "Duty lawyers")
    group.add_member(anna)
    scope = telegram.BotCommandScopeChat(anna.id)
    async with ptb_bot(emulator) as bot:
        assert await bot.set_my_commands([("panic", "Raise the alarm")], scope=scope)
        assert [c.command for c in await bot.get_my_commands(scope=scope)] == ["panic"]
        assert await bot.get_my_commands() == ()
        assert await bot.delete_my_commands(scope=scope)
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([("Panic!", "bad name")])
        chat = await bot.get_chat(anna.id)
        assert (chat.type, chat.first_name) == ("private", "Anna")
        assert (await bot.get_chat(group.chat_id)).title == "Duty lawyers"
        assert (await bot.get_chat_member(group.chat_id, anna.id)).status == "member"
        assert (await bot.get_chat_member(group.chat_id, stranger.id)).status == "left"
        assert await bot.send_chat_action(anna.id, "typing")
        with pytest.raises(BadRequest, match=r"(?i)wrong parameter action"):
            await bot.send_chat_action(anna.id, "dancing")
        await bot.send_message(group.chat_id, "Who takes it?", reply_markup=KEYBOARD)
        await group.send(anna, "me")
        query_id = await group.press(anna, group.last.message_id, "ack:7")
        await bot.answer_callback_query(query_id)
        assert await bot.leave_chat(group.chat_id)
        with pytest.raises(telegram.error.Forbidden, match=r"(?i)not a member"):
            await bot.send_message(group.chat_id, "still here?")
    with pytest.raises(AssertionError, match=r"(?i)not a member"):
        await group.send(stranger, "let me in")
    assert [m.text for m in group.history] == ["Who takes it?", "me"]
    assert anna.callback_answers == [{"callback_query_id": query_id}]


async def test_results_and_updates_fit_the_published_types(emulator: Emulator) -> None:
    spec = load_spec()
    anna = await started_user(emulator)
    await anna.send_location(1.0, 2.0, live_period=60)
    await anna.edit_live_location(2, 1.5, 2.5)
    await anna.send_photo()
    await anna.send_voice()
    anna.block()
    anna.unblock()
    checks: list[tuple[str, str, dict[str, Any]]] = [
        ("getMe", "User", {}),
        ("getWebhookInfo", "WebhookInfo", {}),
        ("getChat", "ChatFullInfo", {"chat_id": "1001"}),
        ("getChatMember", "ChatMember", {"chat_id": "1001", "user_id": "1001"}),
        (
            "sendMessage",
            "Message",
            {
                "chat_id": "1001",
                "text": "<b>x</b>",
                "parse_mode": "HTML",
                "reply_markup": KEYBOARD.to_json(),
            },
        ),
        ("sendPhoto", "Message", {"chat_id": "1001", "photo": "P", "caption": "c"}),
        (
            "copyMessage",
            "MessageId",
            {"chat_id": "1001", "from_chat_id": "1001", "message_id": "1"},
        ),
        ("getUpdates", "Array of Update", {}),
    ]
    for method, type_name, params in checks:
        status, body = await raw_call(emulator, method, params)
        assert status == 200, body
        assert check_value(spec, body["result"], type_name, method) == []
    await anna.press_button("I'm on it")
    status, body = await raw_call(emulator, "getUpdates", {"offset": "-1"})
    assert check_value(spec, body["result"], "Array of Update", "press") == []
    await raw_call(
        emulator,
        "answerCallbackQuery",
        {"callback_query_id": body["result"][0]["callback_query"]["id"]},
    )
