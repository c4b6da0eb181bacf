"""The composition root's product: every service, built once in post_init."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.models import Person, Target, TargetKind
from bot.services.alerts import AlertService
from bot.services.casefiles import CaseFileService
from bot.services.checkin_admin import CheckinAdmin
from bot.services.checkins import CheckinService
from bot.services.export import ExportService
from bot.services.export.document import Sources
from bot.services.gate import GateService
from bot.services.groups import GroupService
from bot.services.people import PeopleService
from bot.services.policies import PolicyService
from bot.services.retention import Retention
from bot.services.rota import RotaService
from bot.services.watch import RotaWatch
from bot.wizards.casefile import CaseFileFlow
from bot.wizards.checkin import CheckinFlow
from bot.wizards.engine import Wizards
from bot.wizards.override import OverrideFlow
from bot.wizards.policy_step import StepFlow
from bot.wizards.rotation import MembersFlow, RotationFlow
from bot.words.phrases import Phrasebook
from config import Settings
from storage.alerts import AlertRepo
from storage.audit import AuditRepo
from storage.casefiles import CaseFileRepo
from storage.checkins import CheckinRepo
from storage.crypto import FieldCipher
from storage.db import Database, Transaction
from storage.drafts import DraftRepo
from storage.erasure import Eraser
from storage.gate import GateRepo
from storage.groups import GroupRepo
from storage.invitations import InvitationRepo
from storage.keycheck import verify_ring
from storage.keyring import KeyRing
from storage.outbox import OutboxRepo
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo
from storage.signing import signing_key

log = logging.getLogger(__name__)

MAX_ROUNDS = 10  # passes of one tick run while wake-ups keep coming; the next run goes on


class Wakeups:
    """One tick run at a time, and requests for an early one.

    A service that makes something due now (a step whose pages all failed for good, "New
    alert" on a held message, panic pressed again) writes the deadline in its transaction
    and calls `request` once that commits; it never runs a tick itself. The app points
    `run_now` at the scheduler's repeating tick job (bot/app.py), which then runs at once.
    Requests before that run starts are served by it; a request while a tick runs makes
    that run go round again before it ends (`run`). Until `run_now` is set (and in the
    command line) a request waits for the next regular tick.
    """

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self._wanted = False
        self.run_now: Callable[[], None] | None = None

    def request(self) -> None:
        self._wanted = True
        if self.run_now is not None and not self._lock.locked():
            self.run_now()

    @property
    def pending(self) -> bool:
        """A request not served yet, or a tick running."""
        return self._wanted or self._lock.locked()

    async def run(self, tick: Callable[[], Awaitable[None]]) -> None:
        """Run `tick` alone, and again for as long as it was woken while running."""
        async with self._lock:
            for _ in range(MAX_ROUNDS):
                self._wanted = False
                await tick()
                if not self._wanted:
                    return


@dataclass(slots=True)
class Services:
    settings: Settings
    clock: Clock
    db: Database
    cipher: FieldCipher
    outbox: Outbox
    people: PeopleService
    gate: GateService
    alerts: AlertService
    rota: RotaService
    watch: RotaWatch
    policies: PolicyService
    groups: GroupService
    wizard: Wizards
    checkins: CheckinService
    checkin_admin: CheckinAdmin
    retention: Retention
    exports: ExportService
    casefiles: CaseFileService
    wakeups: Wakeups = field(default_factory=Wakeups)

    async def tick(self) -> None:
        """Every per-second service tick, in order, one run at a time: the scheduler's
        repeating job runs it (bot/app.py), early when woken (Wakeups), and so do tests.
        What is due is decided from the database, so an extra run changes nothing."""
        await self.wakeups.run(self._tick_once)

    async def _tick_once(self) -> None:
        await self.alerts.escalation.tick()
        await self.checkins.tick()

    @classmethod
    async def open(
        cls, settings: Settings, ring: KeyRing, clock: Clock, *, bot_username: str
    ) -> Services:
        """Open the database, apply migrations, wire the services. Nothing is sent yet."""
        db = await Database.open(settings.database_path)
        try:
            applied = await db.migrate()
        except BaseException:
            await db.close()
            raise
        if applied:
            log.info("database migrated to schema version %d", applied[-1])
        try:
            # Never run on keys that cannot read the data (storage/keycheck.py).
            await verify_ring(db, ring, clock.now(), source="the key ring")
        except BaseException:
            await db.close()
            raise
        cipher = FieldCipher(ring)
        people_repo = PeopleRepo(cipher)
        outbox = Outbox(
            db,
            OutboxRepo(cipher),
            clock,
            rate_global=settings.rate_global,
            rate_per_chat=settings.rate_per_chat,
            contact_reply_ttl=settings.contact_reply_ttl,
        )
        people = PeopleService(
            db,
            people_repo,
            InvitationRepo(cipher),
            AuditRepo(cipher),
            outbox,
            clock,
            eraser=Eraser(cipher),
            bot_username=bot_username,
            invite_ttl=settings.invite_ttl,
            default_lang=settings.language,
        )
        gate = GateService(
            db, GateRepo(), people_repo, outbox, clock, stranger_reply=settings.stranger_reply
        )
        wakeups = Wakeups()
        case_repo = CaseFileRepo(cipher)
        alerts = AlertService(
            db,
            AlertRepo(cipher),
            PolicyRepo(),
            people_repo,
            RotaRepo(),
            GroupRepo(cipher),
            outbox,
            clock,
            DraftRepo(cipher),
            wake=wakeups.request,
            delete_contact_messages=settings.delete_contact_messages,
            panic_on_plain_text=settings.panic_on_plain_text,
            resolved_grace=settings.resolved_grace,
            phrasebook=Phrasebook(settings.phrasebook),
            case_files=case_repo,
        )
        rota = RotaService(
            db, RotaRepo(), people_repo, DraftRepo(cipher), AuditRepo(cipher), outbox, clock
        )
        watch = RotaWatch(
            db,
            RotaRepo(),
            people_repo,
            PolicyRepo(),
            AlertRepo(cipher),
            GroupRepo(cipher),
            outbox,
            clock,
        )
        rota.after_change.append(lambda: watch.report_gaps(daily=False))
        rota.on_call_changed.append(watch.now_on_call)

        async def rotation_zones(tx: Transaction) -> list[str]:
            return [r.tz for r in await rota.repo.rotations(tx)]

        people.rotation_zones.append(rotation_zones)
        policies = PolicyService(
            db,
            PolicyRepo(),
            RotaRepo(),
            GroupRepo(cipher),
            people_repo,
            DraftRepo(cipher),
            AuditRepo(cipher),
            outbox,
            clock,
            on_policy_changed=alerts.escalation.policy_changed,
            on_contact_moved=alerts.escalation.contact_moved,
        )
        policies.after_change.append(lambda: watch.report_gaps(daily=False))
        groups = GroupService(db, GroupRepo(cipher), AuditRepo(cipher), outbox, clock)
        # A removed person or group is taken out of every policy step that named them.
        policy_repo = PolicyRepo()

        async def forget_person(tx: Transaction, person_id: int) -> list[str]:
            return await policy_repo.forget_target(
                tx, Target(TargetKind.PERSON, person_id=person_id)
            )

        async def forget_group(tx: Transaction, group_id: int) -> list[str]:
            return await policy_repo.forget_target(tx, Target(TargetKind.GROUP, group_id=group_id))

        people.on_removed.append(forget_person)
        alert_repo = alerts.context.alerts
        people.count_alerts = alert_repo.count_for_contact

        async def detach_alerts(tx: Transaction, person_id: int) -> int:
            return await alert_repo.detach_contact(tx, person_id, clock.now())

        people.detach_alerts = detach_alerts
        groups.on_removed.append(forget_group)
        people.after_change.append(lambda: watch.report_gaps(daily=False))
        groups.after_change.append(lambda: watch.report_gaps(daily=False))
        checkin_repo = CheckinRepo(cipher)
        checkins = CheckinService(
            db,
            checkin_repo,
            people_repo,
            DraftRepo(cipher),
            outbox,
            clock,
            alerts.checkins,
            trip_cap=settings.trip_cap,
        )
        checkin_admin = CheckinAdmin(
            db,
            checkin_repo,
            people_repo,
            DraftRepo(cipher),
            AuditRepo(cipher),
            outbox,
            clock,
            alerts.checkins,
        )
        casefiles = CaseFileService(
            db,
            case_repo,
            people_repo,
            DraftRepo(cipher),
            AuditRepo(cipher),
            outbox,
            clock,
            alerts.actions,
        )
        exports = ExportService(
            db,
            Sources(AlertRepo(cipher), people_repo, GroupRepo(cipher), case_repo),
            alerts.actions,
            outbox,
            AuditRepo(cipher),
            clock,
            signing_key(ring),
        )

        async def export_contact(actor: Person, contact_id: int) -> int:
            """/remove's "Export first": every alert of the contact, to the coordinator."""
            ids = await alert_repo.ids_for_contact(db, contact_id)
            for alert_id in ids:
                await exports.send(actor, alert_id, before_removal=True)
            return len(ids)

        people.export_alerts = export_contact
        wizard = Wizards(db, DraftRepo(cipher), outbox, clock)
        wizard.add(RotationFlow(db, people_repo, rota, clock))
        wizard.add(MembersFlow(db, people_repo, rota))
        wizard.add(OverrideFlow(db, people_repo, rota, clock))
        wizard.add(StepFlow(policies))
        wizard.add(CheckinFlow(db, people_repo, checkin_admin))
        wizard.add(CaseFileFlow(db, people_repo, casefiles))
        return cls(
            settings,
            clock,
            db,
            cipher,
            outbox,
            people,
            gate,
            alerts,
            rota,
            watch,
            policies,
            groups,
            wizard,
            checkins,
            checkin_admin,
            Retention(db, AlertRepo(cipher), AuditRepo(cipher), clock, settings.retention),
            exports,
            casefiles,
            wakeups,
        )

    async def close(self) -> None:
        await self.outbox.stop()
        await self.db.close()
