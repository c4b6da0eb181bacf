"""The composition root's product: every service, built once in post_init."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.models import Target, TargetKind
from bot.services.alerts import AlertService
from bot.services.gate import GateService
from bot.services.groups import GroupService
from bot.services.people import PeopleService
from bot.services.policies import PolicyService
from bot.services.rota import RotaService
from bot.services.watch import RotaWatch
from bot.wizards.engine import Wizards
from bot.wizards.override import OverrideFlow
from bot.wizards.policy_step import StepFlow
from bot.wizards.rotation import MembersFlow, RotationFlow
from config import Settings
from storage.alerts import AlertRepo
from storage.audit import AuditRepo
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

log = logging.getLogger(__name__)


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
        )
        gate = GateService(
            db, GateRepo(), people_repo, outbox, clock, stranger_reply=settings.stranger_reply
        )
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
            delete_contact_messages=settings.delete_contact_messages,
            panic_on_plain_text=settings.panic_on_plain_text,
            resolved_grace=settings.resolved_grace,
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
            on_policy_changed=alerts.policy_changed,
            on_contact_moved=alerts.contact_moved,
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
        groups.on_removed.append(forget_group)
        people.after_change.append(lambda: watch.report_gaps(daily=False))
        groups.after_change.append(lambda: watch.report_gaps(daily=False))
        wizard = Wizards(db, DraftRepo(cipher), outbox, clock)
        wizard.add(RotationFlow(db, people_repo, rota, clock))
        wizard.add(MembersFlow(db, people_repo, rota))
        wizard.add(OverrideFlow(db, people_repo, rota, clock))
        wizard.add(StepFlow(policies))
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
        )

    async def close(self) -> None:
        await self.outbox.stop()
        await self.db.close()
