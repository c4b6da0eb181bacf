"""An export's PDF is drawn by fpdf2, which names characters its fonts lack in a warning:
a person's name could reach the log that way. nabat holds that library quiet."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from fpdf import FPDF

from bot.logs import quiet_libraries

FONTS = Path(__file__).resolve().parents[2] / "bot" / "words" / "fonts"


def test_a_character_no_embedded_font_has_is_not_named_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    previous = quiet_libraries("DEBUG")  # even at the most talkative setting
    try:
        with caplog.at_level(logging.DEBUG):
            pdf = FPDF()
            pdf.add_font("DejaVu", fname=str(FONTS / "DejaVuSans.ttf"))
            pdf.add_page()
            pdf.set_font("DejaVu", size=12)
            pdf.cell(text="Имя: 张伟")  # Han characters: in neither embedded font
            pdf.output()
    finally:
        for name, level in previous.items():
            logging.getLogger(name).setLevel(level)
    assert not [r for r in caplog.records if "张" in r.getMessage() or "\\u5f20" in r.getMessage()]
