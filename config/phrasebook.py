"""The organisation's own phrasebook (NABAT_PHRASEBOOK): what a lawyer can send a contact
with one button, in each language nabat speaks. Read and checked once, at start.

    [[phrase]]
    id = "do_not_sign"                 # a-z, 0-9 and _, up to 24; each once
    en = "Do not sign anything."
    ru = "Ничего не подписывайте."
    ko = "아무것도 서명하지 마십시오."

Without the setting, nabat's own phrases are used (bot/words/catalogue.py, `phrase.*`,
translated like every other message). With it, the file replaces them all.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from bot.domain.models import LANGUAGES

MAX_PHRASES = 12  # one button each, under the contact's name: a phone screen
MAX_TEXT = 300
_ID = re.compile(r"[a-z][a-z0-9_]{0,23}", re.ASCII)


@dataclass(frozen=True, slots=True)
class Phrase:
    id: str
    texts: tuple[tuple[str, str], ...]  # (language, text), one per language nabat speaks

    def text(self, lang: str) -> str:
        found = dict(self.texts)
        return found.get(lang) or found[LANGUAGES[0]]


def load_phrasebook(path: Path) -> tuple[Phrase, ...]:
    """The phrases in the file; ValueError names the phrase and the field that is wrong."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or type(exc).__name__}") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{path}: {exc}") from None
    unknown = sorted(set(data) - {"phrase"})
    if unknown:
        raise ValueError(f"{path}: unknown table {unknown[0]!r}; expected [[phrase]] tables")
    tables = data.get("phrase")
    if isinstance(tables, dict):
        raise ValueError(
            f"{path}: write each phrase as [[phrase]], not [phrase]: expected [[phrase]] tables"
        )
    if not isinstance(tables, list) or not tables:
        raise ValueError(f"{path}: no phrases; write each as a [[phrase]] table")
    if len(tables) > MAX_PHRASES:
        raise ValueError(f"{path}: {len(tables)} phrases; at most {MAX_PHRASES}")
    phrases: list[Phrase] = []
    for n, table in enumerate(tables, start=1):
        phrases.append(_phrase(path, n, table, {p.id for p in phrases}))
    return tuple(phrases)


def _phrase(path: Path, n: int, table: object, seen: set[str]) -> Phrase:
    where = f"{path}: phrase {n}"
    if not isinstance(table, dict):
        raise ValueError(f"{where}: expected a [[phrase]] table")
    extra = sorted(set(table) - {"id", *LANGUAGES})
    if extra:
        raise ValueError(f"{where}: unknown key {extra[0]!r}; expected id, " + ", ".join(LANGUAGES))
    phrase_id = table.get("id")
    if not isinstance(phrase_id, str) or not _ID.fullmatch(phrase_id):
        raise ValueError(f"{where}: id must be a-z, 0-9 and _, starting with a letter, up to 24")
    if phrase_id in seen:
        raise ValueError(f"{where}: id {phrase_id!r} is used twice")
    texts = []
    for lang in LANGUAGES:
        value = table.get(lang)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(
                f"{where} ({phrase_id}): {lang}: missing; every phrase needs "
                + ", ".join(LANGUAGES)
            )
        value = value.strip()
        if len(value) > MAX_TEXT:
            raise ValueError(f"{where} ({phrase_id}): {lang}: longer than {MAX_TEXT} characters")
        if any(unicodedata.category(ch) == "Cc" and ch != "\n" for ch in value):
            raise ValueError(f"{where} ({phrase_id}): {lang}: has a control character")
        texts.append((lang, value))
    return Phrase(phrase_id, tuple(texts))
