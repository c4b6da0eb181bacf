from __future__ import annotations

import base64
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from bot.domain.errors import KeyRingError
from storage.keyring import KeyRing, LoadedKeyRing, load_key_ring, write_key_ring_file


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def all_key_texts(ring: KeyRing) -> list[str]:
    keys = [*ring.keys.values(), ring.index_key]
    return [text for key in keys for text in (key.hex(), base64.b64encode(key).decode())]


def test_a_generated_ring_has_key_1_current_and_separate_index_key():
    ring = KeyRing.generate()
    assert ring.current_id == 1
    assert set(ring.keys) == {1}
    assert len(ring.current_key) == 32 and len(ring.index_key) == 32
    assert ring.index_key != ring.current_key
    assert KeyRing.generate().current_key != ring.current_key


def test_rotation_adds_a_new_current_key_and_keeps_the_old_ones():
    ring = KeyRing.generate()
    rotated = ring.rotated()
    assert rotated.current_id == 2
    assert rotated.keys[1] == ring.keys[1]
    assert rotated.keys[2] != ring.keys[1]
    assert rotated.index_key == ring.index_key
    assert rotated.rotated().current_id == 3


def test_without_old_keys_keeps_only_the_current_key():
    ring = KeyRing.generate().rotated().rotated()
    trimmed = ring.without_old_keys()
    assert dict(trimmed.keys) == {3: ring.keys[3]}
    assert trimmed.current_id == 3
    assert trimmed.index_key == ring.index_key


def test_a_ring_round_trips_through_json():
    ring = KeyRing.generate().rotated()
    text = ring.to_json()
    document = json.loads(text)
    assert document["format"] == "nabat-keyring"
    assert document["version"] == 1
    assert document["current"] == 2
    assert set(document["keys"]) == {"1", "2"}
    assert KeyRing.from_json(text) == ring


def test_the_ring_cannot_be_changed_after_creation():
    ring = KeyRing.generate()
    with pytest.raises(TypeError):
        ring.keys[2] = b"x" * 32  # type: ignore[index]
    with pytest.raises(AttributeError):
        ring.current_id = 2  # type: ignore[misc]


def test_repr_never_shows_key_material():
    ring = KeyRing.generate().rotated()
    shown = repr(ring) + str(ring)
    for text in all_key_texts(ring):
        assert text not in shown
    assert str(ring.keys[1]) not in shown
    assert "current_id=2" in shown


def valid_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(KeyRing.generate().rotated().to_json())
    return document


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.update(current=3), "current key 3 is not in keys"),
        (lambda d: d["keys"].update({"2": "c2hvcnQ="}), "key 2 must be 32 bytes of base64"),
        (lambda d: d["keys"].update({"2": "not base64!!"}), "key 2 must be 32 bytes of base64"),
        (lambda d: d["keys"].update({"2": 5}), "key 2 must be 32 bytes of base64"),
        (lambda d: d.update(index_key="AAAA"), "index_key must be 32 bytes of base64"),
        (lambda d: d.pop("index_key"), "index_key"),
        (lambda d: d.update(keys={}), '"keys" must be a non-empty object'),
        (lambda d: d["keys"].update({"x": d["keys"]["1"]}), "key id 'x'"),
        (lambda d: d["keys"].update({"01": d["keys"]["1"]}), "key id '01'"),
        (lambda d: d["keys"].update({"0": d["keys"]["1"]}), "key ids must be whole numbers"),
        (lambda d: d.update(format="other"), '"format" must be "nabat-keyring"'),
        (lambda d: d.update(version=2), '"version" must be 1'),
        (lambda d: d.update(current="2"), '"current" must be the id'),
        (lambda d: d.update(extra=1), "unknown field"),
    ],
)
def test_from_json_says_what_is_wrong(change, expected):
    document = valid_document()
    secrets_before = [*document["keys"].values(), document["index_key"]]
    change(document)
    with pytest.raises(KeyRingError, match=expected) as caught:
        KeyRing.from_json(json.dumps(document))
    for secret in secrets_before:
        assert str(secret) not in str(caught.value)


@pytest.mark.parametrize("text", ["", "{not json", "[1, 2]", "null"])
def test_from_json_rejects_what_is_not_a_key_ring_object(text):
    with pytest.raises(KeyRingError, match="JSON"):
        KeyRing.from_json(text)


def test_a_broken_json_ring_is_not_echoed_in_the_error():
    ring = KeyRing.generate()
    with pytest.raises(KeyRingError, match="not JSON") as caught:
        KeyRing.from_json(ring.to_json()[:-5])
    assert caught.value.__cause__ is None
    for text in all_key_texts(ring):
        assert text not in str(caught.value)


def test_a_key_file_is_written_with_mode_0600(tmp_path):
    path = tmp_path / "keys.json"
    ring = KeyRing.generate()
    old_umask = os.umask(0)
    try:
        write_key_ring_file(path, ring)
    finally:
        os.umask(old_umask)
    assert mode_of(path) == 0o600
    assert KeyRing.from_json(path.read_text()) == ring
    assert list(tmp_path.iterdir()) == [path]  # no temp file left behind


def test_writing_refuses_to_overwrite_an_existing_key_file(tmp_path):
    path = tmp_path / "keys.json"
    first = KeyRing.generate()
    write_key_ring_file(path, first)
    with pytest.raises(KeyRingError, match="refusing to overwrite"):
        write_key_ring_file(path, KeyRing.generate())
    assert KeyRing.from_json(path.read_text()) == first


def test_writing_with_overwrite_replaces_the_file_and_keeps_0600(tmp_path):
    path = tmp_path / "keys.json"
    write_key_ring_file(path, KeyRing.generate())
    rotated = KeyRing.from_json(path.read_text()).rotated()
    write_key_ring_file(path, rotated, overwrite=True)
    assert KeyRing.from_json(path.read_text()) == rotated
    assert mode_of(path) == 0o600


def test_nabat_keys_beats_every_file(tmp_path):
    from_env = KeyRing.generate()
    keys_file = tmp_path / "file.json"
    write_key_ring_file(keys_file, KeyRing.generate())
    loaded = load_key_ring(
        keys_json=from_env.to_json(), keys_file=keys_file, default_file=tmp_path / "default.json"
    )
    assert loaded == LoadedKeyRing(ring=from_env, path=None, created=False, too_open=False)
    assert not (tmp_path / "default.json").exists()


def test_nabat_keys_file_beats_the_default_file(tmp_path):
    keys_file, default_file = tmp_path / "file.json", tmp_path / "default.json"
    chosen = KeyRing.generate()
    write_key_ring_file(keys_file, chosen)
    write_key_ring_file(default_file, KeyRing.generate())
    loaded = load_key_ring(keys_json=None, keys_file=keys_file, default_file=default_file)
    assert loaded.ring == chosen
    assert loaded.path == keys_file
    assert not loaded.created


def test_a_missing_nabat_keys_file_is_an_error_not_a_new_ring(tmp_path):
    missing = tmp_path / "nope.json"
    with pytest.raises(KeyRingError, match="NABAT_KEYS_FILE"):
        load_key_ring(keys_json=None, keys_file=missing, default_file=tmp_path / "d.json")
    assert not missing.exists()
    assert not (tmp_path / "d.json").exists()


def test_the_default_file_is_created_once_and_then_reused(tmp_path):
    default_file = tmp_path / "deep" / "er" / "nabat-keys.json"
    first = load_key_ring(keys_json=None, keys_file=None, default_file=default_file)
    assert first.created
    assert first.path == default_file
    assert mode_of(default_file) == 0o600
    second = load_key_ring(keys_json=None, keys_file=None, default_file=default_file)
    assert not second.created
    assert second.ring == first.ring
    assert not second.too_open


def test_a_key_file_readable_by_others_still_loads_but_is_flagged(tmp_path):
    path = tmp_path / "keys.json"
    ring = KeyRing.generate()
    write_key_ring_file(path, ring)
    path.chmod(0o644)
    loaded = load_key_ring(keys_json=None, keys_file=path, default_file=tmp_path / "d.json")
    assert loaded.ring == ring
    assert loaded.too_open


def test_a_malformed_nabat_keys_names_the_variable_and_hides_the_keys():
    document = valid_document()
    document["current"] = 9
    with pytest.raises(KeyRingError, match="NABAT_KEYS: current key 9") as caught:
        load_key_ring(keys_json=json.dumps(document), keys_file=None, default_file=None)  # type: ignore[arg-type]
    assert document["index_key"] not in str(caught.value)


def test_a_malformed_key_file_names_the_file(tmp_path):
    path = tmp_path / "keys.json"
    path.write_text("garbage")
    with pytest.raises(KeyRingError, match=r"NABAT_KEYS_FILE: .*keys\.json.*not JSON"):
        load_key_ring(keys_json=None, keys_file=path, default_file=tmp_path / "d.json")
