"""A guided policy step: which policy, which step (or a new one), how long it waits for
an acknowledgement, and whom it pages.

Targets are toggled with buttons (a rotation's on-call, all responders, all
coordinators, a group chat, people), starting from the step's current targets, or typed
the way `/policy step` takes them. The end hands everything to
`PolicyService.propose_step` (or `propose_drop`), which shows the policy as it would be
and waits for Confirm.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from bot.domain.errors import InvalidInput
from bot.domain.models import Button, Person, Policy, Target, TargetKind
from bot.services.policies import PolicyService, parse_wait, step_index
from bot.wizards.engine import SHOWN, Screen, button, capped, grid, keyed
from bot.words.catalogue import text
from config.durations import format_duration

WAITS = (60, 120, 300, 600, 900, 1800)
# Targets with a button, at most, so the whole keyboard stays under Telegram's 100:
# rotations and groups 20 each, people 40 (+ the two "all" buttons, Done and Cancel).
# More than that are typed.
ROTATIONS_SHOWN = GROUPS_SHOWN = 20
PEOPLE_SHOWN = SHOWN
DEFAULT_WAIT = 300


def encode(target: Target) -> list[Any]:
    return [target.kind.value, target.person_id, target.rotation_id, target.group_id]


def decode(raw: list[Any]) -> Target:
    return Target(TargetKind(raw[0]), raw[1], raw[2], raw[3])


# Button actions that toggle a target, and the target each means for an id.
TOGGLES = {
    "tr": lambda i: Target(TargetKind.ROTATION, rotation_id=i),
    "tg": lambda i: Target(TargetKind.GROUP, group_id=i),
    "tp": lambda i: Target(TargetKind.PERSON, person_id=i),
    "ta": lambda i: Target((TargetKind.ALL_RESPONDERS, TargetKind.ALL_COORDINATORS)[i]),
}


class StepFlow:
    name = "step"

    def __init__(self, service: PolicyService):
        self.service = service
        self.db = service.db

    async def first(self, policy_name: str) -> dict[str, Any]:
        if not policy_name.strip():
            return {"step": "policy"}
        return self._chosen(await self.service.find(policy_name))

    # -- the questions -------------------------------------------------------------------

    async def screen(self, actor: Person, draft_id: int, data: dict[str, Any]) -> Screen:
        step = data["step"]
        if step == "policy":
            policies, hidden = capped(await self.service.policies.all(self.db))
            rows = grid((button(draft_id, "po", p.id, p.name) for p in policies), 2)
            return Screen("policy.w_policy", {}, rows, hidden)
        policy = await self._policy(data)
        params: dict[str, Any] = {"name": policy.name}
        if step == "which":
            described = await self.service.describe(actor, policy)
            params["steps"] = "\n".join(described[1:])
            count = len(policy.steps)
            shown = min(count, SHOWN)
            rows = grid((keyed(draft_id, "sp", i, "button.step", n=i + 1) for i in range(shown)), 4)
            rows.append((keyed(draft_id, "sp", count, "button.add_step", n=count + 1),))
            return Screen("policy.w_which", params, rows, count - shown)
        index = int(data["index"])
        params["n"] = index + 1
        if step == "wait":
            params["current"] = format_duration(timedelta(seconds=data["delay"]))
            rows = grid(
                (button(draft_id, "wt", s, format_duration(timedelta(seconds=s))) for s in WAITS),
                3,
            )
            if index < len(policy.steps):
                rows.insert(0, (keyed(draft_id, "kp", 0, "button.keep", wait=params["current"]),))
            if index < len(policy.steps) and len(policy.steps) > 1:
                rows.append((keyed(draft_id, "rm", index, "button.remove_step", n=index + 1),))
            return Screen("policy.w_wait", params, rows)
        chosen = [decode(t) for t in data["targets"]]
        rows, hidden = await self._target_rows(actor, draft_id, chosen)
        rows.append((keyed(draft_id, "ok", 0, "button.done"),))
        params["chosen"] = await self.service.name_targets(actor, tuple(chosen)) if chosen else "-"
        return Screen("policy.w_targets", params, rows, hidden)

    async def _target_rows(
        self, actor: Person, draft_id: int, chosen: list[Target]
    ) -> tuple[list[tuple[Button, ...]], int]:
        def mark(target: Target, label: str) -> str:
            return ("✓ " if target in chosen else "") + label

        lang = actor.lang
        rows: list[tuple[Button, ...]] = []
        rotations, hidden = capped(
            await self.service.rota.rotations(self.db),
            lambda r: TOGGLES["tr"](r.id) in chosen,
            ROTATIONS_SHOWN,
        )
        rows += grid(
            (
                button(
                    draft_id,
                    "tr",
                    r.id,
                    mark(TOGGLES["tr"](r.id), text("target.on_call", lang, name=r.name)),
                )
                for r in rotations
            ),
            2,
        )
        rows.append(
            tuple(
                button(draft_id, "ta", i, mark(TOGGLES["ta"](i), text(key, lang).capitalize()))
                for i, key in enumerate(("target.all_responders", "target.all_coordinators"))
            )
        )
        groups, more = capped(
            await self.service.groups.all(self.db),
            lambda g: TOGGLES["tg"](g.id) in chosen,
            GROUPS_SHOWN,
        )
        hidden += more
        rows += grid(
            (
                button(
                    draft_id,
                    "tg",
                    g.id,
                    mark(TOGGLES["tg"](g.id), text("target.group", lang, title=g.title)),
                )
                for g in groups
            ),
            2,
        )
        chosen_people = {t.person_id for t in chosen if t.kind is TargetKind.PERSON}
        shown, more = capped(
            await self.service.people.staff(self.db),
            lambda p: p.id in chosen_people,
            PEOPLE_SHOWN,
        )
        hidden += more
        rows += grid(
            (button(draft_id, "tp", p.id, mark(TOGGLES["tp"](p.id), p.name)) for p in shown), 2
        )
        return rows, hidden

    # -- answers -------------------------------------------------------------------------

    async def typed(self, actor: Person, data: dict[str, Any], answer: str) -> bool:
        step = data["step"]
        if step == "policy":
            data.update(self._chosen(await self.service.find(answer)))
        elif step == "which":
            policy = await self._policy(data)
            self._at_step(data, policy, step_index(answer, len(policy.steps) + 1))
        elif step == "wait":
            data.update(step="targets", delay=int(parse_wait(answer).total_seconds()))
        else:
            targets = await self.service.parse_targets(answer)
            data["targets"] = [encode(t) for t in targets]
            return await self._finish(actor, data)
        return False

    async def pressed(self, actor: Person, data: dict[str, Any], action: str, value: int) -> bool:
        step = data["step"]
        if action == "po" and step == "policy":
            policy = await self.service.policies.get(self.db, value)
            if policy is None or policy.retired:
                raise InvalidInput("policy.gone")
            data.update(self._chosen(policy))
        elif action == "sp" and step == "which":
            policy = await self._policy(data)
            if value > len(policy.steps):
                raise InvalidInput("policy.bad_step", count=len(policy.steps) + 1)
            self._at_step(data, policy, value)
        elif action == "wt" and step == "wait" and value in WAITS:
            data.update(step="targets", delay=value)
        elif action == "kp" and step == "wait":
            data["step"] = "targets"
        elif action == "rm" and step == "wait":
            await self.service.propose_drop(actor, await self._policy(data), int(data["index"]))
            return True
        elif action in TOGGLES and step == "targets" and await self._exists(action, value):
            target = encode(TOGGLES[action](value))
            chosen: list[list[Any]] = data["targets"]
            data["targets"] = (
                [t for t in chosen if t != target] if target in chosen else [*chosen, target]
            )
        elif action == "ok" and step == "targets":
            return await self._finish(actor, data)
        else:
            raise InvalidInput("wizard.use_buttons")
        return False

    # -- helpers -------------------------------------------------------------------------

    def _chosen(self, policy: Policy) -> dict[str, Any]:
        return {"step": "which", "policy": policy.id}

    @staticmethod
    def _at_step(data: dict[str, Any], policy: Policy, index: int) -> None:
        """Editing a step starts from its wait and targets; a new one from the defaults."""
        if index < len(policy.steps):
            current = policy.steps[index]
            data.update(
                step="wait",
                index=index,
                delay=current.delay_s,
                targets=[encode(t) for t in current.targets],
            )
        else:
            data.update(step="wait", index=index, delay=DEFAULT_WAIT, targets=[])

    async def _finish(self, actor: Person, data: dict[str, Any]) -> bool:
        targets = tuple(decode(t) for t in data["targets"])
        if not targets:
            raise InvalidInput("policy.targets_none")
        await self.service.propose_step(
            actor,
            await self._policy(data),
            int(data["index"]),
            timedelta(seconds=data["delay"]),
            targets,
        )
        return True

    async def _exists(self, action: str, value: int) -> bool:
        """Whether a toggle names something there is (a press may be old or forged)."""
        if action == "ta":
            return value < 2
        if action == "tr":
            return await self.service.rota.rotation(self.db, value) is not None
        if action == "tg":
            return any(g.id == value for g in await self.service.groups.all(self.db))
        return any(p.id == value for p in await self.service.people.staff(self.db))

    async def _policy(self, data: dict[str, Any]) -> Policy:
        policy = await self.service.policies.get(self.db, data["policy"])
        if policy is None or policy.retired:
            raise InvalidInput("policy.gone")
        return policy


__all__ = ["StepFlow"]
