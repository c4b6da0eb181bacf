"""The Docker image's recipe, as far as it can be checked without a Docker engine.

The build context (.dockerignore, read the way Docker reads it), and the entrypoint that
lets the image's user 10001 read a key ring a host user made with mode 0600: run here as
root, as the container starts, dropping to that uid as the image does.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from storage.keyring import KeyRing, write_key_ring_file

ROOT = Path(__file__).resolve().parents[2]
ENTRYPOINT = ROOT / "docker-entrypoint.sh"
APP_UID = 10001


# -- the build context ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    pattern: str
    regex: re.Pattern[str]
    include: bool  # a `!pattern`


def read_dockerignore(text: str) -> list[Rule]:
    """Patterns as Docker reads them (moby/patternmatcher): comments and blank lines
    dropped, `!` re-includes, each pattern cleaned and made relative to the context."""
    rules = []
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        pattern = line.strip()
        if not pattern:
            continue
        include = pattern.startswith("!")
        if include:
            pattern = pattern[1:].strip()
        pattern = posixpath.normpath(pattern)
        if len(pattern) > 1 and pattern.startswith("/"):
            pattern = pattern[1:]
        rules.append(Rule(pattern, re.compile(_regex(pattern)), include))
    return rules


def _regex(pattern: str) -> str:
    """Go's filepath.Match plus `**`, as patternmatcher compiles it."""
    out, i = "^", 0
    while i < len(pattern):
        ch = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
            out += ".*" if i == len(pattern) else "(.*/)?"
            continue
        if ch == "*":
            out += "[^/]*"
        elif ch == "?":
            out += "[^/]"
        elif ch in ".$+()|{}^":
            out += "\\" + ch
        elif ch == "\\" and i + 1 < len(pattern):
            i += 1
            out += re.escape(pattern[i])
        else:
            out += ch  # letters, `/`, and `[...]` classes pass through
        i += 1
    return out + "$"


def excluded(path: str, rules: list[Rule]) -> bool:
    """Docker's MatchesOrParentMatches: the last rule matching the path or a parent wins."""
    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    verdict = False
    for rule in rules:
        if any(rule.regex.match(candidate) for candidate in candidates):
            verdict = not rule.include
    return verdict


@pytest.fixture(scope="module")
def rules() -> list[Rule]:
    return read_dockerignore((ROOT / ".dockerignore").read_text())


@pytest.mark.parametrize(
    ("patterns", "path", "out"),
    [
        # Unlike .gitignore, a pattern without `**/` matches from the context root only.
        ("*.db", "nabat.db", True),
        ("*.db", "data/nabat.db", False),
        ("**/*.db", "data/nabat.db", True),
        # A directory's pattern covers what is in it; the last match wins.
        ("data/", "data/sub/nabat.db", True),
        ("*\n!bot", "bot/app.py", False),
        ("*\n!bot\n**/__pycache__", "bot/__pycache__/app.cpython-311.pyc", True),
        ("# a comment\n\n  /secrets  ", "secrets/k", True),
    ],
)
def test_the_dockerignore_reader_follows_dockers_rules(patterns: str, path: str, out: bool):
    assert excluded(path, read_dockerignore(patterns)) is out


@pytest.mark.parametrize(
    "path",
    [
        ".venv/lib/python3.11/site-packages/telegram/__init__.py",
        "venv/bin/python",
        "data/nabat.db",
        "data/nabat.db-wal",
        "data/nabat.db-shm",
        "data/heartbeat",
        "nabat.db",
        "bot/nabat.db-journal",
        "nabat-keys.json",
        "backup/nabat-keys.json",
        "nabat_keys",  # README's Docker recipe writes these two in the current directory
        "nabat_telegram_token",
        "storage/keys.json",
        "tls/server.key",
        "server.pem",
        "nabat.toml",  # a NABAT_CONFIG file may hold the token
        "rota.toml",  # a rota export names people
        ".git/HEAD",
        ".mypy_cache/3.11/bot/app.meta.json",
        ".ruff_cache/0.6.0/123",
        ".pytest_cache/v/cache/lastfailed",
        ".hypothesis/examples/abc",
        "bot/__pycache__/app.cpython-311.pyc",
        "nabat.egg-info/PKG-INFO",
        "results.json",  # python -m bench.run --json results.json
        "bench/out.json",
        "tests/test_cli.py",
    ],
)
def test_the_build_context_leaves_out_data_secrets_and_bulk(rules: list[Rule], path: str):
    assert excluded(path, rules), f"{path} would be sent to the Docker builder"


def test_the_build_context_keeps_everything_the_image_is_built_from(rules: list[Rule]):
    dockerfile = (ROOT / "Dockerfile").read_text()
    sources = []
    for line in dockerfile.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    assert {"bot", "handlers", "storage", "config", "docker-entrypoint.sh"} <= set(sources)
    files = []
    for source in sources:
        top = ROOT / source
        files += [top] if top.is_file() else [p for p in top.rglob("*") if p.is_file()]
    kept = [str(p.relative_to(ROOT)) for p in files if "__pycache__" not in p.parts]
    assert "storage/migrations/0001_people.sql" in kept
    assert [path for path in kept if excluded(path, rules)] == []


# -- the image's user ------------------------------------------------------------------------


def test_the_image_runs_every_nabat_command_through_the_entrypoint_as_uid_10001():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"--uid {APP_UID}" in dockerfile and f"--gid {APP_UID}" in dockerfile
    assert re.search(
        r"^COPY --chmod=0755 docker-entrypoint\.sh /usr/local/bin/nabat$", dockerfile, re.M
    )
    assert 'ENTRYPOINT ["nabat"]' in dockerfile
    # The program itself stays off PATH, so `docker exec ... nabat` cannot bypass the drop.
    assert "/opt/nabat/bin:" not in dockerfile
    assert not re.search(r"^USER ", dockerfile, re.M)
    script = ENTRYPOINT.read_text()
    assert f"uid=${{ENTRYPOINT_UID:-{APP_UID}}}" in script
    assert f"gid=${{ENTRYPOINT_GID:-{APP_UID}}}" in script
    assert "app=${ENTRYPOINT_APP:-/opt/nabat/bin/nabat}" in script


# -- the entrypoint, run as the container runs it -------------------------------------------

needs_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="changes to the image's uid 10001, which needs root (CI is root)"
)


@dataclass
class Container:
    """A stand-in for the container's file system: /data, /run/secrets and /dev/shm."""

    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def keys(self) -> Path:
        return self.root / "secrets" / "nabat_keys"

    @property
    def token(self) -> Path:
        return self.root / "secrets" / "nabat_telegram_token"

    @property
    def private(self) -> Path:
        return self.root / "shm" / "nabat"

    def env(self) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith("NABAT_")}
        return {
            **clean,
            # The image's ENV, pointing into this stand-in.
            "NABAT_DATA_DIR": str(self.data),
            "NABAT_TELEGRAM_TOKEN_FILE": str(self.token),
            "NABAT_KEYS_FILE": str(self.keys),
            "NABAT_BOT_USERNAME": "nabat_help_bot",  # no network here
            "NABAT_LOG_LEVEL": "WARNING",
            "ENTRYPOINT_APP": str(Path(sys.executable).parent / "nabat"),
            "ENTRYPOINT_SECRETS_DIR": str(self.private),
        }

    def nabat(
        self, *args: str, as_uid: int | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        """`docker run` / `docker exec ... nabat ARGS`: as root, or as `--user as_uid`."""
        user = [] if as_uid is None else as_user(as_uid)
        return subprocess.run(
            [*user, "/bin/sh", str(ENTRYPOINT), *args],
            env={**self.env(), **env},
            cwd=self.data,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )


@pytest.fixture
def container() -> Iterator[Container]:
    assert shutil.which("setpriv"), "setpriv (util-linux) is needed, as in the image"
    assert (Path(sys.executable).parent / "nabat").exists(), "run pytest from the virtualenv"
    # Not under pytest's tmp_path: its parents are root's own (0700), closed to uid 10001.
    root = Path(tempfile.mkdtemp(prefix="nabat-docker-"))
    try:
        root.chmod(0o755)
        box = Container(root)
        box.data.mkdir(mode=0o700)
        os.chown(box.data, APP_UID, APP_UID)  # the image's /data
        box.keys.parent.mkdir()
        box.private.parent.mkdir()
        box.private.parent.chmod(0o1777)  # like /dev/shm
        # As on the host: `nabat keygen --output nabat_keys` and a private token file,
        # both owned by the host's user (here root; anyone but 10001 will do).
        write_key_ring_file(box.keys, KeyRing.generate())
        box.token.write_text("123456:" + "a" * 30)
        box.token.chmod(0o600)
        yield box
    finally:
        shutil.rmtree(root)


def as_user(uid: int) -> list[str]:
    setpriv = shutil.which("setpriv")
    assert setpriv, "setpriv (util-linux) is needed, as in the image"
    return [setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups"]


def _mode(path: Path) -> tuple[int, int, int]:
    st = path.lstat()
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


@needs_root
def test_uid_10001_alone_cannot_read_a_key_ring_the_host_user_made(container: Container):
    # What the image did before its entrypoint made copies: nabat, as the image's user,
    # with the token as `printf > nabat_telegram_token` leaves it (0644) and the key ring
    # as `nabat keygen --output nabat_keys` does (0600).
    container.token.chmod(0o644)
    result = subprocess.run(
        [*as_user(APP_UID), container.env()["ENTRYPOINT_APP"], "invite", "--role", "contact"],
        env=container.env(),
        cwd=container.data,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr == (
        f"nabat: NABAT_KEYS_FILE: cannot read {container.keys}: Permission denied\n"
    )


@needs_root
def test_started_as_another_user_the_entrypoint_only_runs_nabat(container: Container):
    # `docker run --user 10001`, runAsNonRoot: no copies; the secrets are as mounted.
    probe = container.root / "probe"
    probe.write_text('#!/bin/sh\necho "$(id -u) $NABAT_KEYS_FILE $*"\n')
    probe.chmod(0o755)
    result = container.nabat(
        "invite", "--role", "contact", as_uid=APP_UID, ENTRYPOINT_APP=str(probe)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{APP_UID} {container.keys} invite --role contact\n"
    assert not container.private.exists()


@needs_root
def test_the_entrypoint_gives_uid_10001_a_private_copy_of_each_secret(container: Container):
    made = container.nabat("invite", "--role", "coordinator", "--name", "Olga")
    assert made.returncode == 0, made.stderr
    # Mode 0600 at the source: nothing to warn about but that the database is new.
    assert _warnings(made.stderr) == ["started a new, empty database"]
    assert "Link: https://t.me/nabat_help_bot?start=" in made.stdout
    # nabat ran as 10001: what it wrote in /data is 10001's.
    assert _mode(container.data / "nabat.db")[1:] == (APP_UID, APP_UID)
    # The copies: in memory, in root's directory that 10001 may only enter, 10001's alone.
    assert _mode(container.private) == (0o710, 0, APP_UID)
    assert sorted(p.name for p in container.private.iterdir()) == [
        "NABAT_KEYS_FILE",
        "NABAT_TELEGRAM_TOKEN_FILE",
    ]
    copy = container.private / "NABAT_KEYS_FILE"
    assert _mode(copy) == (0o400, APP_UID, APP_UID)
    assert copy.read_text() == container.keys.read_text()
    # The host's files are as they were.
    assert _mode(container.keys) == (0o600, 0, 0)
    other = subprocess.run(
        [*as_user(APP_UID + 1), "cat", str(copy)],
        capture_output=True,
        check=False,
    )
    assert other.returncode != 0 and other.stdout == b""

    # `docker exec nabat nabat invite ...` while the bot runs: the same copies serve.
    again = container.nabat("invite", "--role", "responder", "--name", "Anna")
    assert again.returncode == 0 and again.stderr == "", again.stderr
    # A nabat run as root would have left root's files in /data.
    assert {p.stat().st_uid for p in container.data.iterdir()} == {APP_UID}


@needs_root
def test_a_key_ring_other_users_may_read_is_still_warned_about(container: Container):
    container.keys.chmod(0o644)
    result = container.nabat("invite", "--role", "coordinator")
    assert result.returncode == 0, result.stderr
    first, *rest = result.stderr.splitlines()
    assert first == (
        f"nabat: warning: NABAT_KEYS_FILE: {container.keys} is readable by other users "
        "(mode 644): chmod 600 it where it comes from; nabat reads a private copy"
    )
    assert _warnings("\n".join(rest)) == ["started a new, empty database"]
    # The copy is private all the same.
    assert _mode(container.private / "NABAT_KEYS_FILE") == (0o400, APP_UID, APP_UID)


@needs_root
def test_a_changed_secret_is_copied_again(container: Container):
    assert container.nabat("migrate").returncode == 0
    container.token.write_text("654321:" + "b" * 30)
    assert container.nabat("migrate").returncode == 0
    assert (container.private / "NABAT_TELEGRAM_TOKEN_FILE").read_text().startswith("654321:")


@needs_root
def test_rotate_key_in_the_container_cannot_replace_the_ring_with_a_copy_that_dies_with_it(
    container: Container,
):
    # The copy lives in memory: keys written there would be lost with the container, and
    # with them the data re-encrypted under them. rotate-key stops before re-encrypting.
    assert container.nabat("invite", "--role", "coordinator").returncode == 0
    before = container.keys.read_text()
    rotated = container.nabat("rotate-key")
    assert rotated.returncode == 2 and "Traceback" not in rotated.stderr
    assert "cannot write key ring file" in rotated.stderr
    assert container.keys.read_text() == before
    assert json.loads((container.private / "NABAT_KEYS_FILE").read_text())["current"] == 1
    after = container.nabat("invite", "--role", "contact")
    assert after.returncode == 0, after.stderr


@needs_root
@pytest.mark.parametrize("planted", ["symlink", "directory of 10001"])
def test_the_entrypoint_refuses_a_secrets_directory_that_is_not_roots(
    container: Container, planted: str
):
    # Something running as 10001 in the container made /dev/shm/nabat before root came.
    if planted == "symlink":
        container.private.symlink_to(container.data)
    else:
        container.private.mkdir()
        os.chown(container.private, APP_UID, APP_UID)
    result = container.nabat("migrate")
    assert result.returncode == 2
    assert result.stderr == (
        f"nabat: cannot make {container.private}, or it is not root's own directory: "
        "refusing to put secrets there\n"
    )
    assert list(container.private.iterdir()) == []


def _warnings(stderr: str) -> list[str]:
    """What nabat warned about, by the start of each warning."""
    return [
        line.split("WARNING nabat: ", 1)[1][:29]
        for line in stderr.splitlines()
        if "WARNING nabat: " in line
    ]
