"""An alert's export for an urgent court application: one document, signed, as PDF and JSON.

- document.py: the document: case file, contact, alert, timeline with content and exact
  times, deliveries, who acted (plain JSON values).
- signed.py: canonical JSON, the manifest of every value, the Ed25519 signature, and the
  check that names what changed (`nabat verify`).
- here: `ExportService`: who may export, making the files (the PDF is drawn in
  bot/words/export_pdf.py), sending them through the outbox, the audit log.

Who may: coordinators, for any alert; the responder who acknowledged it, while it is
open (the case file in it is theirs to see only then, as with `/case`). Anyone else is
refused as for any alert they may not act on.
"""

from __future__ import annotations

import asyncio
import base64
import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.delivery.outbox import Outbox
from bot.domain.clock import Clock
from bot.domain.errors import InvalidInput, NotAllowed, NotFound
from bot.domain.limits import MAX_UPLOAD
from bot.domain.models import AlertState, Notice, Person, Role
from bot.services.alerts.actions import Actions
from bot.services.export.document import VIA_COMMAND_LINE, VIA_TELEGRAM, Sources, build, utc
from bot.services.export.signed import file_bytes, sign_document
from storage.audit import AuditRepo
from storage.db import Database, Transaction

log = logging.getLogger(__name__)

AUDIT_ACTION = "alert.export"


@dataclass(frozen=True)
class Export:
    """The two files of one export, and what to tell about them."""

    alert_id: int
    contact_id: int | None
    pdf: bytes
    json: bytes
    fingerprint: str

    @property
    def pdf_name(self) -> str:
        return f"alert-{self.alert_id}.pdf"

    @property
    def json_name(self) -> str:
        return f"alert-{self.alert_id}.json"


class ExportService:
    def __init__(
        self,
        db: Database,
        sources: Sources,
        actions: Actions,
        outbox: Outbox,
        audit: AuditRepo,
        clock: Clock,
        key: Ed25519PrivateKey,
    ) -> None:
        self.db = db
        self.sources = sources
        self.actions = actions
        self.outbox = outbox
        self.audit = audit
        self.clock = clock
        self._key = key

    async def make(self, alert_id: int, *, lang: str, requester: Person | None = None) -> Export:
        """The signed JSON and its PDF, as the alert stands now, in `lang`."""
        now = self.clock.now()
        async with self.db.transaction() as tx:
            document = await build(
                tx, self.sources, alert_id, now=now, lang=lang, requester=requester
            )
        if document is None:
            raise NotFound("alert.not_found", id=alert_id)
        signed = sign_document(document, self._key, signed_at=utc(now))
        # Drawing a PDF takes tenths of a second of CPU: not on the loop a panic waits on.
        # Imported when first needed: the PDF library costs every start of nabat (and of
        # each `nabat` command) about a sixth of a second otherwise.
        from bot.words.export_pdf import render

        pdf = await asyncio.to_thread(render, signed, lang)
        contact = document["contact"]
        return Export(
            alert_id,
            contact["id"] if contact else None,
            pdf,
            file_bytes(signed),
            signed["fingerprint"],
        )

    async def send(self, actor: Person, alert_id: int, *, before_removal: bool = False) -> Export:
        """`/export N`: the PDF and the JSON to `actor`, savable (not protected).

        `before_removal`: "Export first" on `/remove` — the files must still go out if the
        contact is removed while they wait in the queue, so they are not filed as messages
        about the contact (a removal cancels those); they go once delivered either way."""
        alert = await self.actions.visible_alert(actor, alert_id)
        if not actor.has(Role.COORDINATOR):
            if alert.ack_by != actor.id:
                raise NotAllowed("export.not_holder", id=alert.id)
            if alert.state is AlertState.RESOLVED:
                raise NotAllowed("export.closed", id=alert.id)
        export = await self.make(alert.id, lang=actor.lang, requester=actor)
        largest = max(len(export.pdf), len(export.json))
        if largest > MAX_UPLOAD:
            raise InvalidInput(
                "export.too_large",
                id=alert.id,
                size=f"{largest / 2**20:.1f}",
                max=MAX_UPLOAD // 2**20,
            )
        files = (
            (export.pdf, export.pdf_name, "export.caption.pdf"),
            (export.json, export.json_name, "export.caption.json"),
        )
        params = {"id": alert.id, "fingerprint": export.fingerprint, "file": export.json_name}
        async with self.db.transaction() as tx:
            for data, name, key in files:
                media = {
                    "type": "document",
                    "data": base64.b64encode(data).decode("ascii"),
                    "filename": name,
                }
                # The row (and the file in it) goes once delivered: no copy lingers at rest.
                await self.outbox.send(
                    tx,
                    actor.chat_id,
                    Notice(key, params, lang=actor.lang, media=media),
                    person_id=actor.id,
                    about_id=None if before_removal else export.contact_id,
                    erase_done=True,
                )
            await self._audit(tx, export, actor, VIA_TELEGRAM)
        log.info("alert %d exported by person %d", alert.id, actor.id)
        return export

    async def for_command_line(self, alert_id: int, *, lang: str) -> Export:
        """`nabat alert export N`: the files, audited; the caller writes them."""
        export = await self.make(alert_id, lang=lang)
        async with self.db.transaction() as tx:
            await self._audit(tx, export, None, VIA_COMMAND_LINE)
        return export

    async def _audit(self, tx: Transaction, export: Export, actor: Person | None, via: str) -> None:
        await self.audit.record(
            tx,
            actor_id=actor.id if actor else None,
            action=AUDIT_ACTION,
            now=self.clock.now(),
            detail={"alert": export.alert_id, "contact": export.contact_id, "via": via},
        )
