"""/remove leaves nothing that names or describes the person, even to someone who holds
the key ring and decrypts the whole database; their chat is still emptied on time; and
nothing queued about them is delivered after they are gone."""

from __future__ import annotations

from storage.reencrypt import ENCRYPTED_COLUMNS
from tests.support.harness import BotHarness
from tests.support.personas import CONTACTS, RESPONDERS, Cast
from tests.telegram_emulator import SimUser

SECRETS = [
    "Sotrudniki zabirayut menya s Tverskoy",
    "tri cheloveka v forme",
    "55.751244",
    "37.618423",
    "VOICE-FILE-ID-SECRET",
    "vypustili bez protokola",
]


async def decrypted_database(h: BotHarness) -> list[str]:
    """Every encrypted value in the database, decrypted with the bot's own key ring."""
    services = h.services
    values: list[str] = []
    for table, column, bound in ENCRYPTED_COLUMNS:
        rows = await services.db.fetchall(
            f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL"
        )
        for row_id, blob in rows:
            values.append(
                services.cipher.decrypt_str(bytes(blob), table=table, column=bound, row_id=row_id)
            )
    return values


def mentions(values: list[str], needles: list[str]) -> list[tuple[str, str]]:
    return [(n, v[:120]) for v in values for n in needles if n in v]


async def remove(h: BotHarness, coordinator: SimUser, who: str, button: str = "Remove") -> None:
    question = await h.reply_to(coordinator, f"/remove {who}")
    if "alert records" in question and button == "Remove":
        button = "Destroy everything"  # a contact with alerts is asked what to do with them
    await coordinator.press_button(button)
    await h.emu.wait_for(
        lambda: str(coordinator.visible[-1].text).startswith("Removed #"), what="removed"
    )
    await h.settle()


async def test_a_removed_contact_leaves_nothing_readable_even_with_the_key_ring(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, boris = enrolled.contacts[0], *enrolled.responders
    tg_id, name = CONTACTS[0]
    await contact.send(f"/panic {SECRETS[0]}")
    await harness.replies(contact, 1)
    await contact.send_location(55.751244, 37.618423)
    await contact.send_voice(file_id="VOICE-FILE-ID-SECRET", duration=4)
    await harness.settle()
    await anna.press_button("Acknowledge")
    await harness.settle()
    await contact.send(SECRETS[1])
    await harness.settle()
    await harness.reply_to(anna, f"/resolve 1 {SECRETS[5]}, {name} is home")
    # A second alert whose first pages Telegram holds back (an outage) when the contact
    # is removed: those pages must never arrive afterwards.
    harness.emu.faults.outage(3600)
    await contact.send("/panic again")
    await harness.settle()
    seen = {r.id: len(r.visible) for r in (anna, boris)}
    harness.emu.faults.clear()
    coordinator = enrolled.coordinator
    await remove(harness, coordinator, name)
    await harness.advance(60)
    assert {r.id: len(r.visible) for r in (anna, boris)} == seen

    # The contact's chat is emptied when it would have been: the bot's replies go at
    # the reply TTL even though the person is gone.
    assert contact.visible
    await harness.advance(harness.services.settings.contact_reply_ttl.total_seconds())
    assert contact.visible == []

    values = await decrypted_database(harness)
    needles = [name, str(tg_id), *name.split(), *SECRETS]
    assert mentions(values, needles) == []
    # What remains says that person #4 was removed, and nothing more.
    assert any('"action"' not in v and '"person": 4' in v for v in values)


async def test_a_removed_responder_is_replaced_by_their_number_in_records_they_appear_in(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna, _ = enrolled.contacts[0], *enrolled.responders
    tg_id, name = RESPONDERS[0]
    await contact.send("/panic police")
    await harness.replies(contact, 1)
    await anna.press_button("Acknowledge")
    await harness.settle()
    await remove(harness, enrolled.coordinator, name)
    values = await decrypted_database(harness)
    assert mentions(values, [name, str(tg_id), *name.split()]) == []
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert "acknowledged by #2" in timeline and "step 1: paged #2, " in timeline


async def test_what_a_contact_wrote_about_a_removed_responder_is_kept_as_written(
    harness: BotHarness, enrolled: Cast
) -> None:
    """The contact's words are the record of what happened; only nabat's own mentions of
    the removed person (who was paged, who acknowledged) become their number."""
    contact, anna, _ = enrolled.contacts[0], *enrolled.responders
    name = RESPONDERS[0][1]
    await contact.send("/panic police")
    await harness.replies(contact, 1)
    await anna.press_button("Acknowledge")
    await harness.settle()
    await contact.send(f"{name} told me to wait here")
    await harness.settle()
    await remove(harness, enrolled.coordinator, name)
    timeline = await harness.reply_to(enrolled.coordinator, "/alert 1")
    assert f"follow-up (text): {name} told me to wait here" in timeline
    assert "acknowledged by #2" in timeline


async def test_a_removed_contact_leaves_no_check_in_schedule_pins_or_log(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact = enrolled.contacts[0]
    await harness.reply_to(enrolled.coordinator, "/schedule #4 every 12h word zhuravl")
    await enrolled.coordinator.press_button("Confirm")
    for typed in ("/pin", "864213", "975310", "/trip 3h Poyekhal v migratsionku", "/ok 864213"):
        await harness.reply_to(contact, typed)
    await harness.settle()
    before = await decrypted_database(harness)
    assert mentions(before, ["migratsionku", "zhuravl"]) != []  # the scan can find them
    await remove(harness, enrolled.coordinator, CONTACTS[0][1])
    values = await decrypted_database(harness)
    assert mentions(values, ["migratsionku", "zhuravl", "every 12h"]) == []
    for table in ("checkins", "checkin_events"):
        rows = await harness.services.db.fetchall(
            f"SELECT COUNT(*) FROM {table} WHERE person_id = 4"
        )
        assert rows[0][0] == 0


async def test_removing_a_contact_with_alerts_says_how_many_and_can_keep_them_without_identity(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, anna = enrolled.contacts[0], enrolled.responders[0]
    tg_id, name = CONTACTS[0]
    await contact.send(f"/panic {SECRETS[0]}")
    await harness.settle()
    await harness.reply_to(anna, "/resolve 1 done")
    await contact.send("/panic again, second time")
    await harness.settle()
    question = await harness.reply_to(enrolled.coordinator, f"/remove {name}")
    assert "They have 2 alert records" in question
    labels = [label for label, _ in enrolled.coordinator.visible[-1].buttons]
    assert labels == ["Export first", "Keep records", "Destroy everything", "Cancel"]
    await enrolled.coordinator.press_button("Keep records")
    await harness.emu.wait_for(
        lambda: str(enrolled.coordinator.visible[-1].text).startswith("Removed #"), what="done"
    )
    assert "2 alert records are kept" in str(enrolled.coordinator.visible[-1].text)
    await harness.settle()
    alerts = harness.services.alerts.context.alerts
    for alert_id in (1, 2):
        kept = await alerts.get(harness.services.db, alert_id)
        assert kept is not None and kept.contact_id is None
    # The record stays (what they wrote), the identity does not (once the bot's replies
    # have left their chat: until then the deletions need its id).
    await harness.advance(harness.services.settings.contact_reply_ttl.total_seconds())
    values = await decrypted_database(harness)
    assert mentions(values, [name, str(tg_id), *name.split()]) == []
    assert mentions(values, [SECRETS[0]]) != []


async def test_destroy_everything_removes_a_contacts_alerts_with_them(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact = enrolled.contacts[0]
    await contact.send(f"/panic {SECRETS[0]}")
    await harness.settle()
    await remove(harness, enrolled.coordinator, CONTACTS[0][1], "Destroy everything")
    assert await harness.services.alerts.context.alerts.get(harness.services.db, 1) is None
    assert mentions(await decrypted_database(harness), [SECRETS[0]]) == []


CASE_VALUES = ["Kim Chol Su", "김철수", "Ким Чол Су", "836512345", "Lenina 5", "labour camp"]


async def test_a_removed_contacts_case_file_is_gone_even_when_their_alert_records_are_kept(
    harness: BotHarness, enrolled: Cast
) -> None:
    coordinator, contact, anna = enrolled.coordinator, enrolled.contacts[0], enrolled.responders[0]
    for change in (
        "name_latin Kim Chol Su",
        "name_korean 김철수",
        "name_cyrillic Ким Чол Су",
        "documents.1.number 836512345",
        "addresses.1.text Lenina 5",
        "risk Returned, he faces a labour camp.",
    ):
        await harness.reply_to(coordinator, f"/case #4 set {change}")
    await coordinator.press_button("Confirm")
    await contact.send("/panic help")
    await harness.settle()
    await anna.press_button("Case file")  # the case file now sits in Anna's chat, too
    await harness.settle()
    assert "Kim Chol Su" in str(anna.visible[-1].text)
    assert mentions(await decrypted_database(harness), CASE_VALUES) != []  # the scan finds them
    await remove(harness, coordinator, CONTACTS[0][1], "Keep records")
    rows = await harness.services.db.fetchall("SELECT COUNT(*) FROM case_files")
    assert rows[0][0] == 0
    assert mentions(await decrypted_database(harness), CASE_VALUES) == []


async def test_export_first_sends_each_alerts_signed_export_then_asks_again(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, coordinator = enrolled.contacts[0], enrolled.coordinator
    await contact.send(f"/panic {SECRETS[0]}")
    await harness.settle()
    await harness.reply_to(coordinator, f"/remove {CONTACTS[0][1]}")
    await coordinator.press_button("Export first")
    await harness.emu.wait_for(
        lambda: "Keep records" in [b for b, _ in coordinator.visible[-1].buttons],
        what="the question again",
    )
    await harness.settle()
    files = [m for m in coordinator.visible if m.kind == "document"]
    assert sorted(str(m.raw["document"]["file_name"]) for m in files) == [
        "alert-1.json",
        "alert-1.pdf",
    ]
    assert any("Sent 1 exports above" in str(m.text) for m in coordinator.visible)
    await coordinator.press_button("Destroy everything")
    await harness.settle()
    # The exports were delivered before the removal and stay in the coordinator's chat.
    assert len([m for m in coordinator.visible if m.kind == "document"]) == 2


async def test_remove_pressed_after_the_contact_raised_an_alert_asks_again_with_the_choices(
    harness: BotHarness, enrolled: Cast
) -> None:
    contact, coordinator = enrolled.contacts[0], enrolled.coordinator
    question = await harness.reply_to(coordinator, f"/remove {CONTACTS[0][1]}")
    assert "alert records" not in question  # none yet: Remove / Cancel
    await contact.send("/panic they are here")
    await harness.settle()
    await coordinator.press_button("Remove")
    await harness.settle()
    labels = [label for label, _ in coordinator.visible[-1].buttons]
    assert labels == ["Export first", "Keep records", "Destroy everything", "Cancel"]
    assert await harness.services.alerts.context.alerts.get(harness.services.db, 1) is not None


async def test_a_removed_contacts_case_file_waiting_for_confirm_goes_with_them(
    harness: BotHarness, enrolled: Cast
) -> None:
    preview = await harness.reply_to(
        enrolled.coordinator, "/case #4 set name_latin Kim Songhui-Neznaemaya"
    )
    assert "Kim Songhui-Neznaemaya" in preview
    await remove(harness, enrolled.coordinator, CONTACTS[0][1])
    rows = await harness.services.db.fetchall("SELECT id FROM drafts")
    assert rows == []
    assert mentions(await decrypted_database(harness), ["Songhui-Neznaemaya"]) == []
