"""Field encryption (AES-256-GCM) and blind indexes (HMAC-SHA256) for values at rest.

Every value that identifies or describes a person is stored as

    version (1 byte, 0x01) | key id (4 bytes, big-endian) | nonce (12) | ciphertext+tag

with a fresh random nonce, and with associated data that binds it to its table, column
and row: a ciphertext copied into another row, column or table fails to authenticate
instead of silently showing one person's data as another's. The 5-byte header is part
of the associated data too, so it cannot be edited to point at another key or format.

Telegram ids are encrypted like everything else, so they cannot be looked up by value;
a blind index (a keyed HMAC of the id) is stored beside them for lookups. Without the
index key a copied database does not reveal who is enrolled.

Errors never carry plaintext or key material: UnknownKeyError names the key id,
TamperedValueError names the table and column.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.domain.errors import CryptoError, TamperedValueError, UnknownKeyError
from storage.keyring import KeyRing

FORMAT_VERSION = 1
_HEADER = struct.Struct(">BI")
NONCE_BYTES = 12
TAG_BYTES = 16
_MIN_BLOB = _HEADER.size + NONCE_BYTES + TAG_BYTES

# Domain-separation labels: a value's associated data or an index's input can never be
# mistaken for another kind of input, even if a later format reuses the same keys.
_AD_LABEL = b"nabat/field/v1"
_INDEX_LABEL = b"nabat/blind-index/v1"


class FieldCipher:
    """Encrypts and decrypts column values under a KeyRing, and computes blind indexes.

    The cipher is immutable: after a rotation, build a new FieldCipher from the new ring.
    """

    def __init__(self, ring: KeyRing) -> None:
        self._ring = ring
        self._aeads = {key_id: AESGCM(key) for key_id, key in ring.keys.items()}

    def __repr__(self) -> str:
        return f"FieldCipher({self._ring!r})"

    @property
    def ring(self) -> KeyRing:
        return self._ring

    def encrypt(
        self, plaintext: bytes | str, *, table: str, column: str, row_id: int | str
    ) -> bytes:
        """Encrypt under the current key, bound to (table, column, row_id)."""
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        header = _HEADER.pack(FORMAT_VERSION, self._ring.current_id)
        nonce = os.urandom(NONCE_BYTES)
        aad = _associated_data(header, table, column, row_id)
        return header + nonce + self._aeads[self._ring.current_id].encrypt(nonce, data, aad)

    def decrypt(self, blob: bytes, *, table: str, column: str, row_id: int | str) -> bytes:
        """The plaintext bytes, if `blob` was written for exactly this table, column and row."""
        key_id = self.key_id_of(blob)
        aead = self._aeads.get(key_id)
        if aead is None:
            raise UnknownKeyError(
                f"{table}.{column} was encrypted under key {key_id}, which the key ring "
                f"does not hold (it holds {', '.join(map(str, sorted(self._aeads)))}); "
                "restore the key ring that has it"
            )
        header = blob[: _HEADER.size]
        nonce = blob[_HEADER.size : _HEADER.size + NONCE_BYTES]
        body = blob[_HEADER.size + NONCE_BYTES :]
        try:
            return aead.decrypt(nonce, body, _associated_data(header, table, column, row_id))
        except InvalidTag:
            raise TamperedValueError(
                f"{table}.{column} failed authentication: the value was altered, truncated, "
                "or moved from another row, column or table"
            ) from None

    def decrypt_str(self, blob: bytes, *, table: str, column: str, row_id: int | str) -> str:
        data = self.decrypt(blob, table=table, column=column, row_id=row_id)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            # The decode error quotes the offending bytes, which are plaintext.
            raise CryptoError(f"{table}.{column} holds bytes, not UTF-8 text") from None

    def encrypt_int(self, value: int, *, table: str, column: str, row_id: int | str) -> bytes:
        """Encrypt a whole number (a Telegram id) as its decimal text."""
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError(f"encrypt_int needs an int, got {type(value).__name__}")
        return self.encrypt(str(value), table=table, column=column, row_id=row_id)

    def decrypt_int(self, blob: bytes, *, table: str, column: str, row_id: int | str) -> int:
        text = self.decrypt_str(blob, table=table, column=column, row_id=row_id)
        body = text[1:] if text.startswith("-") else text
        if not (body.isascii() and body.isdigit()):
            raise CryptoError(f"{table}.{column} does not hold a whole number")
        return int(text)

    def key_id_of(self, blob: bytes) -> int:
        """The id of the key `blob` was written under; TamperedValueError if malformed."""
        if not isinstance(blob, bytes | bytearray | memoryview):
            raise TamperedValueError(
                f"expected an encrypted value (bytes), got {type(blob).__name__}"
            )
        if len(blob) < _MIN_BLOB:
            raise TamperedValueError(
                f"encrypted value is {len(blob)} bytes, shorter than the {_MIN_BLOB}-byte "
                "minimum: truncated or not encrypted"
            )
        version, key_id = _HEADER.unpack_from(blob)
        if version != FORMAT_VERSION:
            raise TamperedValueError(
                f"encrypted value has format version {version}; this nabat reads "
                f"version {FORMAT_VERSION}"
            )
        return int(key_id)

    def is_current(self, blob: bytes) -> bool:
        """Was `blob` written under the ring's current key? (Rotation skips those.)"""
        return self.key_id_of(blob) == self._ring.current_id

    def reencrypt(self, blob: bytes, *, table: str, column: str, row_id: int | str) -> bytes:
        """Decrypt under whichever key wrote `blob`, encrypt again under the current key."""
        plaintext = self.decrypt(blob, table=table, column=column, row_id=row_id)
        return self.encrypt(plaintext, table=table, column=column, row_id=row_id)

    def blind_index(self, value: str | int, *, purpose: str) -> bytes:
        """A 32-byte HMAC-SHA256 of `value` under the ring's index key, for equality lookups.

        `purpose` (e.g. "telegram_user") separates domains, so the index of one id as a
        user never equals its index as a chat. An int and its decimal string index the
        same. The index key does not rotate with `rotate-key`: every stored index was
        computed under it, and changing it would mean rebuilding all of them.
        """
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise TypeError(f"blind_index needs a str or int, got {type(value).__name__}")
        if not purpose:
            raise ValueError("blind_index needs a purpose, e.g. 'telegram_user'")
        message = _INDEX_LABEL + _length_prefixed(purpose) + _length_prefixed(str(value))
        return hmac.new(self._ring.index_key, message, hashlib.sha256).digest()


def _associated_data(header: bytes, table: str, column: str, row_id: int | str) -> bytes:
    # Length prefixes make the encoding unambiguous: ("ab", "c") never equals ("a", "bc").
    if isinstance(row_id, bool) or not isinstance(row_id, int | str):
        raise TypeError(f"row_id must be an int or str, got {type(row_id).__name__}")
    return (
        _AD_LABEL
        + header
        + _length_prefixed(table)
        + _length_prefixed(column)
        + _length_prefixed(str(row_id))
    )


def _length_prefixed(text: str) -> bytes:
    data = text.encode("utf-8")
    return struct.pack(">I", len(data)) + data
