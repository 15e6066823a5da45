"""Extending the chain: `ChainExtender` gives the next rows for appends, bulk loads and
imports, so both stores (SQLite and in memory) follow the same rules.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NoReturn

import orjson

from domain.envelope import Head, RecordedEvent, StreamAppend
from domain.errors import DomainError, InvalidInput
from store.hashchain.rows import (
    STORED_TIME,
    ChainRow,
    CommandRow,
    canonical_json,
    digest_function,
)

if TYPE_CHECKING:
    from domain.store_records import PendingEvent

_dumps = orjson.dumps
_SORTED = orjson.OPT_SORT_KEYS


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
            or STORED_TIME.fullmatch(moment) is None
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
            or STORED_TIME.fullmatch(moment) is None
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
        if STORED_TIME.fullmatch(recorded_at) is None:
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


def importing(
    validate: Callable[[RecordedEvent], None] | None,
) -> Callable[[ChainExtender, RecordedEvent], ChainRow]:
    """How an import turns each event into a chain row: `validate` refuses it (raising
    InvalidInput or ValueError, reported as `EventRejected` at its index), else the
    event must continue the chain exactly (`ChainExtender.recorded`)."""

    def accept(extender: ChainExtender, event: RecordedEvent) -> ChainRow:
        if validate is not None:
            try:
                validate(event)
            except (DomainError, ValueError) as exc:
                raise EventRejected(str(exc), extender.count) from None
        return extender.recorded(event)

    return accept


def recording(
    extender: ChainExtender, item: tuple[RecordedEvent, dict[str, Any] | None]
) -> ChainRow:
    """How a history load (`EventWriter.load_recorded`) turns an event and its command's
    payload (or None) into a chain row: it must continue the chain exactly."""
    event, payload = item
    return extender.recorded(event, None if payload is None else canonical_json(payload, "command"))
