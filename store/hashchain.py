"""The hash chain: canonical row text, hashing, extending the chain, verifying it.

Every event's hash is `SHA-256(prev_hash_hex ‖ canonical)` (or HMAC-SHA-256 with a
key), where `canonical` is the compact JSON array

    [position, event_id, stream_id, stream_type, version, type, schema_version,
     recorded_at, data_text, metadata_text]

and `data_text`/`metadata_text` are the *stored* JSON texts. Stores write those texts
canonically (orjson, sorted keys), so decoding and re-encoding an event always gives
back the same bytes and an exported event re-hashes to the same value on import.

Both stores (SQLite and in memory) extend the chain through `ChainExtender`, so the
rules for appends, bulk loads and imports live in one place.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import orjson

from domain.clock import format_time, parse_time
from domain.envelope import GENESIS_HASH, Head, PendingEvent, RecordedEvent, StreamAppend
from domain.errors import InvalidInput
from domain.ports import EventStore, VerifyReport
from store.files import read_small_file

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
_TIME_FORMAT = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def is_stored_time(text: str) -> bool:
    """True when `text` has the one stored time format (`2026-11-26T17:11:02.123456Z`).

    Only that fixed-width form sorts as it reads, which `position_at` relies on.
    """
    return _TIME_FORMAT.fullmatch(text) is not None


def stored_time(timestamp: str) -> str:
    """Any ISO time (a time without a zone is UTC) in the stored format.

    Raises InvalidInput naming the accepted forms.
    """
    if _TIME_FORMAT.fullmatch(timestamp) is not None:
        return timestamp
    try:
        return format_time(parse_time(timestamp))
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None


def is_hash(text: str) -> bool:
    """True when `text` is 64 lowercase hex digits."""
    return _HEX64.fullmatch(text) is not None


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


# -- keys --------------------------------------------------------------------------------


def load_key(
    path: str | os.PathLike[str] | None = None, *, environ: Mapping[str, str] | None = None
) -> bytes | None:
    """The HMAC key: from `path`, else `$EVENTSCOPE_KEY_FILE`, else `$EVENTSCOPE_KEY`.

    Returns None when no key is configured (plain SHA-256 chains). A key file's
    trailing newline is ignored so `echo secret > key` works. Raises InvalidInput
    for a missing or empty key file, an empty key, or both variables set at once.
    """
    env = os.environ if environ is None else environ
    if path is None:
        from_file = env.get(KEY_FILE_ENV, "")
        from_env = env.get(KEY_ENV, "")
        if from_file and from_env:
            raise InvalidInput(f"set {KEY_ENV} or {KEY_FILE_ENV}, not both")
        if from_env:
            return from_env.encode()
        if not from_file:
            if KEY_ENV in env:
                raise InvalidInput(f"{KEY_ENV} is set but empty; set a key or unset it")
            return None
        path = from_file
    key_path = Path(path)
    key = read_small_file(key_path, "key file").rstrip(b"\r\n")
    if not key:
        raise InvalidInput(f"key file {key_path} is empty")
    return key


# -- extending the chain -----------------------------------------------------------------


class EventRejected(InvalidInput):
    """An incoming event (bulk or import) that would break the chain's rules.

    `index` is the event's 0-based place in the incoming sequence, so a reader of a
    file can name the line; `detail` is the reason without the locator.
    """

    def __init__(self, detail: str, index: int) -> None:
        super().__init__(f"event {index + 1}: {detail}")
        self.detail = detail
        self.index = index


def check_append(streams: Sequence[StreamAppend]) -> None:
    """Refuse an append that names a stream twice, or has an event without id or type."""
    seen: set[str] = set()
    for append in streams:
        if not append.stream_id:
            raise InvalidInput("stream_id must not be empty")
        if append.stream_id in seen:
            raise InvalidInput(f"stream {append.stream_id} appears twice in one append")
        seen.add(append.stream_id)
        for event in append.events:
            if not event.event_id:
                raise InvalidInput("every new event needs an event_id (the bus fills it in)")
            if not event.type:
                raise InvalidInput("every new event needs a type")


def _never(_: str) -> bool:
    return False


class ChainExtender:
    """Extends a chain from a known head: assigns positions, checks versions, hashes.

    `stream_version` is asked once per stream it has not seen yet; `command_exists`
    once per command id seen in a bulk load or import. Nothing is written here: the
    store writes the rows it gets back, and throws them away if anything fails.
    """

    def __init__(
        self,
        head: Head,
        last_recorded_at: str,
        key: bytes | None,
        *,
        stream_version: Callable[[str], int],
        command_exists: Callable[[str], bool] = _never,
    ) -> None:
        self.position = head.position
        self.hash = head.hash
        self.last_recorded_at = last_recorded_at
        self.count = 0
        """How many events were offered so far (the next one's index)."""
        self._keyed = key is not None
        self._digest = digest_function(key)
        self._stream_version = stream_version
        self._command_exists = command_exists
        self._versions: dict[str, int] = {}
        self._finished: list[CommandRow] = []
        self._open: list[Any] | None = None
        self._seen_commands: set[str] = set()

    @property
    def head(self) -> Head:
        """The head after the rows handed out so far."""
        return Head(self.position, self.hash)

    def version_of(self, stream_id: str) -> int:
        """The stream's version including the rows handed out so far."""
        version = self._versions.get(stream_id)
        if version is None:
            version = self._stream_version(stream_id)
            self._versions[stream_id] = version
        return version

    def seed_version(self, stream_id: str, version: int) -> None:
        """Tell the extender a stream's current version (already read by the caller)."""
        self._versions[stream_id] = version

    def row(
        self,
        event_id: str,
        stream_id: str,
        stream_type: str,
        type_: str,
        schema_version: int,
        recorded_at: str,
        data_text: str,
        metadata_text: str,
    ) -> ChainRow:
        """The next row: position head+1, the stream's next version, chained to the head.

        The caller has checked the time and (for appends) the expected version.
        """
        return self._next(
            event_id,
            stream_id,
            stream_type,
            self.version_of(stream_id) + 1,
            type_,
            schema_version,
            recorded_at,
            data_text,
            metadata_text,
        )

    def _next(
        self,
        event_id: str,
        stream_id: str,
        stream_type: str,
        version: int,
        type_: str,
        schema_version: int,
        recorded_at: str,
        data_text: str,
        metadata_text: str,
    ) -> ChainRow:
        position = self.position + 1
        head = (
            position,
            event_id,
            stream_id,
            stream_type,
            version,
            type_,
            schema_version,
            recorded_at,
            data_text,
            metadata_text,
        )
        prev = self.hash
        digest = self._digest(prev.encode() + _dumps(head))
        self.position = position
        self.hash = digest
        self.last_recorded_at = recorded_at
        self._versions[stream_id] = version
        self.count += 1
        return (*head, prev, digest)

    # pending() and recorded() run once per event of a bulk load or import, so the
    # common case is one combined check; the slow paths only run to explain a refusal.

    def pending(self, event: PendingEvent) -> ChainRow:
        """The row for a bulk-loaded event, refusing a version out of order or a malformed time."""
        stream_id = event.stream_id
        current = self._versions.get(stream_id)
        if current is None:
            current = self.version_of(stream_id)
        moment = event.recorded_at
        if (
            event.version != current + 1
            or not event.event_id
            or not stream_id
            or _TIME_FORMAT.fullmatch(moment) is None
        ):
            self._refuse_pending(event, current)
        metadata = event.metadata
        command = event.command
        try:
            data_text = _dumps(event.data, option=_SORTED).decode()
            metadata_text = _dumps(metadata, option=_SORTED).decode()
            payload = None if command is None else _dumps(command, option=_SORTED).decode()
        except orjson.JSONEncodeError:
            self._refuse_json(event.data, metadata, command)
            raise
        opened = self._open
        if opened is not None and payload is None and metadata.get("command_id") == opened[0]:
            opened[6] = self.position + 1
        else:
            self._track_command(metadata, payload, moment, self.count)
        return self._next(
            event.event_id,
            stream_id,
            event.stream_type,
            current + 1,
            event.type,
            event.schema_version,
            moment,
            data_text,
            metadata_text,
        )

    def _refuse_pending(self, event: PendingEvent, current: int) -> NoReturn:
        index = self.count
        if not event.event_id:
            raise EventRejected("event_id is empty", index)
        if not event.stream_id:
            raise EventRejected("stream_id is empty", index)
        if event.version != current + 1:
            raise EventRejected(
                f"stream {event.stream_id} is at version {current}, so the next event must "
                f"have version {current + 1}, not {event.version}",
                index,
            )
        self._check_time(event.recorded_at, index)
        raise AssertionError("unreachable: the event had nothing to refuse")  # pragma: no cover

    def _refuse_json(self, data: Any, metadata: Any, command: Any) -> NoReturn:
        try:
            canonical_json(data)
            canonical_json(metadata, "metadata")
            canonical_json(command, "command")
        except InvalidInput as exc:
            raise EventRejected(exc.message, self.count) from None
        raise AssertionError("unreachable: all parts were JSON")  # pragma: no cover

    def recorded(self, event: RecordedEvent, payload: str | None = None) -> ChainRow:
        """The row for an imported event, which must continue the chain exactly.

        `payload` (canonical JSON) is its command's, given on the command's first event.
        """
        stream_id = event.stream_id
        current = self._versions.get(stream_id)
        if current is None:
            current = self.version_of(stream_id)
        moment = event.recorded_at
        if (
            event.position != self.position + 1
            or event.prev_hash != self.hash
            or event.version != current + 1
            or _TIME_FORMAT.fullmatch(moment) is None
        ):
            self._refuse_recorded(event, current)
        metadata = event.metadata
        try:
            data_text = _dumps(event.data, option=_SORTED).decode()
            metadata_text = _dumps(metadata, option=_SORTED).decode()
        except orjson.JSONEncodeError:
            self._refuse_json(event.data, metadata, None)
            raise
        opened = self._open
        if opened is not None and payload is None and metadata.get("command_id") == opened[0]:
            opened[6] = self.position + 1
        else:
            self._track_command(metadata, payload, moment, self.count)
        index = self.count
        row = self._next(
            event.event_id,
            stream_id,
            event.stream_type,
            current + 1,
            event.type,
            event.schema_version,
            moment,
            data_text,
            metadata_text,
        )
        if row[11] != event.hash:
            hint = (
                "changed, or exported from a database with another key"
                if self._keyed
                else "changed, or exported from a keyed database"
            )
            raise EventRejected(
                f"position {event.position}: hash does not match the event's contents ({hint})",
                index,
            )
        return row

    def _refuse_recorded(self, event: RecordedEvent, current: int) -> NoReturn:
        index = self.count
        expected = self.position + 1
        if event.position != expected:
            raise EventRejected(self._position_problem(event.position, expected, index), index)
        if event.prev_hash != self.hash:
            where = (
                "the database head hash"
                if index == 0 and self.position > 0
                else f"the hash of position {self.position}"
                if self.position > 0
                else "the genesis hash"
            )
            raise EventRejected(
                f"position {event.position}: prev_hash does not match {where}", index
            )
        if event.version != current + 1:
            raise EventRejected(
                f"position {event.position}: stream {event.stream_id} is at version {current}, "
                f"so this event must have version {current + 1}, not {event.version}",
                index,
            )
        self._check_time(event.recorded_at, index)
        raise AssertionError("unreachable: the event had nothing to refuse")  # pragma: no cover

    def _position_problem(self, position: int, expected: int, index: int) -> str:
        if index == 0 and self.position > 0:
            return (
                f"the database already holds events up to position {self.position}, so the "
                f"import must start at position {expected}, not {position}"
            )
        if index == 0:
            return f"an import into an empty database must start at position 1, not {position}"
        return (
            f"expected position {expected} after {expected - 1}, found {position} "
            "(lines missing, duplicated or out of order)"
        )

    def _check_time(self, recorded_at: str, index: int) -> None:
        if _TIME_FORMAT.fullmatch(recorded_at) is None:
            raise EventRejected(
                f"recorded_at {recorded_at!r} is not in the form 2026-01-31T09:00:00.000000Z",
                index,
            )

    def _track_command(
        self, metadata: Mapping[str, Any], payload: str | None, recorded_at: str, index: int
    ) -> None:
        """Group consecutive events of one command into one commands row."""
        command_id = metadata.get("command_id")
        position = self.position + 1
        current = self._open
        if current is not None and command_id == current[0]:
            if payload is not None:
                raise EventRejected(
                    f"only the first event of command {command_id} may carry its payload", index
                )
            current[6] = position
            return
        if current is not None:
            self._finished.append(tuple(current))
            self._open = None
        if not isinstance(command_id, str) or not command_id:
            return
        if command_id in self._seen_commands or self._command_exists(command_id):
            raise EventRejected(
                f"command id {command_id} is already recorded (a command's events must be "
                "adjacent and its id new)",
                index,
            )
        self._seen_commands.add(command_id)
        self._open = [
            command_id,
            str(metadata.get("command_type", "")),
            payload,
            str(metadata.get("actor", "")),
            recorded_at,
            position,
            position,
        ]

    def take_commands(self) -> list[CommandRow]:
        """The commands rows completed so far (their last position is final)."""
        done, self._finished = self._finished, []
        return done

    def finish_commands(self) -> list[CommandRow]:
        """All remaining commands rows, closing the one still open."""
        if self._open is not None:
            self._finished.append(tuple(self._open))
            self._open = None
        return self.take_commands()


# -- verifying ---------------------------------------------------------------------------


def verify(rows: Iterable[ChainRow], key: bytes | None) -> VerifyReport:
    """Walk chain rows in position order and report the first problem, if any.

    Checks positions 1..N without gaps, versions 1..n per stream, each `prev_hash`
    link, and each hash recomputed from the row. Times may go back (each event keeps
    its writer's clock; `domain.clock_skew` flags the skewed ones), so they are not
    checked for order: the hash covers them.
    Streams: memory stays bounded by the number of streams, not events.
    """
    digest = digest_function(key)
    dumps = orjson.dumps
    mode = hash_mode(key)
    versions: dict[str, int] = {}
    expected = 1
    prev = GENESIS_HASH
    problem = ""
    bad: int | None = None
    for row in rows:
        position = row[0]
        if position != expected:
            bad = expected
            problem = (
                f"position {expected} is missing (the next stored event is at {position})"
                if position > expected
                else f"position {position} appears again after position {expected - 1}"
            )
            break
        stream_id = row[2]
        version = row[4]
        current = versions.get(stream_id, 0)
        if version != current + 1:
            bad = position
            problem = (
                f"stream {stream_id} jumps from version {current} to {version}"
                if version > current
                else f"stream {stream_id} repeats version {version}"
            )
            break
        if row[10] != prev:
            bad = position
            problem = f"prev_hash does not link to the hash of position {position - 1}"
            break
        computed = digest(prev.encode() + dumps(row[:10]))
        if computed != row[11]:
            bad = position
            problem = "hash does not match the event's contents (it was changed)"
            break
        versions[stream_id] = version
        prev = computed
        expected = position + 1
    checked = expected - 1
    return VerifyReport(
        ok=bad is None,
        checked=checked,
        head=Head(checked, prev),
        hash_mode=mode,
        first_bad_position=bad,
        problem=problem,
    )


def verify_events(events: Iterable[RecordedEvent], key: bytes | None) -> VerifyReport:
    """`verify` over decoded events (their data re-encoded canonically)."""
    return verify(map(chain_row, events), key)


def row_verifies(row: ChainRow, event: RecordedEvent, key: bytes | None) -> bool:
    """True when the stored `row` is `event`'s and still hashes to its hash.

    The hash is recomputed from the row's stored texts and its `prev_hash` with `key`
    (HMAC-SHA-256, or SHA-256 when None). It does not check the link to the event
    before: `verify` walks the links.
    """
    return (
        row[0] == event.position
        and row[1] == event.event_id
        and row[10] == event.prev_hash
        and row[11] == event.hash
        and chain_hash(row[10], canonical_row(row), key) == row[11]
    )


# -- anchors -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AnchorReport:
    """Whether a head kept elsewhere is still part of the chain."""

    ok: bool
    anchor: Head
    head: Head
    problem: str = ""

    @property
    def message(self) -> str:
        """One line for a person."""
        if self.ok:
            return (
                f"anchor ok: position {self.anchor.position} is still in the chain "
                f"(head {self.head.position})"
            )
        return f"anchor check failed: {self.problem}"

    def to_json_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {
            "ok": self.ok,
            "anchor": self.anchor.to_json_dict(),
            "head": self.head.to_json_dict(),
            "problem": self.problem,
        }


def check_anchor(store: EventStore, anchor: Head) -> AnchorReport:
    """Check that `anchor` (a head kept elsewhere) is still in the store's chain.

    Its position must not be past the head (else the tail was truncated) and the
    hash stored there must equal the anchor's (else history was rewritten). Run
    `verify` as well: this only proves the anchor's prefix is unchanged if the chain
    from 1 to the head also verifies.
    """
    head = store.head()
    if anchor.position == 0:
        if anchor.hash != GENESIS_HASH:
            problem = "an anchor at position 0 must carry the genesis hash"
            return AnchorReport(False, anchor, head, problem)
        return AnchorReport(True, anchor, head)
    if anchor.position > head.position:
        return AnchorReport(
            False,
            anchor,
            head,
            f"the chain ends at position {head.position} but the anchor is at "
            f"{anchor.position}: events were removed from the tail",
        )
    stored = store.read_all(after=anchor.position - 1, to=anchor.position)
    if not stored or stored[0].hash != anchor.hash:
        found = stored[0].hash if stored else "nothing"
        return AnchorReport(
            False,
            anchor,
            head,
            f"position {anchor.position} has hash {found}, the anchor says {anchor.hash}: "
            "history up to the anchor was rewritten",
        )
    return AnchorReport(True, anchor, head)


def parse_anchor(text: str) -> Head:
    """Read an anchor: `{"position": N, "hash": "..."}`, or a saved `verify --json` report.

    Raises InvalidInput naming what is wrong.
    """
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InvalidInput(
            'the anchor is not JSON; expected {"position": N, "hash": "<64 hex digits>"}'
        ) from None
    if isinstance(value, dict) and isinstance(value.get("head"), dict):
        value = value["head"]
    if not isinstance(value, dict):
        raise InvalidInput('the anchor must be a JSON object {"position": N, "hash": "..."}')
    position = value.get("position")
    digest = value.get("hash")
    if not isinstance(position, int) or isinstance(position, bool) or position < 0:
        raise InvalidInput("the anchor's position must be a whole number >= 0")
    if not isinstance(digest, str) or not is_hash(digest):
        raise InvalidInput("the anchor's hash must be 64 lowercase hex digits")
    return Head(position, digest)
