"""The Bot API specification the emulator validates calls against.

It comes from `api.json` (the published specification, kept outside the repository in
`../shared/telegram-bot-api/`) when that file exists, otherwise from the compact table in
`methods.py`, which covers only the methods nabat uses. Both end up as the same frozen
`ApiSpec`, so the validator never knows which one it got.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PRIMITIVES = frozenset({"Integer", "String", "Boolean", "Float", "InputFile"})
ARRAY_PREFIX = "Array of "

# In api.json a subtype's discriminator is only written in prose: BotCommandScopeChat's
# `type` says "Scope type, must be chat". Reading it lets a union of subtypes tell
# {"type": "chat"} (missing chat_id: an error) from BotCommandScopeDefault.
_CONST_RE = re.compile(r", must be ([a-z_]+)$")


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    const: str | None = None  # the one value a discriminator field may take


@dataclass(frozen=True)
class ObjectSpec:
    name: str
    fields: tuple[FieldSpec, ...] = ()
    subtypes: tuple[str, ...] = ()
    by_name: Mapping[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: tuple[FieldSpec, ...] = ()
    by_name: Mapping[str, FieldSpec] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_name", {f.name: f for f in self.fields})


@dataclass(frozen=True)
class ApiSpec:
    methods: Mapping[str, MethodSpec]  # canonical names, e.g. "sendMessage"
    types: Mapping[str, ObjectSpec]
    source: str  # the api.json path, or "compact table"
    _lower: Mapping[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_lower", {name.lower(): name for name in self.methods})

    def method(self, name: str) -> MethodSpec | None:
        """Telegram matches method names case-insensitively."""
        canonical = self._lower.get(name.lower())
        return self.methods[canonical] if canonical else None


def element_type(type_name: str) -> tuple[str, int]:
    """`Array of Array of X` -> ("X", 2)."""
    depth = 0
    while type_name.startswith(ARRAY_PREFIX):
        type_name = type_name[len(ARRAY_PREFIX) :]
        depth += 1
    return type_name, depth


def default_spec_path() -> Path:
    env = os.environ.get("NABAT_BOT_API_SPEC")
    if env:
        return Path(env)
    repo_root = Path(__file__).resolve().parents[2]
    return repo_root.parent / "shared" / "telegram-bot-api" / "api.json"


def load_spec(path: str | os.PathLike[str] | None = None) -> ApiSpec:
    """api.json when the file is there, the compact table otherwise."""
    spec_file = Path(path) if path is not None else default_spec_path()
    if spec_file.is_file():
        with spec_file.open(encoding="utf-8") as handle:
            return spec_from_api_json(json.load(handle), source=str(spec_file))
    from tests.telegram_emulator.methods import compact_spec

    return compact_spec()


def _fields(raw: Iterable[Mapping[str, Any]]) -> tuple[FieldSpec, ...]:
    fields = []
    for item in raw:
        types = tuple(item["types"])
        required = bool(item["required"])
        const = None
        match = _CONST_RE.search(item.get("description", ""))
        if match and required and types == ("String",):
            const = match.group(1)
        fields.append(FieldSpec(item["name"], types, required, const))
    return tuple(fields)


def spec_from_api_json(data: Mapping[str, Any], source: str) -> ApiSpec:
    methods = {
        name: MethodSpec(name, _fields(body.get("fields", ())))
        for name, body in data["methods"].items()
    }
    types = {
        name: ObjectSpec(name, _fields(body.get("fields", ())), tuple(body.get("subtypes", ())))
        for name, body in data["types"].items()
    }
    return ApiSpec(methods, types, source)
