"""The key that signs exports: Ed25519, derived from the key ring's index key.

Why derived, and why from the index key. An export must be signed with "a key in the
key ring", and every ring already in use must be able to sign without a new format or
a migration. So the Ed25519 private key is not stored anywhere: its 32-byte seed is
HKDF-SHA256(index_key, info="nabat/export-signing/v1"), computed when needed. The index
key is the one key of the ring that never rotates (storage/keyring.py): `rotate-key`
therefore leaves the signing key, and its fingerprint, unchanged, and an export signed
last year still verifies as "signed by this bot" today. HKDF with its own `info` keeps
the signing key independent of the blind indexes computed under the same key (knowing
one tells nothing about the other), and a new `info` (v2) gives a new key if ever needed.

What follows: whoever holds the key ring can sign as the bot, exactly as they can read
everything it stores; losing the ring loses the ability to sign, not the ability to
verify (a verifier needs only the public key, which every export carries, and its
fingerprint, which the operator can publish).
"""

from __future__ import annotations

import hashlib

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.keyring import KeyRing

INFO = b"nabat/export-signing/v1"
PUBLIC_KEY_BYTES = 32


def signing_key(ring: KeyRing) -> Ed25519PrivateKey:
    """The ring's export signing key (the same for every ring with this index key)."""
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=INFO).derive(ring.index_key)
    return Ed25519PrivateKey.from_private_bytes(seed)


def public_key_bytes(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    """The raw 32-byte public key."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def fingerprint(public: bytes) -> str:
    """What a person compares: the first 16 bytes of SHA-256 of the raw public key, as hex
    in groups of four ('3f2a 9c01 ...', eight groups)."""
    digest = hashlib.sha256(public).hexdigest()[:32]
    return " ".join(digest[i : i + 4] for i in range(0, 32, 4))


def sign(key: Ed25519PrivateKey, data: bytes) -> bytes:
    return key.sign(data)


def signature_matches(public: bytes, signature: bytes, data: bytes) -> bool:
    """True if `signature` is the Ed25519 signature of `data` by `public`; False for a
    bad signature or a malformed key."""
    if len(public) != PUBLIC_KEY_BYTES:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True
