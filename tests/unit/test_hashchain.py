"""The hash chain's primitives: canonical rows, keyed hashing, keys and anchors."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import orjson
import pytest

from domain.envelope import GENESIS_HASH, Head, RecordedEvent
from domain.errors import InvalidInput
from store.hashchain import (
    canonical_json,
    canonical_row,
    chain_hash,
    chain_row,
    digest_function,
    load_key,
    parse_anchor,
    stored_time,
    verify,
    verify_events,
)


def event(position: int = 1, prev_hash: str = GENESIS_HASH, **data: object) -> RecordedEvent:
    return RecordedEvent(
        position=position,
        event_id=f"e{position}",
        stream_id="account-a",
        stream_type="account",
        version=position,
        type="Deposited",
        schema_version=1,
        data=dict(data) or {"b": 1, "a": "é"},
        metadata={"actor": "alice"},
        recorded_at="2026-01-01T09:00:00.000000Z",
        prev_hash=prev_hash,
        hash="",
    )


def test_the_canonical_row_is_a_compact_array_of_the_stored_texts() -> None:
    row = chain_row(event())
    assert canonical_json({"b": 1, "a": "é"}) == '{"a":"é","b":1}'
    assert canonical_row(row) == orjson.dumps(
        [
            1,
            "e1",
            "account-a",
            "account",
            1,
            "Deposited",
            1,
            "2026-01-01T09:00:00.000000Z",
            '{"a":"é","b":1}',
            '{"actor":"alice"}',
        ]
    )


@pytest.mark.parametrize("key", [None, b"k", b"x" * 64, b"long key " * 20])
def test_hashes_are_sha256_or_standard_hmac(key: bytes | None) -> None:
    message = GENESIS_HASH.encode() + canonical_row(chain_row(event()))
    expected = (
        hashlib.sha256(message).hexdigest()
        if key is None
        else hmac.new(key, message, "sha256").hexdigest()
    )
    assert digest_function(key)(message) == expected
    assert chain_hash(GENESIS_HASH, canonical_row(chain_row(event())), key) == expected


def _chain(count: int, key: bytes | None = None) -> list[RecordedEvent]:
    events: list[RecordedEvent] = []
    prev = GENESIS_HASH
    for position in range(1, count + 1):
        draft = event(position, prev, amount=position)
        digest = chain_hash(prev, canonical_row(chain_row(draft)), key)
        events.append(RecordedEvent(**{**draft.to_json_dict(), "hash": digest}))
        prev = digest
    return events


def test_verify_walks_decoded_events_too() -> None:
    events = _chain(5, b"k")
    assert verify_events(events, b"k").ok
    report = verify_events(events, None)
    assert not report.ok and report.first_bad_position == 1


def test_an_empty_chain_verifies_at_the_genesis_head() -> None:
    report = verify([], None)
    assert report.ok and report.checked == 0 and report.head == Head(0, GENESIS_HASH)
    assert report.to_json_dict()["first_bad_position"] is None


def test_a_chain_starting_past_one_is_missing_its_start() -> None:
    report = verify_events(_chain(3)[1:], None)
    assert report.first_bad_position == 1 and "position 1 is missing" in report.problem


# -- keys ------------------------------------------------------------------------------------


def test_no_key_configured_means_plain_sha256() -> None:
    assert load_key(environ={}) is None


def test_the_key_comes_from_the_variable_or_a_file(tmp_path: Path) -> None:
    assert load_key(environ={"EVENTSCOPE_KEY": "s3cret"}) == b"s3cret"
    key_file = tmp_path / "key"
    key_file.write_bytes(b"from file\r\n")
    assert load_key(environ={"EVENTSCOPE_KEY_FILE": str(key_file)}) == b"from file"
    assert load_key(key_file, environ={"EVENTSCOPE_KEY": "ignored"}) == b"from file"


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EVENTSCOPE_KEY": "a", "EVENTSCOPE_KEY_FILE": "b"}, "not both"),
        ({"EVENTSCOPE_KEY": ""}, "set but empty"),
        ({"EVENTSCOPE_KEY_FILE": "/nonexistent/key"}, "does not exist"),
    ],
)
def test_bad_key_settings_are_named(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_key(environ=environ)


def test_an_empty_or_folder_key_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_bytes(b"\n")
    with pytest.raises(InvalidInput, match="is empty"):
        load_key(empty)
    with pytest.raises(InvalidInput, match="is a folder"):
        load_key(tmp_path)


# -- anchors and times -----------------------------------------------------------------------


def test_an_anchor_is_a_head_or_a_saved_verify_report() -> None:
    head = Head(7, "a" * 64)
    assert parse_anchor(orjson.dumps(head.to_json_dict()).decode()) == head
    report = {"ok": True, "head": head.to_json_dict(), "checked": 7}
    assert parse_anchor(orjson.dumps(report).decode()) == head


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "JSON object"),
        ('{"position": -1, "hash": "' + "a" * 64 + '"}', "position"),
        ('{"position": 1, "hash": "XYZ"}', "hash"),
    ],
)
def test_bad_anchors_are_named(text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        parse_anchor(text)


def test_times_are_normalised_to_the_stored_form() -> None:
    assert stored_time("2026-03-01") == "2026-03-01T00:00:00.000000Z"
    assert stored_time("2026-03-01T14:02:00+01:00") == "2026-03-01T13:02:00.000000Z"
    with pytest.raises(InvalidInput, match="not an ISO time"):
        stored_time("soon")
