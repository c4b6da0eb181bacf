"""Forgetting on purpose: resolved alerts older than NABAT_RETENTION are purged by
housekeeping, with their timelines and pages (and with them every export's data: an
export is made from them when asked, never stored). The audit log says which alerts
went, by number, not what they held."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.domain.clock import Clock
from storage.alerts import AlertRepo
from storage.audit import AuditRepo
from storage.db import Database

log = logging.getLogger(__name__)


class Retention:
    def __init__(
        self,
        db: Database,
        alerts: AlertRepo,
        audit: AuditRepo,
        clock: Clock,
        keep: timedelta | None,
    ) -> None:
        self.db = db
        self.alerts = alerts
        self.audit = audit
        self.clock = clock
        self.keep = keep

    async def housekeeping(self) -> list[int]:
        """Purge what is past the retention period; the alert numbers purged."""
        if self.keep is None:
            return []
        now = self.clock.now()
        async with self.db.transaction() as tx:
            purged = await self.alerts.purge_resolved(tx, now - self.keep)
            if purged:
                await self.audit.record(
                    tx,
                    actor_id=None,
                    action="retention.purge",
                    now=now,
                    detail={"alerts": purged, "older_than_days": self.keep.days},
                )
        if purged:
            log.info("retention: %d resolved alerts purged", len(purged))
        return purged
