"""Export and import as JSON Lines: one `RecordedEvent.to_json_dict()` per line.

Both directions stream. An import parses lines lazily while the store checks and
writes them inside its one import transaction, so the first bad line (malformed,
mistyped, or breaking the chain) aborts the whole import, names the line, and leaves
the database as it was.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, Protocol

import orjson

from domain.envelope import Head, RecordedEvent
from domain.errors import InvalidInput
from domain.history_check import METADATA_MAX_LENGTH
from domain.text import UnsafeText, checked_text, plain_texts
from store.hashchain import EventRejected, is_hash, is_stored_time
from store.hashchain.rows import HASH_LENGTH, STORED_TIME_LENGTH
from store.hashchain.rows import time_and_hashes as _time_and_hashes

MAX_LINE_BYTES = 1 << 20
"""Longest line an import accepts (1 MiB); a longer one is not an export of ours."""

FIELDS = (
    "position",
    "event_id",
    "stream_id",
    "stream_type",
    "version",
    "type",
    "schema_version",
    "data",
    "metadata",
    "recorded_at",
    "prev_hash",
    "hash",
)
_FIELD_SET = frozenset(FIELDS)
_fields_of = operator.itemgetter(*FIELDS)
_FIELD_TYPES = (int, str, str, str, int, str, int, dict, dict, str, str, str)
"""The exact type of each of `FIELDS` in an event line (a JSON object's values)."""


class ImportTarget(Protocol):
    """What an import writes into: both stores have it."""

    def import_events(
        self,
        events: Iterable[RecordedEvent],
        validate: Callable[[RecordedEvent], None] | None = None,
    ) -> Head:
        """Import all-or-nothing; see `SqliteEventStore.import_events`."""
        ...


def export_events(events: Iterable[RecordedEvent], out: IO[bytes]) -> int:
    """Write each event as one JSON line to `out` (opened in binary mode); returns the count."""
    dumps = orjson.dumps
    count = 0
    batch: list[bytes] = []
    for event in events:
        batch.append(dumps(event.to_json_dict()))
        count += 1
        if len(batch) >= 1000:
            out.write(b"\n".join(batch) + b"\n")
            batch.clear()
    if batch:
        out.write(b"\n".join(batch) + b"\n")
    return count


class EventLines:
    """Iterates the events of a JSON Lines stream, checking every field's shape.

    `line` is the number of the last line read, so a caller can name where a later
    check failed. Raises InvalidInput naming the line on the first bad one.
    """

    def __init__(
        self, source: IO[bytes], *, name: str = "", max_line_bytes: int = MAX_LINE_BYTES
    ) -> None:
        self.source = source
        self.line = 0
        self.events = 0
        self._prefix = f"{name}: " if name else ""
        self._max = max_line_bytes

    def fail(self, message: str, line: int | None = None) -> InvalidInput:
        """An InvalidInput naming `line` (default: the current line)."""
        return InvalidInput(f"{self._prefix}line {self.line if line is None else line}: {message}")

    def __iter__(self) -> Iterator[RecordedEvent]:
        for raw in self.raw_lines():
            yield self._event(raw)
            self.events += 1
        if self.events == 0:
            raise InvalidInput(f"{self._prefix}the file is empty: nothing to import")

    def raw_lines(self) -> Iterator[bytes]:
        """Each non-blank line, checked for size and binary data; `line` is its number."""
        blank_since = 0
        readline, most = self.source.readline, self._max
        while True:
            raw = readline(most + 1)
            if not raw:
                break
            if isinstance(raw, str):
                raise InvalidInput("open the import file in binary mode ('rb')")
            self.line += 1
            if len(raw) > most and not raw.endswith(b"\n"):
                raise self.fail(f"is longer than {self._max} bytes; is this an eventscope export?")
            if b"\0" in raw:
                raise self.fail("contains binary data (NUL bytes); is this an eventscope export?")
            if self.line == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            if not raw.strip():
                blank_since = blank_since or self.line
                continue
            if blank_since:
                raise self.fail("is empty", blank_since)
            yield raw

    def _event(self, raw: bytes) -> RecordedEvent:
        return self.event_of(self.object_of(raw))

    def object_of(self, raw: bytes) -> dict[str, Any]:
        """The line as a JSON object, or InvalidInput naming the line."""
        try:
            value = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise self.fail(f"is not valid JSON ({exc})") from None
        if not isinstance(value, dict):
            raise self.fail(f"is a JSON {type(value).__name__}, not an event object")
        return value

    def event_of(self, value: dict[str, Any]) -> RecordedEvent:
        """The JSON object as an event, checking every field's shape."""
        if value.keys() == _FIELD_SET:
            # Every field as it should be, tested at once; `_checked_event` names a fault.
            fields = _fields_of(value)
            (
                position,
                event_id,
                stream_id,
                stream_type,
                version,
                type_,
                schema_version,
                data,
                metadata,
                moment,
                prev_hash,
                digest,
            ) = fields
            if (
                type(position) is int
                and type(version) is int
                and type(schema_version) is int
                and min(position, version, schema_version) >= 1
                and type(event_id) is str
                and type(stream_id) is str
                and type(stream_type) is str
                and type(type_) is str
                and plain_texts((event_id,), METADATA_MAX_LENGTH)  # as `checked_text` takes it
                and stream_id != ""
                and stream_type != ""
                and type_ != ""
                and type(data) is dict
                and type(metadata) is dict
                and type(moment) is str
                and type(prev_hash) is str
                and type(digest) is str
                # is_stored_time(moment), is_hash(prev_hash) and is_hash(digest) at once
                and len(moment) == STORED_TIME_LENGTH
                and len(prev_hash) == HASH_LENGTH
                and _time_and_hashes(moment + prev_hash + digest) is not None
            ):
                return RecordedEvent(*fields)
        return self._checked_event(value)

    def _checked_event(self, value: dict[str, Any]) -> RecordedEvent:
        """`event_of` field by field, raising InvalidInput for the first fault."""
        keys = value.keys()
        if keys != _FIELD_SET:
            missing = [f for f in FIELDS if f not in value]
            extra = sorted(k for k in keys if k not in _FIELD_SET)
            parts = []
            if missing:
                parts.append("missing " + ", ".join(missing))
            if extra:
                parts.append("unexpected " + ", ".join(extra))
            raise self.fail("; ".join(parts))
        for name in ("position", "version", "schema_version"):
            number = value[name]
            if not isinstance(number, int) or isinstance(number, bool) or number < 1:
                raise self.fail(f"{name} must be a whole number >= 1, not {_show(number)}")
        for name in ("event_id", "stream_id", "stream_type", "type"):
            text = value[name]
            if not isinstance(text, str) or not text:
                raise self.fail(f"{name} must be a non-empty string, not {_show(text)}")
        try:
            # The one free text of an event its replay does not compare (the bus draws
            # it): held to the rule of the ids in its metadata.
            checked_text(value["event_id"], field="event_id", max_length=METADATA_MAX_LENGTH)
        except UnsafeText as exc:
            raise self.fail(str(exc)) from None
        for name in ("data", "metadata"):
            if not isinstance(value[name], dict):
                raise self.fail(f"{name} must be a JSON object, not {_show(value[name])}")
        moment = value["recorded_at"]
        if not isinstance(moment, str) or not is_stored_time(moment):
            raise self.fail(
                f"recorded_at must look like 2026-01-31T09:00:00.000000Z, not {_show(moment)}"
            )
        for name in ("prev_hash", "hash"):
            digest = value[name]
            if not isinstance(digest, str) or not is_hash(digest):
                raise self.fail(f"{name} must be 64 lowercase hex digits, not {_show(digest)}")
        return RecordedEvent(*map(value.__getitem__, FIELDS))  # FIELDS: its order


def import_events(
    store: ImportTarget,
    source: IO[bytes],
    *,
    validate: Callable[[RecordedEvent], None] | None = None,
    name: str = "",
    max_line_bytes: int = MAX_LINE_BYTES,
) -> Head:
    """Import a JSON Lines export into `store` in one transaction; returns the new head.

    Any bad line raises InvalidInput naming it (`name` prefixes the message, e.g. the
    file name), and nothing is written.
    """
    lines = EventLines(source, name=name, max_line_bytes=max_line_bytes)
    try:
        return store.import_events(lines, validate)
    except EventRejected as exc:
        # Blank lines inside the file are refused, so event i sits on line i + 1.
        raise lines.fail(exc.detail, exc.index + 1) from None


def _show(value: Any) -> str:
    text = orjson.dumps(value).decode() if _dumpable(value) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _dumpable(value: Any) -> bool:
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        return False
    return True
