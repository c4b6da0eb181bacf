"""A case file as text, in the reader's language: one line per filled-in field (a list
item is one line), labels from the catalogue, values as written. Empty fields are left
out; `case_lines` of an empty case file is empty (the caller says so)."""

from __future__ import annotations

from dataclasses import fields

from bot.domain.casefile import ITEM_DATES, LISTS, CaseFile, Item
from bot.words.catalogue import text


def label(name: str, lang: str) -> str:
    """A text field's label ('Date of birth'), or a list's ('Documents')."""
    return text(f"case.f.{name}", lang)


def case_lines(case: CaseFile, lang: str) -> list[str]:
    lines: list[str] = []
    for f in fields(case):
        value = getattr(case, f.name)
        if isinstance(value, str):
            if value:
                lines.append(f"{label(f.name, lang)}: {value}")
        else:
            lines += [item_line(f.name, i, item, lang) for i, item in enumerate(value, 1)]
    return lines


def item_line(name: str, number: int, item: Item, lang: str) -> str:
    """'Document 1 (passport): No. 12 3456789, issued 2020-01-31, expires 2030-01-30'."""
    assert name in LISTS
    head = text(f"case.item.{name}", lang, n=number)
    kind = getattr(item, "kind", "")
    parts: list[str] = []
    for g in fields(item):
        value = getattr(item, g.name)
        if g.name == "kind" or not value:
            continue
        if g.name == "number" or g.name in ITEM_DATES:
            parts.append(text(f"case.part.{g.name}", lang, value=value))
        else:
            parts.append(value)
    shown = f"{head} ({kind})" if kind else head
    return f"{shown}: {', '.join(parts)}" if parts else shown
