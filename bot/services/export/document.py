"""The export document: everything nabat knows about one alert, as one JSON value built
for an urgent application to a court.

It holds the contact (pseudonym, language, time zone), their case file (every field, or
null), the alert (kind, state, created, acknowledged and resolved with who), the whole
timeline with its content (what each follow-up said; locations with coordinates and a
map link; voice messages and photos as Telegram file ids with their captions; phrases
and words sent to the contact; notes), the delivery record (every page: to whom, at
which step, when, delivered or not) and who acted. Every time is given to the second in
UTC (`...Z`) and in the contact's local time (ISO 8601 with its offset).

The PDF is drawn from this value alone (bot/words/export_pdf.py), so what is printed is
what is signed. No Telegram here: file ids are only names of files Telegram keeps.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.casefile import CaseFile
from bot.domain.models import Alert, AlertEvent, AlertPage, EventKind, Person
from bot.words.alert_text import map_link
from storage.alerts import AlertRepo
from storage.groups import GroupRepo
from storage.people import PeopleRepo, Queryable

FORMAT = "nabat-export"
VERSION = 1
VIA_TELEGRAM = "telegram"
VIA_COMMAND_LINE = "command line"

Json = dict[str, Any]


class CaseFiles(Protocol):
    """Where a contact's case file comes from (storage/casefiles.py)."""

    async def get(self, q: Queryable, person_id: int) -> CaseFile | None: ...


@dataclass(frozen=True)
class Sources:
    alerts: AlertRepo
    people: PeopleRepo
    groups: GroupRepo
    case_files: CaseFiles


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def local(moment: datetime, zone: str) -> str:
    try:
        where = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        where = ZoneInfo("UTC")
    return moment.astimezone(where).replace(microsecond=0).isoformat()


def place(lat: float, lon: float, *, live: bool | None = None) -> Json:
    out: Json = {"lat": lat, "lon": lon, "map": map_link(lat, lon)}
    if live is not None:
        out["live"] = live
    return out


def case_file_json(case_file: CaseFile | None) -> Json | None:
    if case_file is None:
        return None
    plain: Json = _lists(asdict(case_file))
    return plain


def _lists(value: Any) -> Any:
    """asdict keeps tuples; JSON has lists, and the manifest must see what the file has."""
    if isinstance(value, dict):
        return {k: _lists(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_lists(v) for v in value]
    return value


class _Names:
    """People and groups named in the document, looked up once each."""

    def __init__(self, q: Queryable, sources: Sources) -> None:
        self._q = q
        self._sources = sources
        self.people: dict[int, Person | None] = {}
        self._groups: dict[int, str] | None = None

    async def person(self, person_id: int | None) -> Json | None:
        if person_id is None:
            return None
        if person_id not in self.people:
            self.people[person_id] = await self._sources.people.get(self._q, person_id)
        found = self.people[person_id]
        return {"id": person_id, "name": found.name if found else "?"}

    async def group(self, group_id: int | None) -> Json:
        if self._groups is None:
            self._groups = {g.id: g.title for g in await self._sources.groups.all(self._q)}
        return {"kind": "group", "id": group_id, "title": self._groups.get(group_id or 0, "?")}


async def build(
    q: Queryable,
    sources: Sources,
    alert_id: int,
    *,
    now: datetime,
    lang: str,
    requester: Person | None,
) -> Json | None:
    """The document for `alert_id` as it stands at `now`; None if there is no such alert."""
    alert = await sources.alerts.get(q, alert_id)
    if alert is None:
        return None
    names = _Names(q, sources)
    contact = await sources.people.get(q, alert.contact_id) if alert.contact_id else None
    zone = contact.tz if contact else "UTC"
    case_file = await sources.case_files.get(q, contact.id) if contact else None
    events = await sources.alerts.events(q, alert.id)
    pages = await sources.alerts.pages(q, alert.id)
    timeline = [await _entry(n, e, alert, zone, names) for n, e in enumerate(events, 1)]
    deliveries = [await _delivery(n, p, zone, names) for n, p in enumerate(pages, 1)]
    return {
        "format": FORMAT,
        "version": VERSION,
        "exported": {
            "at_utc": utc(now),
            "by": await names.person(requester.id) if requester else None,
            "via": VIA_TELEGRAM if requester else VIA_COMMAND_LINE,
            "language": lang,
        },
        "contact": (
            {
                "id": contact.id,
                "pseudonym": contact.name,
                "language": contact.lang,
                "time_zone": zone,
            }
            if contact
            else None
        ),
        "case_file": case_file_json(case_file),
        "alert": await _alert(alert, zone, names),
        "timeline": timeline,
        "deliveries": deliveries,
        "people": _who_acted(events, pages, names, contact),
    }


async def _alert(alert: Alert, zone: str, names: _Names) -> Json:
    def at(moment: datetime) -> Json:
        return {"at_utc": utc(moment), "at_local": local(moment, zone)}

    acknowledged = resolved = None
    if alert.ack_at is not None:
        acknowledged = {**at(alert.ack_at), "by": await names.person(alert.ack_by)}
    if alert.resolved_at is not None:
        resolved = {
            **at(alert.resolved_at),
            "by": await names.person(alert.resolved_by),
            "note": alert.resolution,
        }
    location = alert.location
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "state": alert.state.value,
        "text": alert.body,
        "created": at(alert.created_at),
        "acknowledged": acknowledged,
        "resolved": resolved,
        "last_location": (
            place(location.latitude, location.longitude, live=location.live) if location else None
        ),
        # What nabat knew of a missed check-in: what was due, the last check-in.
        "check_in": alert.detail,
    }


async def _entry(n: int, event: AlertEvent, alert: Alert, zone: str, names: _Names) -> Json:
    """One line of the timeline: when, who, what, and its content in fields of their own."""
    detail = dict(event.detail)
    detail.pop("relayed", None)  # outbox rows: bookkeeping, not a fact about the alert
    text: str | None = None
    location: Json | None = None
    media: Json | None = None
    what: str | None = None
    if event.kind is EventKind.CREATED:
        text = alert.body or None
    elif event.kind is EventKind.FOLLOWUP:
        what = str(detail.pop("what", "text"))
        said = detail.pop("text", None)
        file_id = detail.pop("file_id", None)
        if "lat" in detail and "lon" in detail:
            location = place(float(detail.pop("lat")), float(detail.pop("lon")))
        if file_id:
            media = {"type": what, "file_id": file_id, "caption": said or None}
        else:
            text = said
        recipients = detail.pop("to", None)
        if isinstance(recipients, list):
            detail["relayed_to"] = [await names.person(int(p)) for p in recipients]
    elif event.kind in (EventKind.PHRASE, EventKind.SAID):
        text = detail.pop("text", None)
    elif event.kind in (EventKind.NOTE, EventKind.RESOLVED):
        text = detail.pop("note", None)
    return {
        "n": n,
        "kind": event.kind.value,
        "at_utc": utc(event.at),
        "at_local": local(event.at, zone),
        "by": await names.person(event.actor_id),
        "what": what,
        "text": text,
        "location": location,
        "media": media,
        "detail": detail,
    }


async def _delivery(n: int, page: AlertPage, zone: str, names: _Names) -> Json:
    to = (
        {"kind": "person", **(await names.person(page.person_id) or {})}
        if page.person_id is not None
        else await names.group(page.group_id)
    )
    return {
        "n": n,
        "to": to,
        # A message held for whoever resolved the alert before is paged at no step.
        "step": page.step + 1 if page.step >= 0 else None,
        "round": page.pass_ + 1,
        "paged_at_utc": utc(page.paged_at),
        "paged_at_local": local(page.paged_at, zone),
        "delivery": page.delivery.value,
    }


def _who_acted(
    events: list[AlertEvent], pages: list[AlertPage], names: _Names, contact: Person | None
) -> list[Json]:
    """Everyone but the contact who acted on the alert or was paged for it, with what
    they did, in the order they first did it."""
    did: dict[int, list[str]] = {}
    for page in pages:
        if page.person_id is not None:
            did.setdefault(page.person_id, ["paged"])
    for event in events:
        if event.actor_id is not None and not (contact and event.actor_id == contact.id):
            acts = did.setdefault(event.actor_id, [])
            if event.kind.value not in acts:
                acts.append(event.kind.value)
    out = []
    for person_id in sorted(did):
        person = names.people.get(person_id)
        out.append(
            {
                "id": person_id,
                "name": person.name if person else "?",
                "roles": sorted(r.value for r in person.roles) if person else [],
                "did": did[person_id],
            }
        )
    return out
