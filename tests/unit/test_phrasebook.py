"""NABAT_PHRASEBOOK: the organisation's phrases, checked at start; nabat's own otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.domain.errors import SettingsError
from bot.words.phrases import DEFAULT_IDS, Phrasebook
from config import load_settings
from config.phrasebook import MAX_PHRASES, load_phrasebook

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZ"
KO = "변호사가 올 때까지 대답하지 마십시오."
GOOD = """
[[phrase]]
id = "wait"
en = "Wait for the lawyer before you answer."
ru = "Дождитесь адвоката, прежде чем отвечать."
ko = "변호사가 올 때까지 대답하지 마십시오."
"""


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "phrases.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_an_organisations_phrasebook_replaces_nabats_own(tmp_path: Path) -> None:
    settings = load_settings(
        {"NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_PHRASEBOOK": str(write(tmp_path, GOOD))},
    )
    book = Phrasebook(settings.phrasebook)
    assert book.ids == ("wait",)
    assert book.text(0, "ko") == "변호사가 올 때까지 대답하지 마십시오."
    assert book.text(0, "ru").startswith("Дождитесь")


def test_without_the_setting_nabats_six_phrases_are_translated() -> None:
    book = Phrasebook()
    assert book.ids == DEFAULT_IDS
    assert book.text(0, "en") == "Do not sign anything."
    assert book.text(0, "ru") != book.text(0, "en") != book.text(0, "ko")


@pytest.mark.parametrize(
    ("body", "complaint"),
    [
        (
            GOOD.replace('ko = "변호사가 올 때까지 대답하지 마십시오."\n', ""),
            "phrase 1 (wait): ko: missing",
        ),
        (GOOD.replace('id = "wait"', 'id = "Wait!"'), "phrase 1: id must be"),
        (GOOD + GOOD, "phrase 2: id 'wait' is used twice"),
        (GOOD.replace('en = "', 'fr = "x"\nen = "'), "unknown key 'fr'"),
        (GOOD.replace("Wait for", "W" * 400), "en: longer than 300"),
        ("[phrase]\nid = 1", "expected [[phrase]] tables"),
        ("", "no phrases"),
        ("[[phrase]\n", "phrases.toml"),
        (GOOD * (MAX_PHRASES + 1), f"at most {MAX_PHRASES}"),
    ],
)
def test_a_bad_phrasebook_stops_the_start_naming_the_phrase_and_field(
    tmp_path: Path, body: str, complaint: str
) -> None:
    path = write(tmp_path, body)
    with pytest.raises(ValueError) as error:
        load_phrasebook(path)
    assert complaint in str(error.value)
    with pytest.raises(SettingsError) as stopped:
        load_settings({"NABAT_TELEGRAM_TOKEN": TOKEN, "NABAT_PHRASEBOOK": str(path)})
    assert stopped.value.setting == "NABAT_PHRASEBOOK"


def test_a_missing_phrasebook_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot read"):
        load_phrasebook(tmp_path / "nope.toml")
