"""The SQL of what an export reads besides the events, and of the records an import
writes after its events (`domain.ports.ImportWrites`), in the import's transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import orjson

from store.derived_macs import DerivedMacs, sign_commands
from store.hashchain import canonical_json
from store.sqlite.statements import INSERT_COMMAND, INSERT_SIGNED_COMMAND

if TYPE_CHECKING:
    from domain.ports import CommandRecord, ImportRecord
    from domain.store_records import Bookmark

_COMMAND_COLUMNS = (
    "command_id, command_type, payload, actor, recorded_at, first_position, last_position"
)
COMMANDS_BETWEEN = (
    f"SELECT {_COMMAND_COLUMNS} FROM commands WHERE first_position BETWEEN max(?, 1) AND ? "
    "ORDER BY first_position"
)
COMMAND_ROWS = (
    f"SELECT {_COMMAND_COLUMNS}, mac FROM commands WHERE first_position BETWEEN ? AND ? "
    "ORDER BY first_position, command_id"
)
"""Stored rows with their HMAC, for `verify --deep` (portable: PostgreSQL runs it too)."""
EMPTY_COMMANDS = (
    f"SELECT {_COMMAND_COLUMNS} FROM commands WHERE first_position = 0 "
    "ORDER BY recorded_at, command_id"
)
IMPORT_COLUMNS = (
    "id, actor, imported_at, sha256, source, first_position, last_position, events, restored_by"
)
INSERT_IMPORT = (
    "INSERT INTO imports (actor, imported_at, sha256, source, first_position, last_position, "
    "events, restored_by) VALUES (?,?,?,?,?,?,?,?)"
)
_INSERT_BOOKMARK = "INSERT INTO bookmarks (name, position, actor, created_at) VALUES (?,?,?,?)"


def command_record(row: Sequence[Any]) -> CommandRecord:
    """A commands row (`_COMMAND_COLUMNS`) as a `CommandRecord`."""
    from domain.ports import CommandRecord  # appending (`exec`) reads none (start-up)

    command_id, command_type, payload, actor, recorded_at, first, last = row
    return CommandRecord(
        command_id,
        command_type,
        None if payload is None else orjson.loads(payload),
        actor,
        recorded_at,
        first,
        last,
    )


def read_imports(conn: sqlite3.Connection) -> list[ImportRecord]:
    """Every import record, oldest first ([] for a file from before the imports table)."""
    from domain.ports import ImportRecord  # appending (`exec`) reads none (start-up)

    try:
        rows = conn.execute(f"SELECT {IMPORT_COLUMNS} FROM imports ORDER BY id").fetchall()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return []
        raise
    return [ImportRecord(*row) for row in rows]


class SqliteImportWrites:
    """`domain.ports.ImportWrites` on the connection of an open import transaction."""

    def __init__(self, conn: sqlite3.Connection, macs: DerivedMacs | None) -> None:
        self._conn = conn
        self._macs = macs

    def command_exists(self, command_id: str) -> bool:
        """True when a command with this id is recorded (by this load too)."""
        sql = "SELECT 1 FROM commands WHERE command_id = ?"
        return self._conn.execute(sql, (command_id,)).fetchone() is not None

    def add_empty_command(self, command: CommandRecord) -> None:
        """Record a command that recorded no event (signed like any commands row)."""
        payload = None if command.payload is None else canonical_json(command.payload)
        row = (
            command.command_id,
            command.command_type,
            payload,
            command.actor,
            command.recorded_at,
            0,
            0,
        )
        sql = INSERT_COMMAND if self._macs is None else INSERT_SIGNED_COMMAND
        self._conn.executemany(sql, sign_commands(self._conn, self._macs, [row]))

    def bookmark_exists(self, name: str) -> bool:
        """True when a bookmark called `name` exists (set by this load too)."""
        sql = "SELECT 1 FROM bookmarks WHERE name = ?"
        return self._conn.execute(sql, (name,)).fetchone() is not None

    def add_bookmark(self, bookmark: Bookmark) -> None:
        """Keep `bookmark` as it is."""
        self._conn.execute(
            _INSERT_BOOKMARK,
            (bookmark.name, bookmark.position, bookmark.actor, bookmark.created_at),
        )

    def last_import_id(self) -> int:
        """The id of the newest import record (0 when there is none)."""
        return int(self._conn.execute("SELECT coalesce(max(id), 0) FROM imports").fetchone()[0])

    def add_import(self, record: ImportRecord) -> ImportRecord:
        """Append an import record with the next id; returns it with that id."""
        from domain.ports import ImportRecord

        values = record.to_json_dict()
        del values["id"]
        cursor = self._conn.execute(INSERT_IMPORT, tuple(values.values()))
        return ImportRecord(int(cursor.lastrowid or 0), *tuple(values.values()))
