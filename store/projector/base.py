"""What the projector's parts share: its connections and transactions on the store's
file, the lease, and its checkpoint row.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Self

from domain.errors import DomainError
from domain.fold_failure import ProjectionFailed
from domain.model import EventCatalog
from domain.projection import Projection, StateMap
from domain.refusals import RefusalIndex
from store import read_models as rm
from store.connection import connect
from store.lease import Lease
from store.sqlite import SqliteEventStore
from store.sqlite.connections import ThreadConnections

_HEAD = "SELECT position FROM events ORDER BY position DESC LIMIT 1"
_WRITE_CHUNK = 20_000
"""Rows per transaction when a rebuild fills its `__new` tables (keeps the write lock
short, so commands are never held up long)."""


class ProjectorBase:
    """The state of one projector, and its connections, transactions and lease."""

    store: SqliteEventStore
    projections: tuple[Projection, ...]
    catalog: EventCatalog
    name: str
    batch: int
    fingerprint: str
    definitions: dict[str, str]
    lease: Lease
    _clock: Callable[[], float]
    _by_name: dict[str, Projection]
    _threads: ThreadConnections
    _closed: bool
    _fold_lock: threading.RLock
    _committed: threading.Condition
    _states: StateMap | None
    _position: int
    _aux_written: dict[str, dict[str, bytes]]
    _error: str | None
    _error_position: int | None
    _rebuilding: bool
    _refusals: RefusalIndex
    _refusals_lock: threading.Lock

    @property
    def owner_id(self) -> str:
        """Who this projector is in the lease table (`host:pid:random` by default)."""
        return self.lease.owner

    def _committed_at(self, position: int) -> None:
        self._position = position
        self._error = self._error_position = None
        self._notify()

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (closed when the thread ends: `store.sqlite.connections`)."""
        return self._threads.get()

    def _connect(self) -> sqlite3.Connection:
        mode = "ro" if self.store.read_only else "rw"
        try:
            conn = connect(self.store.path, mode, self.store.busy_timeout_ms)
            if not self.store.read_only:
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise self.store._error(exc, "open the read models") from None
        return conn

    @contextlib.contextmanager
    def _transaction(self, action: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection; SQLite errors become StoreError.

        A write first takes its turn among the store's writers of this process (FIFO).
        """
        conn = self._conn()
        turn = self.store._writers.turn() if write else contextlib.nullcontext()
        try:
            with turn:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise self.store._error(exc, action) from None

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """A write transaction that first renews our lease (LeaseLost if it is gone)."""
        with self._transaction(action, write=True) as conn:
            self.lease.renew(conn)
            yield conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self.store._error(exc, "read") from None

    def close(self) -> None:
        """Give up the lease (if held) and close every thread's connection."""
        if self._closed:
            return
        with contextlib.suppress(DomainError):
            self.release()
        self._closed = True
        self._threads.close_all()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _hold_lease(self) -> bool:
        """Take or renew the lease when due; True when this projector may write."""
        if self.store.read_only:
            return False
        was_held = self.lease.held
        held = self.lease.hold()
        if held and not was_held:
            # Whoever wrote before us may have moved the tables on: reload first.
            self._states = None
        return held

    def _lost_lease(self) -> None:
        self.lease.lost()
        self._states = None

    def release(self) -> None:
        """Give the lease up now (on a clean stop), so another projector need not wait."""
        with self._fold_lock:
            self._states = None
            self.lease.release()

    def _checkpoint_row(self) -> rm.Checkpoint | None:
        try:
            return rm.read_checkpoint(self._conn(), self.name)
        except sqlite3.Error as exc:
            raise self.store._error(exc, "read the projector checkpoint") from None

    def _head(self) -> int:
        rows = self._read(_HEAD)
        return int(rows[0][0]) if rows else 0

    def _notify(self) -> None:
        with self._committed:
            self._committed.notify_all()

    def _failed(self, error: ProjectionFailed) -> None:
        self._error, self._error_position = str(error), error.position
        self._notify()
