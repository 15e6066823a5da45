"""The EventReader and AuditRecords reads, and verifying the chain, on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import orjson

from domain.clock_skew import TimeReader, position_at
from domain.envelope import Bookmark, RecordedEvent, Refusal, RefusalMark, StreamSummary
from domain.ports import CommandRecord, ImportRecord, VerifyReport
from store.filters import is_glob, row_matcher
from store.hashchain import event_from_row, row_verifies, stored_time, verify
from store.postgres.base import CHAIN_COLUMNS, PostgresBase
from store.sqlite.import_records import COMMAND_ROWS, IMPORT_COLUMNS, command_record
from store.sqlite.statements import (
    EVERY_POSITION,
    REFUSAL_COLUMNS,
    REFUSAL_COUNT,
    REFUSAL_MARKS,
    refusal_from_row,
)

COMMAND_COLUMNS = (
    "command_id, command_type, payload, actor, recorded_at, first_position, last_position"
)

_ACTOR = "((metadata::jsonb) ->> 'actor')"
"""Spelled as the `events_actor` index (store/postgres/schema.py), so queries use it."""
_CORRELATION = "((metadata::jsonb) ->> 'correlation_id')"
_COMMAND_ID = "((metadata::jsonb) ->> 'command_id')"


def _events(rows: Sequence[Any]) -> list[RecordedEvent]:
    return [event_from_row(tuple(row)) for row in rows]


def _exact(stream: str | None, type_: str | None, actor: str | None) -> tuple[list[str], list[Any]]:
    """WHERE clauses (and parameters) for the exact values among the filters; GLOB
    patterns are left to `store.filters.row_matcher`."""
    clauses: list[str] = []
    params: list[Any] = []
    for column, value in (("stream_id", stream), ("type", type_), (_ACTOR, actor)):
        if value is not None and not is_glob(value):
            clauses.append(f"{column} = %s")
            params.append(value)
    return clauses, params


class Reading(PostgresBase):
    """Reads of the log, the audit records, and the chain check."""

    def data_version(self) -> int:
        """The change token: every write transaction (from any process or host) bumps it."""
        row = self._one("SELECT version FROM changes WHERE id = 1")
        return int(row[0]) if row else 0

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it has no events)."""
        row = self._one("SELECT max(version) FROM events WHERE stream_id = %s", (stream_id,))
        return int(row[0]) if row and row[0] is not None else 0

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events with after_version < version <= to_version, in order."""
        sql = f"SELECT {CHAIN_COLUMNS} FROM events WHERE stream_id = %s AND version > %s"
        params: list[Any] = [stream_id, after_version]
        if to_version is not None:
            sql += " AND version <= %s"
            params.append(to_version)
        return _events(self._query(sql + " ORDER BY version", params))

    def fold_rows_reading(
        self, after: int, limit: int, fields: frozenset[str]
    ) -> list[Sequence[Any]]:
        """Up to `limit` events after `after`, in order, as narrow `FoldRow`s of only
        `fields` (`domain.ports.SelectsFoldFields`): what a seek's tail folds
        (`store.timeline_tail`), as on SQLite."""
        from store.replay import select_events  # not at import: the CLI's start-up

        return self._query(select_events(fields).replace("?", "%s"), (after, limit))

    def read_all(
        self, *, after: int = 0, to: int | None = None, limit: int | None = None
    ) -> list[RecordedEvent]:
        """Events with after < position <= to, in order, at most `limit` of them."""
        sql = f"SELECT {CHAIN_COLUMNS} FROM events WHERE position > %s"
        params: list[Any] = [after]
        if to is not None:
            sql += " AND position <= %s"
            params.append(to)
        sql += " ORDER BY position"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(max(0, limit))
        return _events(self._query(sql, params))

    def iter_all(self, *, after: int = 0, to: int | None = None) -> Iterator[RecordedEvent]:
        """Like `read_all`, streamed in chunks (up to the head when iteration starts)."""
        return (event_from_row(row) for row in self.iter_chain_rows(after=after, to=to))

    def position_at(self, timestamp: str) -> int:
        """The last position at or before `timestamp` not flagged as clock skew (0: none)."""
        moment = stored_time(timestamp)
        if self._one("SELECT 1 FROM events WHERE recorded_at <= %s LIMIT 1", (moment,)) is None:
            return 0
        head = self.head().position

        def times(first: int, last: int) -> Sequence[str]:
            return [
                row[0]
                for row in self._query(
                    "SELECT recorded_at FROM events WHERE position BETWEEN %s AND %s "
                    "ORDER BY position",
                    (first, last),
                )
            ]

        def block_min(first: int, last: int) -> str:
            row = self._one(
                "SELECT min(recorded_at) FROM events WHERE position BETWEEN %s AND %s",
                (first, last),
            )
            return str(row[0])

        def last_at_or_before(first: int, last: int, moment: str) -> int:
            row = self._one(
                "SELECT position FROM events WHERE position BETWEEN %s AND %s "
                "AND recorded_at <= %s ORDER BY position DESC LIMIT 1",
                (first, last, moment),
            )
            return 0 if row is None else int(row[0])

        reader = TimeReader(head, times, block_min, last_at_or_before)
        return position_at(moment, reader, self._time_blocks)

    def streams(
        self, prefix: str = "", *, after: str = "", limit: int = 100
    ) -> list[StreamSummary]:
        """Streams whose id starts with `prefix` (and sorts after `after`), by id."""
        rows = self._query(
            "SELECT stream_id, min(stream_type), max(version) FROM events "
            "WHERE stream_id > %s AND left(stream_id, %s) = %s "
            "GROUP BY stream_id ORDER BY stream_id LIMIT %s",
            (after, len(prefix), prefix, max(0, limit)),
        )
        return [StreamSummary(row[0], row[1], int(row[2])) for row in rows]

    def count_events(
        self, *, stream: str | None = None, type: str | None = None, actor: str | None = None
    ) -> int:
        """How many events match the exact filters (all of them without filters)."""
        clauses, params = [], []
        for column, value in (("stream_id", stream), ("type", type), (_ACTOR, actor)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        row = self._one(f"SELECT count(*) FROM events{where}", params)
        return int(row[0]) if row else 0

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
        """One page of events with after < position < before that match the exact filters."""
        clauses = ["position > %s"]
        params: list[Any] = [after]
        if before is not None:
            clauses.append("position < %s")
            params.append(before)
        for column, value in (("stream_id", stream), ("type", type), (_ACTOR, actor)):
            if value is not None:
                clauses.append(f"{column} = %s")
                params.append(value)
        order = "DESC" if descending else "ASC"
        params.append(max(0, limit))
        return _events(
            self._query(
                f"SELECT {CHAIN_COLUMNS} FROM events WHERE {' AND '.join(clauses)} "
                f"ORDER BY position {order} LIMIT %s",
                params,
            )
        )

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

        Exact values are matched in SQL (indexed); GLOB patterns and `text` by
        `store.filters.row_matcher`, the rule every store shares.
        """
        matches = row_matcher(stream, type, actor, text)
        clauses, params = _exact(stream, type, actor)
        stop = self.head().position if to is None else to
        wanted = None if limit is None else max(0, limit)
        found: list[int] = []
        position = max(0, after)
        where = "".join(f" AND {clause}" for clause in clauses)
        while position < stop and (wanted is None or len(found) < wanted):
            rows = self._query(
                f"SELECT {CHAIN_COLUMNS} FROM events WHERE position > %s AND position <= %s"
                f"{where} ORDER BY position LIMIT 5000",
                (position, stop, *params),
            )
            if not rows:
                break
            for row in rows:
                if matches(tuple(row)):
                    found.append(int(row[0]))
                    if wanted is not None and len(found) >= wanted:
                        break
            position = int(rows[-1][0])
        return found

    def events_at(self, positions: Sequence[int]) -> list[RecordedEvent]:
        """The events at `positions`, ascending, each once (missing positions left out)."""
        wanted = sorted({int(p) for p in positions})
        if not wanted:
            return []
        return _events(
            self._query(
                f"SELECT {CHAIN_COLUMNS} FROM events WHERE position = ANY(%s) ORDER BY position",
                (wanted,),
            )
        )

    # -- audit records ----------------------------------------------------------------------

    def refusals(
        self, *, to_position: int | None = None, limit: int | None = None
    ) -> list[Refusal]:
        """Refusals recorded while the head was at or before `to_position`, newest first."""
        sql = f"SELECT {REFUSAL_COLUMNS} FROM refusals"
        params: list[Any] = []
        if to_position is not None:
            sql += " WHERE at_position <= %s"
            params.append(to_position)
        sql += " ORDER BY id DESC"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(max(0, limit))
        return [refusal_from_row(row) for row in self._query(sql, params)]

    def refusal_marks(self, *, after_id: int = 0) -> list[RefusalMark]:
        """Every refusal with an id above `after_id`, as a `RefusalMark`, by id ascending."""
        rows = self._query(REFUSAL_MARKS.replace("?", "%s"), (after_id,))
        return [RefusalMark._make(row) for row in rows]

    def refusal_count(self, *, to_position: int | None = None) -> int:
        """How many refusals were recorded while the head was at or before `to_position`."""
        at = EVERY_POSITION if to_position is None else to_position
        return int(self._query(REFUSAL_COUNT.replace("?", "%s"), (at,))[0][0])

    def command_payload(self, command_id: str) -> tuple[str, dict[str, object]] | None:
        """The (command type, payload) recorded for this command id, if any."""
        row = self._one(
            "SELECT command_type, payload FROM commands WHERE command_id = %s", (command_id,)
        )
        if row is None or row[1] is None:
            return None
        return row[0], orjson.loads(row[1])

    def positions_by_command(self, command_id: str) -> list[int]:
        """Positions of the events recorded by command `command_id`, ascending."""
        rows = self._query(
            "SELECT e.position FROM commands c JOIN events e ON e.position BETWEEN "
            f"c.first_position AND c.last_position WHERE c.command_id = %s AND {_COMMAND_ID} = %s "
            "ORDER BY e.position",
            (command_id, command_id),
        )
        return [int(row[0]) for row in rows]

    def positions_by_correlation(self, correlation_id: str, *, limit: int = 1000) -> list[int]:
        """Positions of the events whose metadata carries `correlation_id`, ascending."""
        rows = self._query(
            f"SELECT position FROM events WHERE {_CORRELATION} = %s ORDER BY position LIMIT %s",
            (correlation_id, max(0, limit)),
        )
        return [int(row[0]) for row in rows]

    def commands_between(self, first: int, last: int) -> list[CommandRecord]:
        """The commands whose first event is at a position in first..last, by that position."""
        rows = self._query(
            f"SELECT {COMMAND_COLUMNS} FROM commands WHERE first_position BETWEEN "
            "GREATEST(%s, 1) AND %s ORDER BY first_position",
            (first, last),
        )
        return [command_record(row) for row in rows]

    def empty_commands(self) -> list[CommandRecord]:
        """The commands that recorded no event (positions 0..0), by time, then id."""
        rows = self._query(
            f"SELECT {COMMAND_COLUMNS} FROM commands WHERE first_position = 0 "
            "ORDER BY recorded_at, command_id"
        )
        return [command_record(row) for row in rows]

    def command_rows(self, first: int, last: int) -> list[tuple[Any, ...]]:
        """The stored commands rows whose first position is in first..last (with their
        HMAC), by that position then id."""
        return [tuple(row) for row in self._query(COMMAND_ROWS.replace("?", "%s"), (first, last))]

    def refusals_between(self, first: int, last: int) -> list[Refusal]:
        """Refusals recorded while the head was at first..last, oldest first."""
        rows = self._query(
            f"SELECT {REFUSAL_COLUMNS} FROM refusals WHERE at_position BETWEEN %s AND %s "
            "ORDER BY at_position, id",
            (first, last),
        )
        return [refusal_from_row(row) for row in rows]

    def imports(self) -> list[ImportRecord]:
        """Every import record, oldest first."""
        rows = self._query(f"SELECT {IMPORT_COLUMNS} FROM imports ORDER BY id")
        return [ImportRecord(*row) for row in rows]

    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark, by position (then name)."""
        rows = self._query(
            "SELECT name, position, actor, created_at FROM bookmarks ORDER BY position, name"
        )
        return [Bookmark(row[0], int(row[1]), row[2] or "", row[3] or "") for row in rows]

    # -- the chain ----------------------------------------------------------------------------

    def verify(self) -> VerifyReport:
        """Walk the whole chain (streamed) and report the first problem, if any."""
        self._need_key("verifying")
        return verify(self.iter_chain_rows(chunk=10_000), self._key)

    def verify_event(self, event: RecordedEvent) -> bool:
        """True when the stored row at `event.position` is `event` and still hashes right."""
        self._need_key("checking a hash")
        rows = self._query(
            f"SELECT {CHAIN_COLUMNS} FROM events WHERE position = %s", (event.position,)
        )
        return bool(rows) and row_verifies(tuple(rows[0]), event, self._key)
