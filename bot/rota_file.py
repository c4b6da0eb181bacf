"""`nabat rota export` and `nabat rota import`: every rotation and escalation policy as one
declarative TOML file.

The format::

    # nabat rota — people are named by display name (unique) or "#<number>" as /people shows
    [[rotation]]
    name = "Moscow day"
    tz = "Europe/Moscow"
    unit = "days"                         # hours | days | weeks
    length = 1                            # 1-672 hours, 1-366 days, 1-52 weeks
    start = 2026-03-02T09:00:00+03:00     # first handoff, an offset date-time
    participants = ["Anna Advokatova", "#4"]

    [[rotation.override]]
    kind = "replace"                      # add | remove | replace
    person = "Boris"
    replaces = "Anna Advokatova"          # replace only
    start = 2026-03-05T09:00:00+03:00
    end = 2026-03-06T09:00:00+03:00

    [[policy]]
    name = "default"
    default = true                        # exactly one policy is the default
    repeat = 1                            # passes after the first, 0-10 (default 1)
    ack_timeout = "30m"                   # default 30m

    [[policy.step]]
    delay = "5m"                          # 1s .. 24h
    targets = ["rotation:Moscow day", "all_responders", "all_coordinators",
               "person:Anna Advokatova"]

    [contacts]                            # contact -> policy; contacts not listed use the default
    "K-17" = "night"

The file is the whole truth: importing it creates, updates (in place, keeping ids) and
deletes rotations and policies to match, matching them by name (case-insensitively). A
policy that alerts refer to is retired instead of deleted. Only overrides that have not
ended are in the file; the ones that ended are kept as history, and an override in the
file that ended before the import is skipped. Participants, override people and person
targets must be responders or coordinators; the keys of [contacts] must be contacts.

Import checks everything before it changes anything and reports every problem as
`FILE:LINE: <where>: <field>: <problem>`. tomllib gives no positions, so `_Lines` finds
them by scanning the raw text for table headers and `key =` lines. Export writes what
import reads, so export then import changes nothing.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import tomli_w

from bot import rota
from bot.errors import NabatError
from bot.rota import Override, OverrideKind, Rotation, ShiftUnit
from config.durations import format_duration, parse_duration
from storage.audit import AuditRepo
from storage.crypto import FieldCipher
from storage.db import Database, Transaction
from storage.models import Person, Policy, Role, Step, Target, TargetKind
from storage.people import PeopleRepo, Queryable
from storage.policies import PolicyRepo
from storage.rota import RotaRepo

PolicyChanged = Callable[[Transaction, int, datetime], Awaitable[object]]
"""Told, inside the import's transaction, that a policy with open alerts got new steps or
a new repeat count: AlertService.policy_changed restarts those alerts at the new step 1."""

MIN_DELAY = timedelta(seconds=1)  # the range the error message states
MAX_DELAY = timedelta(hours=24)
MAX_REPEAT = 10  # more passes page the same people for hours: more likely a typo
DEFAULT_REPEAT = 1  # the column defaults of policies (0002_alerts.sql)
DEFAULT_ACK_TIMEOUT = "30m"

_ID_REF = re.compile(r"#(\d+)")
_TOP_KEYS = ("rotation", "policy", "contacts")
_ROTATION_KEYS = ("name", "tz", "unit", "length", "start", "participants", "override")
_OVERRIDE_KEYS = ("kind", "person", "replaces", "start", "end")
_POLICY_KEYS = ("name", "default", "repeat", "ack_timeout", "step")
_STEP_KEYS = ("delay", "targets")
_TARGET_FORMS = "all_responders, all_coordinators, rotation:<name> or person:<name or #number>"
_PROBE_START = datetime(2026, 1, 1, tzinfo=UTC)


class RotaFileError(NabatError):
    """A rota file cannot be imported; `errors` holds one line per problem, in file order."""

    def __init__(self, errors: Sequence[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = tuple(errors)


# --- where things are in the raw text -----------------------------------------------------

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


# --- reading values -------------------------------------------------------------------------


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
        """bot.rota's messages read "field: problem"; the field is one of this table's keys."""
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


# --- people ---------------------------------------------------------------------------------


class _People:
    """People as the file names them: display name when unique, else "#<id>"."""

    def __init__(self, people: Sequence[Person]) -> None:
        self.by_id = {p.id: p for p in people}
        self._by_name: dict[str, list[Person]] = {}
        for p in people:
            self._by_name.setdefault(p.name, []).append(p)

    def ref(self, person_id: int) -> str:
        person = self.by_id.get(person_id)
        if person is None or _ID_REF.fullmatch(person.name.strip()) or not person.name.strip():
            return f"#{person_id}"
        return person.name if len(self._by_name[person.name]) == 1 else f"#{person_id}"

    def resolve(self, ref: str) -> Person | str:
        """The person `ref` names, or what is wrong with it."""
        if number := _ID_REF.fullmatch(ref.strip()):
            found = self.by_id.get(int(number.group(1)))
            return found if found else f"no person #{number.group(1)}"
        same = self._by_name.get(ref, [])
        if len(same) == 1:
            return same[0]
        if same:
            ids = " or ".join(f"#{p.id}" for p in same)
            return f"{len(same)} people are named {ref!r}: use {ids}"
        close = sorted(
            {p.name for p in self.by_id.values() if p.name.strip().casefold() == ref.casefold()}
        )
        return f"no person named {ref!r}" + (f" (did you mean {close[0]!r}?)" if close else "")

    def staff(self, table: _Table, key: str, ref: str) -> int | None:
        """Resolve someone who can be on call or paged; report why not otherwise."""
        found = self.resolve(ref)
        if isinstance(found, str):
            table.error(key, found)
            return None
        if not found.is_staff:
            table.error(key, f"{ref!r} is a contact; only responders and coordinators go on call")
            return None
        return found.id


# --- what a valid file says -----------------------------------------------------------------


def _key(name: str) -> str:
    return name.casefold()


@dataclass(frozen=True, slots=True)
class _OverrideSpec:
    kind: OverrideKind
    person_id: int
    replaces: int | None
    start: datetime  # UTC
    end: datetime  # UTC


@dataclass(frozen=True, slots=True)
class _RotationSpec:
    name: str
    tz: str
    unit: ShiftUnit
    length: int
    start: datetime  # UTC
    participants: tuple[int, ...]
    overrides: tuple[_OverrideSpec, ...]  # those not ended at import time
    ended: int  # overrides in the file that had ended: skipped


@dataclass(frozen=True, slots=True)
class _TargetSpec:
    kind: TargetKind
    person_id: int | None = None
    rotation: str | None = None  # _key of a rotation's name


@dataclass(frozen=True, slots=True)
class _StepSpec:
    delay_s: int
    targets: tuple[_TargetSpec, ...]


@dataclass(frozen=True, slots=True)
class _PolicySpec:
    name: str
    is_default: bool
    repeat: int
    ack_timeout_s: int
    steps: tuple[_StepSpec, ...]


@dataclass(frozen=True, slots=True)
class _RotaSpec:
    rotations: tuple[_RotationSpec, ...]
    policies: tuple[_PolicySpec, ...]
    contacts: dict[int, str]  # contact's person id -> _key of a policy name


def _load(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RotaFileError([f"{source}: {exc}"]) from None


def _read(
    document: dict[str, Any], problems: _Problems, people: _People, now: datetime
) -> _RotaSpec:
    top = _Table(document, (), "file", problems)
    top.check_keys(_TOP_KEYS, ())
    rotation_tables = top.tables("rotation", "rotation")
    policy_tables = top.tables("policy", "policy")

    rotations: list[_RotationSpec] = []
    names: dict[str, int] = {}  # every rotation name the file defines -> its line
    for i, data in enumerate(rotation_tables):
        table = _Table(data, ("rotation", i), f"rotation {i + 1}", problems)
        spec = _read_rotation(table, people, names, now)
        if spec is not None:
            rotations.append(spec)

    policies: list[_PolicySpec] = []
    policy_names: dict[str, int] = {}
    defaults: list[tuple[_Table, str]] = []
    for i, data in enumerate(policy_tables):
        table = _Table(data, ("policy", i), f"policy {i + 1}", problems)
        policy = _read_policy(table, people, names, policy_names)
        if policy is not None:
            policies.append(policy)
        if data.get("default") is True:
            defaults.append((table, str(data.get("name"))))
    if not isinstance(document.get("policy", []), list):
        pass  # already reported: not an array of tables
    elif not policy_tables:
        top.error("policy", "the file defines no policy; one with default = true is needed")
    elif not defaults:
        top.error("policy", "no policy has default = true; exactly one must")
    for table, _ in defaults[1:]:
        first_table, first_name = defaults[0]
        line = problems.lines.line(first_table.path, "default")
        table.error("default", f"{first_name!r} (line {line}) is already the default policy")

    contacts = _read_contacts(top, people, policy_names)
    return _RotaSpec(tuple(rotations), tuple(policies), contacts)


def _named(table: _Table, kind: str, seen: dict[str, int]) -> str | None:
    name = table.text("name")
    if name is None:
        return None
    table.where = f'{kind} "{name}"'
    line = table.problems.lines.line(table.path, "name")
    if _key(name) in seen:
        table.error("name", f"{kind} {name!r} is already defined at line {seen[_key(name)]}")
        return None
    seen[_key(name)] = line
    return name


def _read_rotation(
    table: _Table, people: _People, names: dict[str, int], now: datetime
) -> _RotationSpec | None:
    before = len(table.problems.found)
    name = _named(table, "rotation", names)
    table.check_keys(_ROTATION_KEYS, ("name", "tz", "unit", "length", "start", "participants"))
    tz, unit, length = table.text("tz"), table.text("unit"), table.whole("length")
    start = table.moment("start")
    # Each field is checked by bot.rota's own constructor with harmless stand-ins for the
    # others, so every wrong field is reported, not just the first one it meets.
    probe: dict[str, Any] = dict(
        id=0, name="", tz="UTC", unit=ShiftUnit.HOURS, length=1, start=_PROBE_START, participants=()
    )
    if tz is not None:
        _probe(table, Rotation, probe, tz=tz)
    if unit is not None:  # the unit sets the length's bounds
        _probe(table, Rotation, probe, unit=unit, length=1 if length is None else length)

    participants: list[int] = []
    refs = table.texts("participants") or []
    for ref in refs:
        person_id = people.staff(table, "participants", ref)
        if person_id is None:
            continue
        if person_id in participants:
            table.error("participants", f"{ref!r} is listed twice")
        participants.append(person_id)

    overrides: list[tuple[Override, _Table]] = []
    ended = 0
    for j, data in enumerate(table.tables("override", "rotation.override")):
        path = (*table.path, "override", j)
        sub = _Table(data, path, f"{table.where} override {j + 1}", table.problems)
        override = _read_override(sub, people, j + 1)
        if override is None:
            continue
        if override.end <= now:
            ended += 1
            continue
        for earlier in rota.conflicts([o for o, _ in overrides], override):
            other = next(t for o, t in overrides if o is earlier)
            line = table.problems.lines.line(other.path)
            clash = _clash(earlier, override, people)
            sub.error("start", f"overlaps override {earlier.id} (line {line}): {clash}")
        overrides.append((override, sub))

    if len(table.problems.found) > before:
        return None
    assert name and tz and unit and length is not None and start is not None
    try:
        built = Rotation(0, name, tz, ShiftUnit(unit), length, start, tuple(participants))
    except ValueError as exc:
        table.value_error(exc)
        return None
    return _RotationSpec(
        name=name,
        tz=tz,
        unit=built.unit,
        length=length,
        start=built.start,
        participants=built.participants,
        overrides=tuple(
            _OverrideSpec(o.kind, o.person_id, o.replaces, o.start, o.end) for o, _ in overrides
        ),
        ended=ended,
    )


def _probe(table: _Table, cls: Any, base: dict[str, Any], **fields: Any) -> bool:
    try:
        cls(**{**base, **fields})
    except ValueError as exc:
        table.value_error(exc)
        return False
    return True


def _clash(earlier: Override, new: Override, people: _People) -> str:
    """Why bot.rota.conflicts refuses the pair, in the file's words."""
    if earlier.kind is new.kind and earlier.person_id == new.person_id:
        return f"both {new.kind.value} {people.ref(new.person_id)}"
    if earlier.kind is new.kind is OverrideKind.REPLACE:
        return f"both replace {people.ref(new.replaces or 0)}"
    removed = earlier if earlier.kind is OverrideKind.REMOVE else new
    return f"one removes {people.ref(removed.person_id)}, whom the other puts on call"


def _read_override(table: _Table, people: _People, number: int) -> Override | None:
    before = len(table.problems.found)
    table.check_keys(_OVERRIDE_KEYS, ("kind", "person", "start", "end"))
    kind = table.text("kind")
    person_ref, replaces_ref = table.text("person"), table.text("replaces")
    person = people.staff(table, "person", person_ref) if person_ref else None
    replaces = people.staff(table, "replaces", replaces_ref) if replaces_ref else None
    start, end = table.moment("start"), table.moment("end")
    base: dict[str, Any] = dict(
        id=number,
        rotation_id=0,
        kind=OverrideKind.ADD,
        person_id=-1,
        replaces=None,
        start=_PROBE_START,
        end=_PROBE_START + timedelta(hours=1),
    )
    if kind is not None:
        # Unresolved people stand in as distinct ids, so only the kind's own rules speak.
        pair = dict(
            kind=kind,
            person_id=-1 if person is None else person,
            replaces=None if replaces_ref is None else (-2 if replaces is None else replaces),
        )
        _probe(table, Override, base, **pair)
    if start is not None and end is not None:
        _probe(table, Override, base, start=start, end=end)
    if len(table.problems.found) > before:
        return None
    assert kind is not None and person is not None and start is not None and end is not None
    return Override(number, 0, OverrideKind(kind), person, replaces, start, end)


def _read_policy(
    table: _Table, people: _People, rotations: dict[str, int], names: dict[str, int]
) -> _PolicySpec | None:
    before = len(table.problems.found)
    name = _named(table, "policy", names)
    table.check_keys(_POLICY_KEYS, ("name", "step"))
    is_default = table.flag("default", False)
    repeat = table.whole("repeat", DEFAULT_REPEAT)
    if repeat is not None and not 0 <= repeat <= MAX_REPEAT:
        table.error("repeat", f"expected 0 to {MAX_REPEAT} passes after the first, got {repeat}")
    ack = _duration(table, "ack_timeout", table.text("ack_timeout", DEFAULT_ACK_TIMEOUT))
    steps: list[_StepSpec] = []
    step_tables = table.tables("step", "policy.step")
    if isinstance(table.data.get("step"), list) and not step_tables:
        table.error("step", "a policy needs at least one [[policy.step]]")
    for j, data in enumerate(step_tables):
        path = (*table.path, "step", j)
        step = _read_step(
            _Table(data, path, f"{table.where} step {j + 1}", table.problems), people, rotations
        )
        if step is not None:
            steps.append(step)
    if len(table.problems.found) > before:
        return None
    assert name and is_default is not None and repeat is not None and ack is not None
    return _PolicySpec(name, is_default, repeat, ack, tuple(steps))


def _duration(table: _Table, key: str, text: str | None) -> int | None:
    """Whole seconds of a duration such as "5m"; parse_duration refuses zero."""
    if text is None:
        return None
    try:
        return int(parse_duration(text).total_seconds())
    except ValueError as exc:
        table.error(key, str(exc))
        return None


def _read_step(table: _Table, people: _People, rotations: dict[str, int]) -> _StepSpec | None:
    before = len(table.problems.found)
    table.check_keys(_STEP_KEYS, ("delay", "targets"))
    delay = _duration(table, "delay", table.text("delay"))
    if delay is not None and not MIN_DELAY <= timedelta(seconds=delay) <= MAX_DELAY:
        table.error("delay", f"{table.data['delay']!r} is out of range: expected 1s to 24h")
    refs = table.texts("targets")
    if refs is not None and not refs:
        table.error("targets", "a step needs at least one target")
    targets: list[_TargetSpec] = []
    for ref in refs or []:
        target = _read_target(table, people, rotations, ref)
        if target is not None and target in targets:
            table.error("targets", f"{ref!r} is listed twice")
        elif target is not None:
            targets.append(target)
    if len(table.problems.found) > before:
        return None
    assert delay is not None
    return _StepSpec(delay, tuple(targets))


def _read_target(
    table: _Table, people: _People, rotations: dict[str, int], ref: str
) -> _TargetSpec | None:
    kind, colon, rest = ref.partition(":")
    kind, rest = kind.strip(), rest.strip()
    if not colon and kind in (TargetKind.ALL_RESPONDERS, TargetKind.ALL_COORDINATORS):
        return _TargetSpec(TargetKind(kind))
    if colon and kind == TargetKind.ROTATION and rest:
        if _key(rest) not in rotations:
            table.error("targets", f"no rotation named {rest!r} in this file")
            return None
        return _TargetSpec(TargetKind.ROTATION, rotation=_key(rest))
    if colon and kind == TargetKind.PERSON and rest:
        person_id = people.staff(table, "targets", rest)
        return None if person_id is None else _TargetSpec(TargetKind.PERSON, person_id=person_id)
    table.error("targets", f"{ref!r} is not a target; write {_TARGET_FORMS}")
    return None


def _read_contacts(top: _Table, people: _People, policies: dict[str, int]) -> dict[int, str]:
    data = top.data.get("contacts", {})
    if not isinstance(data, dict):
        top.error("contacts", f"expected a table written as [contacts], got {_shown(data)}")
        return {}
    table = _Table(data, ("contacts",), "contacts", top.problems)
    chosen: dict[int, str] = {}
    seen: dict[int, str] = {}
    for ref, value in data.items():
        found = people.resolve(ref)
        if isinstance(found, str):
            table.error(ref, found)
        elif not found.has(Role.CONTACT):
            table.error(ref, "is not a contact: only contacts are given a policy")
        elif found.id in seen:
            table.error(ref, f"names the same contact as {seen[found.id]!r}")
        if not isinstance(value, str):
            table.error(ref, f"expected a policy name, got {_shown(value)}")
        elif _key(value) not in policies:
            table.error(ref, f"no policy named {value!r} in this file")
        elif isinstance(found, Person):
            seen.setdefault(found.id, ref)
            chosen[found.id] = _key(value)
    return chosen


# --- comparing the file with the database ------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RotationChange:
    spec: _RotationSpec
    old: Rotation | None  # None: created
    fields_changed: bool
    add: tuple[_OverrideSpec, ...]
    remove: tuple[Override, ...]

    @property
    def changed(self) -> bool:
        return self.old is not None and (self.fields_changed or bool(self.add or self.remove))


@dataclass(frozen=True, slots=True)
class _PolicyChange:
    spec: _PolicySpec
    old: Policy | None  # None: created
    changed: bool
    restart: bool  # steps or repeat changed while alerts on it are open


@dataclass(frozen=True, slots=True)
class ImportSummary:
    rotations_created: int
    rotations_updated: int
    rotations_deleted: int
    overrides_added: int
    overrides_removed: int
    overrides_ended: int
    policies_created: int
    policies_updated: int
    policies_deleted: int
    policies_retired: int
    contacts_reassigned: int
    restarted: tuple[str, ...]  # policies whose open alerts start again at the new step 1

    def __str__(self) -> str:
        text = (
            f"rotations: {self.rotations_created} created, {self.rotations_updated} updated,"
            f" {self.rotations_deleted} deleted; overrides: {self.overrides_added} added,"
            f" {self.overrides_removed} removed; policies: {self.policies_created} created,"
            f" {self.policies_updated} updated, {self.policies_deleted} deleted,"
            f" {self.policies_retired} retired; contacts: {self.contacts_reassigned} reassigned"
        )
        if self.overrides_ended:
            text += f"; {self.overrides_ended} override(s) in the file had ended and were skipped"
        if self.restarted:
            names = ", ".join(repr(n) for n in self.restarted)
            text += f"; open alerts restart at step 1 of the changed policies {names}"
        return text


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What an import changes, worked out against the database but not yet applied."""

    rotations: tuple[_RotationChange, ...]
    deleted_rotations: tuple[Rotation, ...]
    policies: tuple[_PolicyChange, ...]
    removed_policies: tuple[tuple[Policy, bool], ...]  # (policy, retire rather than delete)
    contacts: tuple[tuple[int, str | None], ...]  # (person id, _key of the new policy or None)
    ended: int

    @property
    def summary(self) -> ImportSummary:
        return ImportSummary(
            rotations_created=sum(1 for c in self.rotations if c.old is None),
            rotations_updated=sum(1 for c in self.rotations if c.changed),
            rotations_deleted=len(self.deleted_rotations),
            overrides_added=sum(len(c.add) for c in self.rotations),
            overrides_removed=sum(len(c.remove) for c in self.rotations),
            overrides_ended=self.ended,
            policies_created=sum(1 for c in self.policies if c.old is None),
            policies_updated=sum(1 for c in self.policies if c.old is not None and c.changed),
            policies_deleted=sum(1 for _, retire in self.removed_policies if not retire),
            policies_retired=sum(1 for _, retire in self.removed_policies if retire),
            contacts_reassigned=len(self.contacts),
            restarted=tuple(c.spec.name for c in self.policies if c.restart),
        )


async def plan_import(
    q: Queryable, cipher: FieldCipher, text: str, *, source: str, now: datetime
) -> ImportPlan:
    """Validate the file against the database; RotaFileError lists every problem.

    Call it with the import's transaction so nothing changes between check and apply.
    """
    document = _load(text, source)
    everyone = await PeopleRepo(cipher).list_all(q)
    problems = _Problems(source, _Lines(text))
    spec = _read(document, problems, _People(everyone), now)
    if problems.found:
        raise RotaFileError(problems.messages())

    rotas, policies = RotaRepo(), PolicyRepo()
    rotation_changes: list[_RotationChange] = []
    stored = await rotas.rotations(q)
    current = {_key(r.name): r for r in stored}  # left holding those the file drops
    for r in spec.rotations:
        old = current.pop(_key(r.name), None)
        existing = await rotas.overrides(q, old.id, ending_after=now) if old else []
        wanted = list(r.overrides)
        remove: list[Override] = []
        for o in existing:
            same = _OverrideSpec(o.kind, o.person_id, o.replaces, o.start, o.end)
            if same in wanted:
                wanted.remove(same)
            else:
                remove.append(o)
        fields_changed = old is None or _shape(old) != _shape(r)
        rotation_changes.append(
            _RotationChange(r, old, fields_changed, tuple(wanted), tuple(remove))
        )
    kept = {r.id: _key(r.name) for r in stored if _key(r.name) not in current}

    policy_changes: list[_PolicyChange] = []
    every_policy = await policies.all(q, include_retired=True)
    existing_policies = {_key(p.name): p for p in every_policy}  # left holding those dropped
    for p in spec.policies:
        found = existing_policies.pop(_key(p.name), None)
        if found is None:
            policy_changes.append(_PolicyChange(p, None, True, False))
            continue
        steps = tuple(_StepSpec(s.delay_s, _target_specs(s.targets, kept)) for s in found.steps)
        moved = steps != p.steps or found.repeat != p.repeat
        changed = (
            moved
            or found.retired
            or (found.name, found.ack_timeout_s, found.is_default)
            != (p.name, p.ack_timeout_s, p.is_default)
        )
        restart = moved and await policies.has_open_alerts(q, found.id)
        policy_changes.append(_PolicyChange(p, found, changed, restart))
    removed = [
        (p, await policies.in_use(q, p.id)) for p in existing_policies.values() if not p.retired
    ]

    names = {p.id: _key(p.name) for p in every_policy}
    contacts = [
        (person.id, spec.contacts.get(person.id))
        for person in everyone
        if person.has(Role.CONTACT)
        and (names.get(person.policy_id) if person.policy_id else None)
        != spec.contacts.get(person.id)
    ]
    return ImportPlan(
        rotations=tuple(rotation_changes),
        deleted_rotations=tuple(current.values()),
        policies=tuple(policy_changes),
        removed_policies=tuple(removed),
        contacts=tuple(contacts),
        ended=sum(r.ended for r in spec.rotations),
    )


def _shape(r: Rotation | _RotationSpec) -> tuple[object, ...]:
    return (r.name, r.tz, r.unit, r.length, r.start, r.participants)


def _target_specs(targets: Sequence[Target], rotations: dict[int, str]) -> tuple[_TargetSpec, ...]:
    return tuple(
        _TargetSpec(
            t.kind,
            t.person_id if t.kind is TargetKind.PERSON else None,
            rotations.get(t.rotation_id, f"#{t.rotation_id}")
            if t.kind is TargetKind.ROTATION and t.rotation_id is not None
            else None,
        )
        for t in targets
    )


# --- applying -------------------------------------------------------------------------------


async def apply_import(
    tx: Transaction,
    cipher: FieldCipher,
    plan: ImportPlan,
    *,
    now: datetime,
    on_policy_changed: PolicyChanged | None,
) -> ImportSummary:
    """Make the database match the file, in the caller's transaction, auditing each change."""
    rotas, policies, audit = RotaRepo(), PolicyRepo(), AuditRepo(cipher)

    async def record(action: str, **detail: Any) -> None:
        await audit.record(tx, actor_id=None, action=action, now=now, detail=detail)

    for old in plan.deleted_rotations:
        await rotas.delete(tx, old.id)
        await record("rotation.delete", name=old.name, via="rota import")
    rotation_ids: dict[str, int] = {}
    for change in plan.rotations:
        r = change.spec
        if change.old is None:
            rotation_id = await rotas.create(
                tx,
                name=r.name,
                tz=r.tz,
                unit=r.unit,
                length=r.length,
                start=r.start,
                participants=r.participants,
                now=now,
            )
            await record("rotation.create", name=r.name, via="rota import")
        else:
            rotation_id = change.old.id
            if change.fields_changed:
                built = Rotation(
                    rotation_id, r.name, r.tz, r.unit, r.length, r.start, r.participants
                )
                await rotas.update(tx, built)
            for o in change.remove:
                await rotas.delete_override(tx, o.id)
            if change.changed:
                await record(
                    "rotation.update",
                    name=r.name,
                    via="rota import",
                    overrides_added=len(change.add),
                    overrides_removed=len(change.remove),
                )
        for add in change.add:
            await rotas.add_override(
                tx,
                rotation_id=rotation_id,
                kind=add.kind,
                person_id=add.person_id,
                replaces=add.replaces,
                start=add.start,
                end=add.end,
                created_by=None,
                now=now,
            )
        rotation_ids[_key(r.name)] = rotation_id

    policy_ids: dict[str, int] = {}
    for pc in plan.policies:
        p = pc.spec
        steps = tuple(Step(s.delay_s, _targets(s.targets, rotation_ids)) for s in p.steps)
        if pc.old is None:
            policy_id = await policies.create(
                tx,
                name=p.name,
                repeat=p.repeat,
                ack_timeout_s=p.ack_timeout_s,
                is_default=p.is_default,
                steps=steps,
            )
            await record("policy.create", name=p.name, via="rota import")
        else:
            policy_id = pc.old.id
            if pc.changed:
                await policies.update(
                    tx, Policy(policy_id, p.name, steps, p.repeat, p.ack_timeout_s, p.is_default)
                )
                await record("policy.update", name=p.name, via="rota import")
        policy_ids[_key(p.name)] = policy_id

    people = PeopleRepo(cipher)
    spelled = {_key(pc.spec.name): pc.spec.name for pc in plan.policies}
    for person_id, policy_key in plan.contacts:
        await people.set_policy(tx, person_id, policy_ids[policy_key] if policy_key else None)
        policy_name = spelled[policy_key] if policy_key else None
        await record("contact.policy", person=person_id, policy=policy_name, via="rota import")
    for policy, retire in plan.removed_policies:
        if retire:
            await policies.retire(tx, policy.id)
        else:
            await policies.delete(tx, policy.id)
        await record(
            f"policy.{'retire' if retire else 'delete'}", name=policy.name, via="rota import"
        )

    if on_policy_changed is not None:
        for pc in plan.policies:
            if pc.restart and pc.old is not None:
                await on_policy_changed(tx, pc.old.id, now)
    return plan.summary


def _targets(targets: Sequence[_TargetSpec], rotation_ids: dict[str, int]) -> tuple[Target, ...]:
    return tuple(
        Target(t.kind, t.person_id, rotation_ids[t.rotation] if t.rotation else None)
        for t in targets
    )


async def import_rota(
    db: Database,
    cipher: FieldCipher,
    text: str,
    *,
    source: str,
    now: datetime,
    dry_run: bool = False,
    on_policy_changed: PolicyChanged | None = None,
) -> ImportSummary:
    """Check the whole file, then apply it in one transaction (or, dry run, only report)."""
    if dry_run:
        return (await plan_import(db, cipher, text, source=source, now=now)).summary
    async with db.transaction() as tx:
        plan = await plan_import(tx, cipher, text, source=source, now=now)
        return await apply_import(tx, cipher, plan, now=now, on_policy_changed=on_policy_changed)


# --- export ---------------------------------------------------------------------------------


def _toml(value: object) -> str:
    if isinstance(value, datetime):
        # isoformat() is RFC 3339, as TOML wants, unless an old zone has second offsets.
        offset = value.utcoffset()
        return (
            value if offset is None or offset.seconds % 60 == 0 else value.astimezone(UTC)
        ).isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return tomli_w.dumps({"v": value}).removeprefix("v = ").rstrip("\n")


def _table(header: str, values: dict[str, object]) -> str:
    body = "".join(f"{key} = {_toml(value)}\n" for key, value in values.items())
    return f"{header}\n{body}"


async def export_rota(q: Queryable, cipher: FieldCipher, now: datetime) -> str:
    """The rota file that, imported now, changes nothing."""
    everyone = await PeopleRepo(cipher).list_all(q)
    people = _People(everyone)
    rotas, policies = RotaRepo(), PolicyRepo()
    rotations = await rotas.rotations(q)
    rotation_names = {r.id: r.name for r in rotations}
    chunks = [
        f"# nabat rota, exported {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC. It names people: keep"
        ' it private.\n# People are named by display name, or "#<number>" (as /people shows)'
        " when a name is not unique.\n# Overrides that have ended are not listed; import keeps"
        " them as history.\n"
    ]
    for r in rotations:
        zone = ZoneInfo(r.tz)
        chunks.append(
            _table(
                "[[rotation]]",
                {
                    "name": r.name,
                    "tz": r.tz,
                    "unit": r.unit.value,
                    "length": r.length,
                    "start": r.start.astimezone(zone),
                    "participants": [people.ref(p) for p in r.participants],
                },
            )
        )
        for o in await rotas.overrides(q, r.id, ending_after=now):
            values: dict[str, object] = {"kind": o.kind.value, "person": people.ref(o.person_id)}
            if o.replaces is not None:
                values["replaces"] = people.ref(o.replaces)
            values |= {"start": o.start.astimezone(zone), "end": o.end.astimezone(zone)}
            chunks.append(_table("[[rotation.override]]", values))
    active = await policies.all(q)
    for p in active:
        chunks.append(
            _table(
                "[[policy]]",
                {
                    "name": p.name,
                    "default": p.is_default,
                    "repeat": p.repeat,
                    "ack_timeout": format_duration(timedelta(seconds=p.ack_timeout_s)),
                },
            )
        )
        for s in p.steps:
            targets = [_target_ref(t, people, rotation_names) for t in s.targets]
            chunks.append(
                _table(
                    "[[policy.step]]",
                    {
                        "delay": format_duration(timedelta(seconds=s.delay_s)),
                        "targets": [t for t in targets if t is not None],
                    },
                )
            )
    policy_names = {p.id: p.name for p in active}
    assigned = {
        people.ref(c.id): policy_names[c.policy_id]
        for c in everyone
        if c.has(Role.CONTACT) and c.policy_id in policy_names
    }
    chunks.append("# contact = policy; contacts not listed use the default policy\n[contacts]\n")
    chunks[-1] += tomli_w.dumps(assigned)
    return "\n".join(chunks)


def _target_ref(target: Target, people: _People, rotations: dict[int, str]) -> str | None:
    """How the file names a target; None for one that points at nothing any more."""
    if target.kind is TargetKind.ROTATION:
        name = rotations.get(target.rotation_id or 0)
        return None if name is None else f"rotation:{name}"
    if target.kind is TargetKind.PERSON:
        known = target.person_id in people.by_id
        return f"person:{people.ref(target.person_id or 0)}" if known else None
    return target.kind.value


def write_private(path: Path, text: str) -> None:
    """Write `text` to `path` with mode 0600, replacing any file there atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask cannot widen it, but an old tmp file could be wider
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
