"""The database: one writer connection, one reader connection, numbered migrations.

All writes go through `async with db.transaction() as tx:`, which takes an asyncio lock
and runs BEGIN IMMEDIATE … COMMIT on the writer connection, so the bot never sees
SQLITE_BUSY from itself and a failed block rolls back whole. Pure reads use a second
connection: under WAL it sees every committed write at once and never an unfinished one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

from bot.domain.errors import MigrationError, StorageError

log = logging.getLogger(__name__)

Params = Sequence[Any] | dict[str, Any]


def to_db_time(when: datetime) -> str:
    """Store times as fixed-width ISO-8601 UTC text: they sort and compare as strings."""
    if when.tzinfo is None:
        raise ValueError("naive datetime reached storage")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_db_time(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class Transaction:
    """The handle a transaction block gets: SQL runs on the writer connection."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self.after_commit: list[Callable[[], None]] = []
        self._next_ids: dict[str, int] = {}

    async def next_id(self, table: str) -> int:
        """The id the next row of `table` will get, chosen before the INSERT.

        A value's ciphertext is bound to its row id, so knowing the id first saves an
        INSERT-then-UPDATE round trip per row. Safe because this transaction holds the
        database's only write lock (BEGIN IMMEDIATE) until it ends. An id is never given
        twice, even after its row is deleted (migration 0004, `id_floor`).
        """
        if table not in self._next_ids:
            row = await self.fetchone(
                f"SELECT MAX(COALESCE((SELECT MAX(id) FROM {table}), 0),"  # noqa: S608
                " COALESCE((SELECT last FROM id_floor WHERE tbl = ?), 0))",
                (table,),
            )
            self._next_ids[table] = int(row[0]) if row else 0
        self._next_ids[table] += 1
        return self._next_ids[table]

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one statement; return the number of rows it changed."""
        cur = await self._conn.execute(sql, params)
        try:
            return cur.rowcount
        finally:
            await cur.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """One statement for many rows: one round trip to the database thread, not one each."""
        await self._conn.executemany(sql, rows)

    async def insert_new(self, table: str, values: dict[str, Any]) -> int:
        """INSERT one row with a fresh id (never one a deleted row had); return the id."""
        row_id = await self.next_id(table)
        await self.insert_row(table, row_id, values)
        return row_id

    async def insert_row(self, table: str, row_id: int, values: dict[str, Any]) -> None:
        """INSERT one row under an id from `next_id` (taken first when the values are
        encrypted, since each ciphertext is bound to its row id).

        `table` and the keys of `values` are names from the code, never from input.
        """
        columns = ", ".join(["id", *values])
        marks = ", ".join("?" * (len(values) + 1))
        await self.execute(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",  # noqa: S608
            (row_id, *values.values()),
        )

    async def insert(self, sql: str, params: Params = ()) -> int:
        """Run one INSERT; return the new row's id."""
        cur = await self._conn.execute(sql, params)
        try:
            if cur.lastrowid is None:
                raise StorageError("insert produced no row id")
            return cur.lastrowid
        finally:
            await cur.close()

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._conn.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return list(rows)


class Database:
    def __init__(self, path: Path, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    async def open(cls, path: Path) -> Database:
        _prepare_directory(path)
        try:
            writer = await _connect(path)
            reader = await _connect(path)
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open database {path}: {exc}") from exc
        _owner_only(path)
        await reader.execute("PRAGMA query_only = ON")
        return cls(path, writer, reader)

    async def close(self) -> None:
        await self._reader.close()
        async with self._lock:
            await self._writer.close()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._lock:
            try:
                await self._finish("BEGIN IMMEDIATE")
            except asyncio.CancelledError:
                # BEGIN ran (the statement is never abandoned half-way): undo it, so the
                # connection is not left inside a transaction for the next holder.
                with contextlib.suppress(sqlite3.Error):
                    await self._finish("ROLLBACK")
                raise
            tx = Transaction(self._writer)
            try:
                yield tx
            except BaseException:
                await self._finish("ROLLBACK")
                raise
            await self._finish("COMMIT")
        # Wake-ups (e.g. the outbox worker) run only once the rows they look for are visible.
        for hook in tx.after_commit:
            hook()

    async def fetchone(self, sql: str, params: Params = ()) -> sqlite3.Row | None:
        async with self._reader.execute(sql, params) as cur:
            row = await cur.fetchone()
        return row

    async def fetchall(self, sql: str, params: Params = ()) -> list[sqlite3.Row]:
        async with self._reader.execute(sql, params) as cur:
            rows = await cur.fetchall()
        return list(rows)

    async def _finish(self, sql: str) -> None:
        """Run a transaction-control statement to its end even if the caller is cancelled
        meanwhile (the cancellation is raised after it): a task cancelled at shutdown must
        not leave the one writer connection mid-transaction, or its lock's next holder
        waiting on a statement that is still running."""
        running = asyncio.ensure_future(self._writer.execute(sql))
        try:
            await asyncio.shield(running)
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await running
            raise

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file (used before backups and by tests)."""
        async with self._lock:
            await self._writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- migrations -----------------------------------------------------------------

    async def schema_version(self) -> int:
        async with self._lock:
            await _ensure_migrations_table(self._writer)
            async with self._writer.execute(
                "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
            ) as cur:
                row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def migrate(self, migrations: Iterable[Migration] | None = None) -> list[int]:
        """Apply every pending migration, each in one transaction with its version row."""
        known = sorted(migrations if migrations is not None else bundled_migrations())
        current = await self.schema_version()
        latest = known[-1].version if known else 0
        if current > latest:
            raise MigrationError(
                f"the database is at schema version {current}, newer than this nabat "
                f"knows ({latest}); upgrade nabat instead of running an older one"
            )
        applied: list[int] = []
        for migration in known:
            if migration.version <= current:
                continue
            try:
                async with self.transaction() as tx:
                    for statement in migration.statements():
                        await tx.execute(statement)
                    await tx.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at)"
                        " VALUES (?, ?, ?)",
                        (migration.version, migration.name, to_db_time(datetime.now(UTC))),
                    )
            except sqlite3.Error as exc:
                raise MigrationError(
                    f"migration {migration.version:04d} ({migration.name}) failed: {exc}"
                ) from exc
            log.info("applied migration %04d %s", migration.version, migration.name)
            applied.append(migration.version)
        return applied


class Migration:
    """One numbered SQL file, `NNNN_name.sql`."""

    def __init__(self, version: int, name: str, sql: str) -> None:
        self.version = version
        self.name = name
        self.sql = sql

    def __lt__(self, other: Migration) -> bool:
        return self.version < other.version

    def statements(self) -> list[str]:
        # Split on complete statements (sqlite3.complete_statement understands
        # triggers' BEGIN … END), so the whole file runs inside our transaction:
        # executescript() would commit first and break the all-or-nothing promise.
        out: list[str] = []
        buf = ""
        for line in self.sql.splitlines(keepends=True):
            buf += line
            if sqlite3.complete_statement(buf):
                if buf.strip():
                    out.append(buf.strip())
                buf = ""
        if buf.strip() and not all(
            ln.strip().startswith("--") or not ln.strip() for ln in buf.splitlines()
        ):
            raise MigrationError(f"migration {self.version:04d} ends with an unfinished statement")
        return out


def bundled_migrations() -> list[Migration]:
    folder = resources.files("storage") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        name = entry.name
        if not name.endswith(".sql"):
            continue
        number, _, rest = name.partition("_")
        if not number.isdigit():
            raise MigrationError(f"migration file {name} does not start with a number")
        found.append(Migration(int(number), rest.removesuffix(".sql"), entry.read_text("utf-8")))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a number")
    return sorted(found)


# Only the bot's user reads its data: the directory 0700, the file 0600 (SQLite gives its
# -wal and -shm files the database file's mode). Instant calls, kept out of async code.
def _prepare_directory(path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def _owner_only(path: Path) -> None:
    if path.stat().st_mode & 0o077:
        path.chmod(0o600)


async def _connect(path: Path) -> aiosqlite.Connection:
    conn = await aiosqlite.connect(path, isolation_level=None)
    conn.row_factory = sqlite3.Row
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    await conn.execute("PRAGMA busy_timeout = 5000")
    # Deleted rows are overwritten, not left in free pages: /remove must really remove.
    await conn.execute("PRAGMA secure_delete = ON")
    await conn.execute("PRAGMA synchronous = NORMAL")
    return conn


async def _ensure_migrations_table(conn: aiosqlite.Connection) -> None:
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
