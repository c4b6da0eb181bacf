"""Small pieces that every command's parser shares: numbers people type, and their
input quoted back in a reply.

`str.isdigit()` is True for '²' and '٣'; `int()` refuses the first and reads the second,
and also takes '１２' and '1_000'. None of that is a number anyone was asked for, so a
number here is ASCII digits only, with a length bound that keeps it inside SQLite's
integers (and far from `int()`'s 4300-digit limit).
"""

from __future__ import annotations

import unicodedata

MAX_DIGITS = 12
QUOTED = 40


def whole_number(raw: str, *, max_digits: int = MAX_DIGITS) -> int | None:
    """`raw` as a number when it is 1 to `max_digits` ASCII digits and nothing else."""
    if 0 < len(raw) <= max_digits and raw.isascii() and raw.isdigit():
        return int(raw)
    return None


def quoted(raw: str, limit: int = QUOTED) -> str:
    """What someone typed, fit to quote in a reply: one line, printable, at most `limit`.

    A reply that echoed a whole message back could pass Telegram's 4096 characters and
    never arrive; a control character in it is no use to the reader either.
    """
    flat = " ".join("".join(c if c.isprintable() else " " for c in raw).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def has_control(text: str) -> bool:
    """Whether `text` holds a control character or a lone surrogate: not text anyone writes."""
    return any(unicodedata.category(c) in ("Cc", "Cs") for c in text)


__all__ = ["MAX_DIGITS", "QUOTED", "has_control", "quoted", "whole_number"]
