"""The signed export, as a lawyer uses it: /export sends a PDF and a JSON; the PDF reads
as a person reads it (Korean and Cyrillic names, every timeline entry); `nabat verify`
accepts the JSON and names the one value edited in a copy; only whoever holds the alert,
or a coordinator, gets one.

Default policy: step 1 all responders, step 2 all coordinators (5 min each).
"""

from __future__ import annotations

import io
import json
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bot.__main__ import main
from bot.domain.casefile import CaseFile, Document, Proceeding
from bot.domain.models import Role
from bot.services.export.signed import file_bytes, sign_document
from storage.casefiles import CaseFileRepo
from storage.keyring import KeyRing
from storage.signing import signing_key
from tests.e2e.test_at_rest import leaks, raw_bytes
from tests.support.harness import BotHarness, enrol
from tests.support.personas import Cast
from tests.support.steps import panic
from tests.telegram_emulator import SimUser

NAME = "Ким Сон Хи"
KOREAN = "김성희"
CASE = CaseFile(
    name_latin="Kim Song Hui",
    name_cyrillic=NAME,
    name_korean=KOREAN,
    birth_date="1991-04-02",
    nationality="КНДР",
    documents=(Document("passport", "836-1224", "2019-05-01", "2029-04-30"),),
    risk="Бежала с лесозаготовок в Амурской области; при возврате грозит лагерь.",
    proceedings=(Proceeding("refugee application", "УВМ-77/2025", "2025-11-03", "pending"),),
)


async def kim(h: BotHarness, cast: Cast) -> SimUser:
    """A contact with a Cyrillic name, a Korean case-file name, in Moscow's time zone."""
    user = h.emu.user(700300077, "Kim", last_name="SH")
    made = await h.services.people.invite(None, Role.CONTACT, NAME)
    await enrol(h, user, made.token)
    services = h.services
    person = await services.people.people.find_by_telegram(services.db, user.id)
    assert person is not None
    async with services.db.transaction() as tx:
        await services.people.people.set_tz(tx, person.id, "Europe/Moscow")
        await CaseFileRepo(services.cipher).save(tx, person.id, CASE, h.clock.now())
    await h.advance(services.settings.contact_reply_ttl.total_seconds())
    return user


async def outbox_rows(h: BotHarness) -> int:
    row = await h.services.db.fetchone("SELECT COUNT(*) FROM outbox")
    assert row is not None
    return int(row[0])


def flat(words: str) -> str:
    return " ".join(words.split())


def pdf_text(data: bytes) -> str:
    return flat(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))


async def export(h: BotHarness, who: SimUser, alert: int) -> tuple[Any, Any]:
    seen = len(who.visible)
    await who.send(f"/export {alert}")
    await h.replies(who, seen + 2, what="the PDF and the JSON")
    await h.settle()
    pdf, signed = who.visible[seen:]
    return pdf, signed


async def test_export_sends_a_pdf_a_person_can_read_and_json_that_verify_checks(
    harness: BotHarness, enrolled: Cast, tmp_path: Path
) -> None:
    anna = enrolled.responders[0]
    contact = await kim(harness, enrolled)
    await panic(harness, contact, "/panic Полиция у двери, везут в отдел")
    await contact.send("Говорят, подпишу бумаги и отпустят")
    await contact.send_location(55.7558, 37.6173)
    await contact.send_voice(file_id="VOICE-9", duration=4)
    await harness.settle()
    acked_at = harness.clock.advance(7)
    await harness.reply_to(anna, "/ack 1")
    await harness.reply_to(anna, "/say 1 Ничего не подписывайте")
    harness.clock.advance(13)

    queued = await outbox_rows(harness)
    pdf, signed = await export(harness, anna, 1)
    # Once delivered, the files leave the outbox: no copy of an export lingers at rest,
    # and the database holds none of it in the clear meanwhile.
    assert await outbox_rows(harness) == queued
    await harness.services.db.checkpoint()
    plain = [NAME, KOREAN, "Kim Song Hui", "УВМ-77/2025", "Ничего не подписывайте", "VOICE-9"]
    assert leaks(raw_bytes(harness.database_path), plain) == []
    assert (pdf.kind, pdf.file_name, signed.kind, signed.file_name) == (
        "document",
        "alert-1.pdf",
        "document",
        "alert-1.json",
    )
    # Not protected: the lawyer saves them and files them.
    assert not pdf.protect_content and not signed.protect_content
    assert pdf.upload.startswith(b"%PDF-") and signed.upload is not None
    record = json.loads(signed.upload)
    fingerprint = record["fingerprint"]
    assert fingerprint in str(pdf.text)

    document = record["document"]
    assert document["contact"]["pseudonym"] == NAME
    assert document["case_file"]["name_korean"] == KOREAN
    kinds = [e["kind"] for e in document["timeline"]]
    assert kinds[:2] == ["created", "paged"] and "acknowledged" in kinds and "said" in kinds
    place = next(e["location"] for e in document["timeline"] if e["location"])
    assert place["map"].startswith("https://www.openstreetmap.org/?mlat=55.75580")
    voice = next(e["media"] for e in document["timeline"] if e["media"])
    assert voice["file_id"] == "VOICE-9"
    acked = document["alert"]["acknowledged"]
    assert acked["by"]["name"] == "Anna Advokatova-Pervaya"
    assert acked["at_utc"] == f"{acked_at:%Y-%m-%dT%H:%M:%S}Z"  # to the second
    moscow = acked_at + timedelta(hours=3)
    assert acked["at_local"] == f"{moscow:%Y-%m-%dT%H:%M:%S}+03:00"
    assert {d["delivery"] for d in document["deliveries"]} == {"delivered"}

    # The PDF, read as a person reads it: both names, and every line of the timeline.
    shown = pdf_text(pdf.upload)
    assert NAME in shown and KOREAN in shown and "Kim Song Hui" in shown
    for entry in document["timeline"]:
        assert entry["at_utc"].replace("T", " ").removesuffix("Z") in shown
        assert entry["at_local"][11:19] in shown
        if entry["text"]:
            assert flat(entry["text"]) in shown, entry
    assert "VOICE-9" in shown and "55.75580, 37.61730" in shown
    assert flat(fingerprint) in shown and "nabat verify alert-1.json" in shown

    # `nabat verify`, with the bot's settings: valid, and this bot's key.
    path = tmp_path / "alert-1.json"
    path.write_bytes(signed.upload)
    result = await harness.cli("verify", str(path))
    assert result.code == 0, result.out
    signed_at = document["exported"]["at_utc"]
    assert result.out.startswith(f"valid: signed by {fingerprint} at {signed_at}")
    assert "This is this bot's signing key." in result.out
    # One timestamp moved by a minute in a copy: refused, naming that value.
    record["document"]["timeline"][2]["at_utc"] = "2026-03-01T09:01:00Z"
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")
    result = await harness.cli("verify", str(forged))
    assert result.code == 1
    assert result.out.splitlines() == [
        "invalid: the file was altered after it was signed",
        "changed: timeline[2].at_utc",
    ]
    garbage = tmp_path / "garbage.json"
    garbage.write_text("{not json", encoding="utf-8")
    assert (await harness.cli("verify", str(garbage))).code == 2
    # A whole record made up and signed with another key: a sound signature, but the bot
    # knows its own key, and says this is not it.
    other = sign_document(document, signing_key(KeyRing.generate()), signed_at="2026-03-01")
    foreign = tmp_path / "foreign.json"
    foreign.write_bytes(file_bytes(other))
    result = await harness.cli("verify", str(foreign))
    assert result.code == 1 and "which is not this bot's key" in result.out

    audited = await harness.services.db.fetchall(
        "SELECT actor_id FROM audit_log WHERE action = 'alert.export'"
    )
    assert len(audited) == 1


async def test_only_the_holder_or_a_coordinator_gets_an_export(
    harness: BotHarness, enrolled: Cast, tmp_path: Path
) -> None:
    anna, boris = enrolled.responders
    olga = enrolled.coordinator
    await panic(harness, enrolled.contacts[0])
    await harness.reply_to(anna, "/ack 1")
    # Paged too, but not holding it: refused, and nothing is sent.
    refused = await harness.reply_to(boris, "/export 1")
    assert refused.startswith("Only whoever acknowledged alert #1, or a coordinator")
    assert (await harness.reply_to(boris, "/export 7")) == (
        await harness.reply_to(olga, "/alert 7")
    )
    assert (await harness.reply_to(anna, "/export")).startswith("Usage: /export <alert number>")
    await harness.reply_to(anna, "/resolve 1 released")
    # Resolved: the case file in it is for coordinators now.
    assert (await harness.reply_to(anna, "/export 1")).startswith("Alert #1 is resolved")
    pdf, signed = await export(harness, olga, 1)
    assert pdf.file_name == "alert-1.pdf" and signed.file_name == "alert-1.json"
    assert not any(m.kind == "document" for m in (*anna.visible, *boris.visible))

    # The same from the shell, for an operator.
    out = tmp_path / "exports"
    result = await harness.cli("alert", "export", "1", "--out", str(out), "--lang", "ru")
    assert result.code == 0, result.out
    for name in ("alert-1.pdf", "alert-1.json"):
        assert stat.S_IMODE((out / name).stat().st_mode) == 0o600
        assert str(out / name) in result.out
    fingerprint = json.loads((out / "alert-1.json").read_bytes())["fingerprint"]
    assert fingerprint in result.out
    assert (await harness.cli("verify", str(out / "alert-1.json"))).code == 0
    missing = await harness.cli("alert", "export", "9", "--out", str(out))
    assert missing.code == 1


def test_verify_needs_no_settings_and_says_which_key_to_compare(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A court's clerk with nabat installed and nothing else: the signature and every value
    are checked; the key is named, to compare with the fingerprint the bot's operator gives."""
    key = signing_key(KeyRing.generate())
    path = tmp_path / "alert-3.json"
    path.write_bytes(file_bytes(sign_document({"alert": {"id": 3}}, key, signed_at="T")))
    env = {"NABAT_DATA_DIR": str(tmp_path / "nowhere")}
    assert main(["verify", str(path)], env, configure_logging=False) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("valid: signed by ") and out[0].endswith(" at T")
    assert out[1].startswith("Compare the fingerprint with the one the bot's operator gives")
    assert main(["verify", str(tmp_path / "absent.json")], env, configure_logging=False) == 2
