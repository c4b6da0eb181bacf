"""The `nabat` command line: run, invite, keygen, rotate-key, migrate, rota, case, alert
export, verify."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot import __version__
from bot.domain.clock import Clock, SystemClock
from bot.domain.errors import (
    DeliveryError,
    InUseError,
    KeyRingError,
    NabatError,
    SettingsError,
    StorageError,
)
from bot.domain.models import LANGUAGES, Role
from bot.logs import setup_logging
from config import Settings, load_settings
from config.durations import format_duration, parse_duration
from storage.keyring import KeyRing, LoadedKeyRing, load_key_ring, write_key_ring_file
from storage.lock import DataDirLock

if TYPE_CHECKING:
    from telegram import Bot

    from bot.wiring import Services

log = logging.getLogger("nabat")

EXIT_USAGE = 2


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nabat",
        description="An alarm bell on Telegram: panic alerts and check-ins that page an "
        "on-call rota until someone acts. Settings come from NABAT_* environment variables "
        "(see README.md).",
    )
    parser.add_argument("--version", action="version", version=f"nabat {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    sub.add_parser(
        "run",
        help="start the bot (long polling), applying pending migrations first",
        description="Start the bot with long polling. Applies pending database migrations "
        "first. Needs NABAT_TELEGRAM_TOKEN; creates the data directory and, when no key "
        "ring is configured, a key ring file.",
    )

    inv = sub.add_parser(
        "invite",
        help="create an invitation and print its link",
        description="Create a single-use invitation and print the link "
        "https://t.me/<bot>?start=<token> and the line /start <token>. "
        "This is how the first coordinator is enrolled.",
    )
    inv.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
        help="the role the invited person gets",
    )
    inv.add_argument(
        "--name", help="display name shown to coordinators (default: their Telegram name)"
    )
    inv.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="the language they will read nabat in (default: their Telegram's if nabat has "
        "it, else NABAT_LANGUAGE)",
    )
    inv.add_argument(
        "--expires",
        type=_duration,
        default=None,
        metavar="DURATION",
        help="how long the invitation stays valid, e.g. 72h, 30m, 7d "
        "(default: NABAT_INVITE_TTL, 72h)",
    )

    kg = sub.add_parser(
        "keygen",
        help="write a new key ring file (mode 0600), or print one",
        description="Generate a new key ring: an AES-256 key for field encryption and a "
        "separate key for blind indexes. With --output, write it to FILE with mode 0600; "
        "without, print it to standard output (for NABAT_KEYS or a secret store).",
    )
    kg.add_argument("--output", "-o", type=Path, metavar="FILE", help="file to write (mode 0600)")
    kg.add_argument(
        "--force", action="store_true", help="overwrite FILE if it exists (destroys the old keys!)"
    )

    rk = sub.add_parser(
        "rotate-key",
        help="re-encrypt every stored value under a new current key",
        description="Add a new current key to the key ring file and re-encrypt every stored "
        "value under it, in batches. Safe to interrupt and run again: a second run finishes "
        "the first instead of adding another key. Stop the bot first. Needs the key ring in "
        "a file (NABAT_KEYS_FILE or the default), since it writes it.",
    )
    rk.add_argument(
        "--batch", type=int, default=500, help="values re-encrypted per transaction (default 500)"
    )
    rk.add_argument(
        "--drop-old",
        action="store_true",
        help="afterwards remove the old keys from the ring (only once nothing uses them)",
    )

    hc = sub.add_parser(
        "health",
        help="exit 0 if a running bot is alive (for HEALTHCHECK)",
        description="Check that the bot running on this data directory has written its "
        "heartbeat recently (it does every 10 s while its scheduler runs). Exit 0 if so, "
        "1 if not.",
    )
    hc.add_argument(
        "--max-age",
        type=_duration,
        default=timedelta(seconds=60),
        metavar="DURATION",
        help="how old the heartbeat may be (default 60s)",
    )

    rota = sub.add_parser(
        "rota",
        help="export or import the on-call rota and escalation policies as one TOML file",
        description="Every rotation, its overrides that have not ended, every escalation "
        "policy, which policy each contact uses and each contact's check-in schedule, as "
        "one declarative TOML file "
        "(the format is in README.md). People are named by display name, or #<number> "
        "when a name is not unique.",
    )
    rota_sub = rota.add_subparsers(dest="rota_command", metavar="ACTION", required=True)
    rota_export = rota_sub.add_parser(
        "export",
        help="write the rota and policies to FILE",
        description="Write the rota and policies to FILE with mode 0600 (it names people: "
        "keep it private). Importing that file unchanged changes nothing.",
    )
    rota_export.add_argument(
        "file", type=Path, metavar="FILE", help="the TOML file to write (replaced if it exists)"
    )
    rota_import = rota_sub.add_parser(
        "import",
        help="make the rota and policies match FILE",
        description="Check FILE completely, then make the database match it in one "
        "transaction: rotations and policies are matched by name and created, updated or "
        "deleted (a policy alerts refer to is retired instead); contacts not listed get "
        "the default policy, and contacts with no [[checkin]] have no check-in schedule; "
        "every change is audited; open alerts of a policy whose steps "
        "changed start again at its new step 1. Any error is reported as FILE:LINE and "
        "nothing changes (exit status 2).",
    )
    rota_import.add_argument("file", type=Path, metavar="FILE", help="the TOML file to read")
    rota_import.add_argument(
        "--dry-run",
        action="store_true",
        help="check FILE and print what would change, without changing anything",
    )

    case = sub.add_parser(
        "case",
        help="export or import contacts' case files as one TOML file",
        description="Contacts' case files (names in Latin, Cyrillic and Korean, date of "
        "birth, nationality, documents, addresses, the risk, proceedings, the trusted "
        "person, the lawyer, notes) as one TOML file; the format is in README.md. Contacts "
        "are named by display name, or #<number> when a name is not unique.",
    )
    case_sub = case.add_subparsers(dest="case_command", metavar="ACTION", required=True)
    case_export = case_sub.add_parser(
        "export",
        help="write every contact's case file to FILE",
        description="Write every case file with anything in it to FILE with mode 0600 (it "
        "describes people at risk: keep it private). Importing that file unchanged changes "
        "nothing.",
    )
    case_export.add_argument(
        "file", type=Path, metavar="FILE", help="the TOML file to write (replaced if it exists)"
    )
    case_import = case_sub.add_parser(
        "import",
        help="set the case files FILE lists",
        description="Check FILE completely, then, in one transaction, make the case file of "
        "every contact it lists what it says (a field left out is empty). Contacts FILE does "
        "not list keep their case files. Every change is audited. Any error is reported as "
        "FILE:LINE with the field, and nothing changes (exit status 2).",
    )
    case_import.add_argument("file", type=Path, metavar="FILE", help="the TOML file to read")
    case_import.add_argument(
        "--dry-run",
        action="store_true",
        help="check FILE and print what would change, without changing anything",
    )

    alert = sub.add_parser(
        "alert",
        help="an alert's signed export for an urgent court application",
        description="An alert's record for an urgent application: the case file, the whole "
        "timeline with content and exact times, the delivery record, as a PDF and as JSON "
        "signed with the key ring's Ed25519 key (check it with `nabat verify`).",
    )
    alert_sub = alert.add_subparsers(dest="alert_command", metavar="ACTION", required=True)
    alert_export = alert_sub.add_parser(
        "export",
        help="write alert-N.pdf and alert-N.json to DIR",
        description="Write alert-N.pdf and alert-N.json (mode 0600: they hold the case file; "
        "keep them private) to DIR, replacing files of those names, and print the signing "
        "key's fingerprint. The export is in the audit log.",
    )
    alert_export.add_argument("number", type=int, metavar="N", help="the alert's number")
    alert_export.add_argument(
        "--out", type=Path, required=True, metavar="DIR", help="the directory to write to"
    )
    alert_export.add_argument(
        "--lang",
        choices=LANGUAGES,
        default=None,
        help="the language of the PDF's labels (default: NABAT_LANGUAGE)",
    )

    verify = sub.add_parser(
        "verify",
        help="check a signed export (alert-N.json) and name what changed",
        description="Check the Ed25519 signature of an export's JSON file and every value in "
        "it. Exit 0 if it is as signed; 1, naming each value that changed, was removed or "
        "added, if not; 2 if FILE cannot be read as an export. With this bot's settings "
        "(its key ring), also say whether this bot signed it.",
    )
    verify.add_argument("file", type=Path, metavar="FILE", help="the export's .json file")

    sub.add_parser(
        "migrate",
        help="apply database migrations and report the schema version",
        description="Apply pending migrations to the database in NABAT_DATA_DIR and print "
        "the schema version.",
    )
    return parser


def main(
    argv: Sequence[str] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    clock: Clock | None = None,
    configure_logging: bool = True,
) -> int:
    """Run one subcommand; return the exit status. Tests pass argv, environ and a clock."""
    args = build_parser().parse_args(argv)
    env = os.environ if environ is None else environ
    try:
        if args.command == "keygen":
            return _keygen(args)
        settings = load_settings(env, require_token=args.command == "run")
        if configure_logging:
            setup_logging(settings.log_level, [settings.telegram_token or "", settings.keys or ""])
        if args.command == "run":
            return _run(settings, clock)
        if args.command == "rotate-key":
            return asyncio.run(_rotate(settings, args, clock or SystemClock()))
        if args.command == "health":
            return _health(settings, args.max_age)
        if args.command == "verify":
            return _verify(settings, args.file)
        # These write values under the current key: never while rotate-key drops keys.
        with DataDirLock.for_keys(settings.data_dir, args.command):
            if args.command == "invite":
                return asyncio.run(_invite(settings, args, clock or SystemClock()))
            if args.command == "migrate":
                return asyncio.run(_migrate(settings, clock or SystemClock()))
            if args.command == "rota":
                return asyncio.run(_rota(settings, args, clock or SystemClock()))
            if args.command == "case":
                return asyncio.run(_case(settings, args, clock or SystemClock()))
            if args.command == "alert":
                return asyncio.run(_alert_export(settings, args, clock or SystemClock()))
    except KeyboardInterrupt:
        return 130
    except (SettingsError, KeyRingError, InUseError) as exc:
        print(f"nabat: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, DeliveryError) as exc:
        print(f"nabat: {exc}", file=sys.stderr)
        return 1
    except NabatError as exc:
        print(f"nabat: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    raise AssertionError(args.command)


def load_keys(settings: Settings, *, may_create: bool = True, refusal: str = "") -> LoadedKeyRing:
    loaded = load_key_ring(
        keys_json=settings.keys,
        keys_file=settings.keys_file,
        default_file=settings.default_keys_file,
        may_create=may_create,
        refusal=refusal,
    )
    if loaded.created:
        log.warning(
            "created a new key ring in %s: back it up now (without it the data cannot be read) "
            "and in production keep it off the data volume (set NABAT_KEYS_FILE)",
            loaded.path,
        )
    elif loaded.too_open:
        log.warning("key ring file %s is readable by other users: chmod 600 it", loaded.path)
    return loaded


def source_of(loaded: LoadedKeyRing) -> str:
    """Where the ring came from, for messages: a file's path or the variable's name."""
    if loaded.path is None:
        return "the key ring NABAT_KEYS"
    return f"the key ring {loaded.path.resolve()}"


async def checked_keys(
    settings: Settings, clock: Clock, *, may_create: bool = True
) -> LoadedKeyRing | None:
    """Open the database (migrating it), find the key ring and check that it is the one the
    data was written with (storage/keycheck.py). A new ring is made only for a database
    that holds nothing yet. KeyRingError, with what to restore, on any mismatch.

    None only when `may_create` is False and the database holds nothing yet.
    """
    from storage.db import Database
    from storage.keycheck import holds_data, verify_ring

    configured = settings.keys is not None or settings.keys_file is not None
    # A ring named by a setting is read first: a typo in it stops us before a database
    # is made anywhere.
    early = load_keys(settings) if configured and may_create else None
    existed = settings.database_path.exists()
    db = await Database.open(settings.database_path)
    try:
        await db.migrate()
        has_data = await holds_data(db)
        if not may_create and not has_data:
            return None  # nothing written yet: no ring to check, and none is made here
        loaded = early or load_keys(
            settings,
            may_create=not has_data,
            refusal=f", but the database {settings.database_path.resolve()} holds encrypted data",
        )
        if configured and not existed:
            # Right for a first start; wrong for a mistyped NABAT_DATA_DIR or a volume
            # that is not mounted, where every contact would now be a stranger.
            log.warning(
                "started a new, empty database at %s with the key ring from %s: if you "
                "expected existing data, check NABAT_DATA_DIR (a typo, or a volume not "
                "mounted)",
                settings.database_path.resolve(),
                "NABAT_KEYS" if loaded.path is None else loaded.path,
            )
        verified = await verify_ring(db, loaded.ring, clock.now(), source=source_of(loaded))
        if verified.forgotten:
            log.info("key checks: keys %s left the ring after rotation", verified.forgotten)
        return loaded
    finally:
        await db.close()


def _run(settings: Settings, clock: Clock | None) -> int:
    from telegram.error import InvalidToken, TelegramError

    from bot.app import ALLOWED_UPDATES, build_application

    # Held until the bot exits: rotate-key or a second bot on this data refuse meanwhile.
    lock = DataDirLock.acquire(settings.data_dir, "run")
    try:
        # The data directory, database, migrations and the key check come first,
        # network or not.
        loaded = asyncio.run(checked_keys(settings, clock or SystemClock()))
        assert loaded is not None
        asyncio.run(_wait_for_bot_api(settings))
        app = build_application(settings, loaded.ring, clock, lock=lock)
        try:
            # Pending updates are kept: a panic sent while the bot was down must be handled.
            # A lifeline keeps trying: with no network at boot it waits for one (backing
            # off to 30 s between tries) instead of exiting; a refused token still stops it.
            app.run_polling(
                allowed_updates=ALLOWED_UPDATES, drop_pending_updates=False, bootstrap_retries=-1
            )
        except InvalidToken:
            raise SettingsError(
                "NABAT_TELEGRAM_TOKEN", "Telegram refused this token; copy it again from @BotFather"
            ) from None
        except TelegramError as exc:
            print(f"nabat: the Bot API failed: {type(exc).__name__}", file=sys.stderr)
            return 1
        return 0
    finally:
        lock.release()


async def _wait_for_bot_api(settings: Settings) -> None:
    """Wait until the Bot API answers getMe, saying so while it does not.

    A lifeline keeps trying: a server that boots before its network, or a Telegram
    outage, must not leave the bot exited. A refused token is final.
    """
    from telegram.error import InvalidToken, TelegramError

    assert settings.telegram_token is not None
    delay = 1.0
    while True:
        try:
            async with api_bot(settings) as bot:
                log.info("Bot API reached: this is @%s", bot.username)
                return
        except InvalidToken:
            raise SettingsError(
                "NABAT_TELEGRAM_TOKEN", "Telegram refused this token; copy it again from @BotFather"
            ) from None
        except TelegramError as exc:
            log.warning(
                "cannot reach the Bot API at %s (%s); trying again in %.0fs "
                "(check the network or NABAT_TELEGRAM_API_URL)",
                settings.telegram_api_url,
                type(exc).__name__,
                delay,
            )
        await asyncio.sleep(delay)
        delay = min(30.0, delay * 2)


def api_bot(settings: Settings) -> Bot:
    """A Bot for one question to the Bot API (who are we?), on the shared TLS context."""
    from telegram import Bot
    from telegram.request import HTTPXRequest

    from bot.delivery.telegram import tls_context

    assert settings.telegram_token is not None
    request = HTTPXRequest(httpx_kwargs={"verify": tls_context()})
    return Bot(settings.telegram_token, base_url=settings.telegram_api_url, request=request)


async def _bot_username(settings: Settings) -> str:
    if settings.bot_username:
        return settings.bot_username
    if not settings.telegram_token:
        raise SettingsError(
            "NABAT_BOT_USERNAME",
            "is needed to build the invitation link: set it (e.g. nabat_help_bot), "
            "or set NABAT_TELEGRAM_TOKEN so nabat can ask Telegram",
        )
    from telegram.error import InvalidToken, TelegramError

    try:
        async with api_bot(settings) as bot:
            return bot.username
    except InvalidToken:
        raise SettingsError(
            "NABAT_TELEGRAM_TOKEN",
            "Telegram refused this token; copy it again from @BotFather "
            "(or set NABAT_BOT_USERNAME to skip asking)",
        ) from None
    except TelegramError as exc:
        # Not the token's fault (network down, wrong URL, Telegram out): say so, as `run`
        # does, but do not retry: whoever typed the command is waiting for an answer.
        raise DeliveryError(
            f"cannot reach the Bot API at {settings.telegram_api_url} ({type(exc).__name__}) "
            "to ask the bot's username: check the network or NABAT_TELEGRAM_API_URL, "
            "or set NABAT_BOT_USERNAME to skip asking",
            permanent=False,
        ) from None


async def _invite(settings: Settings, args: argparse.Namespace, clock: Clock) -> int:
    from bot.wiring import Services

    username = await _bot_username(settings)
    loaded = await checked_keys(settings, clock)
    assert loaded is not None
    services = await Services.open(settings, loaded.ring, clock, bot_username=username)
    try:
        created = await services.people.invite(
            None, Role(args.role), args.name, ttl=args.expires, lang=args.lang
        )
    finally:
        await services.close()
    inv = created.invitation
    print(
        f"Invitation for a {inv.role.value}"
        + (f" ({inv.name})" if inv.name else "")
        + f", valid for {format_duration(inv.expires_at - inv.created_at)}"
        + f" (until {inv.expires_at:%Y-%m-%d %H:%M} UTC), single use."
    )
    print(f"Link: {created.link}")
    print(f"Or send the bot: /start {created.token}")
    return 0


async def _migrate(settings: Settings, clock: Clock) -> int:
    from storage.db import Database

    db = await Database.open(settings.database_path)
    try:
        applied = await db.migrate()
        version = await db.schema_version()
    finally:
        await db.close()
    # The ring is checked but never made here: `run` makes one for an empty database.
    await checked_keys(settings, clock, may_create=False)
    done = ", ".join(f"{v:04d}" for v in applied) if applied else "none pending"
    print(f"Database {settings.database_path}: schema version {version} (applied: {done}).")
    return 0


async def _file_transfer(
    settings: Settings,
    args: argparse.Namespace,
    clock: Clock,
    *,
    action: str,
    export_file: Callable[[Services, datetime], Awaitable[str]],
    import_file: Callable[[Services, str, datetime], Awaitable[object]],
    refused: type[Exception],
    written: str,
) -> int:
    """`nabat rota|case export|import FILE`: one file, validated whole before anything
    changes; written mode 0600 (it names people)."""
    from bot.services.rota_file import write_private
    from bot.wiring import Services

    text = ""
    if action == "import":
        try:
            text = args.file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            print(f"nabat: cannot read {args.file}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    loaded = await checked_keys(settings, clock)
    assert loaded is not None
    # The full services, so an import hands open alerts of a changed policy to escalation.
    services = await Services.open(
        settings, loaded.ring, clock, bot_username=settings.bot_username or "nabat"
    )
    try:
        now = clock.now()
        if action == "export":
            write_private(args.file, await export_file(services, now))
            print(written)
            return 0
        summary = await import_file(services, text, now)
    except refused as exc:
        for error in getattr(exc, "errors", [str(exc)]):
            print(error, file=sys.stderr)
        print(f"nabat: {args.file} was not imported; nothing changed.", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"nabat: cannot write {args.file}: {exc}", file=sys.stderr)
        return 1
    finally:
        await services.close()
    if args.dry_run:
        print(f"Dry run, nothing changed. Importing {args.file} would make {summary}.")
    else:
        print(f"Imported {args.file}: {summary}.")
    return 0


async def _rota(settings: Settings, args: argparse.Namespace, clock: Clock) -> int:
    from bot.services.rota_file import RotaFileError, export_rota, import_rota

    return await _file_transfer(
        settings,
        args,
        clock,
        action=args.rota_command,
        export_file=lambda s, now: export_rota(s.db, s.cipher, now),
        import_file=lambda s, text, now: import_rota(
            s.db,
            s.cipher,
            text,
            source=str(args.file),
            now=now,
            dry_run=args.dry_run,
            on_policy_changed=s.alerts.escalation.policy_changed,
        ),
        refused=RotaFileError,
        written=f"Rota written to {args.file} (mode 0600: it names people, keep it private).",
    )


async def _alert_export(settings: Settings, args: argparse.Namespace, clock: Clock) -> int:
    from bot.domain.errors import NotFound
    from bot.wiring import Services

    loaded = await checked_keys(settings, clock)
    assert loaded is not None
    services = await Services.open(
        settings, loaded.ring, clock, bot_username=settings.bot_username or "nabat"
    )
    try:
        export = await services.exports.for_command_line(
            args.number, lang=args.lang or settings.language
        )
    except NotFound:
        print(f"nabat: there is no alert #{args.number}", file=sys.stderr)
        return 1
    finally:
        await services.close()
    written = []
    try:
        args.out.mkdir(parents=True, exist_ok=True, mode=0o700)
        for name, data in ((export.pdf_name, export.pdf), (export.json_name, export.json)):
            path = args.out / name
            _write_private(path, data)
            written.append(path)
    except OSError as exc:
        print(f"nabat: cannot write to {args.out}: {exc.strerror}", file=sys.stderr)
        return 1
    for path in written:
        print(f"Wrote {path} (mode 0600: it holds the case file, keep it private).")
    print(f"Signed with the key whose fingerprint is {export.fingerprint}.")
    print(f"Check it with: nabat verify {written[1]}")
    return 0


def _write_private(path: Path, data: bytes) -> None:
    """`data` to `path` with mode 0600, replacing any file there atomically."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an old tmp file could be wider; the umask cannot widen it
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _verify(settings: Settings, path: Path) -> int:
    """Exit 0 if the export at `path` is as signed, 1 naming what changed, 2 if unreadable."""
    from bot.services.export.signed import UnreadableExport, read, verify
    from storage.signing import fingerprint, public_key_bytes, signing_key

    try:
        signed = read(path.read_bytes())
    except OSError as exc:
        print(f"nabat: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    except UnreadableExport as exc:
        print(f"nabat: {path}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    verdict = verify(signed)
    own = None
    configured = settings.keys is not None or settings.keys_file is not None
    if configured or settings.default_keys_file.exists():
        # The bot's own key, when its key ring is here: is this the bot's signature?
        try:
            ring = load_keys(settings, may_create=False).ring
        except KeyRingError as exc:
            print(f"nabat: not compared with this bot's key: {exc}", file=sys.stderr)
        else:
            own = fingerprint(public_key_bytes(signing_key(ring)))
    if verdict.valid and own not in (None, verdict.fingerprint):
        print(f"invalid: signed by {verdict.fingerprint}, which is not this bot's key ({own})")
        return 1
    if verdict.valid:
        print(f"valid: signed by {verdict.fingerprint} at {verdict.signed_at}")
        if own is not None:
            print("This is this bot's signing key.")
        else:
            print(
                "Compare the fingerprint with the one the bot's operator gives (it is also "
                "printed on the PDF); this command with the bot's settings compares it itself."
            )
        return 0
    for problem in verdict.problems or ["the file was altered after it was signed"]:
        print(f"invalid: {problem}")
    for label, paths in (
        ("changed", verdict.changed),
        ("removed", verdict.missing),
        ("added", verdict.added),
    ):
        for changed in paths:
            print(f"{label}: {changed}")
    return 1


async def _case(settings: Settings, args: argparse.Namespace, clock: Clock) -> int:
    from bot.services.casefile_toml import CaseFileImportError, export_cases, import_cases

    return await _file_transfer(
        settings,
        args,
        clock,
        action=args.case_command,
        export_file=lambda s, now: export_cases(s.db, s.cipher, now),
        import_file=lambda s, text, now: import_cases(
            s.db, s.cipher, text, source=str(args.file), now=now, dry_run=args.dry_run
        ),
        refused=CaseFileImportError,
        written=f"Case files written to {args.file} (mode 0600: it describes people at risk, "
        "keep it private).",
    )


async def _rotate(settings: Settings, args: argparse.Namespace, clock: Clock) -> int:
    from storage.crypto import FieldCipher
    from storage.db import Database
    from storage.keycheck import verify_ring
    from storage.reencrypt import count_stale, reencrypt_all

    if settings.keys:
        raise KeyRingError(
            "NABAT_KEYS: rotate-key writes the key ring, so it must live in a file: "
            "put it in a file and set NABAT_KEYS_FILE instead"
        )
    if args.batch < 1:
        raise SettingsError("--batch", "must be a whole number of at least 1")
    # A running bot would go on writing under the old key while we re-encrypt and then
    # drop it: refuse while it runs (and keep a bot from starting meanwhile).
    lock = DataDirLock.acquire(settings.data_dir, "rotate-key")
    try:
        keys_lock = DataDirLock.for_keys(settings.data_dir, "rotate-key", exclusive=True)
    except InUseError:
        lock.release()
        raise InUseError(
            f"{settings.data_dir} is being written by another nabat command (invite, rota, "
            "case or migrate); run `nabat rotate-key` again once it has finished"
        ) from None
    try:
        loaded = await checked_keys(settings, clock)
        assert loaded is not None and loaded.path is not None
        source = source_of(loaded)
        db = await Database.open(settings.database_path)
        try:
            ring = loaded.ring
            stale = await count_stale(db, FieldCipher(ring))
            if stale:
                print(f"Resuming: {stale} values are not yet under current key {ring.current_id}.")
            else:
                ring = ring.rotated()
                write_key_ring_file(loaded.path, ring, overwrite=True)
                print(f"Key {ring.current_id} added to {loaded.path} and made current.")
                print(
                    f"Back up {loaded.path} now: once values are re-encrypted, a backup from "
                    "before this rotation cannot read them."
                )
            await verify_ring(db, ring, clock.now(), source=source)
            report = await reencrypt_all(db, FieldCipher(ring), batch=args.batch)
            print(
                f"Re-encrypted {report.rewritten} of {report.examined} values"
                f" under key {ring.current_id}."
            )
            if args.drop_old:
                left = await count_stale(db, FieldCipher(ring))
                if left:
                    raise KeyRingError(
                        f"{left} values still use old keys; run rotate-key again first"
                    )
                ring = ring.without_old_keys()
                write_key_ring_file(loaded.path, ring, overwrite=True)
                await verify_ring(db, ring, clock.now(), source=source)
                print(
                    f"Old keys removed from the key ring. Back up {loaded.path} now: "
                    "every older backup is missing its newest key."
                )
            else:
                print(
                    "Old keys are kept for reading. To remove them later, run "
                    "`nabat rotate-key --drop-old` (it rotates once more, then drops every "
                    "key but the new one)."
                )
        finally:
            await db.close()
    finally:
        keys_lock.release()
        lock.release()
    return 0


def _health(settings: Settings, max_age: timedelta) -> int:
    from bot.app import HEARTBEAT_FILE

    beat = settings.data_dir / HEARTBEAT_FILE
    try:
        age = time.time() - beat.stat().st_mtime
    except OSError:
        print(f"unhealthy: no heartbeat at {beat}", file=sys.stderr)
        return 1
    if age > max_age.total_seconds():
        print(f"unhealthy: last heartbeat {age:.0f}s ago", file=sys.stderr)
        return 1
    print(f"healthy: last heartbeat {age:.0f}s ago")
    return 0


def _keygen(args: argparse.Namespace) -> int:
    ring = KeyRing.generate()
    if args.output is None:
        print(ring.to_json())
        return 0
    write_key_ring_file(args.output, ring, overwrite=args.force)
    print(
        f"Key ring written to {args.output} (mode 0600)."
        " Back it up: without it the data cannot be read."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
