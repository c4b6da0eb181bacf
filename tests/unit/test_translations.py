"""The catalogues (bot/words/locale): complete, current, same placeholders, Korean that a
contact can read without Latin letters, and user text never taken for a catalogue key."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.domain.models import LANGUAGES, Button, Notice
from bot.words.catalogue import CATALOGUE, CONTACT_KEYS, UNTRANSLATED, msg, render, text
from bot.words.locales import format_when, po_path
from bot.words.pot import placeholders, stale

TRANSLATED = [lang for lang in LANGUAGES if lang != "en"]
KEYS = [k for k in CATALOGUE if k not in UNTRANSLATED]


def catalog(lang: str) -> Catalog:
    with po_path(lang).open("rb") as f:
        return read_po(f, locale=lang)


def test_the_template_and_every_language_file_are_up_to_date_with_the_code() -> None:
    # `python -m bot.words.pot` rewrites them; a string added or changed in the catalogue
    # and not extracted fails here.
    assert stale() == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated_for_the_english_in_the_code(lang: str) -> None:
    found = {m.context: m for m in catalog(lang) if m.id}
    missing = [k for k in KEYS if k not in found or not found[k].string]
    fuzzy = [k for k in KEYS if k in found and found[k].fuzzy]
    stale_english = [k for k in KEYS if k in found and found[k].id != CATALOGUE[k]]
    assert (missing, fuzzy, stale_english) == ([], [], [])


@pytest.mark.parametrize("lang", TRANSLATED)
def test_translations_keep_the_placeholders_of_the_english(lang: str) -> None:
    cat = catalog(lang)
    differ = [
        (m.context, sorted(placeholders(m.id)), sorted(placeholders(m.string)))
        for m in cat
        if isinstance(m.id, str)
        and isinstance(m.string, str)
        and m.id
        and placeholders(m.id) != placeholders(m.string)
    ]
    assert differ == []
    # And Babel's own checkers (format flags, plural forms) find nothing either.
    assert [(m.context, errors) for m, errors in cat.check()] == []


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_translation_formats_with_the_parameters_the_code_passes(lang: str) -> None:
    for key in KEYS:
        params = {name.split(".")[0].split("[")[0]: 1.5 for name in placeholders(CATALOGUE[key])}
        assert text(key, lang, **params)


# Commands, their Latin arguments and durations may stay Latin; nothing else may.
_ALLOWED_LATIN = re.compile(r"/[a-z]+(@\w+)?|\b\d+[hmsd]\b|\b(en|ru|ko|off)\b|[<\[][^>\]]*[>\]]")


def test_a_korean_contact_reads_no_latin_letters_beyond_command_names() -> None:
    latin = re.compile(r"[A-Za-z]")
    now = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)
    sample = {
        "time": format_when(now, "Asia/Seoul", "ko"),
        "until": format_when(now, "Asia/Seoul", "ko"),
        "given": "가나",
        "language": text("lang.name.ko"),
        "current": text("lang.name.ko"),
    }
    found = {}
    for key in CONTACT_KEYS - {"lang.name.en", "lang.name.ru"}:
        params = {name: sample.get(name, "1") for name in placeholders(CATALOGUE[key])}
        shown = text(key, "ko", **params)
        if latin.search(_ALLOWED_LATIN.sub("", shown)):
            found[key] = shown
    assert found == {}


def test_the_reminder_button_and_the_duress_prompt_are_korean_for_a_korean_contact() -> None:
    assert text("button.checkin_ok", "ko") != "OK"
    assert re.search(r"[\uac00-\ud7a3]", text("checkin.pin_second", "ko"))


def test_user_text_equal_to_a_catalogue_key_is_shown_as_written() -> None:
    for words in ("contact.received", "role.contact", "neutral"):
        shown = render(Notice("text.block", {"text": words}, lang="ru"))
        assert shown.text == words
    # Only a value marked as a message is one.
    marked = render(Notice("enrol.already", {"role": msg("role.contact")}, lang="en"))
    assert "contact" in marked.text and "role.contact" not in marked.text


def test_a_button_label_and_a_message_are_in_the_readers_language() -> None:
    notice = Notice("checkin.reminder", buttons=((Button("button.checkin_ok", "ck"),),), lang="ko")
    shown = render(notice)
    assert shown.text == text("checkin.reminder", "ko") != CATALOGUE["checkin.reminder"]
    assert shown.buttons[0][0][0] == text("button.checkin_ok", "ko")


def test_an_unknown_language_reads_english() -> None:
    assert text("contact.received", "pt") == CATALOGUE["contact.received"]


# What a contact's phone must never show in nabat's own words (a phrase a lawyer chooses
# to send, `phrase.*`, is theirs to word).
TELLING = {
    "en": ("lawyer", "attorney", "alert", "duress", "danger", "safe", "organisation", "case"),
    "ru": ("адвокат", "юрист", "тревог", "принужд", "опасн", "дело"),
    "ko": ("변호사", "경보", "강요", "위험", "안전", "사건"),
}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_what_a_contact_reads_names_no_lawyer_alert_danger_or_duress(lang: str) -> None:
    now = datetime(2026, 3, 1, 9, 10, tzinfo=UTC)
    found = {}
    for key in sorted(CONTACT_KEYS):
        if key.startswith("phrase."):
            continue
        params = {
            name: format_when(now, "UTC", lang) if name in ("time", "until") else "1"
            for name in placeholders(CATALOGUE[key])
        }
        shown = text(key, lang, **params).casefold()
        words = [w for w in TELLING[lang] if re.search(rf"(?<![\w-]){w}", shown)]
        if words:
            found[key] = words
    assert found == {}
