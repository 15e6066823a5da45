"""Chain rows: the canonical row text, hashing it, and rows to events and back.

Every event's hash is `SHA-256(prev_hash_hex ‖ canonical)` (or HMAC-SHA-256 with a
key), where `canonical` is the compact JSON array

    [position, event_id, stream_id, stream_type, version, type, schema_version,
     recorded_at, data_text, metadata_text]

and `data_text`/`metadata_text` are the *stored* JSON texts. Stores write those texts
canonically (orjson, sorted keys), so decoding and re-encoding an event always gives
back the same bytes and an exported event re-hashes to the same value on import.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Callable
from typing import Any

import orjson

from domain.clock import format_time, parse_time
from domain.envelope import RecordedEvent
from domain.errors import InvalidInput

KEY_ENV = "EVENTSCOPE_KEY"
KEY_FILE_ENV = "EVENTSCOPE_KEY_FILE"
HASH_SHA256 = "sha256"
HASH_HMAC = "hmac-sha256"

ChainRow = tuple[int, str, str, str, int, str, int, str, str, str, str, str]
"""One stored event as the chain sees it: the ten canonical columns, then prev_hash, hash.

(position, event_id, stream_id, stream_type, version, type, schema_version,
recorded_at, data_text, metadata_text, prev_hash, hash)
"""

CommandRow = tuple[str, str, str | None, str, str, int, int]
"""(command_id, command_type, payload_text or None, actor, recorded_at, first, last)."""

_dumps = orjson.dumps
_SORTED = orjson.OPT_SORT_KEYS
STORED_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
"""The stored time form, `YYYY-MM-DDTHH:MM:SS.ffffffZ`, in ASCII digits: `\\d` would take
any script's digits ("٢٠٢٦" reads as 2026 to `int`), which sort after "9" as text."""
_HEX64 = re.compile(r"[0-9a-f]{64}")


def is_stored_time(text: str) -> bool:
    """True when `text` has the one stored time format (`2026-11-26T17:11:02.123456Z`).

    Only that fixed-width form sorts as it reads, which `position_at` relies on.
    """
    return STORED_TIME.fullmatch(text) is not None


def stored_time(timestamp: str) -> str:
    """Any ISO time (a time without a zone is UTC) in the stored format.

    Raises InvalidInput naming the accepted forms.
    """
    if STORED_TIME.fullmatch(timestamp) is not None:
        return timestamp
    try:
        return format_time(parse_time(timestamp))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def is_hash(text: str) -> bool:
    """True when `text` is 64 lowercase hex digits."""
    return _HEX64.fullmatch(text) is not None


STORED_TIME_LENGTH = 27
"""The length of every stored time (`STORED_TIME` matches only that many characters)."""
HASH_LENGTH = 64
time_and_hashes = re.compile(STORED_TIME.pattern + _HEX64.pattern + _HEX64.pattern).fullmatch
"""`time_and_hashes(moment + prev_hash + digest)`: one match standing for
`is_stored_time(moment) and is_hash(prev_hash) and is_hash(digest)` when `moment` is
`STORED_TIME_LENGTH` long and `prev_hash` `HASH_LENGTH` (both patterns are fixed-width,
so each part is matched by its own pattern); a hot loop's check in one call."""


def canonical_json(value: Any, what: str = "data") -> str:
    """`value` as the stored JSON text: compact, keys sorted, UTF-8.

    Raises InvalidInput when `value` cannot be stored as JSON.
    """
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except orjson.JSONEncodeError as exc:
        raise InvalidInput(f"event {what} is not storable as JSON: {exc}") from None


def canonical_row(row: ChainRow) -> bytes:
    """The canonical JSON array of a row's first ten columns (what gets hashed)."""
    return orjson.dumps(row[:10])


def canonical_tail(*columns: Any) -> bytes:
    """The canonical array after its position: the nine columns that follow it, as
    `,"event_id",…,"metadata_text"]`.

    `b"[" + str(position).encode() + canonical_tail(*row[1:10]) == canonical_row(row)`
    (compact JSON: the position, a comma, then the rest of the array), so the hash can
    be taken where the position is assigned (PostgreSQL's `eventscope_append`) from a
    tail made before it is known.
    """
    return b"," + orjson.dumps(columns)[1:]


@functools.lru_cache(maxsize=8)
def digest_function(key: bytes | None) -> Callable[[bytes], str]:
    """A function from message bytes to a hex digest: SHA-256, or HMAC-SHA-256 with `key`.

    The HMAC is RFC 2104 built on precomputed pad states, because `hmac.digest` sets
    up OpenSSL's HMAC on every call and costs more than twice as much per event.
    """
    if key is None:
        sha256 = hashlib.sha256

        def sha_hex(message: bytes) -> str:
            return sha256(message).hexdigest()

        return sha_hex
    block = 64
    if len(key) > block:
        key = hashlib.sha256(key).digest()
    padded = key.ljust(block, b"\0")
    inner_base = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer_base = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def hmac_hex(message: bytes) -> str:
        inner = inner_base.copy()
        inner.update(message)
        outer = outer_base.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    return hmac_hex


def chain_hash(prev_hash: str, canonical: bytes, key: bytes | None) -> str:
    """The hash of one event: H(prev_hash ‖ canonical), keyed when `key` is given."""
    return digest_function(key)(prev_hash.encode() + canonical)


def hash_mode(key: bytes | None) -> str:
    """The stored name of the hashing scheme used with `key`."""
    return HASH_SHA256 if key is None else HASH_HMAC


def key_check_value(key: bytes, salt: str) -> str:
    """A value stored beside a keyed chain so a wrong key is named at open time.

    It reveals no more about the key than any event hash already does.
    """
    return digest_function(key)(b"eventscope key check\0" + salt.encode())


def chain_row(event: RecordedEvent) -> ChainRow:
    """A recorded event as a chain row (its data re-encoded canonically)."""
    return (
        event.position,
        event.event_id,
        event.stream_id,
        event.stream_type,
        event.version,
        event.type,
        event.schema_version,
        event.recorded_at,
        canonical_json(event.data),
        canonical_json(event.metadata, "metadata"),
        event.prev_hash,
        event.hash,
    )


def event_from_row(row: ChainRow) -> RecordedEvent:
    """A chain row decoded into a RecordedEvent (fresh dicts, safe to mutate)."""
    loads = orjson.loads
    return RecordedEvent(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        loads(row[8]),
        loads(row[9]),
        row[7],
        row[10],
        row[11],
    )
