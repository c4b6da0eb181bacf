"""Plain values that repositories return: frozen dataclasses and enums, never rows."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


class Role(enum.StrEnum):
    CONTACT = "contact"
    RESPONDER = "responder"
    COORDINATOR = "coordinator"


STAFF_ROLES = frozenset({Role.RESPONDER, Role.COORDINATOR})


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    telegram_id: int
    name: str
    lang: str
    roles: frozenset[Role]
    created_at: datetime

    @property
    def chat_id(self) -> int:
        # Private chats share the user's id; nabat talks to people only in private.
        return self.telegram_id

    def has(self, role: Role) -> bool:
        return role in self.roles

    @property
    def is_staff(self) -> bool:
        return bool(self.roles & STAFF_ROLES)


@dataclass(frozen=True, slots=True)
class Invitation:
    id: int
    role: Role
    name: str | None
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None
    used_by: int | None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    id: int
    at: datetime
    actor_id: int | None
    action: str
    detail: dict[str, Any]


class Priority(enum.IntEnum):
    """Outbox order: lower goes first (DESIGN.md invariant 2)."""

    FIRST_PAGE = 0
    ESCALATION = 1
    REMINDER = 2
    NORMAL = 3


class OutboxState(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    EXPIRED = "expired"


class OutboxOp(enum.StrEnum):
    SEND = "send"
    EDIT = "edit"
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Button:
    """An inline button: a catalogue key for its label and opaque callback data."""

    key: str
    data: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Notice:
    """What to tell someone, as a catalogue key and parameters, rendered at delivery time."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    protect: bool = False
    lang: str = "en"


@dataclass(frozen=True, slots=True)
class OutboxItem:
    id: int
    op: OutboxOp
    priority: Priority
    chat_id: int
    chat_key: bytes
    notice: Notice | None
    target_message_id: int | None
    ref_id: int | None
    person_id: int | None
    attempts: int
    not_before: datetime
    expires_at: datetime | None
