from __future__ import annotations

from typing import Any

import pytest

from bot.domain.errors import CryptoError, TamperedValueError, UnknownKeyError
from storage.crypto import FieldCipher
from storage.keyring import KeyRing

WHERE: dict[str, Any] = {"table": "alerts", "column": "body", "row_id": 7}
SECRET = "They took Anna from the bus station"


@pytest.fixture
def ring() -> KeyRing:
    return KeyRing.generate()


@pytest.fixture
def cipher(ring: KeyRing) -> FieldCipher:
    return FieldCipher(ring)


def flipped(blob: bytes, index: int) -> bytes:
    changed = bytearray(blob)
    changed[index] ^= 0x01
    return bytes(changed)


def test_a_value_round_trips(cipher):
    blob = cipher.encrypt(SECRET, **WHERE)
    assert cipher.decrypt_str(blob, **WHERE) == SECRET
    assert cipher.decrypt(blob, **WHERE) == SECRET.encode()


def test_bytes_round_trip_unchanged(cipher):
    data = bytes(range(256))
    assert cipher.decrypt(cipher.encrypt(data, **WHERE), **WHERE) == data


def test_telegram_ids_round_trip_as_integers(cipher):
    for telegram_id in (5_123_456_789, -1001234567890, 0):
        blob = cipher.encrypt_int(telegram_id, table="people", column="telegram_id", row_id=3)
        assert cipher.decrypt_int(blob, table="people", column="telegram_id", row_id=3) == (
            telegram_id
        )


def test_the_stored_value_does_not_contain_the_plaintext(cipher):
    blob = cipher.encrypt(SECRET, **WHERE)
    assert SECRET.encode() not in blob
    assert b"5123456789" not in cipher.encrypt_int(5123456789, **WHERE)


def test_the_stored_format_is_version_key_id_nonce_then_ciphertext_and_tag(cipher, ring):
    blob = cipher.encrypt(b"abc", **WHERE)
    assert blob[0] == 0x01
    assert int.from_bytes(blob[1:5], "big") == ring.current_id
    assert len(blob) == 1 + 4 + 12 + 3 + 16


def test_two_encryptions_of_the_same_value_differ(cipher):
    first = cipher.encrypt(SECRET, **WHERE)
    second = cipher.encrypt(SECRET, **WHERE)
    assert first != second
    assert first[5:17] != second[5:17]  # fresh nonce each time


@pytest.mark.parametrize(
    ("part", "index"),
    [("version", 0), ("key id", 4), ("nonce", 5), ("nonce end", 16), ("body", 17), ("tag", -1)],
)
def test_a_flipped_byte_anywhere_is_detected(cipher, part, index):
    blob = cipher.encrypt(SECRET, **WHERE)
    with pytest.raises((TamperedValueError, UnknownKeyError)) as caught:
        cipher.decrypt(flipped(blob, index), **WHERE)
    if part != "key id":  # a changed key id names a key the ring lacks
        assert caught.type is TamperedValueError


@pytest.mark.parametrize("keep", [0, 4, 17, 32, -1])
def test_a_truncated_value_is_rejected_as_tampered(cipher, keep):
    blob = cipher.encrypt(SECRET, **WHERE)
    with pytest.raises(TamperedValueError):
        cipher.decrypt(blob[:keep], **WHERE)


def test_an_unknown_format_version_is_rejected_as_tampered(cipher):
    blob = cipher.encrypt(SECRET, **WHERE)
    with pytest.raises(TamperedValueError, match="version 2"):
        cipher.decrypt(b"\x02" + blob[1:], **WHERE)


@pytest.mark.parametrize(
    "elsewhere",
    [
        {"table": "alerts", "column": "body", "row_id": 8},
        {"table": "alerts", "column": "note", "row_id": 7},
        {"table": "checkins", "column": "body", "row_id": 7},
        # Without length prefixes these would encode exactly like the original.
        {"table": "alertsb", "column": "ody", "row_id": 7},
        {"table": "alerts", "column": "body7", "row_id": ""},
    ],
)
def test_a_value_moved_to_another_row_column_or_table_fails(cipher, elsewhere):
    blob = cipher.encrypt(SECRET, **WHERE)
    with pytest.raises(TamperedValueError) as caught:
        cipher.decrypt(blob, **elsewhere)
    assert SECRET not in str(caught.value)


def test_row_ids_as_int_or_text_are_the_same_row(cipher):
    blob = cipher.encrypt(SECRET, table="alerts", column="body", row_id=7)
    assert cipher.decrypt_str(blob, table="alerts", column="body", row_id="7") == SECRET


def test_a_value_under_an_unknown_key_names_the_key_id(ring):
    other = FieldCipher(KeyRing.generate().rotated().rotated())  # current key id 3
    blob = other.encrypt(SECRET, **WHERE)
    with pytest.raises(UnknownKeyError, match=r"\bkey 3\b") as caught:
        FieldCipher(ring).decrypt(blob, **WHERE)
    assert SECRET not in str(caught.value)


def test_error_messages_never_contain_key_material(ring, cipher):
    blob = cipher.encrypt(SECRET, **WHERE)
    for bad in (flipped(blob, 20), blob[:10]):
        with pytest.raises(CryptoError) as caught:
            cipher.decrypt(bad, **WHERE)
        message = str(caught.value)
        assert ring.current_key.hex() not in message
        assert SECRET not in message


def test_old_values_still_decrypt_after_rotation(ring):
    old_cipher = FieldCipher(ring)
    blob = old_cipher.encrypt(SECRET, **WHERE)
    new_cipher = FieldCipher(ring.rotated())
    assert new_cipher.decrypt_str(blob, **WHERE) == SECRET
    assert not new_cipher.is_current(blob)
    assert old_cipher.is_current(blob)


def test_reencrypt_moves_a_value_to_the_current_key(ring):
    blob = FieldCipher(ring).encrypt(SECRET, **WHERE)
    rotated = ring.rotated()
    cipher = FieldCipher(rotated)
    moved = cipher.reencrypt(blob, **WHERE)
    assert cipher.key_id_of(moved) == rotated.current_id == 2
    assert cipher.is_current(moved)
    assert cipher.decrypt_str(moved, **WHERE) == SECRET


def test_after_dropping_old_keys_only_reencrypted_values_decrypt(ring):
    blob = FieldCipher(ring).encrypt(SECRET, **WHERE)
    rotated = ring.rotated()
    moved = FieldCipher(rotated).reencrypt(blob, **WHERE)
    trimmed = FieldCipher(rotated.without_old_keys())
    assert trimmed.decrypt_str(moved, **WHERE) == SECRET
    with pytest.raises(UnknownKeyError, match=r"\bkey 1\b"):
        trimmed.decrypt(blob, **WHERE)


def test_reencrypt_still_checks_where_the_value_belongs(ring):
    blob = FieldCipher(ring).encrypt(SECRET, **WHERE)
    with pytest.raises(TamperedValueError):
        FieldCipher(ring.rotated()).reencrypt(blob, table="alerts", column="body", row_id=8)


def test_key_id_of_rejects_a_malformed_value(cipher):
    with pytest.raises(TamperedValueError):
        cipher.key_id_of(b"not encrypted")
    with pytest.raises(TamperedValueError):
        cipher.is_current(b"")


def test_blind_index_is_deterministic_and_32_bytes(cipher):
    first = cipher.blind_index(5123456789, purpose="telegram_user")
    assert first == cipher.blind_index(5123456789, purpose="telegram_user")
    assert first == cipher.blind_index("5123456789", purpose="telegram_user")
    assert len(first) == 32
    assert first != cipher.blind_index(5123456780, purpose="telegram_user")


def test_blind_index_differs_per_purpose(cipher):
    assert cipher.blind_index(42, purpose="telegram_user") != cipher.blind_index(
        42, purpose="telegram_chat"
    )


def test_blind_index_differs_per_index_key():
    value = 5123456789
    assert FieldCipher(KeyRing.generate()).blind_index(
        value, purpose="telegram_user"
    ) != FieldCipher(KeyRing.generate()).blind_index(value, purpose="telegram_user")


def test_blind_index_is_unchanged_by_rotation(ring):
    before = FieldCipher(ring).blind_index(5123456789, purpose="telegram_user")
    after_rotation = FieldCipher(ring.rotated().rotated().without_old_keys())
    assert after_rotation.blind_index(5123456789, purpose="telegram_user") == before


def test_decrypt_str_of_non_text_bytes_does_not_leak_them(cipher):
    blob = cipher.encrypt(b"\xff\xfesecret", **WHERE)
    with pytest.raises(CryptoError) as caught:
        cipher.decrypt_str(blob, **WHERE)
    assert "secret" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_the_cipher_repr_shows_no_keys(ring, cipher):
    assert ring.current_key.hex() not in repr(cipher)
    assert str(ring.current_key) not in repr(cipher)
