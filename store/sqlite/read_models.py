"""The SQLite store's `ProjectionStore` role: read-model tables in the events' file.

The table layout and its SQL are in `store.read_models`; the lease row's SQL is here.
A projector gets its own per-thread connections with `synchronous=NORMAL`: read
models can always be rebuilt from the events, and WAL keeps rows and checkpoint
consistent after a crash (a lost last batch is folded again).
"""

from __future__ import annotations

import contextlib
import functools
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

from domain.errors import StoreError
from domain.ports.projections import FoldRow, LeaseRow
from domain.projection import Row
from store import read_models as rm
from store.connection import connect
from store.derived_macs import DerivedMacs
from store.replay import SELECT_EVENTS, select_events
from store.sqlite.connections import ThreadConnections

if TYPE_CHECKING:
    from store.sqlite.store import SqliteEventStore

_selects = functools.cache(select_events)
"""The SELECT for a set of fields, made once per set."""
_HEAD: Final = "SELECT position FROM events ORDER BY position DESC LIMIT 1"
_LEASE: Final = "SELECT owner, expires_at, seconds FROM projector_lease WHERE name = ?"


class SqliteReadModelTables(rm.CheckpointRecords):
    """`ReadModelTables` on one SQLite connection inside its transaction."""

    def __init__(self, conn: sqlite3.Connection, macs: DerivedMacs | None) -> None:
        self.conn = conn
        self._sql = conn
        self._macs = macs

    def tables(self) -> set[str]:
        prefix = rm.rows_table("")
        return {
            t[len(prefix) :] for t in rm.existing_tables(self.conn) if "__" not in t[len(prefix) :]
        }

    def read_rows(
        self,
        projection: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> dict[str, Row]:
        return rm.read_rows(self.conn, projection, after=after, limit=limit, keys=keys)

    def read_aux(self, projection: str) -> dict[str, bytes]:
        return rm.read_aux_blobs(self.conn, projection)

    def create_tables(self, projection: str, *, new: bool = False) -> None:
        rm.create_tables(self.conn, projection, new=new)

    def drop_tables(self, projection: str) -> None:
        rm.drop_tables(self.conn, projection)

    def put_rows(
        self, projection: str, rows: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        rm.upsert_rows(self.conn, rm.rows_table(projection, new=new), rows)

    def delete_rows(self, projection: str, keys: Iterable[str]) -> None:
        rm.delete_rows(self.conn, rm.rows_table(projection), keys)

    def put_aux(
        self, projection: str, parts: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        rm.upsert_aux(self.conn, rm.aux_table(projection, new=new), parts)

    def delete_aux(self, projection: str, parts: Iterable[str]) -> None:
        rm.delete_aux(self.conn, rm.aux_table(projection), parts)

    def swap_in(self, projection: str) -> None:
        rm.swap_in(self.conn, projection)

    def rebuild_leftovers(self) -> list[str]:
        return rm.rebuild_leftovers(self.conn)

    def drop_rebuild_leftovers(self) -> None:
        rm.drop_rebuild_leftovers(self.conn)

    def head(self) -> int:
        row = self.conn.execute(_HEAD).fetchone()
        return int(row[0]) if row else 0

    def lease(self, name: str) -> LeaseRow | None:
        try:
            row = self.conn.execute(_LEASE, (name,)).fetchone()
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return None  # a file opened read-only before the migration that adds it
            raise
        if row is None:
            return None
        return LeaseRow(str(row[0]), float(row[1]), None if row[2] is None else float(row[2]))

    def take_lease(self, name: str, owner: str, expires_at: float, seconds: float) -> None:
        self.conn.execute(
            "INSERT INTO projector_lease (name, owner, expires_at, seconds) "
            "VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
            "expires_at = excluded.expires_at, seconds = excluded.seconds",
            (name, owner, expires_at, seconds),
        )

    def renew_lease(self, name: str, owner: str, expires_at: float) -> bool:
        cursor = self.conn.execute(
            "UPDATE projector_lease SET expires_at = ? WHERE name = ? AND owner = ?",
            (expires_at, name, owner),
        )
        return cursor.rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        self.conn.execute("DELETE FROM projector_lease WHERE name = ? AND owner = ?", (name, owner))


class SqliteReadModels:
    """`ReadModelStore` for one projector on `store`'s file."""

    def __init__(self, store: SqliteEventStore) -> None:
        self._store = store
        self._threads = ThreadConnections(
            self._connect,
            lambda: StoreError(f"the projector for {store.path} is closed"),
        )

    @property
    def read_only(self) -> bool:
        return self._store.read_only

    @property
    def location(self) -> str:
        return str(self._store.path)

    def _connect(self) -> sqlite3.Connection:
        store = self._store
        try:
            conn = connect(store.path, "ro" if store.read_only else "rw", store.busy_timeout_ms)
            if not store.read_only:
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise store._error(exc, "open the read models") from None
        return conn

    @contextlib.contextmanager
    def transaction(self, action: str, *, write: bool) -> Iterator[SqliteReadModelTables]:
        conn = self._threads.get()
        store = self._store
        turn = store._writers.turn() if write else contextlib.nullcontext()
        try:
            with turn:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield SqliteReadModelTables(conn, store.macs)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise store._error(exc, action) from None

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        try:
            return self._threads.get().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._store._error(exc, "read") from None

    def fold_rows(self, after: int, limit: int) -> list[FoldRow]:
        return self._read(SELECT_EVENTS, (after, limit))

    def fold_rows_reading(self, after: int, limit: int, fields: frozenset[str]) -> list[FoldRow]:
        """`fold_rows` with only `fields` fetched, narrow (`SelectsFoldFields`): a column
        SQLite does not hand over costs nothing to convert (the hashes are 128 bytes)."""
        return self._read(_selects(fields), (after, limit))

    def head(self) -> int:
        rows = self._read(_HEAD)
        return int(rows[0][0]) if rows else 0

    def data_version(self) -> int:
        return int(self._read("PRAGMA data_version")[0][0])

    def close(self) -> None:
        self._threads.close_all()
