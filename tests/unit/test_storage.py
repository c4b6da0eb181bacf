"""The database layer: transactions, migrations, and what repositories keep encrypted."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.domain.errors import MigrationError
from bot.domain.models import DraftKind, Role
from storage.crypto import FieldCipher
from storage.db import Database, Migration, bundled_migrations
from storage.drafts import DraftRepo
from storage.keyring import KeyRing
from storage.people import PeopleRepo
from storage.reencrypt import ENCRYPTED_COLUMNS, count_stale, reencrypt_all
from tests.support.factories import T0


@pytest.fixture
async def db(tmp_path: Path):
    database = await Database.open(tmp_path / "nabat.db")
    yield database
    await database.close()


M1 = Migration(1, "one", "CREATE TABLE a (id INTEGER PRIMARY KEY, v TEXT);")
M2 = Migration(
    2, "two", "ALTER TABLE a ADD COLUMN w TEXT;\nCREATE TABLE b (id INTEGER PRIMARY KEY);"
)
M2_BROKEN = Migration(2, "broken", "CREATE TABLE b (id INTEGER PRIMARY KEY);\nCREATE TABLE a (x);")


async def tables(db: Database) -> set[str]:
    rows = await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")
    return {r[0] for r in rows}


async def test_a_fresh_database_gets_every_bundled_migration(db: Database) -> None:
    applied = await db.migrate()
    assert applied == [m.version for m in bundled_migrations()]
    assert await db.schema_version() == applied[-1]
    assert {"people", "person_roles", "invitations", "audit_log", "outbox"} <= await tables(db)
    assert await db.migrate() == []


async def test_an_older_database_gets_only_the_migrations_it_lacks(db: Database) -> None:
    assert await db.migrate([M1]) == [1]
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO a (v) VALUES ('kept')")
    assert await db.migrate([M1, M2]) == [2]
    row = await db.fetchone("SELECT v, w FROM a")
    assert row is not None and (row["v"], row["w"]) == ("kept", None)
    assert await db.schema_version() == 2


async def test_a_failing_migration_leaves_neither_its_tables_nor_its_version(db: Database) -> None:
    await db.migrate([M1])
    with pytest.raises(MigrationError, match="0002"):
        await db.migrate([M1, M2_BROKEN])
    assert "b" not in await tables(db)
    assert await db.schema_version() == 1


async def test_a_database_newer_than_the_code_is_refused(db: Database) -> None:
    await db.migrate([M1, M2])
    with pytest.raises(MigrationError, match="newer"):
        await db.migrate([M1])


async def test_a_transaction_that_raises_is_rolled_back_whole(db: Database) -> None:
    await db.migrate([M1])
    with pytest.raises(RuntimeError):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO a (v) VALUES ('one')")
            raise RuntimeError("boom")
    assert await db.fetchall("SELECT * FROM a") == []


async def test_readers_never_see_a_transaction_before_it_commits(db: Database) -> None:
    await db.migrate([M1])
    async with db.transaction() as tx:
        await tx.execute("INSERT INTO a (v) VALUES ('one')")
        assert await db.fetchall("SELECT * FROM a") == []
    assert len(await db.fetchall("SELECT * FROM a")) == 1


async def test_the_reader_connection_cannot_write(db: Database) -> None:
    await db.migrate([M1])
    with pytest.raises(sqlite3.OperationalError):
        await db.fetchall("INSERT INTO a (v) VALUES ('x') RETURNING id")


async def test_every_encrypted_column_is_known_to_key_rotation(db: Database) -> None:
    await db.migrate()
    found = set()
    for table in await tables(db):
        for col in await db.fetchall(f"PRAGMA table_info({table})"):
            if col["name"].endswith("_enc"):
                found.add((table, col["name"]))
    assert found == {(t, c) for t, c, _ in ENCRYPTED_COLUMNS}


async def test_an_id_is_never_given_again_after_its_row_is_deleted(db: Database) -> None:
    """A removed responder's id must not pass to the next person enrolled: a policy step
    or an old button naming it would then mean the newcomer."""
    await db.migrate()
    people = PeopleRepo(FieldCipher(KeyRing.generate()))
    async with db.transaction() as tx:
        first = await people.create(
            tx, telegram_id=1, name="Gone", lang="en", role=Role.RESPONDER, now=T0
        )
        await people.delete(tx, first.id)
    async with db.transaction() as tx:
        second = await people.create(
            tx, telegram_id=2, name="New", lang="en", role=Role.RESPONDER, now=T0
        )
    assert second.id == first.id + 1
    drafts = DraftRepo(FieldCipher(KeyRing.generate()))
    async with db.transaction() as tx:
        old = await drafts.add(tx, second.id, DraftKind.WIZARD, {}, T0)
        await drafts.drop(tx, second.id, DraftKind.WIZARD)
        assert await drafts.add(tx, second.id, DraftKind.WIZARD, {}, T0) == old + 1


async def test_a_draft_is_confirmed_only_by_the_coordinator_who_made_it(db: Database) -> None:
    await db.migrate()
    people = PeopleRepo(FieldCipher(KeyRing.generate()))
    drafts = DraftRepo(FieldCipher(KeyRing.generate()))
    async with db.transaction() as tx:
        olga, pavel = [
            await people.create(tx, telegram_id=i, name=n, lang="en", role=Role.COORDINATOR, now=T0)
            for i, n in ((1, "Olga"), (2, "Pavel"))
        ]
        draft = await drafts.add(tx, olga.id, DraftKind.OVERRIDE_NEW, {"x": 1}, T0)
        assert await drafts.take(tx, draft, DraftKind.OVERRIDE_NEW, pavel.id) is None
        assert await drafts.take(tx, draft, DraftKind.OVERRIDE_NEW, olga.id) == (olga.id, {"x": 1})


async def test_a_database_from_before_the_id_floor_keeps_its_ids_and_never_reuses_them(
    db: Database,
) -> None:
    await db.migrate([m for m in bundled_migrations() if m.version < 4])
    async with db.transaction() as tx:  # rows as the previous version wrote them
        await tx.executemany(
            "INSERT INTO people (tg_index, tg_id_enc, name_enc, lang_enc, created_at)"
            " VALUES (?, x'', x'', x'', '')",
            [(bytes([i]),) for i in range(3)],
        )
    assert (await db.migrate())[:1] == [4]  # 0004 first, then any later ones
    people = PeopleRepo(FieldCipher(KeyRing.generate()))
    async with db.transaction() as tx:
        await people.delete(tx, 3)
        again = await people.create(
            tx, telegram_id=9, name="P9", lang="en", role=Role.RESPONDER, now=T0
        )
    assert again.id == 4


async def test_rotation_moves_every_value_to_the_new_key_and_resumes_after_interruption(
    db: Database,
) -> None:
    await db.migrate()
    old = KeyRing.generate()
    repo = PeopleRepo(FieldCipher(old))
    async with db.transaction() as tx:
        for i in range(7):
            await repo.create(
                tx, telegram_id=5000 + i, name=f"P{i}", lang="en", role=Role.RESPONDER, now=T0
            )
    new = old.rotated()
    cipher = FieldCipher(new)
    assert await count_stale(db, cipher) == 21

    # Interrupted: only the first batch of the first column made it.
    class Stop(Exception):
        pass

    calls = 0
    real = cipher.reencrypt

    def flaky(blob: bytes, **kw: object) -> bytes:
        nonlocal calls
        calls += 1
        if calls > 2:
            raise Stop
        return real(blob, **kw)  # type: ignore[arg-type]

    cipher.reencrypt = flaky  # type: ignore[method-assign]
    with pytest.raises(Stop):
        await reencrypt_all(db, cipher, batch=2)
    cipher.reencrypt = real  # type: ignore[method-assign]
    assert await count_stale(db, cipher) == 19

    report = await reencrypt_all(db, cipher, batch=2)
    assert report.rewritten == 19
    assert await count_stale(db, cipher) == 0
    # Only the new key is needed now, and the people read back unchanged.
    people = await PeopleRepo(FieldCipher(new.without_old_keys())).list_all(db)
    assert sorted(p.name for p in people) == [f"P{i}" for i in range(7)]


async def test_a_new_database_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    database = await Database.open(tmp_path / "data" / "nabat.db")
    try:
        await database.migrate()
    finally:
        await database.close()
    assert (tmp_path / "data").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "data" / "nabat.db").stat().st_mode & 0o777 == 0o600
