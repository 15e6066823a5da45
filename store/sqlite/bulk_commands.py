"""The commands rows of a bulk load into an empty store, written in key order.

The commands table is keyed by command id (`WITHOUT ROWID`), and command ids are
random UUIDs: written as the load meets them, each row lands on a random page of an
index that outgrows any page cache (at 3M events, 534 MB), so from about a million
events on, SQLite spills its pages to the WAL and reads them back, again and again
(`bench/bench_demo_load.py`, docs/performance.md). Instead, the rows go to a temporary
table in load order (an append), and are copied into `commands` once, sorted by
command id (SQLite's external sort), so that every row is appended at the index's right
edge. The rows, their HMACs and the table's triggers are exactly what inserting them
one by one gives: only the order of the inserts changes, inside the same transaction.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from store.sqlite.statements import INSERT_COMMAND

_TABLE = "temp.eventscope_load_commands"
_COLUMNS = (
    "command_id, command_type, payload, actor, recorded_at, first_position, last_position, mac"
)


class DeferredCommands:
    """Commands rows kept in a temporary table until `flush` writes them in key order.

    Made inside the load's transaction (the temporary table is created and dropped in
    it, so a rollback leaves nothing behind). `insert_command` is the store's own
    statement (`INSERT_COMMAND`, or with a MAC), redirected to the temporary table.
    """

    def __init__(self, conn: sqlite3.Connection, insert_command: str) -> None:
        self._conn = conn
        conn.execute(f"DROP TABLE IF EXISTS {_TABLE}")
        conn.execute(
            f"CREATE TABLE {_TABLE} (command_id TEXT NOT NULL, command_type TEXT NOT NULL, "
            "payload TEXT, actor TEXT NOT NULL, recorded_at TEXT NOT NULL, "
            "first_position INTEGER NOT NULL, last_position INTEGER NOT NULL, mac TEXT) STRICT"
        )
        prefix = INSERT_COMMAND.split("(", 1)[0]  # "INSERT INTO commands "
        self._insert = insert_command.replace(prefix, f"INSERT INTO {_TABLE} ", 1)

    def write(self, rows: Sequence[Sequence[object]]) -> None:
        self._conn.executemany(self._insert, rows)

    def flush(self) -> None:
        """Copy the kept rows into `commands` in command id order, and drop the table."""
        self._conn.execute(
            f"INSERT INTO commands ({_COLUMNS}) SELECT {_COLUMNS} FROM {_TABLE} ORDER BY command_id"
        )
        self._conn.execute(f"DROP TABLE {_TABLE}")
