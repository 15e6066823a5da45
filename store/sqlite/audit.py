"""Refusals, command payloads and links, bookmarks, and checking the chain."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from domain.envelope import (
    RecordedEvent,
    Refusal,
    RefusalMark,
)
from store import bookmarks as bookmark_rules
from store.hashchain import (
    row_verifies,
    verify,
)
from store.sqlite.base import SqliteBase
from store.sqlite.import_records import (
    COMMAND_ROWS,
    COMMANDS_BETWEEN,
    EMPTY_COMMANDS,
    command_record,
    read_imports,
)
from store.sqlite.statements import (
    BOOKMARKS,
    BY_COMMAND,
    BY_CORRELATION,
    CHAIN_COLUMNS,
    EVERY_POSITION,
    INSERT_REFUSAL,
    REFUSAL_COLUMNS,
    REFUSAL_COUNT,
    REFUSAL_MARKS,
    SET_BOOKMARK,
    refusal_from_row,
    refusal_row,
)

if TYPE_CHECKING:
    from domain.ports import CommandRecord, ImportRecord, VerifyReport
    from domain.store_records import Bookmark


class Auditing(SqliteBase):
    """The AuditRecords and ChainIntegrity roles over SQL."""

    def record_refusal(self, refusal: Refusal) -> Refusal:
        """Keep a refused command for the audit, placed at the current head position."""
        conn = self._conn()
        if not refusal.recorded_at:
            refusal = replace(refusal, recorded_at=self.clock.now())

        def write(c: sqlite3.Connection) -> tuple[int, sqlite3.Cursor]:
            at = c.execute("SELECT max(position) FROM events").fetchone()[0] or 0
            return at, c.execute(INSERT_REFUSAL, refusal_row(refusal, at))

        try:
            at_position, cursor = self._writers.transaction(conn, write)
        except sqlite3.Error as exc:
            raise self._error(exc, "record a refusal") from None
        self._committed(conn)
        return replace(refusal, id=int(cursor.lastrowid or 0), at_position=at_position)

    def refusals(
        self, *, to_position: int | None = None, limit: int | None = None
    ) -> list[Refusal]:
        """Refusals recorded while the head was at or before `to_position`, newest first."""
        sql = f"SELECT {REFUSAL_COLUMNS} FROM refusals"
        params: list[Any] = []
        if to_position is not None:
            sql += " WHERE at_position <= ?"
            params.append(to_position)
        sql += " ORDER BY at_position DESC, id DESC LIMIT ?"
        params.append(-1 if limit is None else limit)
        return [refusal_from_row(row) for row in self._query(sql, params)]

    def refusal_marks(self, *, after_id: int = 0) -> list[RefusalMark]:
        """Every refusal with an id above `after_id`, as a `RefusalMark`, by id ascending."""
        return [RefusalMark._make(row) for row in self._query(REFUSAL_MARKS, (after_id,))]

    def refusal_count(self, *, to_position: int | None = None) -> int:
        """How many refusals were recorded while the head was at or before `to_position`."""
        at = EVERY_POSITION if to_position is None else to_position
        return int(self._query(REFUSAL_COUNT, (at,))[0][0])

    def command_payload(self, command_id: str) -> tuple[str, dict[str, object]] | None:
        """The (command type, payload) recorded for this command id, if any.

        None also when the payload is unknown (commands rebuilt by an import).
        """
        rows = self._query(
            "SELECT command_type, payload FROM commands WHERE command_id = ?", (command_id,)
        )
        if not rows or rows[0][1] is None:
            return None
        return rows[0][0], orjson.loads(rows[0][1])

    def positions_by_correlation(self, correlation_id: str, *, limit: int = 1000) -> list[int]:
        """Positions of the events whose metadata carries `correlation_id`, ascending.

        At most `limit` of them (the first ones). Served by a partial expression index
        plus the command `correlation_id` names, if any (see `BY_CORRELATION`).
        """
        return [row[0] for row in self._query(BY_CORRELATION, (correlation_id, max(0, limit)))]

    def positions_by_command(self, command_id: str) -> list[int]:
        """Positions of the events recorded by command `command_id`, ascending."""
        return [row[0] for row in self._query(BY_COMMAND, (command_id,))]

    def commands_between(self, first: int, last: int) -> list[CommandRecord]:
        """The commands whose first event is at a position in first..last, by that position."""
        return [command_record(row) for row in self._query(COMMANDS_BETWEEN, (first, last))]

    def empty_commands(self) -> list[CommandRecord]:
        """The commands that recorded no event (positions 0..0), by time, then id."""
        return [command_record(row) for row in self._query(EMPTY_COMMANDS)]

    def command_rows(self, first: int, last: int) -> list[tuple[Any, ...]]:
        """The stored commands rows whose first position is in first..last (with their
        HMAC), by that position then id."""
        return [tuple(row) for row in self._query(COMMAND_ROWS, (first, last))]

    def refusals_between(self, first: int, last: int) -> list[Refusal]:
        """Refusals recorded while the head was at first..last, oldest first."""
        sql = (
            f"SELECT {REFUSAL_COLUMNS} FROM refusals WHERE at_position BETWEEN ? AND ? "
            "ORDER BY at_position, id"
        )
        return [refusal_from_row(row) for row in self._query(sql, (first, last))]

    def imports(self) -> list[ImportRecord]:
        """Every import record, oldest first ([] for a file from before the imports table)."""
        try:
            return read_imports(self._conn())
        except sqlite3.Error as exc:
            raise self._error(exc, "read the import records") from None

    def verify(self) -> VerifyReport:
        """Walk the whole chain (streamed) and report the first problem, if any."""
        self._need_key("verifying")
        return verify(self.iter_chain_rows(chunk=10_000), self._key)

    def verify_event(self, event: RecordedEvent) -> bool:
        """True when the stored row at `event.position` is `event` and still hashes right.

        Recomputes the hash from the stored row's texts and its `prev_hash` with this
        store's key (HMAC-SHA-256 or SHA-256); False for an event not stored here. The
        link to the event before is not checked (`verify` walks the links). A keyed
        chain opened without its key raises StoreError: it cannot be checked.
        """
        self._need_key("checking a hash")
        rows = self._query(
            f"SELECT {CHAIN_COLUMNS} FROM events WHERE position = ?", (event.position,)
        )
        return bool(rows) and row_verifies(rows[0], event, self._key)

    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark, by position (then name).

        Empty for an older file opened read-only, before the migration that adds them.
        """
        try:
            rows = self._conn().execute(BOOKMARKS).fetchall()
        except sqlite3.OperationalError as exc:
            if self.read_only and "no such table" in str(exc):
                return []
            raise self._error(exc, "read bookmarks") from None
        except sqlite3.Error as exc:
            raise self._error(exc, "read bookmarks") from None
        from domain.store_records import Bookmark  # not loaded by appends (start-up)

        return [Bookmark(row[0], row[1], row[2] or "", row[3] or "") for row in rows]

    def set_bookmark(self, name: str, position: int, *, actor: str) -> Bookmark:
        """Keep `position` (0..head) under `name`; re-using a name moves that bookmark.

        `name` is 1..60 printable characters, not starting or ending with a space.
        `created_at` is when it was last set (wall time). Bookmarks are annotations,
        not audit facts: they are mutable and not hash-chained. Raises InvalidInput
        for a bad name or position, StoreError when the store is read-only.
        """
        self._refuse_read_only("set a bookmark")
        from domain.store_records import Bookmark

        bookmark = Bookmark(bookmark_rules.check_name(name), position, actor, bookmark_rules.now())
        conn = self._conn()

        def write(c: sqlite3.Connection) -> None:
            head = c.execute("SELECT max(position) FROM events").fetchone()[0] or 0
            bookmark_rules.check_position(position, head)
            c.execute(SET_BOOKMARK, (name, position, actor, bookmark.created_at))

        try:
            self._writers.transaction(conn, write)
        except sqlite3.Error as exc:
            raise self._error(exc, "set a bookmark") from None
        self._committed(conn)
        return bookmark

    def delete_bookmark(self, name: str) -> bool:
        """Delete the bookmark called `name`; False when there was none.

        Raises StoreError when the store is read-only.
        """
        self._refuse_read_only("delete a bookmark")
        conn = self._conn()
        try:
            with self._writers.turn():
                cursor = conn.execute("DELETE FROM bookmarks WHERE name = ?", (name,))
        except sqlite3.Error as exc:
            raise self._error(exc, "delete a bookmark") from None
        self._committed(conn)
        return cursor.rowcount > 0
