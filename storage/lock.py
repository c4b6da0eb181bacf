"""One process at a time on a data directory, for the commands that need it alone.

The running bot holds an exclusive lock on `<data dir>/nabat.lock` for as long as it
runs, and so does `nabat rotate-key`: re-encrypting every value and then dropping the
old key beside a bot that still writes under that key would make the bot's newest rows
unreadable, and two bots on one database would page everyone twice. Commands that are
safe beside the bot (`invite`, `rota import`, `health`) take no lock.

The lock is flock(2) on an open file: the kernel releases it when the process ends,
however it ends, so a crash never leaves a stale lock behind. The file holds the
holder's pid and command, for the message; nothing secret.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

from bot.domain.errors import InUseError

LOCK_FILE = "nabat.lock"
# Held shared by every short command that writes encrypted values (invite, rota,
# migrate) and exclusively by rotate-key: a value written under a key that rotate-key
# is about to drop would be unreadable afterwards.
KEYS_LOCK_FILE = "nabat.keys.lock"


class DataDirLock:
    """Held from `acquire` until `release` (or the process ends)."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(
        cls, data_dir: Path, command: str, *, file: str = LOCK_FILE, shared: bool = False
    ) -> DataDirLock:
        """Take the lock for `command` or raise InUseError naming who holds it."""
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        path = data_dir / file
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            if shared:
                raise InUseError(
                    f"the key ring of {data_dir} is being rotated ({holder}); run "
                    f"`nabat {command}` again once `nabat rotate-key` has finished"
                ) from None
            raise InUseError(
                f"{data_dir} is in use by another nabat process ({holder}); "
                f"`nabat {command}` must not run beside it: stop that process first"
            ) from None
        except OSError:
            os.close(fd)
            raise
        if not shared:  # shared holders are many: none of them names itself
            os.ftruncate(fd, 0)
            os.write(fd, f"pid {os.getpid()}, nabat {command}\n".encode())
        return cls(path, fd)

    @classmethod
    def for_keys(cls, data_dir: Path, command: str, *, exclusive: bool = False) -> DataDirLock:
        """The key lock: shared by commands that write values, exclusive for rotate-key."""
        return cls.acquire(data_dir, command, file=KEYS_LOCK_FILE, shared=not exclusive)

    def __enter__(self) -> DataDirLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is None:
            return
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises while others hold it
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the descriptor releases the flock

    @property
    def held(self) -> bool:
        return self._fd is not None


def _read_holder(fd: int) -> str:
    try:
        text = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
    except OSError:
        text = ""
    return text or "pid unknown"
