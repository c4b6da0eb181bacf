"""The signed export format: canonical JSON, the manifest of every value, the signature,
and a verification that names what changed."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.services.export.signed import (
    UnreadableExport,
    canonical,
    file_bytes,
    leaves,
    read,
    sign_document,
    verify,
)
from storage.keyring import KeyRing
from storage.signing import fingerprint, public_key_bytes, signing_key

RING = KeyRing(keys={1: b"k" * 32}, current_id=1, index_key=b"i" * 32)
KEY = signing_key(RING)
DOCUMENT = {
    "alert": {"id": 12, "kind": "panic"},
    "contact": {"pseudonym": "Ким Сон Хи", "time_zone": "Europe/Moscow"},
    "case_file": {"name_korean": "김성희", "documents": []},
    "timeline": [
        {"n": 1, "at_utc": "2026-03-01T03:12:07Z", "text": "Полиция у двери"},
        {"n": 2, "at_utc": "2026-03-01T03:12:09Z", "location": {"lat": 55.7558, "lon": 37.6173}},
    ],
}


def signed() -> dict[str, Any]:
    record: dict[str, Any] = json.loads(
        file_bytes(sign_document(DOCUMENT, KEY, signed_at="2026-03-01T04:00:00Z"))
    )
    return record


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_characters_as_they_are() -> None:
    assert canonical({"b": [1, 2.5, None], "a": "김 и"}) == '{"a":"김 и","b":[1,2.5,null]}'.encode()
    with pytest.raises(ValueError):
        canonical({"x": float("nan")})


def test_every_leaf_is_listed_by_its_path_and_empty_containers_count_as_leaves() -> None:
    value = {"a": {"b": [1, {"c": None}]}, "e": [], "f": {}, "odd key": True}
    assert leaves(value) == {
        "a.b[0]": 1,
        "a.b[1].c": None,
        "e": [],
        "f": {},
        '["odd key"]': True,
    }


def test_the_signing_key_comes_from_the_index_key_and_survives_rotation() -> None:
    public = public_key_bytes(KEY)
    assert public_key_bytes(signing_key(RING.rotated())) == public
    assert public_key_bytes(signing_key(KeyRing.generate())) != public
    assert re.fullmatch(r"([0-9a-f]{4} ){7}[0-9a-f]{4}", fingerprint(public))


def test_a_signed_file_verifies_after_a_round_trip_through_its_bytes() -> None:
    verdict = verify(read(file_bytes(signed())))
    assert verdict.valid and verdict.problems == []
    assert verdict.fingerprint == fingerprint(public_key_bytes(KEY))
    assert verdict.signed_at == "2026-03-01T04:00:00Z"


def test_an_edited_value_is_named_by_its_path_while_the_signature_still_holds() -> None:
    record = signed()
    record["document"]["timeline"][0]["at_utc"] = "2026-03-01T03:02:07Z"
    verdict = verify(record)
    assert not verdict.valid and verdict.signature_ok
    assert (verdict.changed, verdict.missing, verdict.added) == (["timeline[0].at_utc"], [], [])


def test_removed_and_added_values_are_named_too() -> None:
    record = signed()
    del record["document"]["timeline"][1]["location"]
    record["document"]["alert"]["note"] = "added later"
    verdict = verify(record)
    assert verdict.missing == ["timeline[1].location.lat", "timeline[1].location.lon"]
    assert verdict.added == ["alert.note"]


def test_a_manifest_edited_to_match_breaks_the_signature() -> None:
    record = signed()
    record["document"]["timeline"][0]["text"] = "nothing happened"
    forged = json.dumps("nothing happened", ensure_ascii=False).encode()
    record["manifest"]["leaves"]["timeline[0].text"] = hashlib.sha256(forged).hexdigest()
    verdict = verify(record)
    assert not verdict.valid and not verdict.signature_ok
    assert verdict.problems == [
        "the signature does not match: the file was altered",
        "the document's digest differs from the signed one",
    ]


def test_a_file_re_signed_with_another_key_names_that_key_not_the_bots() -> None:
    other = signing_key(KeyRing.generate())
    record = json.loads(file_bytes(sign_document(DOCUMENT, other, signed_at="2026-03-01T04:00Z")))
    verdict = verify(record)
    # Valid as a signature: only the fingerprint tells it from the bot's (nabat verify
    # compares it with the bot's own key when it has the key ring).
    assert verdict.valid
    assert verdict.fingerprint != fingerprint(public_key_bytes(KEY))
    record["public_key"] = base64.b64encode(public_key_bytes(KEY)).decode()
    assert not verify(record).valid


@pytest.mark.parametrize(
    "data", [b"{not json", b"\xff\xfe", b"[]", b'{"document": {}}', json.dumps({}).encode()]
)
def test_what_is_not_a_signed_export_is_unreadable(data: bytes) -> None:
    with pytest.raises(UnreadableExport):
        read(data)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=12,
)


@given(st.dictionaries(st.text(max_size=4), _json, max_size=4))
def test_any_document_verifies_and_any_changed_leaf_is_named(document: dict[str, Any]) -> None:
    record = json.loads(file_bytes(sign_document(document, KEY, signed_at="t")))
    assert verify(record).valid
    if record["document"]:
        first = next(iter(leaves(record["document"])))
        record["document"] = _replace_first_leaf(record["document"])
        verdict = verify(record)
        assert (verdict.changed, verdict.missing, verdict.added) == ([first], [], [])


def _replace_first_leaf(value: object) -> object:
    if isinstance(value, dict) and value:
        first = sorted(value)[0]
        return {**value, first: _replace_first_leaf(value[first])}
    if isinstance(value, list) and value:
        return [_replace_first_leaf(value[0]), *value[1:]]
    return "other" if value == "changed" else "changed"
