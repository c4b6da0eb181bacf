"""Logging set up so that secrets and personal data stay out of it (DESIGN.md invariant 4)."""

from __future__ import annotations

import logging
import sys

# httpx logs every request URL at INFO, and a Bot API URL holds the token; PTB logs call
# parameters (message text) at DEBUG. Neither may reach the log whatever the level.
_QUIET = {
    "httpx": logging.WARNING,
    "httpcore": logging.WARNING,
    "telegram": logging.INFO,
    "apscheduler": logging.ERROR,
    "aiosqlite": logging.INFO,
}


_TRACEBACK_FREE = ("telegram", "httpx", "httpcore")


class RedactingFilter(logging.Filter):
    """Defence in depth: replace known secrets wherever they would appear in a record."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__()
        self._secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.name.startswith(_TRACEBACK_FREE):
            # python-telegram-bot logs a traceback for every failed network try; one line
            # naming the error says as much, and a loop of them would bury the log.
            exc = record.exc_info[1]
            record.msg = f"{record.getMessage()} ({type(exc).__name__}: {exc})"
            record.args, record.exc_info, record.exc_text = None, None, None
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
    handler.addFilter(RedactingFilter(secrets or []))
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
