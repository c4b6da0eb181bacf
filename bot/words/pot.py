"""Extraction: `python -m bot.words.pot` writes the template (nabat.pot) from the catalogue
and merges it into every language's .po file.

Each message's context is its catalogue key; its comments say who reads it and which
placeholders it must keep. New English leaves a message fuzzy until a translator checks
it (a fuzzy message is not used: the reader gets English). `--check` writes nothing and
exits 1 if a file is out of date (tests/unit/test_translations.py runs the same check).
"""

from __future__ import annotations

import argparse
import io
import string
import sys
from datetime import UTC, datetime
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from bot.domain.models import LANGUAGES
from bot.words.catalogue import CATALOGUE, CONTACT_KEYS, UNTRANSLATED
from bot.words.locales import DOMAIN, LOCALE_DIR, po_path, read_catalog

FIXED_DATE = datetime(2026, 1, 1, tzinfo=UTC)  # stable headers: a rewrite changes nothing


def placeholders(text: str) -> set[str]:
    """The {fields} a message formats (a doubled {{ is a literal brace)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def template() -> Catalog:
    catalog = Catalog(
        domain=DOMAIN,
        project="nabat",
        version="1",
        copyright_holder="nabat",
        creation_date=FIXED_DATE,
        revision_date=FIXED_DATE,
        fuzzy=False,
    )
    for key, english in CATALOGUE.items():
        if key in UNTRANSLATED:
            continue
        notes = []
        if key in CONTACT_KEYS:
            notes.append(
                "CONTACT: read on a phone that others may read. Plain and short; say no "
                "more than the English does: never a lawyer, an organisation or a case."
            )
        fields = sorted(placeholders(english))
        if fields:
            notes.append("Keep: " + ", ".join("{" + f + "}" for f in fields))
        if "/" in english:
            notes.append("Commands (/panic, /ok ...) stay in Latin letters.")
        catalog.add(english, context=key, auto_comments=notes)
    return catalog


def _dump(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(out, catalog, width=0, sort_output=False, omit_header=False)
    return out.getvalue()


def rendered() -> dict[str, bytes]:
    """Every file as it should be: the template, and each language merged with it."""
    pot = template()
    files = {str(LOCALE_DIR / f"{DOMAIN}.pot"): _dump(pot)}
    for lang in LANGUAGES:
        existing = read_catalog(lang)
        catalog = existing if existing is not None else Catalog(locale=lang, domain=DOMAIN)
        catalog.update(pot, no_fuzzy_matching=True, update_header_comment=False)
        catalog.obsolete.clear()  # a key that is gone leaves with its translation
        catalog.revision_date = FIXED_DATE
        catalog.creation_date = FIXED_DATE
        catalog.fuzzy = False
        catalog.project, catalog.version = "nabat", "1"
        files[str(po_path(lang))] = _dump(catalog)
    return files


def _content(data: bytes) -> list[tuple[object, ...]]:
    """What a file says, message by message: not how this Babel version lays it out."""
    catalog = read_po(io.BytesIO(data))
    return [
        (m.context, m.id, m.string, m.fuzzy, " ".join(m.auto_comments)) for m in catalog if m.id
    ]


def stale() -> list[str]:
    """Files whose messages (keys, English, translations, notes) differ from the code's."""
    out = []
    for path, data in rendered().items():
        file = Path(path)
        if not file.exists() or _content(file.read_bytes()) != _content(data):
            out.append(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.words.pot", description=__doc__)
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    args = parser.parse_args(argv)
    if args.check:
        behind = stale()
        for path in behind:
            print(f"out of date: {path}")
        return 1 if behind else 0
    for path, data in rendered().items():
        file = Path(path)
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(data)
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
