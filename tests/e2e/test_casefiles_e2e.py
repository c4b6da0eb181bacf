"""Case files end to end: a coordinator fills one (one-line form and field by field, each
ending in a preview and Confirm); a responder sees it only while an alert of that contact
was paged to them or is theirs, and is open; every showing is in the audit log."""

from __future__ import annotations

import json
from typing import Any

from bot.domain.casefile import CaseFile
from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, Cast
from tests.support.steps import confirm_last, panic, texts
from tests.telegram_emulator import SimUser

K17 = CONTACTS[0][1]  # "K-17 Kontaktnaya", person #4
NOT_YOURS = "There is no alert #1 you can see."
KOREAN, CYRILLIC = "김철수", "Ким Чол Су"


async def fill(h: BotHarness, cast: Cast, *changes: str) -> str:
    """`/case <contact> set ...` lines, each previewed, then Confirm; the last preview."""
    coordinator = cast.coordinator
    preview = ""
    for change in changes:
        preview = await h.reply_to(coordinator, f"/case {change}")
        assert [b for b, _ in coordinator.visible[-1].buttons] == ["Confirm", "Cancel"], preview
    assert await confirm_last(h, cast.coordinator) == f"The case file of {K17} is saved."
    return preview


async def page_only_to_anna(h: BotHarness) -> None:
    """Step 1 of the default policy pages Anna (#2) alone, so Boris is never paged."""
    async with h.services.db.transaction() as tx:
        await tx.execute(
            "UPDATE policy_steps SET targets = ? WHERE policy_id = 1 AND position = 0",
            ('[{"kind": "person", "id": 2}]',),
        )


async def openings(h: BotHarness) -> list[tuple[int, dict[str, Any]]]:
    """(actor, detail) of every `case.open` in the audit log, oldest first."""
    services = h.services
    rows = await services.db.fetchall(
        "SELECT id, actor_id, detail_enc FROM audit_log WHERE action = 'case.open' ORDER BY id"
    )
    return [
        (
            int(r[1]),
            json.loads(
                services.cipher.decrypt_str(
                    bytes(r[2]), table="audit_log", column="detail", row_id=r[0]
                )
            ),
        )
        for r in rows
    ]


async def pressed_answer(h: BotHarness, user: SimUser, data: str) -> str:
    """A (forged) press on the user's newest message; the callback's answer."""
    await user.forge_press(user.visible[-1].message_id, data)
    await h.settle()
    return str(user.callback_answers[-1].get("text", ""))


async def test_a_coordinator_fills_a_case_file_with_one_line_changes_confirmed_at_once(
    harness: BotHarness, enrolled: Cast
) -> None:
    coordinator = enrolled.coordinator
    first = await harness.reply_to(coordinator, f"/case {K17} set name_korean {KOREAN}")
    assert first.startswith(f"Case file of {K17} (#4) as it will be saved (name_korean set):")
    assert f"Name (Korean): {KOREAN}" in first and first.endswith("Save it?")
    assert coordinator.visible[-1].protect_content
    # A name with spaces and a `|`; a second change builds on the first, unconfirmed one.
    preview = await fill(
        harness,
        enrolled,
        f"{K17} | set documents.1.number 836512345",
        "#4 set documents.1.kind passport",
        "#4 set risk Escaped in 2015.\nReturned, he faces a labour camp.",
    )
    assert preview.splitlines()[1:] == [
        f"Name (Korean): {KOREAN}",
        "Document 1 (passport): No. 836512345",
        "Risk: Escaped in 2015.",
        "Returned, he faces a labour camp.",
        "Save it?",
    ]
    # The first preview's Confirm was taken by the second: it is gone.
    shown = await harness.reply_to(coordinator, "/case #4")
    assert shown.startswith(f"Case file of {K17} (#4):\nName (Korean): {KOREAN}\n")
    assert "Change it: /case #4 set <field> <value>" in shown
    assert coordinator.visible[-1].protect_content

    # A wrong value names the field and what is expected; nothing is previewed.
    told = await harness.reply_to(coordinator, "/case #4 set birth_date 31.05.1990")
    assert told == "birth_date: write a date as YYYY-MM-DD, e.g. 1990-05-31."
    told = await harness.reply_to(coordinator, "/case #4 set documents.3.number 1")
    assert told == "documents.3: number the items from 1; the next new one is documents.2."
    told = await harness.reply_to(coordinator, "/case #4 set nationalty DPRK")
    assert told.startswith("nationalty: there is no such field. The fields are name_latin,")
    # Cancel keeps what was saved.
    await harness.reply_to(coordinator, "/case #4 clear documents.1")
    seen = len(coordinator.visible)
    await coordinator.press_button("Cancel")
    await harness.replies(coordinator, seen + 1)
    assert texts(coordinator)[-1] == "Cancelled: nothing changed."
    assert "Document 1 (passport)" in await harness.reply_to(coordinator, "/case #4")
    # Another contact's case file is empty, and says so.
    empty = await harness.reply_to(coordinator, f"/case {CONTACTS[1][1]}")
    assert empty.splitlines()[1] == "The case file is empty."
    assert (await harness.reply_to(coordinator, "/case")).startswith("Usage:\n/case <contact>")


async def test_a_preview_confirmed_after_someone_else_saved_that_case_file_saves_nothing(
    harness: BotHarness, enrolled: Cast
) -> None:
    coordinator = enrolled.coordinator
    await harness.reply_to(coordinator, "/case #4 set notes mine")
    # Meanwhile another coordinator saves theirs (here through the service's store).
    services = harness.services
    async with services.db.transaction() as tx:
        await services.casefiles.repo.save(tx, 4, CaseFile(notes="theirs"), harness.clock.now())
    told = await confirm_last(harness, coordinator)
    assert told == (
        f"The case file of {K17} was changed after this preview: nothing was saved. Send "
        "your change again."
    )
    assert await services.casefiles.repo.get(services.db, 4) == CaseFile(notes="theirs")


async def test_a_coordinator_fills_a_case_file_field_by_field(
    harness: BotHarness, enrolled: Cast
) -> None:
    coordinator = enrolled.coordinator
    which = await harness.reply_to(coordinator, "/case edit")
    assert which.startswith("Case file, field by field: for which contact?")
    await coordinator.press_button(K17)  # the question becomes the first about K-17
    await harness.emu.wait_for(lambda: "1 of 12" in texts(coordinator)[-1], what="question 1")
    question = texts(coordinator)[-1]
    assert question.startswith(
        f"Case file of {K17}, 1 of 12: Full name in Latin letters, as in their passport\n"
    )
    assert question.endswith("Now: nothing yet\nFinish shows the whole case file to confirm.")
    assert [b for b, _ in coordinator.visible[-1].buttons] == ["Skip", "Finish", "Cancel"]
    assert coordinator.visible[-1].protect_content
    assert (await harness.reply_to(coordinator, "Kim Chol Su")).startswith(
        f"Case file of {K17}, 2 of 12: Full name in Cyrillic"
    )
    await coordinator.press_button("Skip")
    await harness.emu.wait_for(lambda: "3 of 12" in texts(coordinator)[-1], what="question 3")
    await harness.reply_to(coordinator, KOREAN)
    # A wrong date is refused, and the question is asked again.
    seen = len(coordinator.visible)
    await coordinator.send("1990-02-30")
    await harness.replies(coordinator, seen + 2)
    assert texts(coordinator)[-2] == "birth_date: write a date as YYYY-MM-DD, e.g. 1990-05-31."
    assert "4 of 12: Date of birth" in texts(coordinator)[-1]
    assert "5 of 12: Nationality" in await harness.reply_to(coordinator, "1990-05-31")
    assert "6 of 12: Documents" in await harness.reply_to(coordinator, "-")
    # A list takes one item per reply, and asks again.
    again = await harness.reply_to(coordinator, "passport; 836512345; 2014-02-01; 2024-01-31")
    assert "6 of 12: Documents" in again
    assert "Now: \nDocument 1 (passport): No. 836512345, issued 2014-02-01" in again
    seen = len(coordinator.visible)
    await coordinator.press_button("Finish")
    await harness.replies(coordinator, seen + 1, what="the preview")
    preview = texts(coordinator)[-1]
    assert preview.splitlines() == [
        f"Case file of {K17} (#4) as it will be saved (filled in field by field):",
        "Name (Latin): Kim Chol Su",
        f"Name (Korean): {KOREAN}",
        "Date of birth: 1990-05-31",
        "Document 1 (passport): No. 836512345, issued 2014-02-01, expires 2024-01-31",
        "Save it?",
    ]
    assert await confirm_last(harness, coordinator) == f"The case file of {K17} is saved."
    assert "Name (Latin): Kim Chol Su" in await harness.reply_to(coordinator, "/case #4")


async def test_only_a_responder_paged_for_an_open_alert_opens_the_case_file_and_it_is_audited(
    harness: BotHarness, enrolled: Cast
) -> None:
    anna, boris = enrolled.responders
    coordinator = enrolled.coordinator
    await fill(
        harness, enrolled, f"#4 set name_korean {KOREAN}", f"#4 set name_cyrillic {CYRILLIC}"
    )
    await page_only_to_anna(harness)
    await panic(harness, enrolled.contacts[0])
    page = anna.visible[-1]
    assert [b for b, _ in page.buttons] == ["Acknowledge", "Resolve", "Case file"]

    # From the page: the case file comes as a message of its own, protected.
    seen = len(anna.visible)
    await anna.press_button("Case file")
    await harness.replies(anna, seen + 1, what="the case file")
    shown = anna.visible[-1]
    assert shown.protect_content
    assert str(shown.text).splitlines() == [
        f"Case file of {K17}, the contact of alert #1:",
        f"Name (Cyrillic): {CYRILLIC}",
        f"Name (Korean): {KOREAN}",
    ]
    assert (await harness.reply_to(anna, "/case 1")) == shown.text

    # Boris was not paged: the same words a stranger's number gets, by command or button.
    assert (await harness.reply_to(boris, "/case 1")).startswith(NOT_YOURS)
    assert (await harness.reply_to(boris, "/case 7")).startswith("There is no alert #7")
    seen = len(boris.visible)
    assert (await pressed_answer(harness, boris, "cf:1")).startswith(NOT_YOURS)
    assert len(boris.visible) == seen
    # A responder cannot name a contact; a coordinator can, and sees any.
    assert (await harness.reply_to(boris, "/case #4")).startswith("Usage: /case <alert number>")

    # Acknowledged, the page keeps its Case file button; resolved, it has none.
    await anna.press_button("Acknowledge")
    await harness.settle()
    assert [b for b, _ in page_of(anna).buttons] == ["Resolve", "Answer the contact", "Case file"]
    assert (await harness.reply_to(anna, "/case 1")).startswith(f"Case file of {K17}")
    assert (await harness.reply_to(anna, "/resolve 1 safe")) == "You resolved alert #1."
    await harness.settle()
    assert page_of(anna).buttons == []
    assert (await harness.reply_to(anna, "/case 1")).startswith(NOT_YOURS)
    seen = len(anna.visible)
    assert (await pressed_answer(harness, anna, "cf:1")).startswith(NOT_YOURS)
    assert len(anna.visible) == seen
    assert (await harness.reply_to(coordinator, "/case 1")).startswith(f"Case file of {K17}")

    # Every showing is audited, naming the contact and the alert; refusals show nothing.
    opened = [(actor, detail) for actor, detail in await openings(harness) if actor != 1]
    assert opened == [(2, {"contact": 4, "alert": 1})] * 3
    assert (1, {"contact": 4, "alert": 1}) in await openings(harness)


async def test_pages_of_a_contact_whose_case_file_is_empty_have_no_case_file_button(
    harness: BotHarness, enrolled: Cast
) -> None:
    await fill(harness, enrolled, "#4 set notes x")
    await fill(harness, enrolled, "#4 clear notes")
    await panic(harness, enrolled.contacts[0])
    for responder in enrolled.responders:
        assert [b for b, _ in page_of(responder).buttons] == ["Acknowledge", "Resolve"]


def page_of(user: SimUser) -> Any:
    """The user's page of alert #1, as it stands now."""
    return next(m for m in user.visible if "- alert #1" in str(m.text))
