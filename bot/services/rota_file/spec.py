"""What a valid rota file says, with people resolved to ids: read.py builds it from the
file, plan.py compares it with the database, apply.py writes it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.domain.checkin import Schedule
from bot.domain.models import TargetKind
from bot.domain.rota import OverrideKind, ShiftUnit


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
    group_id: int | None = None


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
class _CheckinSpec:
    person_id: int
    schedule: Schedule
    tz: str | None  # None: the contact keeps their zone


@dataclass(frozen=True, slots=True)
class _RotaSpec:
    rotations: tuple[_RotationSpec, ...]
    policies: tuple[_PolicySpec, ...]
    contacts: dict[int, str]  # contact's person id -> _key of a policy name
    # contact's person id -> their schedule; None: the file has no [[checkin]] at all
    checkins: dict[int, _CheckinSpec] | None
