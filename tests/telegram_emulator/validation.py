"""Decode a call's parameters and check them against the specification, recursively.

Over HTTP every parameter arrives as text (form fields, or a JSON body whose values the
real server turns back into text); like Telegram, the expected type decides how to read
it. Nested objects are JSON and are checked field by field against `types`.

Telegram ignores unknown parameters and unknown fields; here they become violations,
because they are almost always a typo that silently loses a setting.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tests.telegram_emulator.spec import ApiSpec, FieldSpec, MethodSpec, element_type

_INTEGER_RE = re.compile(r"-?\d+")
_BOOLEANS = {"true": True, "1": True, "false": False, "0": False}


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    filename: str
    content_type: str
    data: bytes = field(repr=False)


RawValue = str | Upload


@dataclass
class Decoded:
    params: dict[str, Any]
    error: str | None = None  # Telegram-style detail for a 400, the first problem found
    violations: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Check:
    error: str | None = None
    depth: int = 0  # how deep the error lies, to pick the most telling union alternative
    violations: tuple[str, ...] = ()


_OK = _Check()


def decode_params(spec: ApiSpec, method: MethodSpec, raw: Mapping[str, RawValue]) -> Decoded:
    """Every value decoded as far as possible (so failed calls are still readable)."""
    decoded = Decoded(params={})
    uploads = {name: value for name, value in raw.items() if isinstance(value, Upload)}
    for name, value in raw.items():
        spec_field = method.by_name.get(name)
        if spec_field is None:
            if not (isinstance(value, Upload) and _is_attached(name, raw)):
                decoded.violations.append(
                    f"{method.name}: unknown parameter {name!r} (Telegram would ignore it)"
                )
            decoded.params[name] = _lenient(value)
            continue
        result, check = _decode_top(spec, spec_field, value, uploads)
        decoded.params[name] = result
        decoded.violations.extend(check.violations)
        if check.error and decoded.error is None:
            decoded.error = check.error
    for spec_field in method.fields:
        if spec_field.required and spec_field.name not in raw and decoded.error is None:
            decoded.error = f"parameter {spec_field.name!r} is required"
    return decoded


def _is_attached(name: str, raw: Mapping[str, RawValue]) -> bool:
    """A file part referenced as attach://<name> from another parameter is not unknown."""
    needle = f"attach://{name}"
    return any(isinstance(v, str) and needle in v for v in raw.values())


def _lenient(value: RawValue) -> Any:
    if isinstance(value, Upload):
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _decode_top(
    spec: ApiSpec, spec_field: FieldSpec, value: RawValue, uploads: Mapping[str, Upload]
) -> tuple[Any, _Check]:
    name = spec_field.name
    if isinstance(value, Upload):
        if "InputFile" in spec_field.types:
            return value, _OK
        return value, _Check(f"parameter {name!r} can't be a file upload")
    # Prefer the stricter reading: "123" for Integer|String is the integer 123.
    ordered = sorted(spec_field.types, key=lambda t: t == "String")
    failures: list[_Check] = []
    for type_name in ordered:
        ok, parsed = _parse_text(value, type_name)
        if not ok:
            continue
        check = _check(spec, parsed, type_name, name, uploads)
        if check.error is None:
            return parsed, check
        failures.append(check)
    if failures:
        return _lenient(value), max(failures, key=lambda c: c.depth)
    expected = " or ".join(spec_field.types)
    return _lenient(value), _Check(f"parameter {name!r} must be {expected}, got {value!r}")


def _parse_text(text: str, type_name: str) -> tuple[bool, Any]:
    """Read one form value as `type_name`; (False, None) when it cannot be one."""
    if type_name == "String":
        return True, text
    if type_name == "Integer":
        return (True, int(text)) if _INTEGER_RE.fullmatch(text.strip()) else (False, None)
    if type_name == "Float":
        try:
            number = float(text)
        except ValueError:
            return False, None
        return (True, number) if math.isfinite(number) else (False, None)
    if type_name == "Boolean":
        flag = _BOOLEANS.get(text.strip().lower())
        return (flag is not None), flag
    if type_name == "InputFile":
        return text.startswith("attach://"), text
    try:  # arrays and objects travel as JSON text
        return True, json.loads(text)
    except ValueError:
        return False, None


def _check(
    spec: ApiSpec, value: Any, type_name: str, path: str, uploads: Mapping[str, Upload]
) -> _Check:
    base, depth = element_type(type_name)
    if depth:
        if not isinstance(value, list):
            return _Check(f"{path}: expected an array, got {_describe(value)}")
        inner = type_name[len("Array of ") :]
        violations: list[str] = []
        for index, item in enumerate(value):
            check = _check(spec, item, inner, f"{path}[{index}]", uploads)
            if check.error:
                return _Check(check.error, check.depth + 1, check.violations)
            violations.extend(check.violations)
        return _Check(violations=tuple(violations))
    if base in ("Integer", "Float", "String", "Boolean"):
        return _check_primitive(value, base, path)
    if base == "InputFile":
        if isinstance(value, str) and value.removeprefix("attach://") in uploads:
            return _OK
        return _Check(f"{path}: expected attach://<file part>, got {_describe(value)}")
    return _check_object(spec, value, base, path, uploads)


def _check_primitive(value: Any, base: str, path: str) -> _Check:
    if base == "Boolean":
        fits = isinstance(value, bool)
    elif base == "Integer":
        fits = isinstance(value, int) and not isinstance(value, bool)
    elif base == "Float":
        fits = isinstance(value, int | float) and not isinstance(value, bool)
    else:
        fits = isinstance(value, str)
    return _OK if fits else _Check(f"{path}: expected {base}, got {_describe(value)}")


def _check_object(
    spec: ApiSpec, value: Any, type_name: str, path: str, uploads: Mapping[str, Upload]
) -> _Check:
    object_spec = spec.types.get(type_name)
    if object_spec is None:  # not in the compact table: accept any object
        ok = isinstance(value, dict)
        return _OK if ok else _Check(f"{path}: expected {type_name}, got {_describe(value)}")
    if object_spec.subtypes:
        return _check_union(spec, value, object_spec.subtypes, path, uploads)
    if not isinstance(value, dict):
        return _Check(f"{path}: expected {type_name} object, got {_describe(value)}")
    violations: list[str] = []
    for key, item in value.items():
        spec_field = object_spec.by_name.get(key)
        if spec_field is None:
            if object_spec.fields:
                violations.append(f"{path}: unknown field {key!r} in {type_name}")
            continue
        if spec_field.const is not None and item != spec_field.const:
            return _Check(f"{path}.{key}: must be {spec_field.const!r}, got {item!r}", 1)
        check = _check_union(spec, item, spec_field.types, f"{path}.{key}", uploads)
        if check.error:
            return _Check(check.error, check.depth + 1, check.violations)
        violations.extend(check.violations)
    for spec_field in object_spec.fields:
        if spec_field.required and spec_field.name not in value:
            return _Check(f"{path}: {type_name} needs field {spec_field.name!r}")
    return _Check(violations=tuple(violations))


def _check_union(
    spec: ApiSpec,
    value: Any,
    alternatives: Sequence[str],
    path: str,
    uploads: Mapping[str, Upload],
) -> _Check:
    """Valid if any alternative fits; prefer the one with fewest unknown fields."""
    checks = [_check(spec, value, alt, path, uploads) for alt in alternatives]
    fitting = [c for c in checks if c.error is None]
    if fitting:
        return min(fitting, key=lambda c: len(c.violations))
    return max(checks, key=lambda c: c.depth)


def check_value(spec: ApiSpec, value: Any, type_name: str, path: str = "value") -> list[str]:
    """Errors and violations of one JSON value against a type (used by tests on results)."""
    check = _check(spec, value, type_name, path, {})
    problems = list(check.violations)
    if check.error:
        problems.insert(0, check.error)
    return problems


def _describe(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
