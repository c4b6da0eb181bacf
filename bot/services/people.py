"""Enrolment, invitations and removal: who may use nabat, in which role.

Every method takes plain values, checks the actor's role against what it touches, and
queues its replies through the outbox in the same transaction as the change.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from urllib.parse import quote

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.errors import DomainError, InvalidInput, NotAllowed, NotFound
from bot.domain.models import LANGUAGES, Button, Invitation, Notice, Person, Role
from bot.domain.parsing import quoted, whole_number
from bot.words.catalogue import chunk_lines, msg, text
from bot.words.locales import language_of
from storage.audit import AuditRepo
from storage.db import Database, Transaction
from storage.erasure import Eraser
from storage.invitations import InvitationRepo, looks_like_token
from storage.people import PeopleRepo, Queryable

log = logging.getLogger(__name__)

MAX_NAME = 64
# Time zones offered as buttons to staff as they enrol (the rest are typed with /tz).
ZONES_OFFERED = 8


class EnrolOutcome(Enum):
    ENROLLED = "enrolled"
    ALREADY = "already"
    ROLE_CONFLICT = "role_conflict"
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class CreatedInvitation:
    token: str
    link: str
    invitation: Invitation


def clean_name(raw: str | None) -> str | None:
    """A display name: trimmed, one line, 1..MAX_NAME characters; None when not given.

    A line break is refused, not joined into a space: the rule says one line."""
    if raw is None:
        return None
    trimmed = raw.strip()
    if len(trimmed.splitlines()) > 1:
        raise InvalidInput("invite.bad_name", max=MAX_NAME)
    name = " ".join(trimmed.split())
    if not name:
        return None
    if len(name) > MAX_NAME or not name.isprintable():
        raise InvalidInput("invite.bad_name", max=MAX_NAME)
    return name


def _telegram_name(raw: str) -> str:
    """A display name from someone's Telegram name, which follows no rule of ours: what
    clean_name would refuse (an emoji's joiner, a direction mark) is dropped, not refused."""
    kept = "".join(c if c.isprintable() else " " for c in raw)
    return " ".join(kept.split())[:MAX_NAME] or "?"


def common_zones(zones: list[str], limit: int = ZONES_OFFERED) -> list[str]:
    """The zones an organisation uses (one entry per rotation or person), most used
    first, then UTC: what a newcomer is offered."""
    used = Counter(z for z in zones if z != "UTC")
    ranked = sorted(used, key=lambda z: (-used[z], z))
    return [*ranked[: limit - 1], "UTC"]


def role_names(person: Person) -> str:
    return ", ".join(r.value for r in Role if r in person.roles)


def role_labels(person: Person, lang: str) -> str:
    return ", ".join(text(f"role.{r.value}", lang) for r in Role if r in person.roles)


class PeopleService:
    def __init__(
        self,
        db: Database,
        people: PeopleRepo,
        invitations: InvitationRepo,
        audit: AuditRepo,
        outbox: Outbox,
        clock: Clock,
        *,
        eraser: Eraser,
        bot_username: str,
        invite_ttl: timedelta,
        default_lang: str = "en",
    ) -> None:
        self.db = db
        self.people = people
        self.invitations = invitations
        self.audit = audit
        self.outbox = outbox
        self.clock = clock
        self.eraser = eraser
        self.bot_username = bot_username
        self.invite_ttl = invite_ttl
        self.default_lang = language_of(default_lang) or "en"
        # Called in the removal's transaction: what else must forget the person.
        self.on_removed: list[Callable[[Transaction, int], Awaitable[list[str]]]] = []
        # Called after a removal that changed a policy (the coverage check).
        self.after_change: list[Callable[[], Awaitable[object]]] = []
        # Alerts (wired in bot/wiring.py): how many a contact has, keeping them without the
        # contact, and exporting them before a removal.
        self.count_alerts: Callable[[Queryable, int], Awaitable[int]] | None = None
        self.detach_alerts: Callable[[Transaction, int], Awaitable[int]] | None = None
        self.export_alerts: Callable[[Person, int], Awaitable[int]] | None = None
        # The time zones of the rotations (services.py): offered at enrolment.
        self.rotation_zones: list[Callable[[Transaction], Awaitable[list[str]]]] = []

    # -- who is this -------------------------------------------------------------------

    async def identify(self, telegram_id: int) -> Person | None:
        return await self.people.find_by_telegram(self.db, telegram_id)

    async def housekeeping(self) -> int:
        """Unused invitations a week past their expiry hold only a name: delete them."""
        async with self.db.transaction() as tx:
            return await self.invitations.purge_expired(tx, self.clock.now() - timedelta(days=7))

    async def reachable_again(self, person: Person) -> None:
        """They wrote to us, so pages reach them again."""
        async with self.db.transaction() as tx:
            await self.people.set_unreachable(tx, person.id, None)

    # -- invitations -------------------------------------------------------------------

    def link(self, token: str) -> str:
        return f"https://t.me/{self.bot_username}?start={quote(token)}"

    async def invite(
        self,
        actor: Person | None,
        role: Role,
        name: str | None,
        *,
        ttl: timedelta | None = None,
        reply: bool = True,
        lang: str | None = None,
    ) -> CreatedInvitation:
        """Create an invitation. `actor` None means the shell (`nabat invite`). `lang`:
        the language the person will read (else their Telegram's, else the default)."""
        if actor is not None and not actor.has(Role.COORDINATOR):
            raise NotAllowed("error.not_allowed")
        name = clean_name(name)
        now = self.clock.now()
        ttl = ttl or self.invite_ttl
        async with self.db.transaction() as tx:
            token, inv = await self.invitations.create(
                tx,
                role=role,
                name=name,
                created_by=actor.id if actor else None,
                now=now,
                expires_at=now + ttl,
                lang=language_of(lang) or None,
            )
            await self.audit.record(
                tx,
                actor_id=actor.id if actor else None,
                action="invitation.create",
                now=now,
                detail={"invitation": inv.id, "role": role.value, "name": name},
            )
            if actor is not None and reply:
                await self.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice(
                        "invite.created",
                        {
                            "role": msg(f"role.{role.value}"),
                            "named": f" ({name})" if name else "",
                            "expires": inv.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
                            "link": self.link(token),
                            "token": token,
                        },
                        lang=actor.lang,
                    ),
                    person_id=actor.id,
                )
        log.info("invitation %d created for role %s", inv.id, role.value)
        return CreatedInvitation(token, self.link(token), inv)

    async def enrol(
        self,
        *,
        token: str,
        telegram_id: int,
        telegram_name: str,
        telegram_lang: str | None = None,
    ) -> tuple[EnrolOutcome, Person | None]:
        """Use an invitation. Unknown, used and expired tokens are refused alike."""
        now = self.clock.now()
        if not looks_like_token(token):
            return EnrolOutcome.REFUSED, None
        async with self.db.transaction() as tx:
            inv = await self.invitations.find_by_token(tx, token)
            existing = await self.people.find_by_telegram(tx, telegram_id)
            if inv is None or inv.used_at is not None or inv.expires_at <= now:
                log.info("enrolment refused: %s", "unknown token" if inv is None else "spent token")
                if existing is None:
                    return EnrolOutcome.REFUSED, None
                await self._say(tx, existing, Notice("neutral", lang=existing.lang))
                return EnrolOutcome.REFUSED, existing
            if existing is not None and existing.has(Role.CONTACT):
                # A contact's chat may be read by others: it learns nothing about roles or
                # invitations, whatever the link was for. The invitation stays unused.
                log.info("enrolment refused: an enrolled contact opened an invitation")
                await self._say(tx, existing, Notice("neutral", lang=existing.lang))
                return EnrolOutcome.ROLE_CONFLICT, existing
            if existing is not None:
                if existing.has(inv.role):
                    await self._say(
                        tx,
                        existing,
                        Notice(
                            "enrol.already",
                            {"role": msg(f"role.{inv.role.value}")},
                            lang=existing.lang,
                        ),
                    )
                    return EnrolOutcome.ALREADY, existing
                # Staff do not become contacts in the chat they use for pages.
                if inv.role is Role.CONTACT:
                    await self._say(
                        tx,
                        existing,
                        Notice(
                            "enrol.role_conflict",
                            {"role": msg(f"role.{inv.role.value}")},
                            lang=existing.lang,
                        ),
                    )
                    return EnrolOutcome.ROLE_CONFLICT, existing
                await self.people.add_role(tx, existing.id, inv.role, now)
                person = await self.people.get(tx, existing.id)
                assert person is not None
            else:
                name = inv.name or _telegram_name(telegram_name)
                # The coordinator's choice, else Telegram's language if nabat has it.
                lang = inv.lang or language_of(telegram_lang) or self.default_lang
                person = await self.people.create(
                    tx, telegram_id=telegram_id, name=name, lang=lang, role=inv.role, now=now
                )
            if not await self.invitations.mark_used(tx, inv.id, person.id, now):
                raise NotFound("neutral")  # raced with another use: roll everything back
            await self.audit.record(
                tx,
                actor_id=person.id,
                action="invitation.use",
                now=now,
                detail={"invitation": inv.id, "role": inv.role.value, "name": person.name},
            )
            welcome = Notice(f"welcome.{inv.role.value}", {"name": person.name}, lang=person.lang)
            if existing is None and person.is_staff:
                welcome = await self._ask_zone(tx, person, welcome)
            await self._say(tx, person, welcome)
        log.info("person %d enrolled as %s", person.id, inv.role.value)
        return EnrolOutcome.ENROLLED, person

    async def _ask_zone(self, tx: Transaction, person: Person, welcome: Notice) -> Notice:
        """The welcome of someone new on staff, asking their time zone: every time the bot
        shows them is in it. A contact is asked nothing."""
        zones = [z for hook in self.rotation_zones for z in await hook(tx)]
        zones += [p.tz for p in await self.people.staff(tx) if p.id != person.id]
        offered = common_zones(zones)
        question = "\n\n".join(
            [
                text(welcome.key, person.lang, **welcome.params),
                text("enrol.ask_tz", person.lang, tz=person.tz),
            ]
        )
        buttons = tuple(
            tuple(Button("button.raw", f"tz:{z}", {"label": z}) for z in offered[i : i + 2])
            for i in range(0, len(offered), 2)
        )
        return Notice("text.block", {"text": question}, buttons=buttons, lang=person.lang)

    # -- coordinators' views -----------------------------------------------------------

    async def list_people(self, actor: Person) -> list[Person]:
        self._require_coordinator(actor)
        everyone = await self.people.list_all(self.db)
        async with self.db.transaction() as tx:
            if not everyone:
                await self._say(tx, actor, Notice("people.empty", lang=actor.lang))
                return everyone
            lines = [
                text(
                    "people.line",
                    actor.lang,
                    id=p.id,
                    name=p.name,
                    roles=role_labels(p, actor.lang),
                )
                for p in everyone
            ]
            for i, block in enumerate(chunk_lines(lines)):
                header = text("people.header", actor.lang, count=len(everyone)) if i == 0 else ""
                await self._say(
                    tx,
                    actor,
                    Notice(
                        "text.block",
                        {"text": "\n".join(filter(None, [header, block]))},
                        lang=actor.lang,
                    ),
                )
        return everyone

    async def set_lang(self, person: Person, raw: str) -> None:
        """`/lang ko`: the language this person reads nabat in, from now on."""
        lang = language_of(raw.strip())
        if not raw.strip():
            raise InvalidInput("lang.usage", current=msg(f"lang.name.{person.lang}"))
        if not lang or raw.strip().lower() not in LANGUAGES:
            raise InvalidInput("lang.unknown", given=quoted(raw, 20))
        async with self.db.transaction() as tx:
            await self.people.set_lang(tx, person.id, lang)
            await self._say(
                tx, person, Notice("lang.set", {"language": msg(f"lang.name.{lang}")}, lang=lang)
            )

    async def find(self, actor: Person, query: str) -> Person:
        """The one enrolled person `query` names: '#3', '3', or a unique name."""
        self._require_coordinator(actor)
        q = query.strip().removeprefix("#")
        if not q:
            raise InvalidInput("remove.usage")
        everyone = await self.people.list_all(self.db)
        number = whole_number(q)
        if number is not None:
            match = [p for p in everyone if p.id == number]
        else:
            folded = q.casefold()
            match = [p for p in everyone if p.name.casefold() == folded]
        if not match:
            raise NotFound("remove.not_found", query=quoted(query, MAX_NAME))
        if len(match) > 1:
            raise InvalidInput(
                "remove.ambiguous",
                query=quoted(query, MAX_NAME),
                matches=", ".join(f"#{p.id}" for p in match),
                example=match[0].id,
            )
        return match[0]

    async def ask_remove(self, actor: Person, query: str) -> Person:
        target = await self.find(actor, query)
        async with self.db.transaction() as tx:
            await self._check_not_last_coordinator(tx, target)
            count = await self.alert_count(tx, target.id)
            await self._say(tx, actor, self._remove_question(actor, target, count))
        return target

    async def alert_count(self, q: Queryable, person_id: int) -> int:
        """How many alert records a removal of this person would destroy."""
        if self.count_alerts is None:
            return 0
        return await self.count_alerts(q, person_id)

    def _remove_question(self, actor: Person, target: Person, alerts: int) -> Notice:
        params = {"id": target.id, "name": target.name, "roles": role_labels(target, actor.lang)}
        if alerts and target.has(Role.CONTACT):
            # A contact's alerts are a record a court may need: say what goes with them.
            rows = [
                (Button("button.remove_export", f"rm:x:{target.id}"),),
                (Button("button.remove_keep", f"rm:k:{target.id}"),),
                (Button("button.remove_all", f"rm:d:{target.id}"),),
                (Button("button.cancel", f"rm:n:{target.id}"),),
            ]
            return Notice(
                "remove.confirm_alerts",
                {**params, "count": alerts},
                buttons=tuple(rows),
                lang=actor.lang,
            )
        return Notice(
            "remove.confirm",
            params,
            buttons=(
                (
                    Button("button.remove", f"rm:y:{target.id}"),
                    Button("button.cancel", f"rm:n:{target.id}"),
                ),
            ),
            lang=actor.lang,
        )

    async def export_before_removal(
        self, actor: Person, person_id: int, *, confirm_message_id: int | None = None
    ) -> None:
        """ "Export first": each alert's signed export to the coordinator, then the same
        choice again (nothing is removed yet)."""
        self._require_coordinator(actor)
        target = await self.people.get(self.db, person_id)
        if target is None:
            await self.reply(actor, Notice("remove.gone", lang=actor.lang))
            return
        try:
            if self.export_alerts is None:
                raise DomainError("remove.export_failed", reason="no exporter")
            count = await self.export_alerts(actor, target.id)
        except DomainError as err:
            await self.reply(
                actor, Notice("remove.export_failed", {"reason": err.key}, lang=actor.lang)
            )
            return
        async with self.db.transaction() as tx:
            await self._say(
                tx,
                actor,
                Notice(
                    "remove.exported",
                    {"count": count, "id": target.id, "name": target.name},
                    lang=actor.lang,
                ),
            )
            alerts = await self.alert_count(tx, target.id)
            await self._say(tx, actor, self._remove_question(actor, target, alerts))

    async def remove(
        self,
        actor: Person,
        person_id: int,
        *,
        confirm_message_id: int | None = None,
        keep_alerts: bool = False,
        destroy_alerts: bool = False,
    ) -> Person | None:
        """End an enrolment and delete the person's rows (not a flag). None if already gone.

        `keep_alerts`: a contact's alert records stay (detached from them, until the
        retention period ends), with everything that names them erased as for any removal:
        their name and Telegram id in messages and records, their case file, check-ins."""
        self._require_coordinator(actor)
        now = self.clock.now()
        async with self.db.transaction() as tx:
            target = await self.people.get(tx, person_id)
            if target is None:
                await self._answer(
                    tx, actor, Notice("remove.gone", lang=actor.lang), confirm_message_id
                )
                return None
            await self._check_not_last_coordinator(tx, target)
            alerts = await self.alert_count(tx, target.id) if target.has(Role.CONTACT) else 0
            if alerts and not (keep_alerts or destroy_alerts):
                # "Remove" was pressed on a question asked before they had alerts: ask
                # again, with the choices, rather than destroy what is new.
                await self._answer(
                    tx, actor, self._remove_question(actor, target, alerts), confirm_message_id
                )
                return None
            # Everything that names or describes them goes first (storage/erasure.py),
            # then their own rows, through the foreign keys.
            kept = 0
            if keep_alerts and self.detach_alerts is not None:
                kept = await self.detach_alerts(tx, target.id)
            erased = await self.eraser.erase(
                tx, person_id=target.id, name=target.name, telegram_id=target.telegram_id
            )
            await self.people.delete(tx, target.id)
            policies = [name for hook in self.on_removed for name in await hook(tx, target.id)]
            await self.audit.record(
                tx,
                actor_id=actor.id,
                action="person.remove",
                now=now,
                detail={
                    "person": target.id,
                    "roles": role_names(target),
                    "policies": [self._unnamed(p, target) for p in policies],
                    "alerts_kept": kept,
                },
            )
            if target.id != actor.id:
                # Their name, once more, to the coordinator: deleted from the outbox as
                # soon as it is delivered.
                done = Notice(
                    "remove.done_kept" if kept else "remove.done",
                    {"id": target.id, "name": target.name, "count": kept},
                    lang=actor.lang,
                )
                await self._answer(tx, actor, done, confirm_message_id, erase_done=True)
        log.info(
            "person %d removed by %d: %d queued messages cancelled, %d deletions kept, "
            "%d sent messages and %d records cleared of them",
            target.id,
            actor.id,
            erased.cancelled,
            erased.kept_deletions,
            erased.shredded,
            erased.rewritten,
        )
        if policies:
            for hook in self.after_change:
                await hook()
        return target

    async def cancel_remove(
        self, actor: Person, person_id: int, *, confirm_message_id: int | None = None
    ) -> None:
        self._require_coordinator(actor)
        async with self.db.transaction() as tx:
            target = await self.people.get(tx, person_id)
            notice = (
                Notice("remove.gone", lang=actor.lang)
                if target is None
                else Notice(
                    "remove.cancelled", {"id": target.id, "name": target.name}, lang=actor.lang
                )
            )
            await self._answer(tx, actor, notice, confirm_message_id)

    async def _answer(
        self,
        tx: Transaction,
        actor: Person,
        notice: Notice,
        message_id: int | None,
        *,
        erase_done: bool = False,
    ) -> None:
        """Replace the confirmation message (and its buttons) when there is one."""
        if message_id is None:
            await self.outbox.send(
                tx, actor.chat_id, notice, person_id=actor.id, erase_done=erase_done
            )
        else:
            await self.outbox.edit(
                tx,
                actor.chat_id,
                notice,
                message_id=message_id,
                person_id=actor.id,
                erase_done=erase_done,
            )

    @staticmethod
    def _unnamed(value: str, target: Person) -> str:
        # A policy name could hold the person's name: the audit keeps "#N" instead.
        return value.replace(target.name, f"#{target.id}")

    # -- replies -------------------------------------------------------------------------

    async def reply(self, person: Person, notice: Notice) -> None:
        async with self.db.transaction() as tx:
            await self._say(tx, person, notice)

    async def _say(self, tx: Transaction, person: Person, notice: Notice) -> None:
        await self.outbox.to_person(tx, person, notice)

    def _require_coordinator(self, actor: Person) -> None:
        if not actor.has(Role.COORDINATOR):
            raise NotAllowed("error.not_allowed")

    async def _check_not_last_coordinator(self, tx: Transaction, target: Person) -> None:
        if (
            target.has(Role.COORDINATOR)
            and await self.people.count_with_role(tx, Role.COORDINATOR) <= 1
        ):
            raise NotAllowed("remove.last_coordinator", id=target.id, name=target.name)


__all__ = ["CreatedInvitation", "EnrolOutcome", "PeopleService"]
