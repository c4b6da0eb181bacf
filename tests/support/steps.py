"""Steps end-to-end tests share: reading a chat, raising a panic, confirming a preview,
making a rotation, removing someone, enrolling everyone through the command line."""

from __future__ import annotations

from tests.support.harness import BotHarness, enrol, token_from
from tests.support.personas import CONTACTS, COORDINATOR, RESPONDERS, Cast
from tests.telegram_emulator import SimUser


async def enrol_all(h: BotHarness, cast: Cast) -> None:
    people = [(cast.coordinator, "coordinator", COORDINATOR[1])]
    people += [(u, "responder", n) for u, (_, n) in zip(cast.responders, RESPONDERS, strict=True)]
    people += [(u, "contact", n) for u, (_, n) in zip(cast.contacts, CONTACTS, strict=True)]
    for user, role, name in people:
        result = await h.cli("invite", "--role", role, "--name", name)
        await enrol(h, user, token_from(result.out))
    await h.advance(600)


async def remove_via_buttons(h: BotHarness, cast: Cast, query: str, button: str) -> str:
    coordinator = cast.coordinator
    confirm = await h.reply_to(coordinator, f"/remove {query}")
    assert confirm.startswith("Remove #")
    message = coordinator.visible[-1]
    assert [label for label, _ in message.buttons] == ["Remove", "Cancel"]
    await coordinator.press_button(button)
    await h.emu.wait_for(lambda: coordinator.visible[-1].edits, what="the confirmation edited")
    await h.settle()
    return str(coordinator.visible[-1].text)


ANNA, BORIS = RESPONDERS[0][1], RESPONDERS[1][1]


async def confirm_last(h: BotHarness, user) -> str:
    """Press Confirm on the newest preview and return the bot's answer."""
    seen = len(user.visible)
    await user.press_button("Confirm")
    await h.replies(user, seen + 1, what="the confirmation")
    return str(user.visible[-1].text)


async def make_rotation(h: BotHarness, cast: Cast, spec: str) -> str:
    preview = await h.reply_to(cast.coordinator, f"/rotation new {spec}")
    assert cast.coordinator.visible[-1].buttons[0][0] == "Confirm", preview
    assert (await confirm_last(h, cast.coordinator)).startswith("Rotation ")
    return preview


async def route_step_one_to(h: BotHarness, rotation_name: str) -> None:
    """Point the default policy's first step at a rotation (policies are edited in the
    rota file; here the repository stands in for it)."""
    services = h.services
    found = await services.rota.repo.by_name(services.db, rotation_name)
    assert found is not None
    async with services.db.transaction() as tx:
        await tx.execute(
            "UPDATE policy_steps SET targets = ? WHERE policy_id = 1 AND position = 0",
            (f'[{{"kind": "rotation", "rotation": {found.id}}}]',),
        )


def texts(user: SimUser) -> list[str]:
    return [str(m.text) for m in user.visible]


def pages(user: SimUser) -> list[str]:
    return [t for t in texts(user) if "- alert #" in t]


async def panic(h: BotHarness, contact: SimUser, text: str = "/panic police at the door") -> None:
    seen = len(contact.visible)
    await contact.send(text)
    await h.replies(contact, seen + 1, what="the contact's receipt")
    await h.settle()
