"""Escalation policies edited from Telegram, and a contact moved to another policy."""

from __future__ import annotations

from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, COORDINATOR, RESPONDERS, Cast
from tests.support.steps import (
    ANNA,
    BORIS,
    confirm_last,
    make_rotation,
    pages,
    panic,
    remove_via_buttons,
    texts,
)


async def test_a_coordinator_lists_policies_and_changes_a_step_after_a_preview(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    listing = await harness.reply_to(c, "/policy")
    assert listing.startswith("#1 default (default): repeat 1, acknowledgement timeout 30m")
    assert "step 1: all responders, then wait 5m" in listing
    assert "step 2: all coordinators, then wait 5m" in listing
    await make_rotation(
        harness, enrolled, f"Moscow day | Europe/Moscow | 1w | 2026-03-01 09:00 | {BORIS}"
    )
    preview = await harness.reply_to(
        c, f"/policy step default | 1 | 2m | rotation:Moscow day, {ANNA}"
    )
    assert preview.startswith("Policy default after this change:")
    assert f"step 1: rotation:Moscow day, {ANNA}, then wait 2m" in preview
    # Nothing changes before Confirm.
    await panic(harness, enrolled.contacts[0])
    assert all(len(pages(r)) == 1 for r in enrolled.responders)
    answer = await confirm_last(harness, c)
    assert answer == "Policy default updated. Its open alert starts again from the new step 1."
    await harness.settle()
    assert [len(pages(r)) for r in enrolled.responders] == [2, 2]
    await harness.reply_to(enrolled.responders[0], "/resolve 1")
    # A new alert follows the new step 1, and step 2 comes after 2 minutes, not 5.
    await panic(harness, enrolled.contacts[1])
    await harness.advance(120)
    assert len(pages(c)) == 1


async def test_a_contact_moved_to_another_policy_mid_alert_pages_its_first_step_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    c = enrolled.coordinator
    services = harness.services
    async with services.db.transaction() as tx:
        coordinator = await services.people.identify(COORDINATOR[0])
        assert coordinator is not None
        from bot.domain.models import Step, Target, TargetKind

        await services.policies.policies.create(
            tx,
            name="night",
            repeat=0,
            ack_timeout_s=600,
            is_default=False,
            steps=[Step(60, (Target(TargetKind.PERSON, person_id=coordinator.id),))],
        )
    await panic(harness, enrolled.contacts[0])
    assert pages(c) == []
    await c.send(f"/assign {CONTACTS[0][1]} | night")
    await harness.settle()
    # The page goes first (it is more urgent than the answer), then the answer.
    assert len(pages(c)) == 1
    assert texts(c)[-1] == (
        f"{CONTACTS[0][1]} now uses policy night. Their open alert moved to it and pages its "
        "step 1 now."
    )
    # The old policy's step 2 never fires; the new one has a single step, no repeat.
    await harness.advance(600)
    assert len(pages(c)) == 2 and pages(c)[-1].startswith("UNANSWERED")
    assert [len(pages(r)) for r in enrolled.responders] == [2, 2]  # UNANSWERED only


async def test_bad_policy_input_says_what_to_write(harness: BotHarness, enrolled: Cast) -> None:
    c = enrolled.coordinator
    cases = {
        "/policy step default | 9 | 5m | all responders": "The step number must be 1 to 3.",
        "/policy step default | 1 | forever | all responders": "'forever' is not a wait",
        "/policy step default | 1 | 5m | rotation:Nope": "There is no rotation 'Nope'.",
        "/policy step nope | 1 | 5m | all responders": "There is no policy 'nope'.",
        "/policy step default | 1 | 5m": "Usage: /policy step",
        "/policy drop default | 7": "The step number must be 1 to 2.",
        f"/assign {RESPONDERS[0][1]} | default": "No contact matches",
    }
    for command, expected in cases.items():
        assert (await harness.reply_to(c, command)).startswith(expected), command
    assert "don't know that command" in await harness.reply_to(enrolled.responders[0], "/policy")


async def test_a_removed_responder_is_taken_out_of_policy_steps_and_the_file_still_round_trips(
    harness: BotHarness, enrolled: Cast, tmp_path
) -> None:
    c = enrolled.coordinator
    await harness.reply_to(c, f"/policy step default | 2 | 5m | {BORIS}")
    await confirm_last(harness, c)
    seen = len(c.visible)
    await remove_via_buttons(harness, enrolled, BORIS, "Remove")
    assert str(c.visible[seen].text).startswith("Removed #3 ")
    # Coordinators hear at once that step 2 now finds no one.
    await harness.replies(c, seen + 2, what="the coverage report")
    report = str(c.visible[-1].text)
    assert report.startswith("Coverage gaps in the next 7 days")
    assert "policy 'default' step 2:" in report
    listing = await harness.reply_to(c, "/policy")
    assert "step 2: no one (passed at once; change it with /policy step), then wait 5m" in listing
    # Export writes the empty step; importing that file changes nothing and warns.
    path = tmp_path / "rota.toml"
    assert (await harness.cli("rota", "export", str(path))).code == 0
    assert "targets = []" in path.read_text()
    imported = await harness.cli("rota", "import", str(path))
    assert imported.code == 0, imported.out
    assert "policies: 0 created, 0 updated, 0 deleted" in imported.out
    assert "WARNING: these steps page no one and are passed at once: 'default' step 2" in (
        imported.out
    )
