"""The alert lifecycle: triggered → acknowledged → resolved, and the escalation between.

One facade (`AlertService`) builds the parts, each reached by name
(`services.alerts.intake.contact_message`, `services.alerts.actions.acknowledge`, ...):

- context.py: what the parts share (stores, outbox, clock, settings, the wake-up) and
  the helpers more than one needs (a timeline line naming the actor, page edits, names).
- intake.py: what a contact sends: the panic path, follow-ups relayed, held messages.
- escalation.py: policies, plans and on-call lookups; the escalation tick; policy changes.
- paging.py: sending a step's pages, each with what its reader has not seen yet.
- actions.py: what responders and coordinators do: acknowledge, resolve, notes, snooze,
  held messages, media, lists and timelines.
- outcomes.py: delivery outcomes from the outbox: delivered, refused, blocked the bot.
- answers.py: answering the contact: a phrase by button, or free text (/say).
- checkin_hooks.py: what check-ins ask: missed-check-in and duress alerts, closing one
  when the contact checks in, cancelling one with the PIN.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.services.alerts.actions import Actions
from bot.services.alerts.answers import Answers
from bot.services.alerts.checkin_hooks import CheckinHooks
from bot.services.alerts.context import AlertContext
from bot.services.alerts.escalation import Escalation
from bot.services.alerts.intake import ContactMessage, Incoming, Intake
from bot.services.alerts.outcomes import Outcomes
from bot.services.alerts.paging import Pager
from bot.words.phrases import Phrasebook
from storage.alerts import AlertRepo
from storage.casefiles import CaseFileRepo
from storage.db import Database
from storage.drafts import DraftRepo
from storage.groups import GroupRepo
from storage.people import PeopleRepo
from storage.policies import PolicyRepo
from storage.rota import RotaRepo


class AlertService:
    """The parts of the alert service, built once over one shared context."""

    def __init__(
        self,
        db: Database,
        alerts: AlertRepo,
        policies: PolicyRepo,
        people: PeopleRepo,
        rota_repo: RotaRepo,
        groups: GroupRepo,
        outbox: Outbox,
        clock: Clock,
        drafts: DraftRepo,
        *,
        wake: Callable[[], None],
        delete_contact_messages: bool,
        panic_on_plain_text: bool,
        resolved_grace: timedelta = timedelta(hours=1),
        phrasebook: Phrasebook | None = None,
        case_files: CaseFileRepo | None = None,
    ) -> None:
        self.context = AlertContext(
            db=db,
            alerts=alerts,
            policies=policies,
            people=people,
            rota=rota_repo,
            groups=groups,
            drafts=drafts,
            outbox=outbox,
            clock=clock,
            wake=wake,
            delete_contact_messages=delete_contact_messages,
            panic_on_plain_text=panic_on_plain_text,
            resolved_grace=resolved_grace,
            case_files=case_files,
        )
        self.escalation = Escalation(self.context, Pager(self.context))
        self.intake = Intake(self.context, self.escalation)
        self.actions = Actions(self.context)
        self.outcomes = Outcomes(self.context)
        self.checkins = CheckinHooks(self.context, self.escalation, self.intake)
        self.answers = Answers(self.context, self.actions, phrasebook or Phrasebook())
        outbox.on_delivered.append(self.outcomes.delivered)
        outbox.on_failure.append(self.outcomes.failed)


__all__ = ["AlertService", "ContactMessage", "Incoming"]
