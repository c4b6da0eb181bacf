"""Reading a rota file into a spec: every key of every table checked, every problem
reported, nothing in the database touched."""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.domain import rota
from bot.domain.models import Person, Role, TargetKind
from bot.domain.rota import Override, OverrideKind, Rotation, ShiftUnit
from bot.services.rota_file.checkins import _read_checkins
from bot.services.rota_file.groups import _Groups
from bot.services.rota_file.people import _People
from bot.services.rota_file.problems import RotaFileError, _Problems, _shown, _Table
from bot.services.rota_file.spec import (
    _key,
    _OverrideSpec,
    _PolicySpec,
    _RotaSpec,
    _RotationSpec,
    _StepSpec,
    _TargetSpec,
)
from config.durations import parse_duration

MIN_DELAY = timedelta(seconds=1)  # the range the error message states
MAX_DELAY = timedelta(hours=24)
MAX_REPEAT = 10  # more passes page the same people for hours: more likely a typo
DEFAULT_REPEAT = 1  # the column defaults of policies (0002_alerts.sql)
DEFAULT_ACK_TIMEOUT = "30m"

_TOP_KEYS = ("rotation", "policy", "contacts", "checkin")
_ROTATION_KEYS = ("name", "tz", "unit", "length", "start", "participants", "override")
_OVERRIDE_KEYS = ("kind", "person", "replaces", "start", "end")
_POLICY_KEYS = ("name", "default", "repeat", "ack_timeout", "step")
_STEP_KEYS = ("delay", "targets")
_TARGET_FORMS = (
    "all_responders, all_coordinators, rotation:<name>, person:<name or #number>"
    " or group:<title or #number>"
)
_PROBE_START = datetime(2026, 1, 1, tzinfo=UTC)


def _load(text: str, source: str) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RotaFileError([f"{source}: {exc}"]) from None


def _read(
    document: dict[str, Any], problems: _Problems, people: _People, groups: _Groups, now: datetime
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
        policy = _read_policy(table, people, groups, names, policy_names)
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
    checkins = _read_checkins(top, people)
    return _RotaSpec(tuple(rotations), tuple(policies), contacts, checkins)


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
    # Each field is checked by bot.domain.rota's own constructor with harmless stand-ins for the
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
    """Why bot.domain.rota.conflicts refuses the pair, in the file's words."""
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
    table: _Table,
    people: _People,
    groups: _Groups,
    rotations: dict[str, int],
    names: dict[str, int],
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
        sub = _Table(data, path, f"{table.where} step {j + 1}", table.problems)
        step = _read_step(sub, people, groups, rotations)
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


def _read_step(
    table: _Table, people: _People, groups: _Groups, rotations: dict[str, int]
) -> _StepSpec | None:
    before = len(table.problems.found)
    table.check_keys(_STEP_KEYS, ("delay", "targets"))
    delay = _duration(table, "delay", table.text("delay"))
    if delay is not None and not MIN_DELAY <= timedelta(seconds=delay) <= MAX_DELAY:
        table.error("delay", f"{table.data['delay']!r} is out of range: expected 1s to 24h")
    # An empty list is accepted: it is what export writes for a step whose only target
    # was removed (it pages no one; the import summary and the coverage report say so).
    refs = table.texts("targets")
    targets: list[_TargetSpec] = []
    for ref in refs or []:
        target = _read_target(table, people, groups, rotations, ref)
        if target is not None and target in targets:
            table.error("targets", f"{ref!r} is listed twice")
        elif target is not None:
            targets.append(target)
    if len(table.problems.found) > before:
        return None
    assert delay is not None
    return _StepSpec(delay, tuple(targets))


def _read_target(
    table: _Table, people: _People, groups: _Groups, rotations: dict[str, int], ref: str
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
    if colon and kind == TargetKind.GROUP and rest:
        group_id = groups.group(table, "targets", rest)
        return None if group_id is None else _TargetSpec(TargetKind.GROUP, group_id=group_id)
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
