"""Problems with a rota file, and its tables as error messages name them: each problem is
reported on the line of the key or table it is about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.errors import NabatError
from bot.services.rota_file.lines import Path_, _Lines


class RotaFileError(NabatError):
    """A rota file cannot be imported; `errors` holds one line per problem, in file order."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = tuple(errors)


@dataclass
class _Problems:
    source: str
    lines: _Lines
    found: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, where: str, what: str, problem: str) -> None:
        self.found.append((line, f"{self.source}:{line}: {where}: {what}: {problem}"))

    def messages(self) -> list[str]:
        return [message for _, message in sorted(self.found, key=lambda f: f[0])]


def _shown(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat() + ("" if value.tzinfo else " (no UTC offset)")
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    return f"a {type(value).__name__}"


class _Table:
    """One table of the file, with what error messages say about it."""

    def __init__(self, data: dict[str, Any], path: Path_, where: str, problems: _Problems):
        self.data = data
        self.path = path
        self.where = where
        self.problems = problems

    def error(self, key: str, problem: str) -> None:
        """Report `problem` with `key` on its line, or on the table's when it is missing."""
        lines = self.problems.lines
        line = lines.line(self.path, key) if key in self.data else lines.line(self.path)
        self.problems.add(line, self.where, key, problem)

    def value_error(self, exc: ValueError) -> None:
        """Domain rota messages read "field: problem"; the field is one of this table's keys."""
        what, _, problem = str(exc).partition(": ")
        self.error(what, problem)

    def check_keys(self, allowed: Sequence[str], required: Sequence[str]) -> None:
        for key in self.data:
            if key not in allowed:
                self.error(key, f"unknown key; valid keys are {', '.join(allowed)}")
        for key in required:
            if key not in self.data:
                self.error(key, "missing")

    def text(self, key: str, default: str | None = None) -> str | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.error(key, f"expected non-empty text, got {_shown(value)}")
            return None
        return value

    def whole(self, key: str, default: int | None = None) -> int | None:
        value = self.data.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.error(key, f"expected a whole number, got {_shown(value)}")
            return None
        return value

    def flag(self, key: str, default: bool) -> bool | None:
        value = self.data.get(key, default)
        if not isinstance(value, bool):
            self.error(key, f"expected true or false, got {_shown(value)}")
            return None
        return value

    def moment(self, key: str) -> datetime | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, datetime) or value.utcoffset() is None:
            self.error(
                key,
                "expected an offset date-time such as 2026-03-02T09:00:00+03:00,"
                f" got {_shown(value)}",
            )
            return None
        return value

    def texts(self, key: str) -> list[str] | None:
        value = self.data.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.error(key, f"expected an array of text, got {_shown(value)}")
            return None
        return value

    def tables(self, key: str, header: str) -> list[dict[str, Any]]:
        value = self.data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.error(key, f"expected tables written as [[{header}]], got {_shown(value)}")
            return []
        return value
