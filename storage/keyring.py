"""The key ring: which keys encrypt fields, which key indexes them, and where they live.

A ring holds one *current* AES-256 key for writing, older keys kept only for reading
values written before a rotation, and one separate HMAC key for blind indexes.
Keys never live in the database: they come from NABAT_KEYS (the ring's JSON itself),
from the file NABAT_KEYS_FILE names, or from a default file outside the data
directory that is created on first start. Losing the ring loses the data; that is
the point (crypto-shredding), so nothing here ever overwrites a ring file by accident.

No message raised here contains key material: a KeyRingError says what is wrong
and how to fix it, and names the file or variable, never the bytes.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from bot.domain.errors import KeyRingError

KEY_BYTES = 32
# Key ids are stored in four bytes in every ciphertext's header.
MAX_KEY_ID = 2**32 - 1
FORMAT_NAME = "nabat-keyring"
FORMAT_VERSION = 1


@dataclass(frozen=True, repr=False)
class KeyRing:
    """Encryption keys by id, the id of the one used for writing, and the index key.

    `index_key` keys the blind indexes (HMAC-SHA256) and deliberately does not change
    on rotation: every stored index was computed under it, so rotating it would mean
    decrypting every indexed value and rebuilding every index at once.
    """

    keys: Mapping[int, bytes]
    current_id: int
    index_key: bytes

    def __post_init__(self) -> None:
        # A read-only copy, so a ring handed around cannot be changed behind a cipher's back.
        object.__setattr__(self, "keys", MappingProxyType(dict(self.keys)))
        if not self.keys:
            raise KeyRingError("the key ring holds no keys; generate one with `nabat keygen`")
        for key_id, key in self.keys.items():
            _check_key_id(key_id)
            if not isinstance(key, bytes) or len(key) != KEY_BYTES:
                raise KeyRingError(f"key {key_id} must be {KEY_BYTES} bytes")
        if isinstance(self.current_id, bool) or self.current_id not in self.keys:
            raise KeyRingError(
                f"current key {self.current_id} is not in keys "
                f"(the ring holds {_id_list(self.keys)}); set current to one of them"
            )
        if not isinstance(self.index_key, bytes) or len(self.index_key) != KEY_BYTES:
            raise KeyRingError(f"the index key must be {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return f"KeyRing(key_ids={sorted(self.keys)}, current_id={self.current_id}, index_key=***)"

    @property
    def current_key(self) -> bytes:
        return self.keys[self.current_id]

    @classmethod
    def generate(cls) -> KeyRing:
        """A new ring with one random key (id 1) and a random index key."""
        return cls(
            keys={1: secrets.token_bytes(KEY_BYTES)},
            current_id=1,
            index_key=secrets.token_bytes(KEY_BYTES),
        )

    def rotated(self) -> KeyRing:
        """A ring whose new random key (id max+1) is current; old keys stay for reading."""
        new_id = max(self.keys) + 1
        if new_id > MAX_KEY_ID:
            raise KeyRingError(f"cannot rotate: key ids are limited to {MAX_KEY_ID}")
        keys = dict(self.keys)
        keys[new_id] = secrets.token_bytes(KEY_BYTES)
        return KeyRing(keys=keys, current_id=new_id, index_key=self.index_key)

    def without_old_keys(self) -> KeyRing:
        """Only the current key: do this after `rotate-key` re-encrypted everything.

        Values still under a dropped key become unreadable (UnknownKeyError).
        """
        return KeyRing(
            keys={self.current_id: self.current_key},
            current_id=self.current_id,
            index_key=self.index_key,
        )

    def to_json(self) -> str:
        document = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "current": self.current_id,
            "keys": {str(k): _b64(v) for k, v in sorted(self.keys.items())},
            "index_key": _b64(self.index_key),
        }
        return json.dumps(document, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        """Parse and validate a ring; KeyRingError says what is wrong, never what the keys are."""
        try:
            document = json.loads(text)
        except (json.JSONDecodeError, TypeError, ValueError):
            # The decoder's message quotes the document, which holds keys: drop it.
            raise KeyRingError(
                "not JSON; expected the key ring written by `nabat keygen`, like "
                '{"format": "nabat-keyring", "version": 1, "current": 1, '
                '"keys": {"1": "<base64>"}, "index_key": "<base64>"}'
            ) from None
        if not isinstance(document, dict):
            raise KeyRingError("expected a JSON object with format, version, current, keys")
        if document.get("format") != FORMAT_NAME:
            raise KeyRingError(f'"format" must be "{FORMAT_NAME}"; is this a nabat key ring?')
        version = document.get("version")
        if version != FORMAT_VERSION or isinstance(version, bool):
            raise KeyRingError(
                f'"version" must be {FORMAT_VERSION}; a newer nabat may have written this ring'
            )
        unknown = sorted(set(document) - {"format", "version", "current", "keys", "index_key"})
        if unknown:
            raise KeyRingError(
                f"unknown field(s) {', '.join(map(repr, unknown))}; "
                "expected format, version, current, keys, index_key"
            )

        raw_keys = document.get("keys")
        if not isinstance(raw_keys, dict) or not raw_keys:
            raise KeyRingError('"keys" must be a non-empty object of key id -> base64 key')
        keys: dict[int, bytes] = {}
        for name, encoded in raw_keys.items():
            # Only canonical decimal ids, so "1" and "01" cannot name two keys.
            if not (name.isascii() and name.isdigit() and str(int(name)) == name):
                raise KeyRingError(f'key id {name!r} must be a positive whole number like "1"')
            key_id = int(name)
            _check_key_id(key_id)
            keys[key_id] = _unb64(encoded, what=f"key {key_id}")

        current = document.get("current")
        if not isinstance(current, int) or isinstance(current, bool):
            raise KeyRingError('"current" must be the id (a number) of the key used for writing')
        if current not in keys:
            raise KeyRingError(
                f"current key {current} is not in keys (the ring holds {_id_list(keys)}); "
                "set current to one of them or restore the missing key"
            )
        if "index_key" not in document:
            raise KeyRingError('"index_key" is missing; it must be 32 bytes of base64')
        index_key = _unb64(document["index_key"], what="index_key")
        return cls(keys=keys, current_id=current, index_key=index_key)


@dataclass(frozen=True)
class LoadedKeyRing:
    """What `load_key_ring` found.

    `path` is the file the ring came from (None for NABAT_KEYS); `created` says the
    ring was generated just now; `too_open` says group or others may read the file.
    The caller logs a warning for either flag; this module does not log.
    """

    ring: KeyRing
    path: Path | None
    created: bool
    too_open: bool


def write_key_ring_file(path: Path, ring: KeyRing, *, overwrite: bool = False) -> None:
    """Write `ring` to `path` with mode 0600, atomically.

    Refuses to replace an existing file unless `overwrite`: that file may hold the only
    copy of the keys that the database needs.
    """
    try:
        _write_atomically(path, ring.to_json().encode("utf-8"), overwrite=overwrite)
    except FileExistsError:
        raise KeyRingError(
            f"{path} already exists; refusing to overwrite a key ring (it may hold the only "
            "keys that can read the database). Move it away first, or overwrite it on purpose "
            "with --force."
        ) from None
    except OSError as exc:
        raise KeyRingError(f"cannot write key ring file {path}: {exc.strerror}") from None


def load_key_ring(
    *,
    keys_json: str | None,
    keys_file: Path | None,
    default_file: Path,
    may_create: bool = True,
    refusal: str = "",
) -> LoadedKeyRing:
    """Find the key ring: NABAT_KEYS, else NABAT_KEYS_FILE, else `default_file`.

    A missing default file is created with a fresh ring (parent directories too), but
    only when `may_create` (the database holds nothing yet); otherwise KeyRingError,
    with `refusal` saying why. A missing NABAT_KEYS_FILE is always an error, since
    generating keys there would hide a typo and start a second set of keys.
    """
    if keys_json is not None:
        try:
            ring = KeyRing.from_json(keys_json)
        except KeyRingError as exc:
            raise KeyRingError(f"NABAT_KEYS: {exc}") from None
        return LoadedKeyRing(ring=ring, path=None, created=False, too_open=False)

    if keys_file is not None:
        if not keys_file.exists():
            raise KeyRingError(
                f"NABAT_KEYS_FILE: {keys_file} does not exist; point NABAT_KEYS_FILE at the "
                "key ring file, or create one with `nabat keygen`"
            )
        return _load_file(keys_file, setting="NABAT_KEYS_FILE")

    if default_file.exists():
        return _load_file(default_file, setting="the default key ring file")
    if not may_create:
        raise KeyRingError(
            f"there is no key ring at {default_file.resolve()} (the default; "
            f"NABAT_KEYS_FILE is not set){refusal}: restore the key ring file from your "
            "backup there, or point NABAT_KEYS_FILE at it. A new ring cannot read this "
            "data, so none is made."
        )

    ring = KeyRing.generate()
    try:
        default_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        _write_atomically(default_file, ring.to_json().encode("utf-8"), overwrite=False)
    except FileExistsError:
        # Another process created it between our check and our write: use theirs.
        return _load_file(default_file, setting="the default key ring file")
    except OSError as exc:
        raise KeyRingError(
            f"cannot create key ring file {default_file}: {exc.strerror}; "
            "set NABAT_KEYS_FILE to a writable place"
        ) from None
    return LoadedKeyRing(ring=ring, path=default_file, created=True, too_open=False)


def _load_file(path: Path, *, setting: str) -> LoadedKeyRing:
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise KeyRingError(f"{setting}: cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise KeyRingError(f"{setting}: {path} is not UTF-8 text; is it a key ring?") from None
    try:
        ring = KeyRing.from_json(text)
    except KeyRingError as exc:
        raise KeyRingError(f"{setting}: {path}: {exc}") from None
    too_open = bool(stat.S_IMODE(mode) & 0o077)
    return LoadedKeyRing(ring=ring, path=path, created=False, too_open=too_open)


def _write_atomically(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write to a 0600 temp file beside `path`, fsync, then move it into place.

    Raises FileExistsError when `path` exists and not `overwrite`.
    """
    if not overwrite and path.exists():
        raise FileExistsError(path)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            # os.open's mode is filtered by the umask; make sure it is exactly 0600.
            os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        if overwrite:
            os.replace(tmp, path)
        else:
            # link() fails if `path` appeared meanwhile, where replace() would clobber it.
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise
            except OSError:
                # Some filesystems cannot hard-link; fall back to check-then-replace.
                if path.exists():
                    raise FileExistsError(path) from None
                os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def _fsync_dir(directory: Path) -> None:
    # Makes the rename itself durable; not every platform can open a directory.
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _check_key_id(key_id: int) -> None:
    if not isinstance(key_id, int) or isinstance(key_id, bool) or not 1 <= key_id <= MAX_KEY_ID:
        raise KeyRingError(f"key ids must be whole numbers from 1 to {MAX_KEY_ID}")


def _id_list(keys: Mapping[int, bytes]) -> str:
    return ", ".join(str(k) for k in sorted(keys))


def _b64(key: bytes) -> str:
    return base64.b64encode(key).decode("ascii")


def _unb64(encoded: object, *, what: str) -> bytes:
    problem = f"{what} must be {KEY_BYTES} bytes of base64"
    if not isinstance(encoded, str):
        raise KeyRingError(problem)
    try:
        key = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise KeyRingError(problem) from None
    if len(key) != KEY_BYTES:
        raise KeyRingError(problem)
    return key
