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
from storage.crypto import FieldCipher
from storage.db import Database, bundled_migrations
from storage.keyring import KeyRing
from storage.people import PeopleRepo


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

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]
    include = config["packages"]["find"]["include"]
    for top in ("bot", "handlers", "storage", "config"):
        for init in (root / top).rglob("__init__.py"):
            package = ".".join(init.parent.relative_to(root).parts)
            assert any(fnmatch.fnmatch(package, pattern) for pattern in include), package
    assert "migrations/*.sql" in config["package-data"]["storage"]
    assert {m.version for m in bundled_migrations()} == {
        int(p.name[:4]) for p in (root / "storage" / "migrations").glob("*.sql")
    }
