"""Settings: read once at start into a frozen Settings, or stop with a message naming the setting.

Each setting NABAT_X comes from, highest first:

1. the environment variable NABAT_X;
2. the file named by NABAT_X_FILE (for Docker/systemd secrets; surrounding whitespace
   is stripped) -- setting both NABAT_X and NABAT_X_FILE is an error, not a precedence;
3. the TOML file named by NABAT_CONFIG, whose keys are the names without the prefix in
   lower case (`telegram_token = "..."`, `rate_global = 30`);
4. the default.

An empty environment variable counts as unset, as deployment templates often export
`NABAT_X=` for values they do not know. NABAT_KEYS_FILE is a setting of its own (the
path of the key ring file) and so also serves as NABAT_KEYS's file form.

Error messages say what was wrong and what is expected, and never contain the value of
a secret (the token, the key ring).
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

from bot.domain.errors import SettingsError
from bot.domain.models import LANGUAGES
from config.durations import MAX_DURATION, format_duration, parse_duration
from config.phrasebook import Phrase, load_phrasebook

PREFIX = "NABAT_"
CONFIG_VARIABLE = "NABAT_CONFIG"
DEFAULT_API_URL = "https://api.telegram.org/bot"

# Every setting's name without the prefix. The TOML key is the same name in lower case.
SETTING_NAMES: tuple[str, ...] = (
    "TELEGRAM_TOKEN",
    "TELEGRAM_API_URL",
    "DATA_DIR",
    "KEYS",
    "KEYS_FILE",
    "BOT_USERNAME",
    "LOG_LEVEL",
    "STRANGER_REPLY",
    "RATE_GLOBAL",
    "RATE_PER_CHAT",
    "INVITE_TTL",
    "CONTACT_REPLY_TTL",
    "DELETE_CONTACT_MESSAGES",
    "PANIC_ON_TEXT",
    "RESOLVED_GRACE",
    "TRIP_CAP",
    "LANGUAGE",
    "PHRASEBOOK",
    "RETENTION",
)
# NABAT_KEYS_FILE is a setting itself, so NABAT_KEYS has no separate _FILE form, and a
# NABAT_KEYS_FILE_FILE (a file holding a path) would only add confusion. NABAT_PHRASEBOOK
# is a path already.
_NO_FILE_FORM = frozenset({"KEYS", "KEYS_FILE", "PHRASEBOOK"})
_SECRETS = frozenset({"telegram_token", "keys"})

VALID_VARIABLES = frozenset(
    {PREFIX + name for name in SETTING_NAMES}
    | {PREFIX + name + "_FILE" for name in SETTING_NAMES if name not in _NO_FILE_FORM}
    | {CONFIG_VARIABLE}
)
_TOML_KEYS = tuple(name.lower() for name in SETTING_NAMES)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# Telegram lets a bot delete only messages younger than 48 hours; an hour's margin
# covers a delete that waits in the outbox behind rate limits.
MAX_CONTACT_REPLY_TTL = timedelta(hours=47)

T = TypeVar("T")
D = TypeVar("D")


@dataclass(frozen=True, slots=True, repr=False)
class Settings:
    """Every setting, validated. Build it with `load_settings`; tests may construct it."""

    telegram_token: str | None = None
    telegram_api_url: str = DEFAULT_API_URL
    data_dir: Path = Path("data")
    keys: str | None = None
    keys_file: Path | None = None
    bot_username: str | None = None
    log_level: str = "INFO"
    stranger_reply: bool = True
    rate_global: float = 30.0
    rate_per_chat: float = 1.0
    invite_ttl: timedelta = timedelta(hours=72)
    contact_reply_ttl: timedelta = timedelta(minutes=10)
    delete_contact_messages: bool = True
    panic_on_plain_text: bool = True
    # After a resolution, a contact's plain text goes first to whoever resolved it.
    resolved_grace: timedelta = timedelta(hours=1)
    # How far past the first deadline a contact may move their own trip (/trip).
    trip_cap: timedelta = timedelta(hours=1)
    language: str = "en"
    # The organisation's phrasebook (config/phrasebook.py); None: nabat's own phrases.
    phrasebook: tuple[Phrase, ...] | None = None
    # Resolved alerts older than this are purged by housekeeping; None: kept until removed.
    retention: timedelta | None = None

    def __repr__(self) -> str:
        shown = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            text = "***" if field.name in _SECRETS and value is not None else repr(value)
            shown.append(f"{field.name}={text}")
        return f"Settings({', '.join(shown)})"

    __str__ = __repr__

    @property
    def database_path(self) -> Path:
        return self.data_dir / "nabat.db"

    @property
    def default_keys_file(self) -> Path:
        """Where the key ring lives when neither NABAT_KEYS nor NABAT_KEYS_FILE is set.

        Beside the data directory, never inside it, so a copy of the data directory does
        not carry the keys that read it: data_dir.parent / "nabat-keys.json", which for
        the default data_dir "data" is ./nabat-keys.json. A data_dir with no name of its
        own ("." or "..") is made absolute first, so the file still lands outside it.
        """
        data_dir = self.data_dir
        if data_dir.name in ("", ".."):
            data_dir = Path(os.path.abspath(data_dir))
        return data_dir.parent / "nabat-keys.json"


def load_settings(
    environ: Mapping[str, str] | None = None, *, require_token: bool = True
) -> Settings:
    """Read and validate every setting; SettingsError names the first one that is wrong.

    `require_token=False` is for commands that never talk to Telegram (keygen, migrate).
    """
    env = os.environ if environ is None else environ
    _reject_near_misses(env)
    source = _Sources(env, *_load_config_file(env))
    defaults = Settings()

    token = source.get("TELEGRAM_TOKEN", _token, None)
    if token is None and require_token:
        raise SettingsError(
            "NABAT_TELEGRAM_TOKEN",
            "is required: the token @BotFather gave you, e.g. 123456:ABC-DEF...",
        )
    settings = Settings(
        telegram_token=token,
        telegram_api_url=source.get("TELEGRAM_API_URL", _api_url, defaults.telegram_api_url),
        data_dir=source.get("DATA_DIR", _path, defaults.data_dir),
        keys=source.get("KEYS", _key_ring_json, None),
        keys_file=source.get("KEYS_FILE", _path, None),
        bot_username=source.get("BOT_USERNAME", _bot_username, None),
        log_level=source.get("LOG_LEVEL", _log_level, defaults.log_level),
        stranger_reply=source.get("STRANGER_REPLY", _bool, defaults.stranger_reply),
        rate_global=source.get("RATE_GLOBAL", _rate(1000, "30"), defaults.rate_global),
        rate_per_chat=source.get("RATE_PER_CHAT", _rate(30, "1"), defaults.rate_per_chat),
        invite_ttl=source.get("INVITE_TTL", _INVITE_TTL, defaults.invite_ttl),
        contact_reply_ttl=source.get(
            "CONTACT_REPLY_TTL", _CONTACT_REPLY_TTL, defaults.contact_reply_ttl
        ),
        delete_contact_messages=source.get(
            "DELETE_CONTACT_MESSAGES", _bool, defaults.delete_contact_messages
        ),
        panic_on_plain_text=source.get("PANIC_ON_TEXT", _bool, defaults.panic_on_plain_text),
        resolved_grace=source.get("RESOLVED_GRACE", _resolved_grace, defaults.resolved_grace),
        trip_cap=source.get("TRIP_CAP", _TRIP_CAP, defaults.trip_cap),
        language=source.get("LANGUAGE", _language, defaults.language),
        phrasebook=source.get("PHRASEBOOK", _phrasebook, None),
        retention=source.get("RETENTION", _retention, None),
    )
    if settings.keys is not None and settings.keys_file is not None:
        raise SettingsError(
            "NABAT_KEYS",
            "set either NABAT_KEYS or NABAT_KEYS_FILE, not both "
            "(in the environment or the config file)",
        )
    return settings


class _Sources:
    """Finds a setting's raw value and says where it came from, for error messages."""

    def __init__(
        self, environ: Mapping[str, str], config: Mapping[str, object], config_path: str
    ) -> None:
        self._environ = environ
        self._config = config
        self._config_path = config_path

    def get(self, name: str, parse: Callable[[object], T], default: D) -> T | D:
        variable = PREFIX + name
        found = self._raw(name)
        if found is None:
            return default
        raw, origin = found
        try:
            return parse(raw)
        except ValueError as exc:
            raise SettingsError(variable, f"{exc}{origin}") from None

    def _raw(self, name: str) -> tuple[object, str] | None:
        variable = PREFIX + name
        value = self._environ.get(variable, "").strip()
        file_variable = None if name in _NO_FILE_FORM else variable + "_FILE"
        file_name = self._environ.get(file_variable, "").strip() if file_variable else ""
        if value and file_name:
            raise SettingsError(variable, f"set either {variable} or {file_variable}, not both")
        if value:
            return value, ""
        if file_variable and file_name:
            return _read_value_file(file_variable, file_name), f" (read from {file_variable})"
        key = name.lower()
        if key in self._config:
            return self._config[key], f" (key {key} in {self._config_path})"
        return None


def _read_value_file(variable: str, file_name: str) -> str:
    path = Path(file_name).expanduser()
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SettingsError(
            variable, f"cannot read {path}: {exc.strerror}; expected a readable file"
        ) from None
    except UnicodeDecodeError:
        raise SettingsError(variable, f"{path} is not UTF-8 text") from None
    text = text.strip()
    if not text:
        raise SettingsError(
            variable, f"{path} is empty; it should hold the value of {variable[:-5]}"
        )
    return text


def _load_config_file(environ: Mapping[str, str]) -> tuple[dict[str, object], str]:
    file_name = environ.get(CONFIG_VARIABLE, "").strip()
    if not file_name:
        return {}, ""
    path = Path(file_name).expanduser()
    try:
        content = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise SettingsError(
            CONFIG_VARIABLE,
            f"cannot read {path}: {exc.strerror}; expected the path of a TOML settings file",
        ) from None
    except UnicodeDecodeError:
        raise SettingsError(CONFIG_VARIABLE, f"{path} is not UTF-8 text") from None
    try:
        document = tomllib.loads(content)
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message gives the line and column but not the text, which may be a secret.
        raise SettingsError(CONFIG_VARIABLE, f"{path} is not valid TOML: {exc}") from None
    for key in document:
        if key not in _TOML_KEYS:
            close = difflib.get_close_matches(key.lower(), _TOML_KEYS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]}? " if close else ""
            raise SettingsError(
                CONFIG_VARIABLE,
                f"unknown key {key!r} in {path}; {hint}valid keys: {', '.join(_TOML_KEYS)}",
            )
    return document, str(path)


def _reject_near_misses(environ: Mapping[str, str]) -> None:
    """Stop on NABAT_TOKEN and friends: a typo would otherwise silently fall back to a default."""
    for variable in sorted(environ):
        if not variable.upper().startswith(PREFIX) or variable in VALID_VARIABLES:
            continue
        suggestions = _suggest(variable)
        if suggestions:
            raise SettingsError(
                variable,
                f"is not a nabat setting; did you mean {' or '.join(suggestions)}?",
            )


def _suggest(variable: str) -> list[str]:
    upper = variable.upper()
    if upper in VALID_VARIABLES:
        return [upper]
    # A dropped word first (NABAT_TOKEN, NABAT_BOT_TOKEN for NABAT_TELEGRAM_TOKEN): by
    # spelling alone NABAT_TOKEN_FILE would look most like NABAT_KEYS_FILE.
    stem, suffix = (upper[:-5], "_FILE") if upper.endswith("_FILE") else (upper, "")
    words = set(stem.removeprefix(PREFIX).split("_")) - {"", "BOT"}
    if words:
        matches = [
            PREFIX + name + suffix
            for name in SETTING_NAMES
            if words <= set(name.split("_")) and not (suffix and name in _NO_FILE_FORM)
        ]
        if matches:
            return matches
    return difflib.get_close_matches(upper, sorted(VALID_VARIABLES), n=1, cutoff=0.8)


# Parsers take a raw value -- a string from the environment or a file, or any TOML
# value -- and raise ValueError with a message that reads after "NABAT_X: ".


def _text(raw: object) -> str:
    if isinstance(raw, str):
        return raw.strip()
    raise ValueError(f"expected text (a TOML string), got a TOML {_toml_type(raw)}")


def _toml_type(raw: object) -> str:
    for kind, name in ((bool, "boolean"), (int, "integer"), (float, "float"), (str, "string")):
        if isinstance(raw, kind):
            return name
    if isinstance(raw, dict):
        return "table"
    if isinstance(raw, list):
        return "array"
    if isinstance(raw, datetime):
        return "date-time"
    return "date or time"


def _shown(text: str) -> str:
    shown = repr(text if len(text) <= 40 else text[:37] + "...")
    # repr spells an unusual character as up to ten ("\U0001d246"): bound that too.
    return shown if len(shown) <= 60 else shown[:56] + "...'"


_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]{20,}", re.ASCII)


def _token(raw: object) -> str:
    token = _text(raw)
    if not _TOKEN.fullmatch(token):
        # Never echo it: a near-valid token is still a secret.
        raise ValueError(
            "does not look like a bot token: expected digits, a colon, then 20 or more "
            "letters, digits, '-' or '_', as @BotFather gave it, e.g. 123456:ABC-DEF..."
        )
    return token


def _key_ring_json(raw: object) -> str:
    # Validated when the ring is loaded (storage.keyring), whose errors never echo keys.
    text = _text(raw)
    if not text:
        raise ValueError("is empty; expected the key ring JSON written by `nabat keygen`")
    return text


def _api_url(raw: object) -> str:
    """A Bot API base URL, normalised to end in "/bot" with no trailing slash.

    A bare server address (a local Bot API server, the test emulator) gets "/bot"
    appended, since the token is glued straight onto this URL. The URL is not echoed
    in errors: it may carry credentials.
    """
    expected = "expected an http(s) URL like https://api.telegram.org/bot"
    text = _text(raw)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 -- parsing the port is what validates it
    except ValueError:
        raise ValueError(f"is not a valid URL; {expected}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"must start with http:// or https://; {expected}")
    if not parts.hostname:
        raise ValueError(f"has no host name; {expected}")
    if parts.query or parts.fragment:
        raise ValueError(f"must not have a query (?...) or fragment (#...); {expected}")
    path = parts.path.rstrip("/")
    if not path.endswith("/bot"):
        path += "/bot"
    return urlunsplit((parts.scheme.lower(), parts.netloc, path, "", ""))


def _phrasebook(raw: object) -> tuple[Phrase, ...]:
    return load_phrasebook(_path(raw))


def _path(raw: object) -> Path:
    text = _text(raw)
    if not text:
        raise ValueError("is empty; expected a path such as /var/lib/nabat")
    return Path(text).expanduser()


_USERNAME = re.compile(r"[A-Za-z0-9_]{5,32}")


def _bot_username(raw: object) -> str:
    name = _text(raw).removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise ValueError(
            f"{_shown(name)} is not a Telegram username: expected 5 to 32 letters, digits "
            "or underscores, e.g. nabat_alarm_bot"
        )
    if not name.lower().endswith("bot"):
        raise ValueError(
            f"{_shown(name)} does not end in 'bot', as every bot's username does, "
            "e.g. nabat_alarm_bot"
        )
    return name


def _log_level(raw: object) -> str:
    level = _text(raw).upper()
    if level not in LOG_LEVELS:
        raise ValueError(
            f"{_shown(level)} is not a log level; expected one of {', '.join(LOG_LEVELS)}"
        )
    return level


_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    text = _text(raw).lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(
        f"{_shown(text)} is not true or false; expected true/false, yes/no, on/off or 1/0"
    )


def _rate(maximum: float, example: str) -> Callable[[object], float]:
    expected = f"expected messages per second, more than 0 and at most {maximum:g}, e.g. {example}"

    def parse(raw: object) -> float:
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            value = float(raw)
            shown = repr(raw)
        else:
            text = _text(raw)
            shown = _shown(text)
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{shown} is not a number; {expected}") from None
        if not math.isfinite(value) or not 0 < value <= maximum:
            raise ValueError(f"{shown} is out of range; {expected}")
        return value

    return parse


def _duration(maximum: timedelta, example: str, why: str = "") -> Callable[[object], timedelta]:
    def parse(raw: object) -> timedelta:
        # A TOML integer means seconds, as a bare number does in the environment.
        text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else _text(raw)
        value = parse_duration(text)
        if value > maximum:
            raise ValueError(
                f"{_shown(text)} is longer than the maximum of {format_duration(maximum)}"
                f"{why}; expected a duration such as {example}"
            )
        return value

    return parse


_INVITE_TTL = _duration(MAX_DURATION, "72h")
_CONTACT_REPLY_TTL = _duration(
    MAX_CONTACT_REPLY_TTL,
    "10m",
    ": Telegram lets a bot delete only messages younger than 48 hours",
)

_TRIP_CAP = _duration(timedelta(days=7), "1h")
_RETENTION = _duration(timedelta(days=3660), "365d, or off")
MIN_RETENTION = timedelta(days=1)


def _retention(raw: object) -> timedelta | None:
    """How long resolved alerts are kept: a duration of at least a day, or `off`."""
    if str(raw).strip().lower() in ("off", ""):
        return None
    value = _RETENTION(raw)
    if value < MIN_RETENTION:
        raise ValueError(
            f"{_shown(str(raw))} is shorter than a day: a lawyer needs the record for days at "
            "least; expected a duration such as 365d, or off"
        )
    return value


_GRACE = _duration(timedelta(days=7), "1h, or off")  # "or off" in its message


def _resolved_grace(raw: object) -> timedelta:
    """A duration up to 7 days, or `off` / `0`: a contact's text opens an alert at once."""
    if str(raw).strip().lower() in ("off", "0"):
        return timedelta(0)
    try:
        return _GRACE(raw)
    except ValueError as exc:
        if "or off" in str(exc):
            raise
        raise ValueError(f"{exc}; or off, to open an alert at once") from None


_LANGUAGE = re.compile(r"([A-Za-z]{2,3})(?:[-_]([A-Za-z]{2}))?", re.ASCII)


def _language(raw: object) -> str:
    """One of the languages nabat speaks, as a tag (ru, ru-RU and ru_RU all mean ru)."""
    text = _text(raw)
    match = _LANGUAGE.fullmatch(text)
    if match is None:
        raise ValueError(
            f"{_shown(text)} is not a language tag; expected a language code like en, ru or ko"
        )
    language = match.group(1).lower()
    if language not in LANGUAGES:
        raise ValueError(
            f"{_shown(text)} is a language nabat does not speak; expected one of "
            + ", ".join(LANGUAGES)
        )
    return language
