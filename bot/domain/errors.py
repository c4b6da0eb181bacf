"""Every exception nabat raises on purpose, in one tree.

    NabatError                      base: anything nabat raises deliberately
    ├── SettingsError               a setting is missing or malformed; names the setting
    ├── CryptoError                 a stored value cannot be decrypted
    │   ├── UnknownKeyError         its key id is not in the key ring
    │   └── TamperedValueError      authentication failed: altered, truncated or moved
    ├── KeyRingError                the key ring itself is malformed or unreadable
    ├── StorageError                the database cannot be used
    │   ├── MigrationError          a migration failed or the schema is newer than this code
    │   └── InUseError              another nabat process holds the data directory's lock
    ├── DomainError                 a user asked for something the rules forbid; its message
    │   │                           is a catalogue key safe to show that user
    │   ├── NotAllowed              the actor's role does not permit the action
    │   ├── NotFound                the object does not exist (or the actor may not know it)
    │   └── InvalidInput            the request was malformed; says what was expected
    └── DeliveryError               Telegram refused or failed a call; `permanent` says
                                    whether retrying can help (400/403 no; 429/5xx/network yes)

This module imports nothing from nabat so that storage/ and config/ can use it without
depending on the rest of bot/.
"""

from __future__ import annotations


class NabatError(Exception):
    """Base class of every exception nabat raises deliberately."""


class SettingsError(NabatError):
    """A setting is missing or malformed. `setting` names it; the message never holds a secret."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting
        self.problem = problem


class CryptoError(NabatError):
    """A stored value cannot be decrypted."""


class UnknownKeyError(CryptoError):
    """The value was written under a key id that the key ring does not hold."""


class TamperedValueError(CryptoError):
    """Authentication failed: the value was altered, truncated, or moved to another row."""


class KeyRingError(NabatError):
    """The key ring is malformed, unreadable, or lacks its current key."""


class StorageError(NabatError):
    """The database cannot be opened or used."""


class MigrationError(StorageError):
    """A migration failed, or the database's schema is newer than this code knows."""


class InUseError(StorageError):
    """Another nabat process (the running bot, or rotate-key) holds the data directory."""


class DomainError(NabatError):
    """A request the rules forbid. `key` is a message-catalogue key, safe to show the actor."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class NotAllowed(DomainError):
    """The actor's role does not permit this action on this object."""


class NotFound(DomainError):
    """The object does not exist, or the actor is not allowed to learn that it does."""


class InvalidInput(DomainError):
    """The request was malformed; the catalogue message says what was expected."""


class DeliveryError(NabatError):
    """Telegram refused or failed a call.

    `permanent` is True when retrying cannot help (400 Bad Request, 403 Forbidden);
    `blocked` when the person cannot be reached at all (403: blocked the bot, left);
    `retry_after` carries Telegram's flood-wait in seconds when it gave one. The Telegram
    seam (bot/delivery/telegram.py) is the one place that decides each.
    """

    def __init__(
        self,
        reason: str,
        *,
        permanent: bool,
        retry_after: float | None = None,
        blocked: bool = False,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.retry_after = retry_after
        self.blocked = blocked
