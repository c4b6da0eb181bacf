"""Alerts, their timelines and their pages. Texts, locations and names are encrypted."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from typing import Any

from bot.domain.models import (
    Alert,
    AlertEvent,
    AlertKind,
    AlertPage,
    AlertState,
    EventKind,
    Location,
    PageDelivery,
)
from storage.crypto import FieldCipher
from storage.db import Transaction, from_db_time, to_db_time
from storage.people import Queryable


def _t(value: str | None) -> datetime | None:
    return from_db_time(value) if value else None


class AlertRepo:
    def __init__(self, cipher: FieldCipher) -> None:
        self._cipher = cipher

    # -- alerts ------------------------------------------------------------------------

    async def create(
        self,
        tx: Transaction,
        *,
        contact_id: int,
        kind: AlertKind,
        policy_id: int,
        body: str,
        now: datetime,
        next_escalation_at: datetime | None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        alert_id = await tx.next_id("alerts")
        await tx.insert_row(
            "alerts",
            alert_id,
            {
                "contact_id": contact_id,
                "kind": kind.value,
                "state": "triggered",
                "policy_id": policy_id,
                "created_at": to_db_time(now),
                "step": 0,
                "pass": 0,
                "step_started_at": to_db_time(now),
                "next_escalation_at": (
                    to_db_time(next_escalation_at) if next_escalation_at else None
                ),
                "body_enc": self._enc(body, "body", alert_id),
                "detail_enc": self._enc(json.dumps(detail), "detail", alert_id) if detail else None,
            },
        )
        return alert_id

    async def get(self, q: Queryable, alert_id: int) -> Alert | None:
        row = await q.fetchone("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return self._decode(row) if row else None

    async def open_for_contact(self, q: Queryable, contact_id: int) -> Alert | None:
        row = await q.fetchone(
            "SELECT * FROM alerts WHERE contact_id = ? AND state != 'resolved'"
            " ORDER BY id DESC LIMIT 1",
            (contact_id,),
        )
        return self._decode(row) if row else None

    async def open_alerts(self, q: Queryable) -> list[Alert]:
        rows = await q.fetchall("SELECT * FROM alerts WHERE state != 'resolved' ORDER BY id")
        return [self._decode(r) for r in rows]

    async def due_escalations(self, q: Queryable, now: datetime, limit: int = 200) -> list[Alert]:
        rows = await q.fetchall(
            "SELECT * FROM alerts WHERE state = 'triggered' AND next_escalation_at <= ?"
            " ORDER BY next_escalation_at, id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [self._decode(r) for r in rows]

    async def due_ack_timeouts(self, q: Queryable, now: datetime, limit: int = 200) -> list[Alert]:
        rows = await q.fetchall(
            "SELECT * FROM alerts WHERE state = 'acknowledged' AND ack_deadline_at <= ?"
            " ORDER BY ack_deadline_at, id LIMIT ?",
            (to_db_time(now), limit),
        )
        return [self._decode(r) for r in rows]

    async def move(
        self,
        tx: Transaction,
        alert: Alert,
        *,
        step: int,
        pass_: int,
        now: datetime,
        next_escalation_at: datetime | None,
        unanswered: bool = False,
        state: AlertState | None = None,
    ) -> bool:
        """Claim the move from the alert's current position; False if someone moved it first."""
        changed = await tx.execute(
            "UPDATE alerts SET step = ?, pass = ?, step_started_at = ?, next_escalation_at = ?,"
            " unanswered = ?, state = ?, ack_deadline_at = CASE WHEN ? = 'triggered' THEN NULL"
            " ELSE ack_deadline_at END"
            " WHERE id = ? AND step = ? AND pass = ? AND state = ? AND unanswered = ?",
            (
                step,
                pass_,
                to_db_time(now),
                to_db_time(next_escalation_at) if next_escalation_at else None,
                int(unanswered),
                (state or alert.state).value,
                (state or alert.state).value,
                alert.id,
                alert.step,
                alert.pass_,
                alert.state.value,
                int(alert.unanswered),
            ),
        )
        return changed == 1

    async def acknowledge(
        self, tx: Transaction, alert_id: int, person_id: int, now: datetime, deadline: datetime
    ) -> bool:
        changed = await tx.execute(
            "UPDATE alerts SET state = 'acknowledged', ack_by = ?, ack_at = ?,"
            " ack_deadline_at = ?, ack_reminded = 0, next_escalation_at = NULL"
            " WHERE id = ? AND state = 'triggered'",
            (person_id, to_db_time(now), to_db_time(deadline), alert_id),
        )
        return changed == 1

    async def ack_reminded(self, tx: Transaction, alert: Alert, deadline: datetime) -> bool:
        changed = await tx.execute(
            "UPDATE alerts SET ack_reminded = 1, ack_deadline_at = ?"
            " WHERE id = ? AND state = 'acknowledged' AND ack_reminded = 0 AND ack_deadline_at = ?",
            (
                to_db_time(deadline),
                alert.id,
                to_db_time(alert.ack_deadline_at) if alert.ack_deadline_at else None,
            ),
        )
        return changed == 1

    async def resolve(
        self, tx: Transaction, alert_id: int, person_id: int | None, now: datetime, note: str | None
    ) -> bool:
        changed = await tx.execute(
            "UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ?,"
            " next_escalation_at = NULL, ack_deadline_at = NULL"
            " WHERE id = ? AND state != 'resolved'",
            (person_id, to_db_time(now), alert_id),
        )
        if changed == 1 and note:
            await tx.execute(
                "UPDATE alerts SET resolution_enc = ? WHERE id = ?",
                (self._enc(note, "resolution", alert_id), alert_id),
            )
        return changed == 1

    async def set_location(self, tx: Transaction, alert_id: int, location: Location) -> None:
        data = {"lat": location.latitude, "lon": location.longitude, "live": location.live}
        await tx.execute(
            "UPDATE alerts SET location_enc = ? WHERE id = ?",
            (self._enc(json.dumps(data), "location", alert_id), alert_id),
        )

    async def ids_for_contact(self, q: Queryable, contact_id: int) -> list[int]:
        rows = await q.fetchall(
            "SELECT id FROM alerts WHERE contact_id = ? ORDER BY id", (contact_id,)
        )
        return [int(r[0]) for r in rows]

    async def count_for_contact(self, q: Queryable, contact_id: int) -> int:
        row = await q.fetchone("SELECT COUNT(*) FROM alerts WHERE contact_id = ?", (contact_id,))
        return int(row[0]) if row else 0

    async def detach_contact(self, tx: Transaction, contact_id: int, now: datetime) -> int:
        """Keep a removed contact's alerts as records of no one (until retention ends). One
        still open is closed first: there is no one left to page about."""
        open_ids = await tx.fetchall(
            "SELECT id FROM alerts WHERE contact_id = ? AND state != 'resolved'", (contact_id,)
        )
        for row in open_ids:
            await self.resolve(tx, int(row[0]), None, now, "closed: the contact was removed")
        return await tx.execute(
            "UPDATE alerts SET contact_id = NULL WHERE contact_id = ?", (contact_id,)
        )

    async def purge_resolved(self, tx: Transaction, before: datetime) -> list[int]:
        """Delete resolved alerts closed before `before` (their timelines and pages go with
        them); the ids deleted, for the audit log."""
        rows = await tx.fetchall(
            "SELECT id FROM alerts WHERE state = 'resolved' AND resolved_at < ? ORDER BY id",
            (to_db_time(before),),
        )
        ids = [int(r[0]) for r in rows]
        for alert_id in ids:
            await tx.execute("DELETE FROM alerts WHERE id = ?", (alert_id,))
        return ids

    async def set_detail(self, tx: Transaction, alert_id: int, detail: dict[str, Any]) -> None:
        await tx.execute(
            "UPDATE alerts SET detail_enc = ? WHERE id = ?",
            (self._enc(json.dumps(detail), "detail", alert_id), alert_id),
        )

    async def set_kind(self, tx: Transaction, alert_id: int, kind: AlertKind) -> None:
        await tx.execute("UPDATE alerts SET kind = ? WHERE id = ?", (kind.value, alert_id))

    async def last_location(self, q: Queryable, contact_id: int) -> Location | None:
        """The newest location the contact shared with any of their alerts."""
        rows = await q.fetchall(
            "SELECT id, location_enc FROM alerts WHERE contact_id = ? AND location_enc IS NOT NULL"
            " ORDER BY id DESC LIMIT 1",
            (contact_id,),
        )
        for row in rows:
            text = self._dec(row["location_enc"], "location", row["id"])
            if text:
                data = json.loads(text)
                return Location(data["lat"], data["lon"], data.get("live", False))
        return None

    async def set_policy(self, tx: Transaction, alert_id: int, policy_id: int) -> None:
        await tx.execute("UPDATE alerts SET policy_id = ? WHERE id = ?", (policy_id, alert_id))

    async def postpone(self, tx: Transaction, alert_id: int, until: datetime) -> None:
        """Push a deadline that could not be handled forward, so one bad alert cannot spin."""
        await tx.execute(
            "UPDATE alerts SET next_escalation_at = CASE WHEN state = 'triggered'"
            " AND next_escalation_at IS NOT NULL THEN ? ELSE next_escalation_at END,"
            " ack_deadline_at = CASE WHEN state = 'acknowledged' THEN ? ELSE ack_deadline_at END"
            " WHERE id = ?",
            (to_db_time(until), to_db_time(until), alert_id),
        )

    async def snooze(
        self, tx: Transaction, alert_id: int, person_id: int, deadline: datetime
    ) -> bool:
        """The acknowledger is still on it: remind them again at `deadline`."""
        changed = await tx.execute(
            "UPDATE alerts SET ack_deadline_at = ?, ack_reminded = 0"
            " WHERE id = ? AND state = 'acknowledged' AND ack_by = ?",
            (to_db_time(deadline), alert_id, person_id),
        )
        return changed == 1

    async def close_held(
        self, tx: Transaction, alert_id: int, person_id: int, now: datetime, held_step: int
    ) -> bool:
        """Close an alert that is still held at `held_step` (never one paged meanwhile)."""
        changed = await tx.execute(
            "UPDATE alerts SET state = 'resolved', resolved_by = ?, resolved_at = ?,"
            " next_escalation_at = NULL, ack_deadline_at = NULL"
            " WHERE id = ? AND state = 'triggered' AND step = ?",
            (person_id, to_db_time(now), alert_id, held_step),
        )
        return changed == 1

    async def set_resolution(self, tx: Transaction, alert_id: int, note: str) -> bool:
        """A note added after the alert was resolved."""
        changed = await tx.execute(
            "UPDATE alerts SET resolution_enc = ? WHERE id = ? AND state = 'resolved'",
            (self._enc(note, "resolution", alert_id), alert_id),
        )
        return changed == 1

    async def resolved_since(self, q: Queryable, contact_id: int, since: datetime) -> Alert | None:
        """The contact's newest alert if it was resolved at or after `since`."""
        row = await q.fetchone(
            "SELECT * FROM alerts WHERE contact_id = ? ORDER BY id DESC LIMIT 1", (contact_id,)
        )
        if row is None or row["state"] != "resolved" or row["resolved_at"] is None:
            return None
        return self._decode(row) if from_db_time(row["resolved_at"]) >= since else None

    async def escalate_now(self, tx: Transaction, alert_id: int, now: datetime) -> bool:
        changed = await tx.execute(
            "UPDATE alerts SET next_escalation_at = ? WHERE id = ? AND state = 'triggered'"
            " AND next_escalation_at > ?",
            (to_db_time(now), alert_id, to_db_time(now)),
        )
        return changed == 1

    # -- timeline ------------------------------------------------------------------------

    async def add_event(
        self,
        tx: Transaction,
        alert_id: int,
        kind: EventKind,
        now: datetime,
        *,
        actor_id: int | None = None,
        detail: dict[str, Any] | None = None,
    ) -> int:
        event_id = await tx.next_id("alert_events")
        blob = (
            self._cipher.encrypt(
                json.dumps(detail, sort_keys=True),
                table="alert_events",
                column="detail",
                row_id=event_id,
            )
            if detail
            else None
        )
        await tx.execute(
            "INSERT INTO alert_events (id, alert_id, at, kind, actor_id, detail_enc)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (event_id, alert_id, to_db_time(now), kind.value, actor_id, blob),
        )
        return event_id

    async def set_event_detail(
        self, tx: Transaction, event_id: int, detail: dict[str, Any]
    ) -> None:
        blob = self._cipher.encrypt(
            json.dumps(detail, sort_keys=True),
            table="alert_events",
            column="detail",
            row_id=event_id,
        )
        await tx.execute("UPDATE alert_events SET detail_enc = ? WHERE id = ?", (blob, event_id))

    async def events(self, q: Queryable, alert_id: int) -> list[AlertEvent]:
        rows = await q.fetchall(
            "SELECT * FROM alert_events WHERE alert_id = ? ORDER BY id", (alert_id,)
        )
        out = []
        for r in rows:
            detail = (
                json.loads(
                    self._cipher.decrypt_str(
                        r["detail_enc"], table="alert_events", column="detail", row_id=r["id"]
                    )
                )
                if r["detail_enc"] is not None
                else {}
            )
            out.append(
                AlertEvent(
                    r["id"],
                    r["alert_id"],
                    from_db_time(r["at"]),
                    EventKind(r["kind"]),
                    r["actor_id"],
                    detail,
                )
            )
        return out

    # -- pages ---------------------------------------------------------------------------

    async def add_page(
        self,
        tx: Transaction,
        *,
        alert_id: int,
        person_id: int,
        pass_: int,
        step: int,
        outbox_id: int | None,
        now: datetime,
    ) -> int:
        return await tx.insert(
            "INSERT INTO alert_pages (alert_id, person_id, pass, step, outbox_id, paged_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (alert_id, person_id, pass_, step, outbox_id, to_db_time(now)),
        )

    async def add_pages(
        self,
        tx: Transaction,
        alert_id: int,
        pages: list[tuple[int, int | None]],
        *,
        pass_: int,
        step: int,
        now: datetime,
    ) -> None:
        """Record many pages of one step: (person id, outbox id) each."""
        await tx.executemany(
            "INSERT INTO alert_pages (alert_id, person_id, pass, step, outbox_id, paged_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [(alert_id, pid, pass_, step, oid, to_db_time(now)) for pid, oid in pages],
        )

    async def add_group_page(
        self,
        tx: Transaction,
        alert_id: int,
        group_id: int,
        outbox_id: int,
        *,
        pass_: int,
        step: int,
        now: datetime,
    ) -> None:
        await tx.execute(
            "INSERT INTO alert_pages (alert_id, person_id, group_id, pass, step, outbox_id,"
            " paged_at) VALUES (?, NULL, ?, ?, ?, ?, ?)",
            (alert_id, group_id, pass_, step, outbox_id, to_db_time(now)),
        )

    async def paged_to_group(self, q: Queryable, alert_id: int, group_id: int) -> bool:
        row = await q.fetchone(
            "SELECT 1 FROM alert_pages WHERE alert_id = ? AND group_id = ? LIMIT 1",
            (alert_id, group_id),
        )
        return row is not None

    async def pages(self, q: Queryable, alert_id: int) -> list[AlertPage]:
        rows = await q.fetchall(
            "SELECT * FROM alert_pages WHERE alert_id = ? ORDER BY id", (alert_id,)
        )
        return [self._page(r) for r in rows]

    async def alert_of_message(self, q: Queryable, person_id: int, message_id: int) -> int | None:
        """The alert whose page to `person_id` is the Telegram message `message_id`."""
        row = await q.fetchone(
            "SELECT alert_pages.alert_id FROM alert_pages JOIN outbox"
            " ON outbox.id = alert_pages.outbox_id"
            " WHERE alert_pages.person_id = ? AND outbox.message_id = ?",
            (person_id, message_id),
        )
        return int(row[0]) if row else None

    async def page_for_outbox(self, q: Queryable, outbox_id: int) -> AlertPage | None:
        row = await q.fetchone("SELECT * FROM alert_pages WHERE outbox_id = ?", (outbox_id,))
        return self._page(row) if row else None

    async def set_delivery(self, tx: Transaction, page_id: int, delivery: PageDelivery) -> None:
        await tx.execute(
            "UPDATE alert_pages SET delivery = ? WHERE id = ?", (delivery.value, page_id)
        )

    async def alerts_paged_to(self, q: Queryable, person_id: int) -> set[int]:
        rows = await q.fetchall(
            "SELECT DISTINCT alert_id FROM alert_pages WHERE person_id = ?", (person_id,)
        )
        return {r[0] for r in rows}

    # -- decoding ------------------------------------------------------------------------

    def _enc(self, text: str, column: str, alert_id: int) -> bytes:
        return self._cipher.encrypt(text, table="alerts", column=column, row_id=alert_id)

    def _dec(self, blob: bytes | None, column: str, alert_id: int) -> str | None:
        if blob is None:
            return None
        return self._cipher.decrypt_str(blob, table="alerts", column=column, row_id=alert_id)

    def _decode(self, r: sqlite3.Row) -> Alert:
        aid = r["id"]
        loc_json = self._dec(r["location_enc"], "location", aid)
        location = None
        if loc_json:
            data = json.loads(loc_json)
            location = Location(data["lat"], data["lon"], data.get("live", False))
        return Alert(
            id=aid,
            contact_id=r["contact_id"],
            kind=AlertKind(r["kind"]),
            state=AlertState(r["state"]),
            policy_id=r["policy_id"],
            body=self._dec(r["body_enc"], "body", aid) or "",
            location=location,
            created_at=from_db_time(r["created_at"]),
            step=r["step"],
            pass_=r["pass"],
            step_started_at=from_db_time(r["step_started_at"]),
            next_escalation_at=_t(r["next_escalation_at"]),
            unanswered=bool(r["unanswered"]),
            ack_by=r["ack_by"],
            ack_at=_t(r["ack_at"]),
            ack_deadline_at=_t(r["ack_deadline_at"]),
            ack_reminded=bool(r["ack_reminded"]),
            resolved_by=r["resolved_by"],
            resolved_at=_t(r["resolved_at"]),
            resolution=self._dec(r["resolution_enc"], "resolution", aid),
            detail=self._detail(r, aid),
        )

    def _detail(self, r: sqlite3.Row, aid: int) -> dict[str, Any] | None:
        extra = self._dec(r["detail_enc"], "detail", aid)
        return json.loads(extra) if extra else None

    def _page(self, r: sqlite3.Row) -> AlertPage:
        return AlertPage(
            r["id"],
            r["alert_id"],
            r["person_id"],
            r["pass"],
            r["step"],
            r["outbox_id"],
            from_db_time(r["paged_at"]),
            PageDelivery(r["delivery"]),
            r["group_id"],
        )
