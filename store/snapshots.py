"""Projection snapshots in SQLite, beside the events they summarise.

`SqliteSnapshotStore` implements `domain.ports.SnapshotStore` over two tables of an
eventscope database: `snapshots` (one manifest per key and position) and
`snapshot_chunks` (content-addressed chunks, shared by manifests of the same key).
They are a cache, not history: rows may be replaced and deleted (no append-only
triggers), and a database without them works, just slower. Until the schema module
registers a migration for them, `ensure_snapshot_schema` creates them on first write
(idempotent).

`InMemorySnapshots` (from `domain.snapshots`) is the in-memory twin, for tests.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from domain.errors import StoreError
from domain.ports import Snapshot
from domain.snapshots import InMemorySnapshots
from store.connection import connect
from store.derived_macs import DerivedMacs, check_chunks, check_snapshot, snapshot_mac
from store.sqlite.connections import ThreadConnections

__all__ = ["InMemorySnapshots", "SqliteSnapshotStore", "ensure_snapshot_schema"]

_BATCH = 500
"""Digests per `IN (...)` query (SQLite allows at least 999 parameters)."""

SNAPSHOT_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS snapshots (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        position INTEGER NOT NULL CHECK (position >= 0),
        event_hash TEXT NOT NULL,
        encoding TEXT NOT NULL,
        blob BLOB NOT NULL,
        mac TEXT,
        UNIQUE (key, position)
    ) STRICT""",
    """CREATE TABLE IF NOT EXISTS snapshot_chunks (
        id INTEGER PRIMARY KEY,
        key TEXT NOT NULL,
        digest TEXT NOT NULL,
        blob BLOB NOT NULL,
        UNIQUE (key, digest)
    ) STRICT""",
)
"""The statements creating the snapshot tables: manifests, and the chunks they name
(blobs live in rowid tables: WITHOUT ROWID tables handle large rows badly)."""


def ensure_snapshot_schema(conn: sqlite3.Connection) -> None:
    """Create the snapshots table if it is missing (safe to call any number of times)."""
    for statement in SNAPSHOT_SCHEMA:
        conn.execute(statement)


class SqliteSnapshotStore:
    """Snapshots in the `snapshots` table of the SQLite file at `path`.

    One connection per thread, like the event store. Writes use a short busy
    timeout: a snapshot is only worth writing if it does not keep a reader waiting
    behind a long write, and a skipped one is written by a later replay.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        read_only: bool = False,
        busy_timeout_ms: int = 200,
        macs: DerivedMacs | None = None,
    ) -> None:
        self.path = Path(path)
        self.macs = macs
        """With the chain's key: snapshots are written with an HMAC, and one that does not
        verify (or a chunk that does not match its digest) is refused when read."""
        self.read_only = read_only
        self.busy_timeout_ms = busy_timeout_ms
        if not self.path.exists():
            raise StoreError(f"{self.path} does not exist; create it with `eventscope init`")
        # One connection per thread, closed when its thread ends (`store.sqlite.connections`).
        self._threads = ThreadConnections(self._open, self._closed)
        self._has_table: bool | None = None

    def _closed(self) -> StoreError:
        return StoreError(f"the snapshots of {self.path} are closed")

    def _conn(self) -> sqlite3.Connection:
        return self._threads.get()

    def _open(self) -> sqlite3.Connection:
        mode = "ro" if self.read_only else "rw"
        try:
            conn = connect(self.path, mode, self.busy_timeout_ms)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open {self.path} for snapshots: {exc}") from None
        try:
            # A cache: WAL with NORMAL cannot corrupt, and skips an fsync per save.
            conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            conn.close()
            raise StoreError(f"cannot open {self.path} for snapshots: {exc}") from None
        return conn

    def _table_exists(self) -> bool:
        if self._has_table is None:
            try:
                row = (
                    self._conn()
                    .execute(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
                        "AND name IN ('snapshots', 'snapshot_chunks')"
                    )
                    .fetchone()
                )
            except sqlite3.Error as exc:
                raise StoreError(f"cannot read snapshots from {self.path}: {exc}") from None
            self._has_table = row is not None and row[0] == 2
        return self._has_table

    def _read(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        if not self._table_exists():
            return []
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read snapshots from {self.path}: {exc}") from None

    def _write(self, sql: str, params: tuple[object, ...]) -> int:
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only; snapshots are not written")
        conn = self._conn()
        try:
            if not self._has_table:
                ensure_snapshot_schema(conn)
                self._has_table = True
            return conn.execute(sql, params).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write snapshots to {self.path}: {exc}") from None

    def save(self, snapshot: Snapshot, chunks: Mapping[str, bytes]) -> None:
        """Keep `snapshot` (replacing one at its key and position) and any new chunks,
        in one transaction (a manifest is never stored without its chunks)."""
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only; snapshots are not written")
        conn = self._conn()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                if not self._has_table:
                    ensure_snapshot_schema(conn)
                conn.executemany(
                    "INSERT INTO snapshot_chunks (key, digest, blob) VALUES (?, ?, ?) "
                    "ON CONFLICT (key, digest) DO NOTHING",
                    [(snapshot.key, digest, blob) for digest, blob in chunks.items()],
                )
                conn.execute(
                    "INSERT INTO snapshots (key, position, event_hash, encoding, blob, mac) "
                    "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key, position) DO UPDATE SET "
                    "event_hash = excluded.event_hash, encoding = excluded.encoding, "
                    "blob = excluded.blob, mac = excluded.mac"
                    if self.macs is not None
                    else "INSERT INTO snapshots (key, position, event_hash, encoding, blob) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (key, position) DO UPDATE SET "
                    "event_hash = excluded.event_hash, encoding = excluded.encoding, "
                    "blob = excluded.blob",
                    (
                        snapshot.key,
                        snapshot.position,
                        snapshot.event_hash,
                        snapshot.encoding,
                        snapshot.blob,
                        *([snapshot_mac(self.macs, snapshot)] if self.macs is not None else []),
                    ),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write snapshots to {self.path}: {exc}") from None
        self._has_table = True

    def latest(self, key: str, at_or_before: int) -> Snapshot | None:
        """The snapshot of `key` with the greatest position <= `at_or_before`, if any."""
        mac = ", mac" if self.macs is not None else ""
        rows = self._read(
            f"SELECT position, event_hash, encoding, blob{mac} FROM snapshots "
            "WHERE key = ? AND position <= ? ORDER BY position DESC LIMIT 1",
            (key, at_or_before),
        )
        if not rows:
            return None
        position, event_hash, encoding, blob = rows[0][:4]
        assert isinstance(position, int) and isinstance(blob, bytes)
        snapshot = Snapshot(key, position, str(event_hash), str(encoding), blob)
        if self.macs is not None:
            check_snapshot(self.macs, snapshot, rows[0][4])
        return snapshot

    def chunks(self, key: str, digests: Sequence[str]) -> dict[str, bytes]:
        """The stored chunks of `key` among `digests` (missing ones are left out)."""
        found: dict[str, bytes] = {}
        for start in range(0, len(digests), _BATCH):
            batch = list(digests[start : start + _BATCH])
            marks = ",".join("?" * len(batch))
            for digest, blob in self._read(
                f"SELECT digest, blob FROM snapshot_chunks WHERE key = ? AND digest IN ({marks})",
                (key, *batch),
            ):
                assert isinstance(blob, bytes)
                found[str(digest)] = blob
        if self.macs is not None:
            check_chunks(found)
        return found

    def known_chunks(self, key: str, digests: Iterable[str]) -> set[str]:
        """Which of `digests` are already stored for `key`."""
        wanted = list(digests)
        known: set[str] = set()
        for start in range(0, len(wanted), _BATCH):
            batch = wanted[start : start + _BATCH]
            marks = ",".join("?" * len(batch))
            rows = self._read(
                f"SELECT digest FROM snapshot_chunks WHERE key = ? AND digest IN ({marks})",
                (key, *batch),
            )
            known.update(str(row[0]) for row in rows)
        return known

    def positions(self, key: str) -> list[int]:
        """The positions of the snapshots kept for `key`, ascending."""
        rows = self._read("SELECT position FROM snapshots WHERE key = ? ORDER BY position", (key,))
        return [int(str(row[0])) for row in rows]

    def size(self, key: str | None = None) -> int:
        """Bytes of the manifests and chunks kept for `key` (for every key when None)."""
        total = 0
        for table in ("snapshots", "snapshot_chunks"):
            if key is None:
                rows = self._read(f"SELECT coalesce(sum(length(blob)), 0) FROM {table}", ())
            else:
                rows = self._read(
                    f"SELECT coalesce(sum(length(blob)), 0) FROM {table} WHERE key = ?", (key,)
                )
            total += int(str(rows[0][0])) if rows else 0
        return total

    def discard(self, *, keep: str | None = None) -> int:
        """Delete the snapshots of every key but `keep`; returns how many were deleted."""
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only; snapshots are not deleted")
        if keep is None:
            self._write("DELETE FROM snapshot_chunks", ())
            return self._write("DELETE FROM snapshots", ())
        self._write("DELETE FROM snapshot_chunks WHERE key != ?", (keep,))
        return self._write("DELETE FROM snapshots WHERE key != ?", (keep,))

    def close(self) -> None:
        """Close every connection this store opened (a later use opens new ones)."""
        threads, self._threads = self._threads, ThreadConnections(self._open, self._closed)
        threads.close_all()

    def __enter__(self) -> SqliteSnapshotStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
