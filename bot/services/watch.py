"""What the rota needs watching for: shift reminders, handoffs, and coverage gaps.

Runs from the scheduler's tick about once a minute; every notice is claimed by a key in
`notices_sent` first, so a restart or an overlapping tick sends none twice. A confirmed
rota change also calls `now_on_call`, so whoever it puts on call at once hears it then.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.delivery.outbox import Outbox
from bot.domain import rota
from bot.domain.clock import Clock
from bot.domain.models import Alert, Notice, Person, Priority, Role, Target, TargetKind
from bot.words.catalogue import text
from storage.alerts import AlertRepo
from storage.db import Database, Transaction, to_db_time
from storage.groups import GroupRepo
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo

log = logging.getLogger(__name__)

GAP_HORIZON = timedelta(days=7)
HANDOFF_GRACE = timedelta(minutes=30)  # a handoff missed while the bot was down still counts
NOTICE_MEMORY = timedelta(days=14)


@dataclass(frozen=True, slots=True)
class Gap:
    policy: str
    step: int
    start: datetime
    end: datetime


def merge(intervals: list[tuple[datetime, datetime]]) -> list[tuple[datetime, datetime]]:
    out: list[tuple[datetime, datetime]] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def intersect(
    a: list[tuple[datetime, datetime]], b: list[tuple[datetime, datetime]]
) -> list[tuple[datetime, datetime]]:
    out = []
    for s1, e1 in a:
        for s2, e2 in b:
            start, end = max(s1, s2), min(e1, e2)
            if start < end:
                out.append((start, end))
    return merge(out)


class RotaWatch:
    def __init__(
        self,
        db: Database,
        repo: RotaRepo,
        people: PeopleRepo,
        policies: PolicyRepo,
        alerts: AlertRepo,
        groups: GroupRepo,
        outbox: Outbox,
        clock: Clock,
    ) -> None:
        self.db = db
        self.repo = repo
        self.people = people
        self.policies = policies
        self.alerts = alerts
        self.groups = groups
        self.outbox = outbox
        self.clock = clock

    async def tick(self) -> None:
        now = self.clock.now()
        staff = await self.people.staff(self.db)
        for r in await self.repo.rotations(self.db):
            try:
                await self._rotation_notices(r, staff, now)
            except Exception as exc:  # one rotation must not stop the others
                log.error("rotation %d: notices failed (%s)", r.id, type(exc).__name__)
        await self.report_gaps(daily=True)
        async with self.db.transaction() as tx:
            await self.repo.forget_notices(tx, now - NOTICE_MEMORY)

    async def _rotation_notices(self, r: rota.Rotation, staff: list[Person], now: datetime) -> None:
        overrides = await self.repo.overrides(self.db, r.id, ending_after=now - HANDOFF_GRACE)
        longest = max((p.remind_minutes for p in staff), default=60)
        segments = rota.coverage(
            r,
            overrides,
            now - HANDOFF_GRACE,
            now + timedelta(minutes=longest) + timedelta(seconds=1),
        )
        by_id = {p.id: p for p in staff}
        async with self.db.transaction() as tx:
            for prev, seg in itertools.pairwise(segments):
                incoming = seg.people - prev.people
                if seg.start > now:
                    for pid in incoming:
                        person = by_id.get(pid)
                        if (
                            person is None
                            or person.remind_minutes == 0
                            or seg.start - now > timedelta(minutes=person.remind_minutes)
                        ):
                            continue
                        key = f"reminder:{r.id}:{to_db_time(seg.start)}:{pid}"
                        if await self.repo.claim_notice(tx, key, now):
                            await self._send(
                                tx,
                                person,
                                "rota.reminder",
                                rotation=r.name,
                                start=rota.describe_local(seg.start, person.tz),
                                minutes=max(1, int((seg.start - now).total_seconds() // 60)),
                            )
                elif seg.people != prev.people:
                    await self._handoff(tx, r, prev.people, seg, by_id, now)

    async def _handoff(
        self,
        tx: Transaction,
        r: rota.Rotation,
        before: frozenset[int],
        seg: rota.Segment,
        by_id: dict[int, Person],
        now: datetime,
    ) -> None:
        """Tell the incoming and the outgoing who is on call now, and who holds what."""
        open_alerts = await self.alerts.open_alerts(tx)
        for pid in seg.people | before:
            person = by_id.get(pid)
            if person is None:
                continue
            key = f"handoff:{r.id}:{to_db_time(seg.start)}:{pid}"
            if not await self.repo.claim_notice(tx, key, now):
                continue
            lines = [
                text(
                    "rota.handoff",
                    person.lang,
                    rotation=r.name,
                    now=self._names(seg.people, by_id, person),
                    before=self._names(before, by_id, person),
                )
            ]
            lines += self._alert_lines(open_alerts, by_id, person)
            await self._send(tx, person, "text.block", text="\n".join(lines))

    async def now_on_call(
        self, tx: Transaction, rotation_id: int, before: frozenset[int], now: datetime
    ) -> None:
        """A confirmed change (a rotation, its people, an override, a swap) puts someone on
        call at once: tell them now, in the change's transaction, not at a handoff that
        may lie in the past (a first handoff at 09:00 confirmed at 11:00) and never come.

        Their handoff notice for the same moment is claimed too, so the tick does not say
        it again; whoever went off call still hears the handoff from the tick."""
        r = await self.repo.rotation(tx, rotation_id)
        if r is None:
            return
        overrides = await self.repo.overrides(tx, r.id, ending_after=now - HANDOFF_GRACE)
        # The segment holding now, as the tick's own window cuts it (same notice key).
        current = rota.coverage(r, overrides, now - HANDOFF_GRACE, now + timedelta(seconds=1))[-1]
        by_id = {p.id: p for p in await self.people.staff(tx)}
        open_alerts = await self.alerts.open_alerts(tx)
        for pid in sorted(current.people - before):
            person = by_id.get(pid)
            if person is None:
                continue
            key = f"handoff:{r.id}:{to_db_time(current.start)}:{pid}"
            if not await self.repo.claim_notice(tx, key, now):
                continue
            stretch = rota.next_shifts(r, overrides, pid, now, 1)
            until = stretch[0][1] if stretch else now
            lines = [
                text(
                    "rota.on_call_now",
                    person.lang,
                    rotation=r.name,
                    until=rota.describe_local(until, person.tz),
                ),
                *self._alert_lines(open_alerts, by_id, person),
            ]
            await self._send(tx, person, "text.block", text="\n".join(lines))

    @staticmethod
    def _alert_lines(
        open_alerts: list[Alert], by_id: dict[int, Person], reader: Person
    ) -> list[str]:
        """Who holds each open alert, for someone who is on call from now."""
        lines: list[str] = []
        for alert in open_alerts:
            holder = by_id[alert.ack_by].name if alert.ack_by in by_id else None
            lines.append(
                text(
                    "rota.handoff_alert" if holder else "rota.handoff_alert_open",
                    reader.lang,
                    id=alert.id,
                    kind=text(f"kind.{alert.kind.value}", reader.lang),
                    name=holder or "",
                )
            )
        return lines or [text("rota.handoff_no_alerts", reader.lang)]

    async def report_gaps(self, *, daily: bool) -> list[Gap]:
        """Coverage gaps in the next 7 days, to every coordinator: daily, and after changes."""
        now = self.clock.now()
        staff = await self.people.staff(self.db)
        coordinators = [p for p in staff if p.has(Role.COORDINATOR) and not p.unreachable]
        found = await self._gaps(staff, now)
        if not found:
            return found
        if daily:
            # Claimed only when there is something to say: a gap that appears later in
            # the day is still reported that day.
            key = f"gaps:{now.date().isoformat()}"
            async with self.db.transaction() as tx:
                if not await self.repo.claim_notice(tx, key, now):
                    return found
        async with self.db.transaction() as tx:
            for person in coordinators:
                lines = [text("rota.gaps_header", person.lang)]
                for gap in found:
                    lines.append(
                        text(
                            "rota.gap",
                            person.lang,
                            policy=gap.policy,
                            step=gap.step,
                            start=rota.describe_local(gap.start, person.tz),
                            end=rota.describe_local(gap.end, person.tz),
                        )
                    )
                await self.outbox.tell_lines(tx, person, lines, priority=Priority.REMINDER)
        return found

    async def _gaps(self, staff: list[Person], now: datetime) -> list[Gap]:
        """Every window in the horizon where a policy step would find no one to page."""
        end = now + GAP_HORIZON
        reachable = [p for p in staff if not p.unreachable]
        unreachable = frozenset(p.id for p in staff if p.unreachable)
        out: list[Gap] = []
        for policy in await self.policies.all(self.db):
            for index, step in enumerate(policy.steps):
                windows = [(now, end)]
                for target in step.targets:
                    windows = intersect(
                        windows, await self._uncovered(target, reachable, unreachable, now, end)
                    )
                out.extend(Gap(policy.name, index + 1, start, stop) for start, stop in windows)
        return out

    async def _uncovered(
        self,
        target: Target,
        reachable: list[Person],
        unreachable: frozenset[int],
        now: datetime,
        end: datetime,
    ) -> list[tuple[datetime, datetime]]:
        if target.kind is TargetKind.ROTATION and target.rotation_id is not None:
            r = await self.repo.rotation(self.db, target.rotation_id)
            if r is None:
                return [(now, end)]
            overrides = await self.repo.overrides(self.db, r.id, ending_after=now)
            return rota.gaps(r, overrides, now, end, unreachable=unreachable)
        if target.kind is TargetKind.GROUP:
            # A group the bot is in is read by its members: covered while it is registered.
            groups = {g.id for g in await self.groups.all(self.db)}
            return [] if target.group_id in groups else [(now, end)]
        covered = any(
            (target.kind is TargetKind.ALL_RESPONDERS and p.has(Role.RESPONDER))
            or (target.kind is TargetKind.ALL_COORDINATORS and p.has(Role.COORDINATOR))
            or (target.kind is TargetKind.PERSON and p.id == target.person_id)
            for p in reachable
        )
        return [] if covered else [(now, end)]

    async def _send(self, tx: Transaction, person: Person, key: str, **params: object) -> None:
        await self.outbox.to_person(
            tx, person, Notice(key, params, lang=person.lang), priority=Priority.REMINDER
        )

    @staticmethod
    def _names(ids: frozenset[int], by_id: dict[int, Person], reader: Person) -> str:
        names = [by_id[i].name if i in by_id else f"#{i}" for i in sorted(ids)]
        return ", ".join(names) if names else text("oncall.nobody", reader.lang)


__all__ = ["Gap", "RotaWatch"]
