"""Logging set up so that secrets and personal data stay out of it (DESIGN.md invariant 4).

nabat's own loggers (bot.*, handlers.*, storage.*, nabat) log ids and error types, never
content. Libraries are another matter: python-telegram-bot logs call results at DEBUG
("Call to Bot API endpoint ... finished with return value ...": whole updates, panic texts
included) and whole getUpdates batches at CRITICAL when one fails to parse; exception
texts quote payloads too. So every record from a library keeps its level, logger name and
message template, while its arguments become placeholders naming their type and an
exception becomes its type name (`scrub_library_record`).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Mapping
from typing import Any

# httpx logs every request URL at INFO, and a Bot API URL holds the token; PTB logs call
# parameters (message text) at DEBUG. Neither may reach the log whatever the level.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "apscheduler": logging.ERROR,
    "aiosqlite": logging.INFO,
    # fpdf2 names the characters a font lacks (a person's name, from an export's text).
    "fpdf": logging.ERROR,
    "fontTools": logging.ERROR,
}


# Loggers whose records are scrubbed, with their children ("telegram.ext.Updater").
LIBRARIES = (
    "telegram",
    "httpx",
    "httpcore",
    "apscheduler",
    "aiosqlite",
    "asyncio",
    "fpdf",
    "fontTools",
)

# A printf conversion as logging's %-style formatting reads it: %s, %d, %(name)r, %-8.3f, %%.
_CONVERSION = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[#0 +\-]*(?P<width>\*|\d+)?(?:\.(?P<precision>\*|\d+))?"
    r"[hlL]?(?P<type>[diouxXeEfFgGcrsa%])"
)
_SCRUBBED = "nabat_scrubbed"


def is_library(name: str | None) -> bool:
    return name is not None and any(
        name == library or name.startswith(library + ".") for library in LIBRARIES
    )


def _placeholder(value: object) -> str:
    return f"<{type(value).__name__}>"


def template_with_placeholders(msg: object, args: Any) -> str:
    """The message template with each argument replaced by `<its type>`.

    Only the first line is kept: a library's multi-line message is a dump it formatted
    itself (asyncio's "Task exception was never retrieved" lists the task and its error).
    A message that is not a string at all says nothing but its type.
    """
    if not isinstance(msg, str):
        return _placeholder(msg)
    template = msg.split("\n", 1)[0]
    if not args:
        return template
    positional = iter(args if isinstance(args, tuple) else (args,))

    def replace(match: re.Match[str]) -> str:
        if match.group("type") == "%":
            return "%"
        if isinstance(args, Mapping) and match.group("key") is not None:
            return _placeholder(args.get(match.group("key")))
        for star in ("width", "precision"):  # "%*d" takes its width from the arguments
            if match.group(star) == "*":
                next(positional, None)
        return _placeholder(next(positional, None))

    return _CONVERSION.sub(replace, template)


def scrub_library_record(record: logging.LogRecord) -> None:
    """Strip a library's record down to level, name, template and exception type, in place."""
    if getattr(record, _SCRUBBED, False) or not is_library(record.name):
        return
    message = template_with_placeholders(record.msg, record.args)
    exc = record.exc_info[1] if record.exc_info else None
    if exc is not None:
        # PTB logs a traceback for every failed network try, and exception texts quote
        # payloads: the type says what went wrong, and a loop of them cannot bury the log.
        message = f"{message} ({type(exc).__name__})"
    record.msg, record.args = message, ()
    record.exc_info, record.exc_text = None, None
    setattr(record, _SCRUBBED, True)


class LibraryFilter(logging.Filter):
    """`scrub_library_record` as a handler filter (nabat's own records pass untouched)."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub_library_record(record)
        return True


class _ScrubbingRecordFactory:
    """Wraps the record factory, so a library's record is scrubbed when it is made."""

    def __init__(self, inner: Callable[..., logging.LogRecord]) -> None:
        self.inner = inner

    def __call__(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        record = self.inner(*args, **kwargs)
        scrub_library_record(record)
        return record


def install_library_filter() -> Callable[[], None]:
    """Scrub every library record at creation; return a function that undoes it.

    A filter on the `telegram` logger would not see `telegram.ext.Updater`'s records (logger
    filters do not apply to records propagated from children), and a filter on one handler
    does not guard another (pytest's capture, a handler a library adds, one added later).
    The record factory makes every record, whoever emits it. Installing twice is harmless.
    """
    current = logging.getLogRecordFactory()
    if isinstance(current, _ScrubbingRecordFactory):
        return lambda: None
    factory = _ScrubbingRecordFactory(current)
    logging.setLogRecordFactory(factory)

    def undo() -> None:
        if logging.getLogRecordFactory() is factory:
            logging.setLogRecordFactory(current)

    return undo


class RedactingFilter(logging.Filter):
    """Defence in depth: replace known secrets wherever they would appear in a record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        redacted = message
        for secret in self._secrets:
            redacted = redacted.replace(secret, "***")
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(level: str, secrets: list[str] | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    # LibraryFilter first, so RedactingFilter sees what is left; the record factory has
    # already scrubbed library records: the handler filter only backs it up, should
    # something replace the factory later.
    handler.addFilter(LibraryFilter())
    handler.addFilter(RedactingFilter(secrets or []))
    install_library_filter()
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    quiet_libraries(level)


def quiet_libraries(level: str | int) -> dict[str, int]:
    """Hold chatty libraries at or above their floor; return their previous levels."""
    numeric = level if isinstance(level, int) else logging.getLevelName(level)
    previous = {}
    for name, floor in _QUIET.items():
        logger = logging.getLogger(name)
        previous[name] = logger.level
        logger.setLevel(max(floor, numeric))
    return previous
