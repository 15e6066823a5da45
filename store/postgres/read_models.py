"""The PostgreSQL store's `ProjectionStore` role: read-model tables beside the events.

The layout is `store.read_models`' (one `rm_<p>` table of JSON rows and one `__aux`
table per projection, `__new` twins while rebuilding, the shared checkpoint and lease
tables); its portable statements run here through the `?`-placeholder view of the
connection, and only what SQLite spells differently (catalog queries, upserts, table
options) is written here. Each projector gets its own connection. Read transactions
are REPEATABLE READ, so rows, aux parts and checkpoint come from one snapshot.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Final

import orjson
import psycopg

from domain.errors import StoreError
from domain.ports.projections import FoldRow, LeaseRow
from domain.projection import Row
from store import read_models as rm
from store.derived_macs import DerivedMacs
from store.postgres.base import QmarkConnection
from store.postgres.connect import connect
from store.replay import SELECT_EVENTS

if TYPE_CHECKING:
    from store.postgres.store import PostgresEventStore

_HEAD: Final = "SELECT position FROM events ORDER BY position DESC LIMIT 1"
_LEASE: Final = "SELECT owner, expires_at, seconds FROM projector_lease WHERE name = %s"
_TABLES: Final = (
    "SELECT tablename FROM pg_catalog.pg_tables "
    "WHERE schemaname = current_schema() AND tablename LIKE 'rm\\_%'"
)


class PostgresReadModelTables(rm.CheckpointRecords):
    """`ReadModelTables` on one PostgreSQL connection inside its transaction."""

    def __init__(self, conn: psycopg.Connection, lock: threading.RLock, macs: DerivedMacs | None):
        self.conn = conn
        self._view: Any = QmarkConnection(conn, lock)
        self._sql = self._view
        self._macs = macs

    def _existing(self) -> set[str]:
        return {row[0] for row in self.conn.execute(_TABLES).fetchall()}

    def tables(self) -> set[str]:
        prefix = rm.rows_table("")
        return {t[len(prefix) :] for t in self._existing() if "__" not in t[len(prefix) :]}

    def read_rows(
        self,
        projection: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> dict[str, Row]:
        table = rm.rows_table(projection)
        loads = orjson.loads
        if keys is not None:
            found = self.conn.execute(
                f'SELECT key, row FROM "{table}" WHERE key = ANY(%s)', (list(keys),)
            ).fetchall()
            by_key: dict[str, str] = dict(found)
            return {key: loads(by_key[key]) for key in keys if key in by_key}
        sql = f'SELECT key, row FROM "{table}"'
        params: list[Any] = []
        if after is not None:
            sql += " WHERE key > %s"
            params.append(after)
        sql += " ORDER BY key"
        if limit is not None:
            sql += " LIMIT %s"
            params.append(max(0, limit))
        return {key: loads(row) for key, row in self.conn.execute(sql, params).fetchall()}

    def read_aux(self, projection: str) -> dict[str, bytes]:
        return rm.read_aux_blobs(self._view, projection)

    def create_tables(self, projection: str, *, new: bool = False) -> None:
        self._drop(projection, new=new)
        self.conn.execute(
            f'CREATE TABLE "{rm.rows_table(projection, new=new)}" '
            '(key text COLLATE "C" PRIMARY KEY, row text NOT NULL)'
        )
        self.conn.execute(
            f'CREATE TABLE "{rm.aux_table(projection, new=new)}" '
            '(part text COLLATE "C" PRIMARY KEY, value text NOT NULL)'
        )

    def _drop(self, projection: str, *, new: bool = False) -> None:
        self.conn.execute(f'DROP TABLE IF EXISTS "{rm.rows_table(projection, new=new)}"')
        self.conn.execute(f'DROP TABLE IF EXISTS "{rm.aux_table(projection, new=new)}"')

    def drop_tables(self, projection: str) -> None:
        self._drop(projection)

    def _upsert(
        self, table: str, columns: tuple[str, str], pairs: Iterable[tuple[str, str]]
    ) -> None:
        key, value = columns
        with self.conn.cursor() as cur:
            cur.executemany(
                f'INSERT INTO "{table}" ({key}, {value}) VALUES (%s, %s) '
                f"ON CONFLICT ({key}) DO UPDATE SET {value} = excluded.{value}",
                list(pairs),
            )

    def put_rows(
        self, projection: str, rows: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        self._upsert(rm.rows_table(projection, new=new), ("key", "row"), rows)

    def delete_rows(self, projection: str, keys: Iterable[str]) -> None:
        self.conn.execute(
            f'DELETE FROM "{rm.rows_table(projection)}" WHERE key = ANY(%s)', (list(keys),)
        )

    def put_aux(
        self, projection: str, parts: Iterable[tuple[str, str]], *, new: bool = False
    ) -> None:
        self._upsert(rm.aux_table(projection, new=new), ("part", "value"), parts)

    def delete_aux(self, projection: str, parts: Iterable[str]) -> None:
        self.conn.execute(
            f'DELETE FROM "{rm.aux_table(projection)}" WHERE part = ANY(%s)', (list(parts),)
        )

    def swap_in(self, projection: str) -> None:
        self._drop(projection)
        for new, live in (
            (rm.rows_table(projection, new=True), rm.rows_table(projection)),
            (rm.aux_table(projection, new=True), rm.aux_table(projection)),
        ):
            self.conn.execute(f'ALTER TABLE "{new}" RENAME TO "{live}"')

    def rebuild_leftovers(self) -> list[str]:
        return sorted(t for t in self._existing() if t.endswith(("__new", "__new_aux")))

    def drop_rebuild_leftovers(self) -> None:
        for name in self.rebuild_leftovers():
            self.conn.execute(f'DROP TABLE "{name}"')

    def head(self) -> int:
        row = self.conn.execute(_HEAD).fetchone()
        return int(row[0]) if row else 0

    def lease(self, name: str) -> LeaseRow | None:
        row = self.conn.execute(_LEASE, (name,)).fetchone()
        if row is None:
            return None
        return LeaseRow(str(row[0]), float(row[1]), None if row[2] is None else float(row[2]))

    def take_lease(self, name: str, owner: str, expires_at: float, seconds: float) -> None:
        self.conn.execute(
            "INSERT INTO projector_lease (name, owner, expires_at, seconds) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, "
            "expires_at = excluded.expires_at, seconds = excluded.seconds",
            (name, owner, expires_at, seconds),
        )

    def renew_lease(self, name: str, owner: str, expires_at: float) -> bool:
        cursor = self.conn.execute(
            "UPDATE projector_lease SET expires_at = %s WHERE name = %s AND owner = %s",
            (expires_at, name, owner),
        )
        return cursor.rowcount == 1

    def release_lease(self, name: str, owner: str) -> None:
        self.conn.execute(
            "DELETE FROM projector_lease WHERE name = %s AND owner = %s", (name, owner)
        )


class PostgresReadModels:
    """`ReadModelStore` for one projector, on its own connection to `store`'s database."""

    def __init__(self, store: PostgresEventStore) -> None:
        self._store = store
        self._lock = threading.RLock()
        self._pg: psycopg.Connection | None = None
        self._closed = False

    @property
    def read_only(self) -> bool:
        return self._store.read_only

    @property
    def location(self) -> str:
        return self._store.where

    def _conn(self) -> psycopg.Connection:
        if self._closed:
            raise StoreError(f"the projector for {self._store.where} is closed")
        if self._pg is None or self._pg.closed:
            self._pg = connect(self._store.url, read_only=self._store.read_only)
        return self._pg

    @contextlib.contextmanager
    def transaction(self, action: str, *, write: bool) -> Iterator[PostgresReadModelTables]:
        store = self._store
        try:
            with self._lock:
                conn = self._conn()
                with conn.transaction():
                    if not write:
                        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                    yield PostgresReadModelTables(conn, self._lock, store.macs)
        except psycopg.Error as exc:
            raise store._error(exc, action) from None

    def _read(self, sql: str, params: Sequence[object] = ()) -> list[Any]:
        try:
            with self._lock:
                return self._conn().execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise self._store._error(exc, "read") from None

    def fold_rows(self, after: int, limit: int) -> list[FoldRow]:
        return self._read(SELECT_EVENTS.replace("?", "%s"), (after, limit))

    def head(self) -> int:
        rows = self._read(_HEAD)
        return int(rows[0][0]) if rows else 0

    def data_version(self) -> int:
        rows = self._read("SELECT version FROM changes WHERE id = 1")
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._pg is not None:
                self._pg.close()
                self._pg = None
