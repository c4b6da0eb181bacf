"""The signed export file: canonical JSON, a manifest of every value, the signature, and
the check that names what changed.

A file is `{"document", "manifest", "signature", "public_key", "fingerprint"}`. The
document is what the export says (document.py). The manifest lists every leaf of the
document by its path (`timeline[3].at_utc`) with the SHA-256 of its canonical JSON, and
the SHA-256 of the whole document; the Ed25519 signature is over the manifest's
canonical bytes. Signing the manifest rather than the document alone is what lets
`nabat verify` say *which* value was edited, not only that something was: the signature
proves the manifest, and the manifest pins each value.

Canonical JSON: UTF-8, keys sorted, no insignificant whitespace, characters as they are
(`ensure_ascii=False`), no NaN or infinity; numbers as Python writes them (floats
round-trip exactly). The file itself may be laid out in any way: only canonical forms
are hashed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from storage.signing import fingerprint, public_key_bytes, sign, signature_matches

MANIFEST_FORMAT = "nabat-export-manifest"
MANIFEST_VERSION = 1
FILE_KEYS = frozenset({"document", "manifest", "signature", "public_key", "fingerprint"})
_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*", re.ASCII)


class UnreadableExport(ValueError):
    """The file is not JSON, or not a signed nabat export at all (`nabat verify` exits 2)."""


def canonical(value: Any) -> bytes:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def leaves(value: Any, path: str = "") -> dict[str, Any]:
    """Every leaf by path: `a.b`, `a[0]`, `a["odd key"]`. An empty object or list is a
    leaf itself, so that emptying one is seen."""
    if isinstance(value, dict) and value:
        out: dict[str, Any] = {}
        for key in sorted(value):
            if _PLAIN_KEY.fullmatch(key):
                joined = f"{path}.{key}" if path else key
            else:
                joined = f"{path}[{json.dumps(key, ensure_ascii=False)}]"
            out.update(leaves(value[key], joined))
        return out
    if isinstance(value, list) and value:
        out = {}
        for index, item in enumerate(value):
            out.update(leaves(item, f"{path}[{index}]"))
        return out
    return {path: value}


def manifest(document: dict[str, Any], *, signed_at: str, key_fingerprint: str) -> dict[str, Any]:
    return {
        "format": MANIFEST_FORMAT,
        "version": MANIFEST_VERSION,
        "algorithm": "sha256",
        "signed_at": signed_at,
        "fingerprint": key_fingerprint,
        "document_sha256": digest(document),
        "leaves": {path: digest(value) for path, value in leaves(document).items()},
    }


def sign_document(
    document: dict[str, Any], key: Ed25519PrivateKey, *, signed_at: str
) -> dict[str, Any]:
    """The signed file for `document` (a JSON value: dicts, lists, str, int, float, bool)."""
    public = public_key_bytes(key)
    printed = fingerprint(public)
    listed = manifest(document, signed_at=signed_at, key_fingerprint=printed)
    return {
        "document": document,
        "manifest": listed,
        "signature": base64.b64encode(sign(key, canonical(listed))).decode("ascii"),
        "public_key": base64.b64encode(public).decode("ascii"),
        "fingerprint": printed,
    }


def file_bytes(signed: dict[str, Any]) -> bytes:
    """The file as written: indented for a person to read, in UTF-8 as it is."""
    return (json.dumps(signed, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode()


@dataclass(frozen=True)
class Verdict:
    """What `verify` found. `valid` only when the signature matches and every value is
    as signed; otherwise `problems` says why, and the paths name what changed."""

    fingerprint: str
    signed_at: str
    signature_ok: bool
    changed: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return self.signature_ok and not (self.changed or self.missing or self.added)


def read(data: bytes) -> dict[str, Any]:
    """The signed file, parsed; UnreadableExport if it is not one."""
    try:
        parsed = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise UnreadableExport("not a JSON file") from None
    if not isinstance(parsed, dict) or not parsed.keys() >= FILE_KEYS:
        raise UnreadableExport(
            "not a signed nabat export: expected document, manifest, signature, public_key"
        )
    listed = parsed["manifest"]
    if (
        not isinstance(listed, dict)
        or listed.get("format") != MANIFEST_FORMAT
        or not isinstance(listed.get("leaves"), dict)
    ):
        raise UnreadableExport("its manifest is not a nabat export manifest")
    return parsed


def verify(signed: dict[str, Any]) -> Verdict:
    """Check the signature over the manifest, then every value of the document against it."""
    listed = signed["manifest"]
    problems: list[str] = []
    try:
        public = base64.b64decode(str(signed["public_key"]), validate=True)
        signature = base64.b64decode(str(signed["signature"]), validate=True)
    except (binascii.Error, ValueError):
        public, signature = b"", b""
    ok = signature_matches(public, signature, canonical(listed))
    printed = fingerprint(public) if public else "?"
    if not ok:
        problems.append("the signature does not match: the file was altered")
    if printed != listed.get("fingerprint") or printed != signed.get("fingerprint"):
        ok = False
        problems.append("the public key is not the one the file names")
    now = {path: digest(value) for path, value in leaves(signed["document"]).items()}
    then: dict[str, Any] = listed["leaves"]
    changed = sorted(p for p in now.keys() & then.keys() if now[p] != then[p])
    missing = sorted(then.keys() - now.keys())
    added = sorted(now.keys() - then.keys())
    if digest(signed["document"]) != listed.get("document_sha256") and not (
        changed or missing or added
    ):
        problems.append("the document's digest differs from the signed one")
        ok = False
    return Verdict(
        fingerprint=printed,
        signed_at=str(listed.get("signed_at", "?")),
        signature_ok=ok,
        changed=changed,
        missing=missing,
        added=added,
        problems=problems,
    )
