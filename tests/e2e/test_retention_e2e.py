"""NABAT_RETENTION: resolved alerts older than it are purged; the audit log says which."""

from __future__ import annotations

import json
from pathlib import Path

from bot.domain.clock import FakeClock
from tests.support.harness import BotHarness
from tests.support.personas import Cast
from tests.support.steps import enrol_all
from tests.telegram_emulator import Emulator

DAY = 86400.0


async def test_resolved_alerts_past_the_retention_period_are_purged_and_audited(
    emulator: Emulator, tmp_path: Path, clock: FakeClock, cast: Cast
) -> None:
    h = BotHarness(emulator, tmp_path, clock, NABAT_RETENTION="30d")
    await h.start()
    try:
        await enrol_all(h, cast)
        contact, anna = cast.contacts[0], cast.responders[0]
        await contact.send("/panic first")
        await h.settle()
        await h.reply_to(anna, "/resolve 1 done")
        await h.advance(10 * DAY)
        await contact.send("/panic second")
        await h.settle()
        await h.reply_to(anna, "/resolve 2 done")
        await contact.send("/panic still open")
        await h.settle()
        repo = h.services.alerts.context.alerts
        await h.advance(21 * DAY)  # alert 1 resolved 31 days ago, alert 2 21 days ago
        assert await h.services.retention.housekeeping() == [1]
        assert await repo.get(h.services.db, 1) is None
        assert await repo.get(h.services.db, 2) is not None
        assert await repo.get(h.services.db, 3) is not None  # open: never purged
        entries = await h.services.db.fetchall(
            "SELECT id, detail_enc FROM audit_log WHERE action = 'retention.purge'"
        )
        (entry,) = entries
        detail = json.loads(
            h.services.cipher.decrypt_str(
                bytes(entry[1]), table="audit_log", column="detail", row_id=entry[0]
            )
        )
        assert detail == {"alerts": [1], "older_than_days": 30}
    finally:
        await h.stop()
