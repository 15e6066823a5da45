"""The SnapshotStore role on PostgreSQL: projection snapshots beside the events.

The tables are migration 2's `snapshots` (one manifest per key and position) and
`snapshot_chunks` (content-addressed chunks shared by manifests of the same key), the
layout of the SQLite store's (`store/snapshots.py`). They are a cache, not history: rows
are replaced and deleted freely (no append-only trigger), and losing them costs a
longer replay, never a wrong answer.

Authentication is SQLite's, from the same helpers (`store.derived_macs`): with the
chain's key every manifest is written with an HMAC bound to its key, position and
event hash, and a manifest whose HMAC does not verify, or a chunk that does not match
its digest, is refused when read; the timeline then replays from further back.

Snapshots use their own connection, so a long snapshot write never holds the store's
connection (nor the append lock, which it never takes).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, LiteralString

import psycopg

from domain.errors import StoreError
from domain.ports import Snapshot
from store.derived_macs import DerivedMacs, check_chunks, check_snapshot, snapshot_mac
from store.postgres.connect import connect
from store.postgres.url import redacted

_UPSERT: LiteralString = (
    "INSERT INTO snapshots (key, position, event_hash, encoding, blob, mac) "
    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (key, position) DO UPDATE SET "
    "event_hash = excluded.event_hash, encoding = excluded.encoding, "
    "blob = excluded.blob, mac = excluded.mac"
)


class PostgresSnapshotStore:
    """Snapshots in the `snapshots` tables of the PostgreSQL store at `url`.

    `macs` (the chain's key, `DerivedMacs.from_key`): snapshots are written with an
    HMAC, and one that does not verify is refused when read (as on SQLite).
    """

    def __init__(self, url: str, *, read_only: bool = False, macs: DerivedMacs | None = None):
        self.url = url
        self.where = redacted(url)
        self.read_only = read_only
        self.macs = macs
        self._lock = threading.RLock()
        self._pg: psycopg.Connection | None = None

    def _conn(self) -> psycopg.Connection:
        if self._pg is None or self._pg.closed:
            self._pg = connect(self.url, read_only=self.read_only)
        return self._pg

    def _read(self, sql: LiteralString, params: Sequence[Any]) -> list[Any]:
        try:
            with self._lock:
                return self._conn().execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise StoreError(f"cannot read snapshots from {self.where}: {_line(exc)}") from None

    def _refuse_read_only(self, action: str) -> None:
        if self.read_only:
            raise StoreError(f"{self.where} is open read-only; snapshots are not {action}")

    def save(self, snapshot: Snapshot, chunks: Mapping[str, bytes]) -> None:
        """Keep `snapshot` (replacing one at its key and position) and any new chunks,
        in one transaction (a manifest is never stored without its chunks)."""
        self._refuse_read_only("written")
        mac = snapshot_mac(self.macs, snapshot) if self.macs is not None else None
        try:
            with self._lock:
                conn = self._conn()
                with conn.transaction(), conn.cursor() as cur:
                    if chunks:
                        cur.executemany(
                            "INSERT INTO snapshot_chunks (key, digest, blob) VALUES (%s, %s, %s) "
                            "ON CONFLICT (key, digest) DO NOTHING",
                            [(snapshot.key, digest, blob) for digest, blob in chunks.items()],
                        )
                    cur.execute(
                        _UPSERT,
                        (
                            snapshot.key,
                            snapshot.position,
                            snapshot.event_hash,
                            snapshot.encoding,
                            snapshot.blob,
                            mac,
                        ),
                    )
        except psycopg.Error as exc:
            raise StoreError(f"cannot write snapshots to {self.where}: {_line(exc)}") from None

    def latest(self, key: str, at_or_before: int) -> Snapshot | None:
        """The snapshot of `key` with the greatest position <= `at_or_before`, if any."""
        rows = self._read(
            "SELECT position, event_hash, encoding, blob, mac FROM snapshots "
            "WHERE key = %s AND position <= %s ORDER BY position DESC LIMIT 1",
            (key, at_or_before),
        )
        if not rows:
            return None
        position, event_hash, encoding, blob, mac = rows[0]
        snapshot = Snapshot(key, int(position), str(event_hash), str(encoding), bytes(blob))
        if self.macs is not None:
            check_snapshot(self.macs, snapshot, mac)
        return snapshot

    def chunks(self, key: str, digests: Sequence[str]) -> dict[str, bytes]:
        """The stored chunks of `key` among `digests` (missing ones are left out)."""
        rows = self._read(
            "SELECT digest, blob FROM snapshot_chunks WHERE key = %s AND digest = ANY(%s)",
            (key, list(digests)),
        )
        found = {str(digest): bytes(blob) for digest, blob in rows}
        if self.macs is not None:
            check_chunks(found)
        return found

    def known_chunks(self, key: str, digests: Iterable[str]) -> set[str]:
        """Which of `digests` are already stored for `key`."""
        rows = self._read(
            "SELECT digest FROM snapshot_chunks WHERE key = %s AND digest = ANY(%s)",
            (key, list(digests)),
        )
        return {str(row[0]) for row in rows}

    def positions(self, key: str) -> list[int]:
        """The positions of the snapshots kept for `key`, ascending."""
        rows = self._read("SELECT position FROM snapshots WHERE key = %s ORDER BY position", (key,))
        return [int(row[0]) for row in rows]

    def size(self, key: str | None = None) -> int:
        """Bytes of the manifests and chunks kept for `key` (for every key when None)."""
        rows = self._read(
            "SELECT (SELECT coalesce(sum(length(blob)), 0) FROM snapshots "
            "WHERE %(key)s::text IS NULL OR key = %(key)s) + "
            "(SELECT coalesce(sum(length(blob)), 0) FROM snapshot_chunks "
            "WHERE %(key)s::text IS NULL OR key = %(key)s)",
            {"key": key},  # type: ignore[arg-type]
        )
        return int(rows[0][0]) if rows else 0

    def discard(self, *, keep: str | None = None) -> int:
        """Delete the snapshots and chunks of every key but `keep` (of all keys when
        None); returns how many snapshots were deleted."""
        self._refuse_read_only("deleted")
        try:
            with self._lock:
                conn = self._conn()
                with conn.transaction():
                    conn.execute(
                        "DELETE FROM snapshot_chunks WHERE %(keep)s::text IS NULL "
                        "OR key <> %(keep)s",
                        {"keep": keep},
                    )
                    deleted = conn.execute(
                        "DELETE FROM snapshots WHERE %(keep)s::text IS NULL OR key <> %(keep)s",
                        {"keep": keep},
                    )
                    return deleted.rowcount
        except psycopg.Error as exc:
            raise StoreError(f"cannot delete snapshots in {self.where}: {_line(exc)}") from None

    def close(self) -> None:
        """Close the connection (a later use opens a new one)."""
        with self._lock:
            if self._pg is not None:
                self._pg.close()
            self._pg = None


def _line(exc: psycopg.Error) -> str:
    return " ".join(str(exc).split())[:300]
