"""Exporting the rota: the file that, imported, changes nothing; and writing it privately,
since it names people."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import tomli_w

from bot.domain.models import Role, Target, TargetKind
from bot.services.rota_file.checkins import _export_checkins
from bot.services.rota_file.groups import _Groups
from bot.services.rota_file.people import _People
from config.durations import format_duration
from storage.crypto import FieldCipher
from storage.groups import GroupRepo
from storage.people import PeopleRepo, Queryable
from storage.policies import PolicyRepo
from storage.rota import RotaRepo


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
    groups = _Groups(await GroupRepo(cipher).all(q))
    rotas, policies = RotaRepo(), PolicyRepo()
    rotations = await rotas.rotations(q)
    rotation_names = {r.id: r.name for r in rotations}
    chunks = [
        f"# nabat rota, exported {now.astimezone(UTC):%Y-%m-%d %H:%M} UTC. It names people: keep"
        ' it private.\n# People are named by display name, or "#<number>" (as /people shows)'
        " when a name is not unique.\n# Group chats are named by title, or"
        ' "group:#<number>" when a title is not unique.\n# Overrides that have ended are not'
        " listed; import keeps them as history.\n"
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
            targets = [_target_ref(t, people, groups, rotation_names) for t in s.targets]
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
    checkins = await _export_checkins(q, cipher, everyone, people)
    chunks.append(
        "# check-in schedules, one [[checkin]] a contact; import turns off any not listed\n"
    )
    chunks[-1] += "\n".join(_table("[[checkin]]", values) for values in checkins)
    return "\n".join(chunks)


def _target_ref(
    target: Target, people: _People, groups: _Groups, rotations: dict[int, str]
) -> str | None:
    """How the file names a target; None for one that points at nothing any more."""
    if target.kind is TargetKind.ROTATION:
        name = rotations.get(target.rotation_id or 0)
        return None if name is None else f"rotation:{name}"
    if target.kind is TargetKind.PERSON:
        known = target.person_id in people.by_id
        return f"person:{people.ref(target.person_id or 0)}" if known else None
    if target.kind is TargetKind.GROUP:
        present = target.group_id in groups.by_id
        return f"group:{groups.ref(target.group_id or 0)}" if present else None
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
