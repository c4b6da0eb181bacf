"""The `nabat` command line, as an operator uses it."""

from __future__ import annotations

import asyncio
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from bot import __version__
from bot.__main__ import main
from bot.domain.errors import KeyRingError
from bot.domain.models import Role
from storage.crypto import FieldCipher
from storage.db import Database, bundled_migrations
from storage.keyring import KeyRing
from storage.people import PeopleRepo
from tests.support.factories import T0


def nabat(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NABAT_")}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        env={**clean, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_names_the_package(tmp_path: Path) -> None:
    result = nabat("--version", env={}, cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.strip() == f"nabat {__version__}"


@pytest.mark.parametrize(
    ("command", "options"),
    [
        ("run", []),
        ("invite", ["--role", "--name", "--expires"]),
        ("keygen", ["--output", "--force"]),
        ("rotate-key", ["--batch", "--drop-old"]),
        ("migrate", []),
    ],
)
def test_every_subcommand_explains_its_options(
    command: str, options: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"], {})
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: nabat {command}")
    for option in options:
        assert option in out


def test_run_without_a_token_stops_with_one_line_naming_the_setting(tmp_path: Path) -> None:
    result = nabat("run", env={}, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("nabat: NABAT_TELEGRAM_TOKEN: ")


def test_a_malformed_setting_stops_the_start_with_exit_status_2(tmp_path: Path) -> None:
    env = {"NABAT_TELEGRAM_TOKEN": "123456:" + "a" * 30, "NABAT_RATE_GLOBAL": "fast"}
    result = nabat("run", env=env, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("nabat: NABAT_RATE_GLOBAL: ")
    assert "Traceback" not in result.stderr


def test_keygen_writes_a_private_key_ring_and_will_not_overwrite_it(tmp_path: Path) -> None:
    target = tmp_path / "keys.json"
    assert nabat("keygen", "--output", str(target), env={}, cwd=tmp_path).returncode == 0
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    ring = KeyRing.from_json(target.read_text())
    again = nabat("keygen", "--output", str(target), env={}, cwd=tmp_path)
    assert again.returncode == 2 and "Traceback" not in again.stderr
    assert KeyRing.from_json(target.read_text()) == ring


def test_keygen_without_a_file_prints_a_ring_for_nabat_keys(tmp_path: Path) -> None:
    printed = nabat("keygen", env={}, cwd=tmp_path)
    assert printed.returncode == 0
    assert json.loads(printed.stdout)["format"] == "nabat-keyring"
    assert KeyRing.from_json(printed.stdout).current_id == 1


def test_migrate_reports_the_schema_version_and_is_idempotent(tmp_path: Path) -> None:
    env = {"NABAT_DATA_DIR": str(tmp_path / "d"), "NABAT_KEYS_FILE": str(tmp_path / "k.json")}
    latest = bundled_migrations()[-1].version
    first = nabat("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert f"schema version {latest} (applied: 0001" in first.stdout
    second = nabat("migrate", env=env, cwd=tmp_path)
    assert f"schema version {latest} (applied: none pending)" in second.stdout


def test_invite_without_a_bot_name_or_token_says_which_setting_to_set(tmp_path: Path) -> None:
    env = {"NABAT_DATA_DIR": str(tmp_path / "d"), "NABAT_KEYS_FILE": str(tmp_path / "k.json")}
    assert nabat("keygen", "-o", str(tmp_path / "k.json"), env={}, cwd=tmp_path).returncode == 0
    result = nabat("invite", "--role", "coordinator", env=env, cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.startswith("nabat: NABAT_BOT_USERNAME: ")


def test_invite_with_a_bad_expiry_explains_the_format(tmp_path: Path) -> None:
    result = nabat("invite", "--role", "contact", "--expires", "soon", env={}, cwd=tmp_path)
    assert result.returncode == 2 and "--expires" in result.stderr and "72h" in result.stderr


def test_invite_prints_the_link_and_the_start_line(tmp_path: Path) -> None:
    env = {
        "NABAT_DATA_DIR": str(tmp_path / "d"),
        "NABAT_KEYS_FILE": str(tmp_path / "k.json"),
        "NABAT_BOT_USERNAME": "@nabat_help_bot",
    }
    nabat("keygen", "-o", str(tmp_path / "k.json"), env={}, cwd=tmp_path)
    result = nabat(
        "invite", "--role", "responder", "--name", "Anna", "--expires", "1h", env=env, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Invitation for a responder (Anna), valid for 1h")
    token = lines[2].removeprefix("Or send the bot: /start ")
    assert lines[1] == f"Link: https://t.me/nabat_help_bot?start={token}"


async def test_rotate_key_re_encrypts_everything_and_can_drop_the_old_key(tmp_path: Path) -> None:
    keys = tmp_path / "k.json"
    env = {
        "NABAT_DATA_DIR": str(tmp_path / "d"),
        "NABAT_KEYS_FILE": str(keys),
        "NABAT_BOT_USERNAME": "nabat_help_bot",
    }
    nabat("keygen", "-o", str(keys), env={}, cwd=tmp_path)
    for name in ["Anna", "Boris"]:
        assert (
            nabat("invite", "--role", "responder", "--name", name, env=env, cwd=tmp_path).returncode
            == 0
        )
    old = KeyRing.from_json(keys.read_text())

    rotated = nabat("rotate-key", "--batch", "1", env=env, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    assert "Key 2 added" in rotated.stdout
    ring = KeyRing.from_json(keys.read_text())
    assert ring.current_id == 2 and set(ring.keys) == {1, 2}
    assert stat.S_IMODE(keys.stat().st_mode) == 0o600

    # Run again: nothing stale, so it is a new rotation; then drop the old keys.
    dropped = nabat("rotate-key", "--drop-old", env=env, cwd=tmp_path)
    assert dropped.returncode == 0 and "Old keys removed" in dropped.stdout
    final = KeyRing.from_json(keys.read_text())
    assert set(final.keys) == {3} and final.index_key == old.index_key

    db = await Database.open(tmp_path / "d" / "nabat.db")
    try:
        rows = await db.fetchall("SELECT id, name_enc FROM invitations ORDER BY id")
        cipher = FieldCipher(final)
        names = [
            cipher.decrypt_str(r[1], table="invitations", column="name", row_id=r[0]) for r in rows
        ]
        assert names == ["Anna", "Boris"]
        assert await PeopleRepo(cipher).list_all(db) == []
    finally:
        await db.close()


def test_rotate_key_refuses_a_key_ring_given_in_the_environment(tmp_path: Path) -> None:
    env = {"NABAT_DATA_DIR": str(tmp_path / "d"), "NABAT_KEYS": KeyRing.generate().to_json()}
    result = nabat("rotate-key", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "NABAT_KEYS_FILE" in result.stderr


async def test_run_with_a_token_telegram_refuses_stops_with_one_line(
    emulator, tmp_path: Path
) -> None:
    env = {
        "NABAT_TELEGRAM_TOKEN": "999999:not-the-bots-token-at-all-xxxxx",
        "NABAT_TELEGRAM_API_URL": emulator.base_url,
        "NABAT_DATA_DIR": str(tmp_path / "d"),
    }
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NABAT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        env={**clean, **env},
        cwd=tmp_path,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 2
    lines = err.decode().splitlines()
    assert lines[-1] == (
        "nabat: NABAT_TELEGRAM_TOKEN: Telegram refused this token; copy it again from @BotFather"
    )
    assert "Traceback" not in err.decode()
    # The embedded defaults were laid down before Telegram was asked: database and key ring.
    assert (tmp_path / "d" / "nabat.db").exists()
    assert stat.S_IMODE((tmp_path / "nabat-keys.json").stat().st_mode) == 0o600
    assert any("created a new key ring in" in line for line in lines)


def test_pip_install_ships_every_package_and_the_migrations() -> None:
    """A plain `pip install .` (README's first command) must carry every module."""
    import fnmatch
    import tomllib

    root = Path(__file__).resolve().parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    for top in ("bot", "handlers", "storage", "config"):
        for init in (root / top).rglob("__init__.py"):
            package = ".".join(init.parent.relative_to(root).parts)
            assert any(fnmatch.fnmatch(package, pattern) for pattern in include), package
    assert "migrations/*.sql" in config["package-data"]["storage"]
    # The PDF's fonts, and their licenses, travel with the code (bot/words/fonts/).
    shipped = config["package-data"]["bot"]
    for font in (root / "bot" / "words" / "fonts").iterdir():
        assert any(fnmatch.fnmatch(f"words/fonts/{font.name}", p) for p in shipped), font
    assert {m.version for m in bundled_migrations()} == {
        int(p.name[:4]) for p in (root / "storage" / "migrations").glob("*.sql")
    }


# -- the key check: never run on keys that cannot read the data -------------------------


def _refusal_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in result.stderr, result.stderr
    return [line for line in result.stderr.splitlines() if line.startswith("nabat: ")]


def _written(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A database with people in it, written under the key ring k.json."""
    keys = tmp_path / "k.json"
    env = {
        "NABAT_DATA_DIR": str(tmp_path / "d"),
        "NABAT_KEYS_FILE": str(keys),
        "NABAT_BOT_USERNAME": "nabat_help_bot",
    }
    assert nabat("keygen", "-o", str(keys), env={}, cwd=tmp_path).returncode == 0
    made = nabat("invite", "--role", "coordinator", "--name", "Olga", env=env, cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    return env, keys


@pytest.mark.parametrize(
    "command",
    [
        # run fails before it reaches the network: the token and URL are never tried.
        ["run"],
        ["invite", "--role", "contact"],
        ["migrate"],
        ["rotate-key"],
        ["rota", "export", "rota.toml"],
    ],
)
def test_a_fresh_key_ring_is_refused_by_every_command_that_opens_the_data(
    tmp_path: Path, command: list[str]
) -> None:
    env, _ = _written(tmp_path)
    wrong = tmp_path / "fresh.json"
    assert nabat("keygen", "-o", str(wrong), env={}, cwd=tmp_path).returncode == 0
    before = wrong.read_text()
    env = {
        **env,
        "NABAT_KEYS_FILE": str(wrong),
        "NABAT_TELEGRAM_TOKEN": "123456:" + "a" * 30,
        "NABAT_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",
    }
    result = nabat(*command, env=env, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = _refusal_lines(result)
    assert f"the key ring {wrong} cannot read the database" in line
    assert "key 1 is not the key 1 the data was written with" in line
    assert "Restore the key ring from your backup" in line
    # Nothing was written under the wrong ring, and rotate-key did not touch it.
    assert wrong.read_text() == before
    assert not (tmp_path / "rota.toml").exists()
    right = {**env, "NABAT_KEYS_FILE": str(tmp_path / "k.json")}
    again = nabat("invite", "--role", "contact", env=right, cwd=tmp_path)
    assert again.returncode == 0, again.stderr


def test_a_moved_default_key_ring_is_not_replaced_by_a_new_one(tmp_path: Path) -> None:
    env = {"NABAT_DATA_DIR": str(tmp_path / "data"), "NABAT_BOT_USERNAME": "nabat_help_bot"}
    default = tmp_path / "nabat-keys.json"
    first = nabat("invite", "--role", "coordinator", "--name", "Olga", env=env, cwd=tmp_path)
    assert first.returncode == 0 and default.exists(), first.stderr
    default.rename(tmp_path / "elsewhere.json")

    refused = nabat("invite", "--role", "contact", env=env, cwd=tmp_path)
    assert refused.returncode == 2
    (line,) = _refusal_lines(refused)
    assert f"there is no key ring at {default}" in line and "holds encrypted data" in line
    assert "restore the key ring file from your backup" in line
    assert not default.exists()  # no new ring was made over the old data

    (tmp_path / "elsewhere.json").rename(default)
    back = nabat("invite", "--role", "contact", env=env, cwd=tmp_path)
    assert back.returncode == 0, back.stderr
    exported = nabat("rota", "export", "r.toml", env=env, cwd=tmp_path)
    assert exported.returncode == 0, exported.stderr


def test_a_key_ring_missing_a_key_the_data_needs_names_the_key(tmp_path: Path) -> None:
    env, keys = _written(tmp_path)
    assert nabat("rotate-key", env=env, cwd=tmp_path).returncode == 0
    # Olga's invitation is re-encrypted under key 2; a new one is too. Give back a ring
    # holding key 1 only (the backup from before the rotation).
    ring = KeyRing.from_json(keys.read_text())
    old_only = KeyRing(keys={1: ring.keys[1]}, current_id=1, index_key=ring.index_key)
    keys.write_text(old_only.to_json())
    result = nabat("invite", "--role", "contact", env=env, cwd=tmp_path)
    assert result.returncode == 2
    (line,) = _refusal_lines(result)
    # Olga's invitation name and the audit line of its making.
    assert "it lacks key 2, which 2 stored values were written with" in line


def test_the_key_check_accepts_the_ring_after_old_keys_are_dropped(tmp_path: Path) -> None:
    env, keys = _written(tmp_path)
    dropped = nabat("rotate-key", "--drop-old", env=env, cwd=tmp_path)
    assert dropped.returncode == 0, dropped.stderr
    assert set(KeyRing.from_json(keys.read_text()).keys) == {2}
    after = nabat("invite", "--role", "contact", env=env, cwd=tmp_path)
    assert after.returncode == 0, after.stderr


async def test_a_database_from_before_key_checks_is_verified_by_reading_it(
    tmp_path: Path,
) -> None:
    from storage.keycheck import verify_ring

    db = await Database.open(tmp_path / "nabat.db")
    right = KeyRing.generate()
    try:
        await db.migrate([m for m in bundled_migrations() if m.version < 5])
        async with db.transaction() as tx:
            await PeopleRepo(FieldCipher(right)).create(
                tx, telegram_id=700100001, name="Olga", lang="en", role=Role.COORDINATOR, now=T0
            )
        await db.migrate()
        with pytest.raises(KeyRingError, match="key 1 is not the key 1"):
            await verify_ring(db, KeyRing.generate(), T0, source="the key ring X")
        # Same encryption key, another index key: people could not be found by id.
        other_index = KeyRing(keys=dict(right.keys), current_id=1, index_key=b"\x01" * 32)
        with pytest.raises(KeyRingError, match="index key"):
            await verify_ring(db, other_index, T0, source="the key ring X")
        verified = await verify_ring(db, right, T0, source="the key ring X")
        assert verified.recorded == (0, 1)
        # From now on the check is by the recorded values alone.
        with pytest.raises(KeyRingError, match="key 1 is not the key 1"):
            await verify_ring(db, KeyRing.generate(), T0, source="the key ring X")
    finally:
        await db.close()


# -- one process at a time on a data directory --------------------------------------------


def test_run_refuses_while_another_nabat_holds_the_data_directory(tmp_path: Path) -> None:
    from storage.lock import DataDirLock

    env, _ = _written(tmp_path)
    held = DataDirLock.acquire(tmp_path / "d", "rotate-key")
    try:
        env = {**env, "NABAT_TELEGRAM_TOKEN": "123456:" + "a" * 30}
        for command in (["run"], ["rotate-key", "--drop-old"]):
            result = nabat(*command, env=env, cwd=tmp_path)
            assert result.returncode == 2
            (line,) = _refusal_lines(result)
            assert f"in use by another nabat process (pid {os.getpid()}, nabat rotate-key)" in line
            assert "stop that process first" in line
    finally:
        held.release()
    assert nabat("rotate-key", env=env, cwd=tmp_path).returncode == 0


# -- the Bot API seen from `invite`, and the first start ----------------------------------


async def _nabat_async(*args: str, env: dict[str, str], cwd: Path) -> tuple[int, str, str]:
    """`nabat ARGS` in a subprocess without blocking the loop the emulator serves on."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("NABAT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env={**clean, **env},
        cwd=cwd,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def test_invite_without_the_bot_api_blames_the_network_not_the_token(tmp_path: Path) -> None:
    env = {
        "NABAT_TELEGRAM_TOKEN": "123456:" + "a" * 30,
        "NABAT_TELEGRAM_API_URL": "http://127.0.0.1:9/bot",  # discard port: refused at once
        "NABAT_DATA_DIR": str(tmp_path / "d"),
    }
    result = nabat("invite", "--role", "coordinator", "--name", "Olga", env=env, cwd=tmp_path)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(
        "nabat: cannot reach the Bot API at http://127.0.0.1:9/bot (NetworkError)"
    )
    assert "check the network or NABAT_TELEGRAM_API_URL" in result.stderr
    assert "set NABAT_BOT_USERNAME to skip asking" in result.stderr
    assert "NABAT_TELEGRAM_TOKEN" not in result.stderr


async def test_invite_with_a_token_telegram_refuses_blames_the_token(
    emulator, tmp_path: Path
) -> None:
    env = {
        "NABAT_TELEGRAM_TOKEN": "999999:not-the-bots-token-at-all-xxxxx",
        "NABAT_TELEGRAM_API_URL": emulator.base_url,
        "NABAT_DATA_DIR": str(tmp_path / "d"),
    }
    code, out, err = await _nabat_async("invite", "--role", "coordinator", env=env, cwd=tmp_path)
    assert code == 2 and out == "" and "Traceback" not in err
    assert err == (
        "nabat: NABAT_TELEGRAM_TOKEN: Telegram refused this token; copy it again from "
        "@BotFather (or set NABAT_BOT_USERNAME to skip asking)\n"
    )


async def test_invite_asks_the_bot_api_for_the_bots_name(emulator, tmp_path: Path) -> None:
    env = {
        "NABAT_TELEGRAM_TOKEN": emulator.token,
        "NABAT_TELEGRAM_API_URL": emulator.base_url,
        "NABAT_DATA_DIR": str(tmp_path / "d"),
    }
    code, out, err = await _nabat_async("invite", "--role", "coordinator", env=env, cwd=tmp_path)
    assert code == 0, err
    assert f"Link: https://t.me/{emulator.bot_username}?start=" in out


NEXT_STEP = "no coordinator yet: run `nabat invite --role coordinator --name NAME`"


async def test_the_first_start_says_how_to_enrol_the_first_coordinator(
    emulator, tmp_path: Path, clock, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.support.harness import BotHarness, enrol, token_from

    h = BotHarness(emulator, tmp_path, clock)
    caplog.set_level("INFO", logger="bot.app")
    await h.start()
    try:
        ready = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
        assert ready[-2:] == [
            f"nabat ready as @{emulator.bot_username}",
            NEXT_STEP + " in another terminal (same settings) and open the link it prints",
        ]
        made = await h.cli("invite", "--role", "coordinator", "--name", "Olga")
        await enrol(h, emulator.user(700100001, "Olga"), token_from(made.out))
    finally:
        await h.stop()

    caplog.clear()
    await h.start()
    try:
        said = [r.getMessage() for r in caplog.records if r.name == "bot.app"]
        assert f"nabat ready as @{emulator.bot_username}" in said
        assert not any(NEXT_STEP in line for line in said)
    finally:
        await h.stop()


def test_a_new_empty_database_beside_an_existing_key_ring_is_pointed_out(
    tmp_path: Path,
) -> None:
    """A typo in NABAT_DATA_DIR, or a volume not mounted, must not pass in silence."""
    env, _ = _written(tmp_path)
    typo = {**env, "NABAT_DATA_DIR": str(tmp_path / "dta")}
    result = nabat("rota", "export", "r.toml", env=typo, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"started a new, empty database at {tmp_path / 'dta' / 'nabat.db'}" in result.stderr
    assert "check NABAT_DATA_DIR" in result.stderr
    again = nabat("rota", "export", "r.toml", env=typo, cwd=tmp_path)
    assert "empty database" not in again.stderr  # said once, when it was made


def test_rotate_key_says_to_back_up_the_ring_and_what_drop_old_will_do(tmp_path: Path) -> None:
    env, keys = _written(tmp_path)
    rotated = nabat("rotate-key", env=env, cwd=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    assert f"Back up {keys} now" in rotated.stdout
    assert "it rotates once more, then drops every key but the new one" in rotated.stdout


def test_a_missing_key_ring_file_is_refused_before_any_database_is_made(
    tmp_path: Path,
) -> None:
    env = {
        "NABAT_DATA_DIR": str(tmp_path / "d"),
        "NABAT_KEYS_FILE": str(tmp_path / "missing.json"),
        "NABAT_BOT_USERNAME": "nabat_help_bot",
    }
    result = nabat("invite", "--role", "coordinator", env=env, cwd=tmp_path)
    assert result.returncode == 2 and "does not exist" in result.stderr
    assert not (tmp_path / "d" / "nabat.db").exists()


def test_rotate_key_and_commands_that_write_values_exclude_each_other(tmp_path: Path) -> None:
    """A value written under a key that rotate-key is dropping would be unreadable."""
    from storage.lock import DataDirLock

    env, keys = _written(tmp_path)
    with DataDirLock.for_keys(tmp_path / "d", "invite"):  # an invite under way
        result = nabat("rotate-key", "--drop-old", env=env, cwd=tmp_path)
        assert result.returncode == 2
        (line,) = _refusal_lines(result)
        assert "is being written by another nabat command" in line
    assert set(KeyRing.from_json(keys.read_text()).keys) == {1}
    with DataDirLock.for_keys(tmp_path / "d", "rotate-key", exclusive=True):
        for command in (["invite", "--role", "contact"], ["rota", "export", "r.toml"]):
            result = nabat(*command, env=env, cwd=tmp_path)
            assert result.returncode == 2
            (line,) = _refusal_lines(result)
            assert "is being rotated" in line and "once `nabat rotate-key` has finished" in line
    # Two invites at once are fine: the lock they take is shared.
    with DataDirLock.for_keys(tmp_path / "d", "invite"):
        assert nabat("invite", "--role", "contact", env=env, cwd=tmp_path).returncode == 0
