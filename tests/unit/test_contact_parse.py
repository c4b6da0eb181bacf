"""What a contact sends is always something for someone to read (handlers/contact.py)."""

from __future__ import annotations

import pytest
from telegram import Message

from bot.services.alerts import Incoming
from handlers.contact import parse_message

BASE = {"message_id": 7, "date": 0, "chat": {"id": 5, "type": "private"}}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"document": {"file_id": "D", "file_unique_id": "d"}, "caption": "at Lenina 5"},
            "[document] at Lenina 5",
        ),
        (
            {
                "sticker": {
                    "file_id": "S",
                    "file_unique_id": "s",
                    "type": "regular",
                    "width": 1,
                    "height": 1,
                    "is_animated": False,
                    "is_video": False,
                }
            },
            "[sticker]",
        ),
        ({"contact": {"phone_number": "+7000", "first_name": "Lawyer"}}, "[contact]"),
        ({"text": "/panik they took me"}, "/panik they took me"),
    ],
)
def test_a_message_nabat_cannot_relay_still_becomes_words_for_someone(
    fields: dict[str, object], expected: str
) -> None:
    message = Message.de_json({**BASE, **fields}, None)
    assert message is not None
    parsed = parse_message(message)
    assert parsed is not None and parsed.what is Incoming.TEXT and parsed.text == expected
    assert not parsed.panic
