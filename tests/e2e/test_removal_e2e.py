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


async def remove(h: BotHarness, coordinator: SimUser, who: str) -> None:
    await h.reply_to(coordinator, f"/remove {who}")
    await coordinator.press_button("Remove")
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
