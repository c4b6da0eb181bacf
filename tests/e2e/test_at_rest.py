"""Test of record: after a scenario, the raw database holds none of its plaintexts."""

from __future__ import annotations

from pathlib import Path

from tests.support.harness import BotHarness, invite
from tests.support.personas import CONTACTS, COORDINATOR, RESPONDERS, STRANGER, Cast


def raw_bytes(db_path: Path) -> bytes:
    parts = [
        db_path,
        db_path.with_name(db_path.name + "-wal"),
        db_path.with_name(db_path.name + "-shm"),
    ]
    return b"".join(p.read_bytes() for p in parts if p.exists())


def leaks(blob: bytes, plaintexts: list[str]) -> list[str]:
    found = []
    for text in plaintexts:
        for form in {text.encode("utf-8"), text.encode("utf-16-le")}:
            if form in blob:
                found.append(text)
    return found


async def test_the_database_file_and_its_wal_hold_none_of_the_scenarios_plaintexts(
    harness: BotHarness, enrolled: Cast
) -> None:
    pending_token = await invite(harness, enrolled.coordinator, "contact", "Pending Pavlina")
    await harness.reply_to(enrolled.coordinator, "/people")
    await enrolled.stranger.send("please help me, I am at the migration office")
    contact = enrolled.contacts[0]
    await contact.send("/panic Sotrudniki zabirayut menya s Tverskoy")
    await contact.send_location(55.751244, 37.618423, live_period=900)
    await contact.send_voice(file_id="VOICE-FILE-ID-SECRET", duration=4)
    await harness.settle()
    await harness.reply_to(enrolled.responders[0], "/resolve 1 vypustili bez protokola")
    await harness.reply_to(enrolled.coordinator, f"/remove {RESPONDERS[1][1]}")
    await harness.settle()

    everyone = [COORDINATOR, *RESPONDERS, *CONTACTS, STRANGER]
    plaintexts = [name for _, name in everyone] + [str(tid) for tid, _ in everyone]
    plaintexts += [part for _, name in everyone for part in name.split() if len(part) > 5]
    plaintexts += ["Pending Pavlina", pending_token, "migration office", harness.emu.token]
    plaintexts += [
        "zabirayut menya",
        "Tverskoy",
        "55.751244",
        "37.618423",
        "55.75124",
        "VOICE-FILE-ID-SECRET",
        "vypustili bez protokola",
    ]

    db_path = harness.database_path
    assert leaks(raw_bytes(db_path), plaintexts) == []
    # Once the WAL is folded into the main file, the main file is clean as well.
    await harness.services.db.checkpoint()
    assert leaks(raw_bytes(db_path), plaintexts) == []
    # And the scan can find things: the role names are stored in clear, by design.
    assert leaks(raw_bytes(db_path), ["coordinator"]) == ["coordinator"]


async def test_check_in_schedules_pins_and_events_are_not_in_the_database_file(
    harness: BotHarness, enrolled: Cast
) -> None:
    """Schedules, the contact's zone, trip notes, PIN hashes, the duress word and the
    check-in log: a copied database shows no one's routine and no PIN."""
    c = enrolled.coordinator
    await harness.reply_to(
        c,
        "/schedule #4 daily 08:17,21:43 grace 47m quiet 23:11-06:29"
        " tz Asia/Vladivostok word zhuravl",
    )
    await c.press_button("Confirm")
    await harness.settle()
    contact = enrolled.contacts[0]
    for typed in (
        "/pin",
        "864213",
        "975310",
        "/word dozhdichek",
        "/trip 3h Poyekhal v migratsionku",
    ):
        await harness.reply_to(contact, typed)
    await harness.reply_to(contact, "/ok 864213")
    await harness.reply_to(contact, "zhuravl 975310 dozhdichek")
    await harness.settle()
    # The scenario did what it says: the word and the duress PIN raised a duress alert.
    assert any(str(m.text).startswith("DURESS - alert #1") for m in enrolled.responders[0].visible)
    plaintexts = [
        "08:17",
        "21:43",
        "23:11",
        "Asia/Vladivostok",
        "zhuravl",
        "dozhdichek",
        "864213",
        "975310",
        "Poyekhal v migratsionku",
        "migratsionku",
        "interval",
        "daily",
    ]
    db_path = harness.database_path
    await harness.services.db.checkpoint()
    assert leaks(raw_bytes(db_path), plaintexts) == []
    # What happened is sealed too: the check-in log's clear columns show no routine (the
    # kind of each event and its time of day are inside the encrypted detail).
    rows = await harness.services.db.fetchall("SELECT kind, at FROM checkin_events")
    assert rows and {r[0] for r in rows} == {"event"}
    assert {r[1][10:19] for r in rows} == {"T00:00:00"}
    # And the scan can find things: a role name is stored in clear, by design.
    assert leaks(raw_bytes(db_path), ["coordinator"]) == ["coordinator"]


async def test_a_filled_case_file_is_not_in_the_database_file(
    harness: BotHarness, enrolled: Cast
) -> None:
    """Every field of a case file, filled by the one-line form and field by field, shown
    to a paged responder: none of it is in the file, in any script."""
    c = enrolled.coordinator
    values = {
        "name_latin": "Kim Chol Su",
        "name_cyrillic": "Ким Чол Су",
        "name_korean": "김철수",
        "birth_date": "1987-11-23",
        "nationality": "Chosonin",
        "documents.1.number": "PX8365123",
        "addresses.1.text": "Svetlanskaya 117, kv 4",
        "risk": "Bezhal iz lesozagotovok",
        "proceedings.1.number": "2a-4471/2026",
        "trusted_person": "Sestra Kim Yong Hee",
        "lawyer": "Advokat Semyonova",
        "notes": "Boitsya zvonkov",
    }
    for field, value in values.items():
        await harness.reply_to(c, f"/case #4 set {field} {value}")
    await c.press_button("Confirm")
    await harness.settle()
    await harness.reply_to(c, "/case #4 edit")
    await harness.reply_to(c, "Kim Chol Soo")  # the guided flow's first answer, then Finish
    await c.press_button("Finish")
    await harness.settle()
    await c.press_button("Confirm")
    await enrolled.contacts[0].send("/panic")
    await harness.settle()
    await enrolled.responders[0].press_button("Case file")
    await harness.settle()
    assert "Bezhal iz lesozagotovok" in str(enrolled.responders[0].visible[-1].text)
    plaintexts = [*values.values(), "Kim Chol Soo", "Svetlanskaya", "lesozagotovok", "Yong Hee"]
    db_path = harness.database_path
    assert leaks(raw_bytes(db_path), plaintexts) == []
    await harness.services.db.checkpoint()
    assert leaks(raw_bytes(db_path), plaintexts) == []
    assert leaks(raw_bytes(db_path), ["case.open"]) == ["case.open"]  # the scan finds things
