"""Where things are in the raw text of a rota file: the line of each table header and
`key =` line, since tomllib gives no positions."""

from __future__ import annotations

import re
import tomllib

Path_ = tuple[str | int, ...]  # ("rotation", 0, "override", 1): a table, by position

_BARE = r"[A-Za-z0-9_-]+"
_BASIC = r'"(?:[^"\\]|\\.)*"'
_LITERAL = r"'[^']*'"
_PART = re.compile(rf"{_BARE}|{_BASIC}|{_LITERAL}")
_DOTTED = rf"(?:{_BARE}|{_BASIC}|{_LITERAL})(?:\s*\.\s*(?:{_BARE}|{_BASIC}|{_LITERAL}))*"
_HEADER = re.compile(rf"\s*(\[\[?)\s*({_DOTTED})\s*\]")
_KEY = re.compile(rf"\s*({_DOTTED})\s*=")


def _key_text(part: str) -> str:
    # tomllib decodes a quoted key exactly as it did when it read the file.
    try:
        return next(iter(tomllib.loads(f"{part} = 0")))
    except tomllib.TOMLDecodeError:  # a misread line costs a line number, not the import
        return part


class _Lines:
    """Line numbers of table headers and `key =` lines, by table position and key."""

    def __init__(self, text: str) -> None:
        self._headers: dict[Path_, int] = {}
        self._keys: dict[tuple[Path_, str], int] = {}
        self._arrays: dict[Path_, int] = {}  # array-of-tables path -> elements seen
        self._depth = 0  # open brackets and braces of a value that spans lines
        self._string: str | None = None  # the quotes of an open multi-line string
        current: Path_ = ()
        # TOML counts lines by "\n" only, as tomllib's own messages do.
        for number, line in enumerate(text.split("\n"), 1):
            if self._string or self._depth > 0:
                self._consume(line)
                continue
            if header := _HEADER.match(line):
                current = self._enter(header.group(1) == "[[", header.group(2))
                self._headers.setdefault(current, number)
            elif key := _KEY.match(line):
                first = _PART.match(key.group(1))
                assert first is not None  # _DOTTED starts with a part
                self._keys.setdefault((current, _key_text(first.group())), number)
                self._consume(line[key.end() :])

    def _enter(self, array: bool, dotted: str) -> Path_:
        parts = [_key_text(p) for p in _PART.findall(dotted)]
        path: Path_ = ()
        for part in parts[:-1]:
            path += (part,)
            if path in self._arrays:
                path += (self._arrays[path] - 1,)
        path += (parts[-1],)
        if array:
            self._arrays[path] = self._arrays.get(path, 0) + 1
            path += (self._arrays[path] - 1,)
        return path

    def _consume(self, text: str) -> None:
        """Follow strings, comments and brackets so a value's later lines are not keys."""
        i = 0
        while i < len(text):
            if self._string is not None:
                if self._string == '"""' and text[i] == "\\":
                    i += 2
                elif text.startswith(self._string, i):
                    i += 3
                    self._string = None
                else:
                    i += 1
                continue
            c = text[i]
            if c == "#":
                return
            if text.startswith('"""', i) or text.startswith("'''", i):
                self._string = text[i : i + 3]
                i += 3
            elif c == '"':
                i += 1
                while i < len(text) and text[i] != '"':
                    i += 2 if text[i] == "\\" else 1
                i += 1
            elif c == "'":
                end = text.find("'", i + 1)
                i = len(text) if end < 0 else end + 1
            else:
                self._depth += (c in "[{") - (c in "]}")
                i += 1

    def line(self, path: Path_, key: str | None = None) -> int:
        if key is not None:
            if (path, key) in self._keys:
                return self._keys[(path, key)]
            if (*path, key) in self._headers:  # [contacts] is a key of the top level
                return self._headers[(*path, key)]
            if (*path, key, 0) in self._headers:  # an array of tables: its first header
                return self._headers[(*path, key, 0)]
        if path in self._headers:
            return self._headers[path]
        if not path:
            return 1
        # No header: an inline table, found where its parent's key is written.
        if isinstance(path[-1], int):
            return self.line(path[:-2], str(path[-2]))
        return self.line(path[:-1], path[-1])
