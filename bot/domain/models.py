"""Plain values that repositories return: frozen dataclasses and enums, never rows."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.domain.limits import MAX_CALLBACK_DATA

# The languages nabat speaks (bot/words/locale/); the first is the source language.
LANGUAGES = ("en", "ru", "ko")


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
    unreachable: bool = False
    tz: str = "UTC"
    remind_minutes: int = 60
    policy_id: int | None = None

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
    lang: str | None = None  # chosen by the coordinator; None: Telegram's, else the default


class Priority(enum.IntEnum):
    """Outbox order: lower goes first (DESIGN.md invariant 2)."""

    DURESS = -1  # a duress alert's pages: before everything else
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

    def __post_init__(self) -> None:
        # Telegram refuses the whole message for one oversized button: fail where it is made.
        if not 1 <= len(self.data.encode("utf-8")) <= MAX_CALLBACK_DATA:
            raise ValueError(f"callback data must be 1 to {MAX_CALLBACK_DATA} bytes")


@dataclass(frozen=True, slots=True)
class Notice:
    """What to tell someone, as a catalogue key and parameters, rendered at delivery time."""

    key: str
    params: dict[str, Any] = field(default_factory=dict)
    buttons: tuple[tuple[Button, ...], ...] = ()
    protect: bool = False
    lang: str = "en"
    # Relayed media, by Telegram file id or coordinates, never downloaded:
    # {"type": "location", "lat", "lon", "live_period"?} | {"type": "voice"|"photo", "file_id"};
    # or a file nabat made, uploaded: {"type": "document", "data": base64, "filename"}.
    # The catalogue text becomes the caption (voice, photo, document) or is not sent
    # (location).
    media: dict[str, Any] | None = None
    silent: bool = False  # disable_notification: a check-in's second prompt


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
    erase_done: bool = False  # delete the row once finished (storage/erasure.py)


class AlertKind(enum.StrEnum):
    PANIC = "panic"
    DURESS = "duress"
    MISSED_CHECKIN = "missed_checkin"
    DRILL = "drill"


class AlertState(enum.StrEnum):
    TRIGGERED = "triggered"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class TargetKind(enum.StrEnum):
    ALL_RESPONDERS = "all_responders"
    ALL_COORDINATORS = "all_coordinators"
    PERSON = "person"
    ROTATION = "rotation"  # whoever is on call in that rotation when the step fires
    GROUP = "group"  # a group chat the bot was added to by a coordinator


@dataclass(frozen=True, slots=True)
class Target:
    kind: TargetKind
    person_id: int | None = None  # PERSON
    rotation_id: int | None = None  # ROTATION
    group_id: int | None = None  # GROUP


@dataclass(frozen=True, slots=True)
class Step:
    delay_s: int
    targets: tuple[Target, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    id: int
    name: str
    steps: tuple[Step, ...]
    repeat: int
    ack_timeout_s: int
    is_default: bool
    retired: bool = False
    version: int = 0  # raised by every change (storage/policies.py)


@dataclass(frozen=True, slots=True)
class Location:
    latitude: float
    longitude: float
    live: bool = False


@dataclass(frozen=True, slots=True)
class Alert:
    id: int
    contact_id: int | None
    kind: AlertKind
    state: AlertState
    policy_id: int
    body: str
    location: Location | None
    created_at: datetime
    step: int
    pass_: int
    step_started_at: datetime
    next_escalation_at: datetime | None
    unanswered: bool
    ack_by: int | None
    ack_at: datetime | None
    ack_deadline_at: datetime | None
    ack_reminded: bool
    resolved_by: int | None
    resolved_at: datetime | None
    resolution: str | None
    # What nabat knows beyond the contact's words: for a missed check-in, what was due
    # and when they last checked in (bot/services/checkins.py).
    detail: dict[str, Any] | None = None


class EventKind(enum.StrEnum):
    """What a line of an alert's timeline records (stored as its value)."""

    CREATED = "created"
    PAGED = "paged"
    STEP_SKIPPED = "step_skipped"
    UNANSWERED = "unanswered"
    NOBODY = "nobody"
    DELIVERY_FAILED = "delivery_failed"
    UNREACHABLE = "unreachable"
    STEP_UNREACHED = "step_unreached"
    ACKNOWLEDGED = "acknowledged"
    REMINDER = "reminder"
    RESUMED = "resumed"
    FOLLOWUP = "followup"
    RESOLVED = "resolved"
    POLICY_CHANGED = "policy_changed"
    HELD = "held"
    RELEASED = "released"
    DISMISSED = "dismissed"
    SNOOZED = "snoozed"
    NOTE = "note"
    CHECKED_IN = "checked_in"  # the contact checked in (closes a missed check-in)
    CANCELLED = "cancelled"  # the contact cancelled it with their PIN
    DURESS = "duress"  # the contact answered with the duress PIN or word
    CANCEL_REFUSED = "cancel_refused"  # a cancel of an alert marked DURESS: ignored
    MISSED = "missed"  # a check-in was missed while this alert was open
    PHRASE = "phrase"  # a phrasebook phrase sent to the contact
    SAID = "said"  # free text sent to the contact


@dataclass(frozen=True, slots=True)
class AlertEvent:
    id: int
    alert_id: int
    at: datetime
    kind: EventKind
    actor_id: int | None
    detail: dict[str, Any]


class PageDelivery(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class AlertPage:
    id: int
    alert_id: int
    person_id: int | None  # None for a page to a group chat
    pass_: int
    step: int
    outbox_id: int | None
    paged_at: datetime
    delivery: PageDelivery
    group_id: int | None = None


class DraftKind(enum.StrEnum):
    """What a draft row holds (stored as its value, so rows written before stay valid).

    Those in handlers/rota.py's `_CONFIRMED` wait for a coordinator's Confirm, and their
    value is also in the button's callback data (`dr:y:<kind>:<id>`)."""

    ROTATION_NEW = "rotation.new"
    ROTATION_MEMBERS = "rotation.members"
    OVERRIDE_NEW = "override.new"
    POLICY_EDIT = "policy.edit"
    WIZARD = "wizard"  # a guided change's answers so far (bot/wizards/engine.py)
    RESOLVE_NOTE = "resolve_note"  # a note asked for after a Resolve button
    CHECKIN_SCHEDULE = "checkin.schedule"  # a schedule waiting for Confirm
    CONTACT_PIN = "contact.pin"  # a contact was asked for a PIN (bot/services/checkins.py)
    CASE_EDIT = "case.edit"  # a case file change waiting for Confirm (bot/services/casefiles.py)


@dataclass(frozen=True, slots=True)
class GroupChat:
    id: int
    chat_id: int
    title: str
