"""Words about alerts: pages, lists and timelines, in the reader's language.

Built when queued, since they join many catalogue strings; a contact's chat never
gets any of these.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.domain.limits import fits, split_text
from bot.domain.models import (
    Alert,
    AlertEvent,
    AlertKind,
    AlertPage,
    AlertState,
    EventKind,
    Person,
    Policy,
)
from bot.words.catalogue import text
from bot.words.locales import format_when, language_name
from config.durations import format_duration

# How much of the contact's message a page holds: room is left for the header, the
# location, who acknowledged or resolved it and a note of up to 1000 characters.
PAGE_TEXT = 2000


class Reader(Protocol):
    """Whoever reads a page: a person, or a group chat (English, UTC)."""

    @property
    def lang(self) -> str: ...

    @property
    def tz(self) -> str: ...


@dataclass(frozen=True, slots=True)
class GroupReader:
    lang: str = "en"
    tz: str = "UTC"


def when(moment: datetime, person: Reader, *, seconds: bool = False) -> str:
    """A time in the reader's own zone (`/tz`) and language, with the zone's abbreviation."""
    return format_when(moment, person.tz, person.lang, seconds=seconds)


def stamp(moment: datetime, reader: Reader) -> str:
    """A timeline's time: to the second in the reader's zone, with UTC beside it (a record
    read beside other records, and by a court, needs the one time everyone shares)."""
    local = when(moment, reader, seconds=True)
    if reader.tz == "UTC":
        return local
    return f"{local} (UTC {moment.astimezone(UTC):%Y-%m-%d %H:%M:%S})"


def ago(delta: timedelta) -> str:
    return format_duration(timedelta(seconds=max(1, int(delta.total_seconds()))))


def message_parts(alert: Alert) -> list[str]:
    """The contact's message as the page shows it (the first part) and the rest, in
    pieces that each fit a continuation message."""
    if not alert.body:
        return []
    if fits(alert.body, PAGE_TEXT):
        return [alert.body]
    head = split_text(alert.body, PAGE_TEXT)[0]
    rest = alert.body[len(head) :]
    if rest[:1] in ("\n", " "):  # the line break or space it was cut at
        rest = rest[1:]
    return [head, *split_text(rest)]


def continuations(alert: Alert, reader: Reader) -> list[str]:
    """The rest of a long message, as messages that follow the page."""
    parts = message_parts(alert)
    return [
        text("page.continued", reader.lang, id=alert.id, part=n, parts=len(parts), text=part)
        for n, part in enumerate(parts[1:], start=2)
    ]


def page_body(
    alert: Alert,
    contact_name: str,
    reader: Reader,
    policy: Policy | None,
    *,
    reads: str | None = None,
) -> str:
    """A page's text. The contact's message is cut at PAGE_TEXT characters (the rest is in
    `continuations`), so that the page, and every later edit of it that adds who
    acknowledged or resolved it and a note, stays inside Telegram's 4096 characters."""
    lang = reader.lang
    parts = message_parts(alert)
    lines = [
        text("page.header", lang, kind=text(f"kind.{alert.kind.value}", lang), id=alert.id),
        text("page.from", lang, name=contact_name),
    ]
    if reads:
        # Which language an answer to the contact must be in (the phrasebook sends it so).
        lines.append(text("page.reads", lang, language=language_name(reads, lang)))
    if alert.kind is AlertKind.DURESS:
        lines.append(text("page.duress", lang))
    if alert.detail is not None and "cycle" in alert.detail:
        # A missed check-in (also once marked DURESS): what was due, the last check-in.
        lines += missed_lines(alert.detail, reader)
    else:
        lines.append(
            text("page.text", lang, text=parts[0]) if parts else text("page.no_text", lang)
        )
    if len(parts) > 1:
        lines.append(text("page.text_cut", lang, n=len(parts) - 1))
    if alert.location is not None:
        live = text("page.location.live", lang) if alert.location.live else ""
        lines.append(
            text(
                "page.location",
                lang,
                lat=alert.location.latitude,
                lon=alert.location.longitude,
                live=live,
            )
        )
    lines.append(text("page.at", lang, time=when(alert.created_at, reader)))
    if policy is not None and alert.state is AlertState.TRIGGERED and not alert.unanswered:
        repeat = text("page.repeat", lang, n=alert.pass_) if alert.pass_ else ""
        lines.append(
            text("page.step", lang, step=alert.step + 1, steps=len(policy.steps), repeat=repeat)
        )
    return "\n".join(lines)


def missed_lines(detail: dict[str, Any], reader: Reader) -> list[str]:
    """What a missed check-in's page says it knows: the last check-in, what was due."""
    lang = reader.lang
    last = detail.get("last")
    lines = [
        text("page.missed.last", lang, time=when(datetime.fromisoformat(last), reader))
        if last
        else text("page.missed.never", lang)
    ]
    due = when(datetime.fromisoformat(detail["due"]), reader) if detail.get("due") else "?"
    cycle = detail.get("cycle")
    if cycle == "trip":
        lines.append(text("page.missed.trip", lang, time=due, note=detail.get("note") or "-"))
    elif cycle == "pins":
        lines.append(text("page.missed.pins", lang, time=due))
    else:
        lines.append(text("page.missed.schedule", lang, time=due))
    return lines


def page_text(
    alert: Alert,
    contact_name: str,
    reader: Reader,
    policy: Policy | None,
    *,
    unanswered: bool = False,
    held_by: tuple[str, datetime] | None = None,
    reads: str | None = None,
) -> str:
    """A page as it is first sent: UNANSWERED over it when everyone is paged, who had
    acknowledged it (and when) when escalation resumed after them, and how to act."""
    lang = reader.lang
    body = page_body(alert, contact_name, reader, policy, reads=reads)
    if unanswered:
        body = text("page.unanswered", lang) + "\n\n" + body
    if held_by is not None:
        name, since = held_by
        body = body + "\n\n" + text("page.was_held", lang, name=name, time=when(since, reader))
    return body + "\n\n" + text("page.how", lang, id=alert.id)


def reminder_text(
    alert: Alert,
    contact_name: str,
    reader: Reader,
    held_for: timedelta,
    timeout: timedelta,
    *,
    reads: str | None = None,
) -> str:
    """The reminder to whoever acknowledged an alert and has not resolved it in time."""
    reminder = text("page.reminder", reader.lang, ago=ago(held_for), timeout=ago(timeout))
    return reminder + "\n\n" + page_body(alert, contact_name, reader, None, reads=reads)


def page_after(
    alert: Alert,
    contact_name: str,
    reader: Reader,
    by: str,
    at: datetime,
    note: str | None = None,
    closed: str | None = None,
    *,
    reads: str | None = None,
) -> str:
    """A page edited once someone acted on it: the page, then who acknowledged it, or who
    resolved (or closed) it and their note, if one was given (`note` not None)."""
    if closed is not None:
        # Closed by the contact: checked in, or cancelled with their PIN.
        status = text(closed, reader.lang, time=when(at, reader))
        return f"{page_body(alert, contact_name, reader, None, reads=reads)}\n\n{status}"
    if alert.state is AlertState.ACKNOWLEDGED:
        key = "page.acked"
    else:
        key = "page.resolved" if note is None else "page.resolved_note"
    status = text(key, reader.lang, name=by, time=when(at, reader), note=note or "")
    return f"{page_body(alert, contact_name, reader, None, reads=reads)}\n\n{status}"


def open_alerts(rows: list[tuple[Alert, str, str | None]], reader: Person) -> list[str]:
    """`/alerts`: a header, then one line per (alert, contact's name, acknowledger's name)."""
    lines = [text("alerts.header", reader.lang, count=len(rows))]
    lines += [alert_line(alert, contact, acker, reader) for alert, contact, acker in rows]
    return lines


def rotation_names(names: list[str], lang: str) -> str:
    """The rotations someone takes turns in, for a coordinator: "nobody" when none."""
    return ", ".join(names) or text("oncall.nobody", lang)


def alert_line(alert: Alert, contact_name: str, acker: str | None, reader: Person) -> str:
    lang = reader.lang
    return text(
        "alerts.line",
        lang,
        id=alert.id,
        kind=text(f"kind.{alert.kind.value}", lang),
        name=contact_name,
        state=state_label(alert, acker, lang),
        time=when(alert.created_at, reader),
    )


def state_label(alert: Alert, acker: str | None, lang: str) -> str:
    if alert.state is AlertState.ACKNOWLEDGED:
        return text("state.acknowledged", lang, name=acker or "?")
    return text(f"state.{alert.state.value}", lang)


_EVENT_KEYS: dict[EventKind, str] = {
    EventKind.CREATED: "timeline.created",
    EventKind.PAGED: "timeline.paged",
    EventKind.STEP_SKIPPED: "timeline.step_skipped",
    EventKind.UNANSWERED: "timeline.unanswered",
    EventKind.NOBODY: "timeline.nobody",
    EventKind.DELIVERY_FAILED: "timeline.delivery_failed",
    EventKind.UNREACHABLE: "timeline.unreachable",
    EventKind.STEP_UNREACHED: "timeline.step_unreached",
    EventKind.ACKNOWLEDGED: "timeline.acknowledged",
    EventKind.REMINDER: "timeline.reminder",
    EventKind.RESUMED: "timeline.resumed",
    EventKind.FOLLOWUP: "timeline.followup",
    EventKind.RESOLVED: "timeline.resolved",
    EventKind.POLICY_CHANGED: "timeline.policy_changed",
    EventKind.HELD: "timeline.held",
    EventKind.RELEASED: "timeline.released",
    EventKind.DISMISSED: "timeline.dismissed",
    EventKind.SNOOZED: "timeline.snoozed",
    EventKind.NOTE: "timeline.note",
    EventKind.CHECKED_IN: "timeline.checked_in",
    EventKind.CANCELLED: "timeline.cancelled",
    EventKind.DURESS: "timeline.duress",
    EventKind.CANCEL_REFUSED: "timeline.cancel_refused",
    EventKind.MISSED: "timeline.missed",
    EventKind.PHRASE: "timeline.phrase",
    EventKind.SAID: "timeline.said",
}

MEDIA = ("voice", "photo")


def map_link(lat: float, lon: float) -> str:
    """A map at the point (OpenStreetMap: no account, no tracking cookie needed to look)."""
    return (
        f"https://www.openstreetmap.org/?mlat={lat:.5f}&mlon={lon:.5f}#map=17/{lat:.5f}/{lon:.5f}"
    )


def followup_content(event: AlertEvent, lang: str) -> str:
    """What a follow-up said: its text, a location with a map link, a caption; or ''."""
    detail = event.detail
    if "lat" in detail and "lon" in detail:
        lat, lon = float(detail["lat"]), float(detail["lon"])
        return f"{lat:.5f}, {lon:.5f} {map_link(lat, lon)}"
    return str(detail.get("text", ""))


def media_of(events: list[AlertEvent]) -> list[AlertEvent]:
    """The follow-ups that were voice messages or photos (relayed again on request)."""
    return [
        e
        for e in events
        if e.kind is EventKind.FOLLOWUP
        and e.detail.get("what") in MEDIA
        and e.detail.get("file_id")
    ]


def catch_up(
    alert: Alert, contact_name: str, missed: list[AlertEvent], reader: Reader
) -> list[str]:
    """What the contact sent before `reader` was paged, one line each, under a header."""
    lang = reader.lang
    lines = [text("catchup.header", lang, name=contact_name, id=alert.id)]
    for event in missed:
        detail = event.detail
        what = detail.get("what", "text")
        at = when(event.at, reader)
        said = str(detail.get("text", ""))
        if "lat" in detail and "lon" in detail:
            lat, lon = float(detail["lat"]), float(detail["lon"])
            lines.append(
                text("catchup.location", lang, time=at, lat=lat, lon=lon, map=map_link(lat, lon))
            )
        elif what in MEDIA:
            key = "catchup.voice" if what == "voice" else "catchup.photo"
            lines.append(text(key, lang, time=at, text=said).rstrip())
        elif what == "panic_again":
            lines.append(text("catchup.panic_again", lang, time=at, text=said).rstrip())
        else:
            lines.append(text("catchup.text", lang, time=at, text=said))
    if media_of(missed):
        lines.append(text("catchup.media_hint", lang))
    return lines


def timeline(
    alert: Alert,
    contact_name: str,
    acker: str | None,
    events: list[AlertEvent],
    pages: list[tuple[AlertPage, str]],
    reader: Person,
    *,
    reads: str | None = None,
) -> str:
    lang = reader.lang
    lines = [
        text(
            "timeline.header",
            lang,
            id=alert.id,
            kind=text(f"kind.{alert.kind.value}", lang),
            name=contact_name,
            state=state_label(alert, acker, lang),
        ),
    ]
    if reads:
        lines.append(text("page.reads", lang, language=language_name(reads, lang)))
    for event in events:
        key = _EVENT_KEYS.get(event.kind)
        if key is None:
            continue
        params = dict(event.detail)
        if event.kind is EventKind.RESOLVED and params.get("note"):
            key = "timeline.resolved_note"
        if event.kind is EventKind.FOLLOWUP:
            params["what"] = text(f"what.{params.get('what', 'text')}", lang)
            content = followup_content(event, lang)
            if content:
                key, params["content"] = "timeline.followup_content", content
        if "names" in params and isinstance(params["names"], list):
            params["names"] = ", ".join(params["names"])
        params.setdefault("name", "?")
        params.setdefault("step", "?")
        lines.append(f"{stamp(event.at, reader)}  {text(key, lang, **params)}")
    if pages:
        lines.append("")
        lines.append(text("timeline.pages", lang))
        for page, name in pages:
            step = page.step + 1 if page.step >= 0 else "-"
            lines.append(
                text(
                    "timeline.page",
                    lang,
                    time=stamp(page.paged_at, reader),
                    name=name,
                    step=step,
                    delivery=text(f"delivery.{page.delivery.value}", lang),
                )
            )
    return "\n".join(lines)
