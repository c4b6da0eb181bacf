"""Translations: gettext catalogues (.po), managed with Babel, read when first needed.

One message per catalogue key: in `bot/words/locale/<lang>/LC_MESSAGES/nabat.po` each
entry's context (msgctxt) is the key and its msgid the English text in
`bot/words/catalogue.py`, so the same English in two places ("Cancel" on a button, in a
sentence) can be translated twice, and a translator sees where a string is used.

The .po files are compiled in memory the first time a language is used (Babel reads
them), so an installed package and the Docker image carry them and need no build step.
A translation is used only if it is not fuzzy and was made for the English that is in
the code now; anything else falls back to English. `python -m bot.words.pot` rewrites the
template and merges it into every language (tests/unit/test_translations.py checks that
nothing is missing, stale or given other placeholders).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_skeleton
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from bot.domain.models import LANGUAGES

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "nabat"
SOURCE = LANGUAGES[0]
NO_LATIN = frozenset({"ko"})  # languages whose readers get no Latin letters they need not


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog | None:
    path = po_path(lang)
    if not path.exists():
        return None
    with path.open("rb") as f:
        return read_po(f, locale=lang, domain=DOMAIN)


@cache
def _messages(lang: str) -> dict[str, tuple[str, str]]:
    """key -> (the English it translates, the translation), usable entries only."""
    catalog = read_catalog(lang) if lang != SOURCE else None
    if catalog is None:
        return {}
    found: dict[str, tuple[str, str]] = {}
    for message in catalog:
        if not message.id or not message.context or message.fuzzy:
            continue
        if isinstance(message.id, str) and isinstance(message.string, str) and message.string:
            found[message.context] = (message.id, message.string)
    return found


def translated(key: str, english: str, lang: str) -> str:
    """`english` (the catalogue's text for `key`) in `lang`, or English if not translated
    for this very text."""
    entry = _messages(language_of(lang)).get(key)
    if entry is None or entry[0] != english:
        return english
    return entry[1]


def language_of(tag: str | None) -> str:
    """The nabat language for a tag like 'ko', 'ru-RU', 'en_GB' or 'pt-br'; '' if none."""
    if not tag:
        return ""
    base = tag.replace("-", "_").split("_")[0].lower()
    return base if base in LANGUAGES else ""


@cache
def language_name(lang: str, reader: str) -> str:
    """A language's name as the reader writes it: 'ko' for a Russian reader: 'корейский'."""
    name = Locale.parse(language_of(lang) or SOURCE).get_display_name(language_of(reader) or SOURCE)
    return name or lang


def format_when(moment: datetime, tz: str, lang: str, *, seconds: bool = False) -> str:
    """A time in a zone, as the reader's language writes dates, with the zone's
    abbreviation: '2026-03-01 09:10 UTC', '1 мар. 2026 г. 12:10 MSK',
    '2026년 3월 1일 18:10' (Korean: no Latin zone abbreviation; with seconds
    '18시 10분 5초'). English keeps the unambiguous ISO-like form."""
    try:
        local = moment.astimezone(ZoneInfo(tz))
    except (ZoneInfoNotFoundError, ValueError):
        local = moment.astimezone(UTC)
    zone = local.strftime("%Z")
    lang = language_of(lang) or SOURCE
    if lang == SOURCE:
        return local.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + f" {zone}"
    day = format_skeleton("yMMMd", local, locale=lang)
    clock = format_skeleton("Hms" if seconds else "Hm", local, locale=lang)
    if lang in NO_LATIN:
        # The reader's own zone (/tz) in every case; its Latin abbreviation would be the
        # only Latin in a contact's chat.
        return f"{day} {clock}"
    return f"{day} {clock} {zone}"
