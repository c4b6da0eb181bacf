"""Screen getUpdates answers at the HTTP seam, so one update PTB cannot parse stops nothing.

python-telegram-bot parses a whole getUpdates batch in one go (`Update.de_list`). One entry
it cannot parse (a message without `date`, `from` given as a string: a proxy or a local
Bot API server can send that, Telegram should not) makes `Bot.get_updates` raise; the
Updater then polls again with the same offset and gets the same batch forever, and PTB
logs the raw batch (panic texts, Telegram ids) at CRITICAL on every try.

`GuardedUpdatesRequest` is the request object PTB uses for getUpdates only. It parses each
entry on its own first and replaces one that fails with a bare `{"update_id": N}`: an
Update no handler acts on (the gate stops an update without a user) that still moves the
Updater's offset, which PTB takes from the *last* update of the batch. Dropping the entry
instead would leave the offset behind it when it is last, and the server would send it
again at once, in a busy loop. Only an entry without a usable integer update_id is
dropped: there is nothing to confirm it with.

What is skipped is counted by id, and logged by id and exception type only, never content.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

from telegram import Update
from telegram.request import BaseRequest, HTTPXRequest, RequestData

if TYPE_CHECKING:
    from telegram._utils.types import JSONDict, ODVInput

log = logging.getLogger(__name__)

# When a whole batch was dropped, nothing confirms it and the server answers the next poll
# at once with the same entries; wait a little so that cannot spin the CPU.
DROPPED_BATCH_PAUSE = 1.0
_REMEMBERED_IDS = 100


class SkippedUpdates:
    """What the guard has skipped since start: counts and the latest ids, nothing else."""

    def __init__(self) -> None:
        self.count = 0  # replaced by a bare update (their ids are in `recent_ids`)
        self.without_id = 0  # dropped: no usable update_id to confirm them with
        self.recent_ids: deque[int] = deque(maxlen=_REMEMBERED_IDS)

    def skipped(self, update_id: int) -> None:
        self.count += 1
        self.recent_ids.append(update_id)


def usable_update_id(entry: Any) -> int | None:
    """The entry's update_id if it is a real integer (JSON `true` is not), else None."""
    if not isinstance(entry, dict):
        return None
    value = entry.get("update_id")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def screen_updates(entries: list[Any], skipped: SkippedUpdates) -> list[JSONDict]:
    """Entries PTB can parse, the others replaced by their bare id or, without one, dropped."""
    screened: list[JSONDict] = []
    for entry in entries:
        update_id = usable_update_id(entry)
        if update_id is None:
            skipped.without_id += 1
            log.warning(
                "a getUpdates entry without a usable update_id was dropped (%s)",
                type(entry).__name__,
            )
            continue
        try:
            Update.de_json(entry, bot=None)
        except Exception as exc:  # anything de_json raises: its message may quote content
            skipped.skipped(update_id)
            log.warning(
                "update %d skipped: python-telegram-bot cannot parse it (%s)",
                update_id,
                type(exc).__name__,
            )
            screened.append({"update_id": update_id})
            continue
        screened.append(entry)
    return screened


class GuardedUpdatesRequest(HTTPXRequest):
    """An HTTPXRequest whose getUpdates answers PTB can always parse (see the module doc).

    PTB marks `post` final and leaves `do_request` (status and raw body) to subclasses,
    so the screen works on the body: decoded, screened, encoded again. Bodies that are
    not a successful getUpdates answer pass through byte for byte, for PTB to judge.
    """

    def __init__(self, skipped: SkippedUpdates | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.skipped = skipped if skipped is not None else SkippedUpdates()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        status, payload = await super().do_request(
            url,
            method,
            request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        # PTB calls f"{base_url}/getUpdates"; this object only ever serves that method,
        # but anything else would pass through untouched all the same.
        if status != HTTPStatus.OK or not url.endswith("/getUpdates"):
            return status, payload
        try:
            body = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            return status, payload
        entries = body.get("result") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            return status, payload
        screened = screen_updates(entries, self.skipped)
        if len(screened) == len(entries) and all(
            kept is entry for kept, entry in zip(screened, entries, strict=True)
        ):
            return status, payload
        if entries and not screened:
            await asyncio.sleep(DROPPED_BATCH_PAUSE)
        return status, json.dumps({**body, "result": screened}).encode("utf-8")
