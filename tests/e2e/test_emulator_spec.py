"""The compact method table agrees with api.json, and the emulator runs on either one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.telegram_emulator import Emulator
from tests.telegram_emulator.methods import METHODS, compact_spec
from tests.telegram_emulator.spec import default_spec_path, element_type, load_spec
from tests.telegram_emulator.testkit import ptb_bot, raw_call

# The methods nabat calls, as listed in its design.
NABAT_METHODS = frozenset(
    {
        "getMe",
        "getUpdates",
        "deleteWebhook",
        "setWebhook",
        "getWebhookInfo",
        "close",
        "logOut",
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "deleteMessage",
        "deleteMessages",
        "answerCallbackQuery",
        "sendLocation",
        "editMessageLiveLocation",
        "stopMessageLiveLocation",
        "sendVoice",
        "sendPhoto",
        "sendDocument",
        "copyMessage",
        "forwardMessage",
        "setMyCommands",
        "deleteMyCommands",
        "getMyCommands",
        "getChat",
        "sendChatAction",
        "leaveChat",
        "getChatMember",
    }
)


def test_compact_table_matches_api_json_or_stands_in_for_it() -> None:
    compact = compact_spec()
    path = default_spec_path()
    if not path.is_file():
        # No api.json in this clone: the table is what the emulator will use.
        assert load_spec().source == "compact table"
        assert set(load_spec().methods) == NABAT_METHODS
        return
    published = load_spec(path)
    assert published.source == str(path)
    for name, method in compact.methods.items():
        assert name in published.methods, f"{name} is not a Bot API method"
        assert method.fields == published.methods[name].fields, f"{name} differs from api.json"
    for name, object_spec in compact.types.items():
        assert name in published.types, f"{name} is not a Bot API type"
        assert object_spec == published.types[name], f"{name} differs from api.json"


def test_compact_table_covers_nabats_methods_and_every_type_they_reach() -> None:
    compact = compact_spec()
    assert set(METHODS) == NABAT_METHODS
    reached: set[str] = set()
    todo = [t for m in compact.methods.values() for f in m.fields for t in f.types]
    while todo:
        base, _ = element_type(todo.pop())
        if base in ("Integer", "String", "Boolean", "Float") or base in reached:
            continue
        reached.add(base)
        assert base in compact.types, f"{base} is referenced but missing from the table"
        todo.extend(compact.types[base].subtypes)
        todo.extend(t for f in compact.types[base].fields for t in f.types)
    assert set(compact.types) == reached


def test_discriminators_are_read_from_the_descriptions() -> None:
    spec = load_spec()
    chat_scope = spec.types["BotCommandScopeChat"]
    assert chat_scope.by_name["type"].const == "chat"
    assert chat_scope.by_name["chat_id"].const is None
    assert spec.types["BotCommandScope"].subtypes[0] == "BotCommandScopeDefault"


async def test_emulator_falls_back_to_the_compact_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NABAT_BOT_API_SPEC", str(tmp_path / "absent.json"))
    async with Emulator(token="1:T") as emu:
        assert emu.spec.source == "compact table"
        anna = emu.user(1001, "Anna")
        await anna.send("/start")
        async with ptb_bot(emu) as bot:
            await bot.send_message(anna.id, "hi", api_kwargs={"colour": "red"})
        status, body = await raw_call(emu, "sendSticker", {"chat_id": "1001"})
        assert status == 404  # unknown to the compact table
        status, body = await raw_call(
            emu,
            "sendMessage",
            {
                "chat_id": "1001",
                "text": "x",
                "reply_markup": '{"inline_keyboard": [[{"text": 1}]]}',
            },
        )
        assert status == 400 and "text: expected String" in body["description"]
        assert emu.violations == [
            "sendMessage: unknown parameter 'colour' (Telegram would ignore it)"
        ]


async def test_spec_methods_that_are_not_emulated_are_violations(tmp_path: Path) -> None:
    minimal = {
        "methods": {
            "sendDice": {
                "name": "sendDice",
                "fields": [
                    {
                        "name": "chat_id",
                        "types": ["Integer", "String"],
                        "required": True,
                        "description": "",
                    }
                ],
            }
        },
        "types": {},
    }
    spec_file = tmp_path / "api.json"
    spec_file.write_text(json.dumps(minimal))
    async with Emulator(token="1:T", spec_path=str(spec_file)) as emu:
        status, body = await raw_call(emu, "sendDice", {"chat_id": "5"})
        assert status == 400 and "not emulated" in body["description"]
        status, _ = await raw_call(emu, "getMe")
        assert status == 404  # this spec has no getMe
        assert emu.violations == ["sendDice is in the Bot API but not emulated"]
