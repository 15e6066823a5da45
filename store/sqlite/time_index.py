"""`position_at` and clock-skew flags over the SQLite events table.

The rule is `domain.clock_skew`'s; this module only reads what it needs. Times are
read by primary key (`NOT INDEXED` keeps the planner off the `recorded_at` index for
position ranges); the `recorded_at` index (schema step 9) answers "is anything
recorded at or before T at all" without a scan.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
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
    return position_at(moment, _reader(conn, head), blocks)


def sqlite_skew_at(conn: sqlite3.Connection, position: int) -> ClockSkew | None:
    """The clock-skew flag of `position`, or None (not skewed, or not decided yet)."""
    head = int(conn.execute(_HEAD).fetchone()[0] or 0)
    return skew_at(position, head, _reader(conn, head).times)
