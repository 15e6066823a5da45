"""An in-memory event store with the SQLite store's semantics: the fake behind the port.

It is a real implementation (hash chain, idempotency, conflicts, refusals, bulk and
import), so unit tests exercise the same promises the contract suite checks for SQLite.
Events are kept as chain rows with their JSON texts and decoded on every read, so a
caller mutating what it got back cannot change history.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from domain.clock import Clock, SystemClock
from domain.clock_skew import TimeBlocks
from domain.envelope import (
    GENESIS_HASH,
    AppendResult,
    Bookmark,
    Head,
    Metadata,
    PendingEvent,
    RecordedEvent,
    Refusal,
    StreamAppend,
    StreamSummary,
)
from domain.errors import ConcurrencyConflict, InvalidInput
from domain.ports import EventStore, ImportRecord, VerifyReport
from store.filters import is_glob, row_matcher
from store.hashchain import (
    ChainExtender,
    ChainRow,
    CommandRow,
    EventRejected,
    canonical_json,
    check_append,
    event_from_row,
    hash_mode,
    importing,
    row_verifies,
    stored_time,
    verify,
)
from store.memory_audit import AfterLoad, MemoryTransferRecords
from store.memory_bookmarks import MemoryBookmarks
from store.memory_read_models import MemoryReadModelData, MemoryReadModels, fold_rows_of
from store.memory_time_index import memory_position_at
from store.proofs.memory_log import InMemoryProofStore


class InMemoryEventStore(MemoryTransferRecords, MemoryBookmarks):
    """The EventStore port in memory; thread-safe, one lock around every operation."""

    def __init__(self, *, clock: Clock | None = None, key: bytes | None = None) -> None:
        self.clock: Clock = clock or SystemClock()
        self._key = key
        self._rows: list[ChainRow] = []
        self._read_model_data = MemoryReadModelData()
        self._times: list[str] = []
        self._time_blocks = TimeBlocks()
        self._streams: dict[str, list[int]] = {}
        self._event_ids: set[str] = set()
        self._commands: dict[str, CommandRow] = {}
        self._refusals: list[Refusal] = []
        self._bookmarks: dict[str, Bookmark] = {}
        self._imports: list[ImportRecord] = []
        self._commits = 0
        self._lock = threading.RLock()
        self.proofs = InMemoryProofStore()
        """The Merkle tree over these events (the ProofStore role)."""

    # -- information ---------------------------------------------------------------------

    @property
    def hash_mode(self) -> str:
        """`sha256` or `hmac-sha256`."""
        return hash_mode(self._key)

    @property
    def keyed(self) -> bool:
        """True for an HMAC-keyed chain."""
        return self._key is not None

    @property
    def has_key(self) -> bool:
        """True when the key of a keyed chain is known (always, in memory)."""
        return self._key is not None

    def data_version(self) -> int:
        """A number that changes whenever something is committed."""
        return self._commits

    # -- writing -------------------------------------------------------------------------

    def _extender(self) -> ChainExtender:
        return ChainExtender(
            self._head(),
            self._times[-1] if self._times else "",
            self._key,
            stream_version=lambda stream_id: len(self._streams.get(stream_id, ())),
            command_exists=self._commands.__contains__,
        )

    def _commit(self, rows: list[ChainRow], commands: list[CommandRow]) -> None:
        for row in rows:
            self._rows.append(row)
            self._times.append(row[7])
            self._streams.setdefault(row[2], []).append(row[0])
            self._event_ids.add(row[1])
        self.proofs.extend(rows)
        for command in commands:
            self._commands[command[0]] = command
        self._commits += 1

    @contextmanager
    def exclusive_appends(self) -> Iterator[None]:
        """No other thread appends inside (see `EventWriter.exclusive_appends`)."""
        with self._lock:
            yield

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        """Append to one or more streams atomically (see `EventStore.append`)."""
        check_append(streams)
        with self._lock:
            command_id = metadata.command_id
            if command_id and command_id in self._commands:
                earlier = self.find_command(command_id)
                assert earlier is not None
                return earlier
            for append in streams:
                actual = len(self._streams.get(append.stream_id, ()))
                if actual != append.expected_version:
                    raise ConcurrencyConflict(append.stream_id, append.expected_version, actual)
            # The writer's own time, never clamped (see `domain.clock_skew`).
            recorded_at = stored_time(self.clock.now())
            extender = self._extender()
            metadata_text = canonical_json(metadata.event_metadata(), "metadata")
            rows: list[ChainRow] = []
            fresh: set[str] = set()
            for append in streams:
                for event in append.events:
                    if event.event_id in self._event_ids or event.event_id in fresh:
                        raise InvalidInput("an event id in this append is already recorded")
                    fresh.add(event.event_id)
                    rows.append(
                        extender.row(
                            event.event_id,
                            append.stream_id,
                            append.stream_type,
                            event.type,
                            event.schema_version,
                            recorded_at,
                            canonical_json(event.data),
                            metadata_text,
                        )
                    )
            commands: list[CommandRow] = []
            if command_id:
                commands.append(
                    (
                        command_id,
                        metadata.command_type,
                        canonical_json(metadata.command, "command"),
                        metadata.actor,
                        recorded_at,
                        rows[0][0] if rows else 0,
                        rows[-1][0] if rows else 0,
                    )
                )
            self._commit(rows, commands)
            events = tuple(event_from_row(row) for row in rows)
            return AppendResult(command_id, tuple(row[0] for row in rows), events)

    def append_bulk(self, events: Iterable[PendingEvent | Refusal], *, batch: int = 10_000) -> Head:
        """Load many decided events in one step (see `SqliteEventStore.append_bulk`)."""
        return self._load(events, lambda ext, item: ext.pending(item), refusals=True)

    def import_events(
        self,
        events: Iterable[RecordedEvent],
        validate: Callable[[RecordedEvent], None] | None = None,
    ) -> Head:
        """Import recorded events all-or-nothing (see `SqliteEventStore.import_events`)."""

        return self._load(events, importing(validate))

    def _load(
        self,
        items: Iterable[Any],
        to_row: Callable[[ChainExtender, Any], ChainRow],
        *,
        refusals: bool = False,
        after: AfterLoad | None = None,
    ) -> Head:
        with self._lock:
            extender = self._extender()
            rows: list[ChainRow] = []
            refused: list[Refusal] = []
            fresh: set[str] = set()
            for item in items:
                if refusals and type(item) is Refusal:
                    # Kept as SQLite keeps it: canonical (keys sorted), a copy.
                    command = orjson.loads(canonical_json(item.command, "command"))
                    refused.append(
                        replace(
                            item,
                            id=len(self._refusals) + len(refused) + 1,
                            at_position=extender.position,
                            recorded_at=item.recorded_at or extender.last_recorded_at,
                            command=command,
                        )
                    )
                    continue
                row = to_row(extender, item)
                event_id = row[1]
                if event_id in self._event_ids or event_id in fresh:
                    raise EventRejected(
                        f"event id {event_id} is already recorded", extender.count - 1
                    )
                fresh.add(event_id)
                rows.append(row)
            commands = extender.finish_commands()
            keep = None if after is None else after(extender.head, commands)
            self._commit(rows, commands)
            self._refusals.extend(refused)
            if keep is not None:  # an import's own records (`load_recorded`)
                keep()
            return extender.head

    def record_refusal(self, refusal: Refusal) -> Refusal:
        """Keep a refused command for the audit, placed at the current head position."""
        command = orjson.loads(canonical_json(refusal.command, "command"))
        with self._lock:
            kept = replace(
                refusal,
                command=command,
                id=len(self._refusals) + 1,
                at_position=len(self._rows),
                recorded_at=refusal.recorded_at or self.clock.now(),
            )
            self._refusals.append(kept)
            self._commits += 1
            return replace(kept, command=dict(kept.command))

    # -- reading -------------------------------------------------------------------------

    def _head(self) -> Head:
        if not self._rows:
            return Head(0, GENESIS_HASH)
        last = self._rows[-1]
        return Head(last[0], last[11])

    def head(self) -> Head:
        """The last position and its hash (0 and the genesis hash when empty)."""
        with self._lock:
            return self._head()

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it has no events)."""
        with self._lock:
            return len(self._streams.get(stream_id, ()))

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events with after_version < version <= to_version, in order."""
        with self._lock:
            positions = self._streams.get(stream_id, [])
            stop = len(positions) if to_version is None else max(0, to_version)
            chosen = positions[max(0, after_version) : stop]
            return [event_from_row(self._rows[p - 1]) for p in chosen]

    def read_all(
        self, *, after: int = 0, to: int | None = None, limit: int | None = None
    ) -> list[RecordedEvent]:
        """Events with after < position <= to, in order, at most `limit` of them."""
        with self._lock:
            return [event_from_row(row) for row in self._slice(after, to, limit)]

    def _slice(self, after: int, to: int | None, limit: int | None) -> list[ChainRow]:
        start = max(0, after)
        stop = len(self._rows) if to is None else max(start, min(to, len(self._rows)))
        if limit is not None:
            stop = min(stop, start + max(0, limit))
        return self._rows[start:stop]

    def iter_all(self, *, after: int = 0, to: int | None = None) -> Iterator[RecordedEvent]:
        """Events after `after` up to `to` (default: the head when iteration starts)."""
        with self._lock:
            rows = self._slice(after, to, None)
        return map(event_from_row, rows)

    def iter_chain_rows(self, *, after: int = 0, to: int | None = None) -> Iterator[ChainRow]:
        """Raw chain rows (stored JSON texts) for verification."""
        with self._lock:
            return iter(self._slice(after, to, None))

    def position_at(self, timestamp: str) -> int:
        """The last position recorded at or before `timestamp` whose time is not flagged
        as clock skew (0 if none); see `domain.clock_skew`."""
        moment = stored_time(timestamp)
        with self._lock:
            return memory_position_at(self._times, moment, self._time_blocks)

    def find_command(self, command_id: str) -> AppendResult | None:
        """The result an earlier command with this id recorded, if any."""
        with self._lock:
            command = self._commands.get(command_id)
            if command is None:
                return None
            first, last = command[5], command[6]
            rows = self._rows[first - 1 : last] if first else []
            events = tuple(
                e for e in map(event_from_row, rows) if e.metadata.get("command_id") == command_id
            )
            return AppendResult(
                command_id, tuple(e.position for e in events), events, duplicate=True
            )

    def command_payload(self, command_id: str) -> tuple[str, dict[str, object]] | None:
        """The (command type, payload) recorded for this command id, if known."""
        with self._lock:
            command = self._commands.get(command_id)
        if command is None or command[2] is None:
            return None
        return command[1], orjson.loads(command[2])

    def _matching(
        self, stream: str | None, type_: str | None, actor: str | None
    ) -> Iterator[ChainRow]:
        for row in self._rows:
            if stream is not None and row[2] != stream:
                continue
            if type_ is not None and row[5] != type_:
                continue
            if actor is not None and event_from_row(row).actor != actor:
                continue
            yield row

    def count_events(
        self, *, stream: str | None = None, type: str | None = None, actor: str | None = None
    ) -> int:
        """How many events match the filters (all of them without filters)."""
        with self._lock:
            return sum(1 for _ in self._matching(stream, type, actor))

    def events_page(
        self,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int = 100,
        stream: str | None = None,
        type: str | None = None,
        actor: str | None = None,
        descending: bool = False,
    ) -> list[RecordedEvent]:
        """One page of events with after < position < before that match the filters."""
        with self._lock:
            rows = [
                row
                for row in self._matching(stream, type, actor)
                if row[0] > after and (before is None or row[0] < before)
            ]
        if descending:
            rows.reverse()
        return [event_from_row(row) for row in rows[: max(0, limit)]]

    def streams(
        self, prefix: str = "", *, after: str = "", limit: int = 100
    ) -> list[StreamSummary]:
        """Streams whose id starts with `prefix` (and sorts after `after`), by id."""
        with self._lock:
            chosen = sorted(s for s in self._streams if s.startswith(prefix) and s > after)
            return [
                StreamSummary(s, self._rows[self._streams[s][0] - 1][3], len(self._streams[s]))
                for s in chosen[: max(0, limit)]
            ]

    def positions(
        self,
        *,
        stream: str | None = None,
        type: str | None = None,
        actor: str | None = None,
        text: str | None = None,
        after: int = 0,
        to: int | None = None,
        limit: int | None = None,
    ) -> list[int]:
        """Positions in after < position <= to of the events that match, ascending.

        Exact values or GLOB patterns for `stream`, `type`, `actor`; `text` a
        case-insensitive (ASCII) substring of the data or metadata JSON (see
        `store.filters`). At most `limit` positions (all when None).
        """
        matches = row_matcher(stream, type, actor, text)
        wanted = None if limit is None else max(0, limit)
        found: list[int] = []
        with self._lock:
            rows = self._rows
            stop = len(rows) if to is None else max(0, min(to, len(rows)))
            if stream is not None and not is_glob(stream):
                in_stream = self._streams.get(stream, [])
                candidates: Iterable[int] = in_stream[bisect_right(in_stream, after) :]
            else:
                candidates = range(max(0, after) + 1, stop + 1)
            for position in candidates:
                if wanted is not None and len(found) >= wanted:
                    break
                if position > stop:
                    break
                if matches(rows[position - 1]):
                    found.append(position)
        return found

    def events_at(self, positions: Sequence[int]) -> list[RecordedEvent]:
        """The events at `positions`, ascending, each once; missing ones left out."""
        with self._lock:
            count = len(self._rows)
            rows = [self._rows[p - 1] for p in sorted(set(positions)) if 0 < p <= count]
        return [event_from_row(row) for row in rows]

    def positions_by_correlation(self, correlation_id: str, *, limit: int = 1000) -> list[int]:
        """Positions of the events whose metadata carries `correlation_id`, ascending."""
        wanted = max(0, limit)
        found: list[int] = []
        with self._lock:
            for row in self._rows:
                if len(found) >= wanted:
                    break
                if orjson.loads(row[9]).get("correlation_id") == correlation_id:
                    found.append(row[0])
        return found

    def positions_by_command(self, command_id: str) -> list[int]:
        """Positions of the events recorded by command `command_id`, ascending."""
        with self._lock:
            command = self._commands.get(command_id)
            if command is None or not command[5]:
                return []
            rows = self._rows[command[5] - 1 : command[6]]
        return [row[0] for row in rows if orjson.loads(row[9]).get("command_id") == command_id]

    def verify(self) -> VerifyReport:
        """Walk the whole chain and report the first problem, if any."""
        with self._lock:
            rows = list(self._rows)
        return verify(rows, self._key)

    def verify_event(self, event: RecordedEvent) -> bool:
        """True when the stored row at `event.position` is `event` and still hashes right.

        See `SqliteEventStore.verify_event`.
        """
        with self._lock:
            if not 0 < event.position <= len(self._rows):
                return False
            row = self._rows[event.position - 1]
        return row_verifies(row, event, self._key)

    def read_models(self) -> MemoryReadModels:
        """The `ProjectionStore` role: read models kept beside the events, in memory."""
        return MemoryReadModels(
            self._read_model_data,
            fold_rows=lambda after, limit: fold_rows_of(self._slice(after, None, limit)),
            head=lambda: self.head().position,
            data_version=self.data_version,
        )

    def close(self) -> None:
        """Nothing to release; here so both stores can be used the same way."""


if TYPE_CHECKING:  # every store implements every event-store role
    _ROLES: type[EventStore] = InMemoryEventStore
