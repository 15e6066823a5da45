"""Appending one command's events: one `BEGIN IMMEDIATE` transaction, one round trip
for everything it must know (`situation_sql`), the chain hashes computed in line.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import orjson

from domain.envelope import (
    GENESIS_HASH,
    AppendResult,
    Metadata,
    RecordedEvent,
    StreamAppend,
)
from domain.errors import ConcurrencyConflict, StoreError
from store.derived_macs import check_command, sign_commands
from store.hashchain import (
    ChainRow,
    canonical_json,
    check_append,
    event_from_row,
    is_stored_time,
    stored_time,
)
from store.proofs.sqlite_log import extend_tree
from store.sqlite.base import SqliteBase
from store.sqlite.statements import (
    CHAIN_COLUMNS,
    FIND_COMMAND,
    INSERT_EVENT,
    situation_sql,
)


class Appending(SqliteBase):
    """The EventWriter role's appends and command lookup."""

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        """Append to one or more streams in one transaction (see `EventStore.append`)."""
        check_append(streams)
        conn = self._conn()
        try:
            result = self._writers.grouped(
                conn, lambda c: self._append_locked(c, streams, metadata), keep=_new
            )
        except sqlite3.IntegrityError as exc:
            raise self._integrity(exc) from None
        except sqlite3.Error as exc:
            raise self._error(exc, "append") from None
        if not result.duplicate:
            self._committed(conn)
        return result

    @contextmanager
    def exclusive_appends(self) -> Iterator[None]:
        """The write lock held for the block (see `EventWriter.exclusive_appends`)."""
        conn = self._conn()
        try:
            with self._writers.exclusive(conn):
                yield
        except sqlite3.Error as exc:
            raise self._error(exc, "append") from None
        self._committed(conn)

    def _append_locked(
        self, conn: sqlite3.Connection, streams: Sequence[StreamAppend], metadata: Metadata
    ) -> AppendResult:
        command_id = metadata.command_id
        params = [command_id, *(append.stream_id for append in streams)]
        earlier, last_row, *versions = conn.execute(situation_sql(len(streams)), params).fetchone()
        if earlier is not None:
            first, last = map(int, earlier.split(" "))
            return self._command_result(conn, command_id, first, last, True)
        for append, version in zip(streams, versions, strict=True):
            actual = version or 0
            if actual != append.expected_version:
                raise ConcurrencyConflict(append.stream_id, append.expected_version, actual)
        if last_row is None:
            position, prev = 0, GENESIS_HASH
        else:
            parts = last_row.split(" ")
            if len(parts) != 3:
                raise StoreError(f"{self.path}: the last event is damaged; run `eventscope verify`")
            position, prev = int(parts[0]), parts[1]
        now = self.clock.now()
        if not self._clock_is_stored and not is_stored_time(now):
            now = stored_time(now)
        # The writer's own time, never clamped: one skewed clock changes no other
        # event's time (it is flagged instead, see `domain.clock_skew`).
        recorded_at = now
        metadata_text = canonical_json(metadata.event_metadata(), "metadata")
        digest = self._digest
        loads = orjson.loads
        rows: list[ChainRow] = []
        events: list[RecordedEvent] = []
        # The chain rows as `ChainExtender.row` makes them, and the recorded events
        # beside them. Their dicts are decoded from the stored texts: what a read returns,
        # key order included, and the caller's dicts stay its own.
        for append, version in zip(streams, versions, strict=True):
            stream_id = append.stream_id
            stream_type = append.stream_type
            version = version or 0
            for event in append.events:
                position += 1
                version += 1
                data_text = canonical_json(event.data)
                row = (
                    position,
                    event.event_id,
                    stream_id,
                    stream_type,
                    version,
                    event.type,
                    event.schema_version,
                    recorded_at,
                    data_text,
                    metadata_text,
                )
                # `canonical_row` of the full row: the JSON array of these ten columns.
                hash_ = digest(prev.encode() + orjson.dumps(row))
                rows.append((*row, prev, hash_))
                events.append(
                    RecordedEvent(
                        position,
                        event.event_id,
                        stream_id,
                        stream_type,
                        version,
                        event.type,
                        event.schema_version,
                        loads(data_text),
                        loads(metadata_text),
                        recorded_at,
                        prev,
                        hash_,
                    )
                )
                prev = hash_
        if len(rows) == 1:
            conn.execute(INSERT_EVENT, rows[0])
        elif rows:
            conn.executemany(INSERT_EVENT, rows)
        extend_tree(conn, rows)
        first = rows[0][0] if rows else 0
        last = rows[-1][0] if rows else 0
        if command_id:
            command = (
                command_id,
                metadata.command_type,
                canonical_json(metadata.command, "command"),
                metadata.actor,
                recorded_at,
                first,
                last,
            )
            conn.executemany(self._insert_command, sign_commands(conn, self.macs, [command]))
        return AppendResult(command_id, tuple(row[0] for row in rows), tuple(events))

    def find_command(self, command_id: str) -> AppendResult | None:
        """The result an earlier command with this id recorded, if any."""
        try:
            conn = self._conn()
            row = conn.execute(FIND_COMMAND, (command_id,)).fetchone()
            if row is None:
                return None
            return self._command_result(conn, command_id, row[0], row[1], True)
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from None

    def _command_result(
        self, conn: sqlite3.Connection, command_id: str, first: int, last: int, duplicate: bool
    ) -> AppendResult:
        rows = (
            conn.execute(
                f"SELECT {CHAIN_COLUMNS} FROM events WHERE position BETWEEN ? AND ? "
                "ORDER BY position",
                (first, last),
            ).fetchall()
            if first
            else []
        )
        events = tuple(
            e for e in map(event_from_row, rows) if e.metadata.get("command_id") == command_id
        )
        check_command(conn, self.macs, command_id, first, last, events)
        return AppendResult(
            command_id, tuple(e.position for e in events), events, duplicate=duplicate
        )


def _new(result: AppendResult) -> bool:
    return not result.duplicate
