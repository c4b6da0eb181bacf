"""Message text as Telegram reads it: HTML parse mode, entities and their UTF-16 offsets.

The HTML parser is deliberately as strict as Telegram's: an unsupported tag (`<br>`, `<p>`),
an unbalanced tag or a bare `<` fails the whole message with "can't parse entities", which
is the mistake a bot most often makes when it forgets to escape user input.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
MAX_BUTTONS = 100

_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "code": "code",
    "pre": "pre",
    "a": "text_link",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
# Telegram knows only these named entities; every numeric one works.
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z]+);")
_TAG_NAME_RE = re.compile(r"[^\s>]*")
_ATTR_NAME_RE = re.compile(r"[^\s=>]+")
_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?!\w)")


class EntityParseError(ValueError):
    """The text is not valid in its parse mode; str() is Telegram's detail."""


class ParseModeError(ValueError):
    """parse_mode names no mode Telegram knows."""


def utf16_len(text: str) -> int:
    """Telegram counts entity offsets and lengths in UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    entity: dict[str, Any]
    start: int


@dataclass
class _Output:
    parts: list[str] = field(default_factory=list)
    length16: int = 0

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length16 += utf16_len(text)


def _decode_entity(match: re.Match[str]) -> str | None:
    body = match.group(1)
    if body.startswith("#"):
        code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
        return chr(code) if 0 < code <= 0x10FFFF else None
    return _NAMED.get(body.lower())


def _unescape(text: str) -> str:
    def replace(match: re.Match[str]) -> str:
        decoded = _decode_entity(match)
        return match.group(0) if decoded is None else decoded

    return _ENTITY_RE.sub(replace, text)


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _parse_attributes(source: str, pos: int, tag_at: int) -> tuple[dict[str, str], int]:
    """Attributes from `pos` up to the closing `>`; returns them and the index of `>`."""
    attributes: dict[str, str] = {}
    while True:
        while pos < len(source) and source[pos].isspace():
            pos += 1
        if pos >= len(source):
            raise EntityParseError(f"Unclosed start tag at byte offset {tag_at}")
        if source[pos] == ">":
            return attributes, pos
        name_match = _ATTR_NAME_RE.match(source, pos)
        assert name_match is not None  # the class matches at least the current character
        name, pos = name_match.group().lower(), name_match.end()
        value = ""
        if pos < len(source) and source[pos] == "=":
            pos += 1
            if pos < len(source) and source[pos] in "\"'":
                end = source.find(source[pos], pos + 1)
                if end < 0:
                    raise EntityParseError(f"Unclosed start tag at byte offset {tag_at}")
                value, pos = source[pos + 1 : end], end + 1
            else:
                value_match = _TAG_NAME_RE.match(source, pos)
                assert value_match is not None
                value, pos = value_match.group(), value_match.end()
        attributes[name] = _unescape(value)


def _entity_for(tag: str, attributes: dict[str, str], tag_at: int) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": _TAGS[tag]}
    if tag == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {tag_at}')
    if tag == "a":
        entity["url"] = attributes.get("href", "")
    if tag == "tg-emoji":
        if "emoji-id" not in attributes:
            raise EntityParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {tag_at}'
            )
        entity["custom_emoji_id"] = attributes["emoji-id"]
    if tag == "code" and attributes.get("class", "").startswith("language-"):
        entity["language"] = attributes["class"].removeprefix("language-")
    if tag == "blockquote" and "expandable" in attributes:
        entity["type"] = "expandable_blockquote"
    return entity


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Plain text and entities, or EntityParseError with Telegram's wording."""
    out = _Output()
    stack: list[_Open] = []
    entities: list[dict[str, Any]] = []
    pos = 0
    while pos < len(source):
        char = source[pos]
        if char == "&":
            match = _ENTITY_RE.match(source, pos)
            decoded = _decode_entity(match) if match else None
            if match and decoded is not None:
                out.add(decoded)
                pos = match.end()
            else:  # an unknown entity stays as written, like Telegram does
                out.add("&")
                pos += 1
            continue
        if char != "<":
            out.add(char)
            pos += 1
            continue
        tag_at = _byte_offset(source, pos)
        if source.startswith("</", pos):
            end = source.find(">", pos)
            if end < 0:
                raise EntityParseError(f"Unclosed end tag at byte offset {tag_at}")
            name = source[pos + 2 : end].strip().lower()
            if not stack:
                raise EntityParseError(f'Unexpected end tag "{name}" at byte offset {tag_at}')
            top = stack.pop()
            if name != top.tag:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {tag_at}, expected "</{top.tag}>", '
                    f'found "</{name}>"'
                )
            length = out.length16 - top.start
            if length > 0 and (top.entity["type"] != "text_link" or top.entity["url"]):
                entities.append({**top.entity, "offset": top.start, "length": length})
            pos = end + 1
            continue
        name_match = _TAG_NAME_RE.match(source, pos + 1)
        assert name_match is not None
        name = name_match.group().lower()
        if name_match.end() >= len(source):
            raise EntityParseError(f"Unclosed start tag at byte offset {tag_at}")
        if name not in _TAGS:
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {tag_at}')
        attributes, close = _parse_attributes(source, name_match.end(), tag_at)
        stack.append(_Open(name, _entity_for(name, attributes, tag_at), out.length16))
        pos = close + 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out.parts), entities


def render(text: str, parse_mode: str | None) -> tuple[str, list[dict[str, Any]]]:
    """Text after entity parsing. MarkdownV2 and Markdown are passed through unparsed."""
    if parse_mode is None or parse_mode == "":
        return text, []
    mode = parse_mode.lower()
    if mode == "html":
        return parse_html(text)
    if mode in ("markdown", "markdownv2"):
        return text, []
    raise ParseModeError(parse_mode)


def command_entities(text: str) -> list[dict[str, Any]]:
    """bot_command entities, as Telegram adds them to what a user types."""
    return [
        {
            "type": "bot_command",
            "offset": utf16_len(text[: m.start()]),
            "length": utf16_len(m.group()),
        }
        for m in _COMMAND_RE.finditer(text)
    ]


def callback_data_valid(data: Any) -> bool:
    return isinstance(data, str) and 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_DATA
