"""What the gate remembers: updates already handled, and how often strangers knock."""

from __future__ import annotations

from datetime import datetime, timedelta

from storage.db import Transaction, from_db_time, to_db_time

# Telegram picks a random next update_id after a week without updates, so a week of
# remembered ids is enough to catch every redelivery without colliding with new ids.
UPDATE_MEMORY = timedelta(days=7)


class GateRepo:
    async def claim_update(self, tx: Transaction, update_id: int, now: datetime) -> bool:
        """True the first time an update id is seen; False for a redelivery."""
        changed = await tx.execute(
            "INSERT INTO processed_updates (update_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING",
            (update_id, to_db_time(now)),
        )
        return changed == 1

    async def forget_old_updates(self, tx: Transaction, now: datetime) -> int:
        return await tx.execute(
            "DELETE FROM processed_updates WHERE at < ?", (to_db_time(now - UPDATE_MEMORY),)
        )

    async def stranger_knock(
        self,
        tx: Transaction,
        tg_index: bytes,
        now: datetime,
        *,
        window: timedelta,
        reply_every: timedelta,
    ) -> tuple[int, bool]:
        """Count one update from a stranger.

        Returns (updates in the current window, whether a neutral reply is due now).
        """
        row = await tx.fetchone("SELECT * FROM strangers WHERE tg_index = ?", (tg_index,))
        if row is None:
            await tx.execute(
                "INSERT INTO strangers (tg_index, replied_at, window_start, window_count)"
                " VALUES (?, ?, ?, 1)",
                (tg_index, to_db_time(now), to_db_time(now)),
            )
            return 1, True
        count = int(row["window_count"]) + 1
        start = from_db_time(row["window_start"])
        if now - start >= window:
            start, count = now, 1
        replied = from_db_time(row["replied_at"]) if row["replied_at"] else None
        reply = replied is None or now - replied >= reply_every
        await tx.execute(
            "UPDATE strangers SET window_start = ?, window_count = ?, replied_at = ?"
            " WHERE tg_index = ?",
            (
                to_db_time(start),
                count,
                to_db_time(now) if reply else row["replied_at"],
                tg_index,
            ),
        )
        return count, reply

    async def forget_stranger(self, tx: Transaction, tg_index: bytes) -> None:
        await tx.execute("DELETE FROM strangers WHERE tg_index = ?", (tg_index,))

    async def forget_old_strangers(self, tx: Transaction, before: datetime) -> int:
        return await tx.execute(
            "DELETE FROM strangers WHERE window_start < ?"
            " AND (replied_at IS NULL OR replied_at < ?)",
            (to_db_time(before), to_db_time(before)),
        )
