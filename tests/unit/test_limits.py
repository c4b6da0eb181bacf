"""What the outbox queues always fits Telegram's limits (bot/limits.py, Outbox.fit)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.delivery.outbox import fit, fit_edit
from bot.domain.limits import MAX_BUTTONS, MAX_CAPTION, MAX_TEXT, clip, fits, length, split_text
from bot.domain.models import Button, Notice
from bot.words.catalogue import chunk_lines, render

# Letters, line breaks, spaces, and characters outside the BMP (two UTF-16 units each).
TEXT = st.text(
    alphabet=st.sampled_from(["a", "Ж", "가", " ", "\n", "😀", "𝔘"]), min_size=0, max_size=9000
)


@settings(max_examples=200, deadline=None)
@given(TEXT, st.integers(min_value=2, max_value=5000))
def test_split_text_keeps_every_piece_within_the_limit_and_loses_only_the_cut_separators(
    text: str, limit: int
) -> None:
    pieces = split_text(text, limit)
    assert all(length(p) <= limit for p in pieces)
    assert "".join(pieces).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )


def test_split_text_cuts_at_a_line_break_then_a_space() -> None:
    assert split_text("aaaa\nbb cc", 8) == ["aaaa", "bb cc"]
    assert split_text("aaaa bbbbbb", 8) == ["aaaa", "bbbbbb"]
    assert split_text("a" * 10, 4) == ["aaaa", "aaaa", "aa"]


def test_clip_counts_characters_outside_the_bmp_twice() -> None:
    assert clip("😀" * 5, 5) == "😀😀…"
    assert length(clip("😀" * 5000, MAX_TEXT)) <= MAX_TEXT
    assert clip("short", 10) == "short"


@settings(max_examples=100, deadline=None)
@given(TEXT)
def test_a_notice_of_any_length_becomes_messages_that_fit_with_the_buttons_on_the_first(
    text: str,
) -> None:
    notice = Notice(
        "text.block",
        {"text": text},
        buttons=((Button("button.ack", "ack:1"),),),
        protect=True,
    )
    parts = fit(notice)
    rendered = [render(p) for p in parts]
    assert all(fits(r.text, MAX_TEXT) for r in rendered)
    assert rendered[0].buttons and not any(r.buttons for r in rendered[1:])
    assert all(r.protect for r in rendered)
    joined = "".join(r.text for r in rendered)
    assert joined.replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")


def test_a_caption_is_clipped_and_an_edit_is_clipped_not_split() -> None:
    voice = Notice("text.block", {"text": "v" * 5000}, media={"type": "voice", "file_id": "F"})
    (only,) = fit(voice)
    assert len(render(only).text) == MAX_CAPTION and only.media == voice.media
    edit = fit_edit(Notice("text.block", {"text": "e" * 5000}))
    assert len(render(edit).text) == MAX_TEXT


def test_a_keyboard_over_the_limit_keeps_its_first_hundred_buttons() -> None:
    rows = tuple((Button("button.raw", f"b:{i}", {"label": str(i)}),) for i in range(150))
    (notice,) = fit(Notice("text.block", {"text": "choose"}, buttons=rows))
    assert sum(len(r) for r in notice.buttons) == MAX_BUTTONS
    assert notice.buttons[0][0].data == "b:0"


def test_callback_data_over_64_bytes_is_refused_where_the_button_is_made() -> None:
    Button("button.ack", "x" * 64)
    with pytest.raises(ValueError, match="1 to 64 bytes"):
        Button("button.ack", "ж" * 33)  # 66 bytes
    with pytest.raises(ValueError):
        Button("button.ack", "")


def test_chunk_lines_cuts_a_line_longer_than_a_message() -> None:
    blocks = chunk_lines(["head", "x" * 9000, "tail"])
    assert all(len(b) <= MAX_TEXT for b in blocks)
    assert "".join(blocks).replace("\n", "") == "head" + "x" * 9000 + "tail"
