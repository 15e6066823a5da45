"""`position_at` and clock-skew flags over the SQLite events table.

The rule is `domain.clock_skew`'s; this module only reads what it needs. Times are
read by primary key (`NOT INDEXED` keeps the planner off the `recorded_at` index for
position ranges); the `recorded_at` index (schema step 9) answers "is anything
recorded at or before T at all" without a scan, and names the candidate position
(`_latest`) by scanning index entries only, so a first `position_at` reads no event rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Final

from domain.clock_skew import ClockSkew, TimeBlocks, TimeReader, position_at, skew_at

_HEAD: Final = "SELECT max(position) FROM events"
_TIMES: Final = (
    "SELECT recorded_at FROM events NOT INDEXED WHERE position BETWEEN ? AND ? ORDER BY position"
)
_BLOCK_MIN: Final = "SELECT min(recorded_at) FROM events NOT INDEXED WHERE position BETWEEN ? AND ?"
_LAST_AT_OR_BEFORE: Final = (
    "SELECT position FROM events NOT INDEXED WHERE position BETWEEN ? AND ? "
    "AND recorded_at <= ? ORDER BY position DESC LIMIT 1"
)
_ANY_AT_OR_BEFORE: Final = "SELECT 1 FROM events WHERE recorded_at <= ? LIMIT 1"
_BY_TIME: Final = "FROM events INDEXED BY events_recorded_at"
_LATEST_TIME: Final = (
    f"SELECT position {_BY_TIME} WHERE recorded_at <= ? AND position <= ? "
    "ORDER BY recorded_at DESC LIMIT 1"
)
_LAST_POSITION: Final = f"SELECT max(position) {_BY_TIME} WHERE recorded_at <= ? AND position <= ?"
_LATER: Final = f"SELECT count(*), min(position) {_BY_TIME} WHERE recorded_at > ? AND position <= ?"


def _latest(conn: sqlite3.Connection, head: int) -> Callable[[str], int | None]:
    """The last position <= head recorded at or before a moment, from the time index.

    One O(log n) probe finds p0, the position of the latest time at or before the
    moment; the answer is at least p0. Then the shorter side of the index is scanned
    (index entries only, never the events' rows): before p0, the largest position
    recorded by then; after it, the events recorded later, which must be exactly the
    tail of the log (else None: times went back there, and the block walk decides).
    """
    execute = conn.execute

    def latest(moment: str) -> int | None:
        row = execute(_LATEST_TIME, (moment, head)).fetchone()
        if row is None:
            return 0
        if int(row[0]) <= head // 2:
            return int(execute(_LAST_POSITION, (moment, head)).fetchone()[0] or 0)
        count, first = execute(_LATER, (moment, head)).fetchone()
        if not count:
            return head
        return head - int(count) if int(first) == head - int(count) + 1 else None

    return latest


def _reader(conn: sqlite3.Connection, head: int) -> TimeReader:
    execute = conn.execute

    def times(first: int, last: int) -> Sequence[str]:
        return [row[0] for row in execute(_TIMES, (first, last))]

    def block_min(first: int, last: int) -> str:
        return str(execute(_BLOCK_MIN, (first, last)).fetchone()[0])

    def last_at_or_before(first: int, last: int, moment: str) -> int:
        row = execute(_LAST_AT_OR_BEFORE, (first, last, moment)).fetchone()
        return 0 if row is None else int(row[0])

    return TimeReader(head, times, block_min, last_at_or_before)


def sqlite_position_at(conn: sqlite3.Connection, moment: str, blocks: TimeBlocks) -> int:
    """`domain.clock_skew.position_at` on this connection (`moment` in the stored form)."""
    if conn.execute(_ANY_AT_OR_BEFORE, (moment,)).fetchone() is None:
        return 0
    head = int(conn.execute(_HEAD).fetchone()[0] or 0)
    reader = _reader(conn, head)
    return position_at(moment, replace(reader, latest=_latest(conn, head)), blocks)


def sqlite_skew_at(conn: sqlite3.Connection, position: int) -> ClockSkew | None:
    """The clock-skew flag of `position`, or None (not skewed, or not decided yet)."""
    head = int(conn.execute(_HEAD).fetchone()[0] or 0)
    return skew_at(position, head, _reader(conn, head).times)
