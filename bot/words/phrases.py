"""The phrasebook: what a lawyer can send a contact with one button, in the contact's
language. nabat's own phrases are catalogue messages (`phrase.<id>`, translated like the
rest); an organisation's (NABAT_PHRASEBOOK, config/phrasebook.py) replace them."""

from __future__ import annotations

from bot.words.catalogue import text
from config.phrasebook import Phrase

DEFAULT_IDS = ("do_not_sign", "lawyer_interpreter", "stay", "location", "lawyer_coming", "write")


class Phrasebook:
    def __init__(self, custom: tuple[Phrase, ...] | None = None) -> None:
        self._custom = custom

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self._custom) if self._custom else DEFAULT_IDS

    def text(self, index: int, lang: str) -> str:
        """Phrase number `index` (0-based) in `lang`. IndexError if there is none."""
        if self._custom:
            return self._custom[index].text(lang)
        return text(f"phrase.{DEFAULT_IDS[index]}", lang)
