"""Telegram's limits on what a bot sends, and cutting text to fit them. Pure; no imports.

Telegram refuses, for good, a message over 4096 characters, a caption over 1024, callback
data over 64 bytes, and a keyboard of more than about 100 buttons (not documented; the
server answers "reply markup is too long"). A refused page is a lawyer not woken, so
nothing nabat queues may exceed them: lengths are counted in UTF-16 code units, which is
never fewer than Telegram's own count.
"""

from __future__ import annotations

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64  # bytes of UTF-8
MAX_BUTTONS = 100
MAX_UPLOAD = 50 * 1024 * 1024  # bytes in one file a bot sends (sendDocument)
# What long text is cut into: well inside MAX_TEXT, leaving room for a line that says
# which part of how many this is.
BLOCK = 3500
ELLIPSIS = "…"


def length(text: str) -> int:
    """Length as Telegram may count it (UTF-16 code units; an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def fits(text: str, limit: int = MAX_TEXT) -> bool:
    return length(text) <= limit


def split_text(text: str, limit: int = BLOCK) -> list[str]:
    """`text` in pieces of at most `limit` UTF-16 units, cut at a line break where one is
    in the second half of a piece, else at a space, else anywhere. Joined again they give
    back the text, less the line breaks or spaces cut at."""
    if limit < 2:
        raise ValueError("limit must be at least 2")
    pieces: list[str] = []
    rest = text
    while not fits(rest, limit):
        cut = _prefix_within(rest, limit)
        head = rest[:cut]
        for sep in ("\n", " "):
            at = head.rfind(sep)
            if at >= cut // 2:
                pieces.append(rest[:at])
                rest = rest[at + 1 :]
                break
        else:
            pieces.append(head)
            rest = rest[cut:]
    if rest or not pieces:
        pieces.append(rest)
    return pieces


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` UTF-16 units, ending in an ellipsis when cut."""
    if fits(text, limit):
        return text
    return text[: _prefix_within(text, limit - 1)] + ELLIPSIS


def _prefix_within(text: str, limit: int) -> int:
    """How many characters from the start fit in `limit` UTF-16 units."""
    used = 0
    for i, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return i
    return len(text)
