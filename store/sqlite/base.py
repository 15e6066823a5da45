"""What every part of the SQLite store shares: per-thread connections, errors, reads,
commit counting and the chain's settings.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.clock import Clock
from domain.envelope import (
    GENESIS_HASH,
    Head,
)
from domain.errors import DomainError, InvalidInput, StoreError
from store.chain_settings import ChainSettings
from store.derived_macs import DerivedMacs
from store.hashchain import (
    ChainRow,
)
from store.sqlite import checkpoints
from store.sqlite.connections import ThreadConnections
from store.sqlite.statements import CHAIN_COLUMNS, HEAD
from store.sqlite.writer_queue import WriterQueue

if TYPE_CHECKING:
    from domain.clock_skew import TimeBlocks


def _seconds(ms: int) -> str:
    return f"{ms / 1000:g}"


class SqliteBase(ChainSettings):
    """The state of one open SQLite store, and the helpers its parts share."""

    path: Path
    clock: Clock
    read_only: bool
    busy_timeout_ms: int
    synchronous: str
    macs: DerivedMacs | None
    _key: bytes | None
    _digest: Callable[[bytes], str]
    _insert_command: str
    _clock_is_stored: bool
    _threads: ThreadConnections
    _writers: WriterQueue
    _lock: threading.Lock
    _closed: bool
    _commits: int
    _checkpoint_due: int
    _checkpointer: checkpoints.Checkpointer | None
    _time_blocks: TimeBlocks | None
    _meta: dict[str, str]

    def _connect(self) -> sqlite3.Connection:
        mode = "ro" if self.read_only else "rw" if self.path.exists() else "rwc"
        try:
            conn = checkpoints.open_connection(
                self.path, mode, self.busy_timeout_ms, self.synchronous
            )
            conn.execute("PRAGMA recursive_triggers = ON")
            if not self.read_only:
                # Checkpoints run off the command path (`_committed`).
                conn.execute("PRAGMA wal_autocheckpoint = 0")
        except sqlite3.Error as exc:
            raise self._error(exc, "open") from None
        return conn

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (closed when the thread ends: `store.sqlite.connections`)."""
        return self._threads.get()

    def _error(self, exc: sqlite3.Error, action: str) -> DomainError:
        """One actionable line for a SQLite failure."""
        text = str(exc)
        lowered = text.lower()
        if "locked" in lowered or "busy" in lowered:
            return StoreError(
                f"{self.path}: database is locked by another writer for more than "
                f"{_seconds(self.busy_timeout_ms)}s; try again"
            )
        if "readonly" in lowered or "read-only" in lowered:
            if self.read_only:
                return StoreError(f"{self.path} is open read-only: cannot {action}")
            return StoreError(f"{self.path} is not writable (check its permissions): {text}")
        if "not a database" in lowered or "malformed" in lowered:
            return StoreError(f"{self.path} is not a SQLite database (or it is damaged): {text}")
        if "unable to open" in lowered:
            return StoreError(f"cannot open {self.path}: {text}")
        if "append-only" in lowered:
            return StoreError(f"{self.path}: {text}")
        return StoreError(f"{self.path}: cannot {action}: {text}")

    def _rollback(self, conn: sqlite3.Connection) -> None:
        if conn.in_transaction:
            conn.execute("ROLLBACK")

    def _integrity(self, exc: sqlite3.IntegrityError) -> DomainError:
        text = str(exc)
        if "events.event_id" in text:
            return InvalidInput("an event id in this append is already recorded")
        if "commands.command_id" in text:
            return InvalidInput("a command id in this load is already recorded")
        return self._error(exc, "write")

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc, "read") from None

    def iter_chain_rows(
        self, *, after: int = 0, to: int | None = None, chunk: int = 2000
    ) -> Iterator[ChainRow]:
        """Raw chain rows (stored JSON texts, not decoded) for verification."""
        for rows in self._chunks(CHAIN_COLUMNS, after, to, chunk):
            yield from rows

    def _chunks(self, columns: str, after: int, to: int | None, chunk: int) -> Iterator[list[Any]]:
        stop = self.head().position if to is None else to
        sql = (
            f"SELECT {columns} FROM events WHERE position > ? AND position <= ? "
            "ORDER BY position LIMIT ?"
        )
        position = after
        while position < stop:
            rows = self._query(sql, (position, stop, chunk))
            if not rows:
                return
            yield rows
            position = rows[-1][0]

    def head(self) -> Head:
        """The last position and its hash (0 and the genesis hash when empty)."""
        rows = self._query(HEAD)
        return Head(rows[0][0], rows[0][1]) if rows else Head(0, GENESIS_HASH)

    def _committed(self, conn: sqlite3.Connection) -> None:
        """Count a committed write; every `CHECKPOINT_EVERY` commits, see to a checkpoint."""
        if conn.in_transaction:  # a write inside an exclusive block: counted at its end
            return
        commits = self._commits = self._commits + 1
        if commits >= self._checkpoint_due:
            self._checkpoint(conn, commits)

    def _checkpoint(self, conn: sqlite3.Connection, commits: int, *, inline: bool = False) -> None:
        """Ask the background checkpointer for a pass, or checkpoint here when it cannot.

        Inline when asked, when the thread died or fell behind, or when the WAL passed
        `checkpoints.WAL_CAP_FRAMES`; so the WAL stays bounded whatever happens to the thread.
        Never raises: the write it follows is committed already.
        """
        self._checkpoint_due = commits + checkpoints.CHECKPOINT_EVERY
        checkpointer = self._checkpointer
        if checkpointer is None and not inline:
            with self._lock:  # two writer threads must not start two
                if self._checkpointer is None and not self._closed:
                    self._checkpointer = self._start_checkpointer(commits)
                checkpointer = self._checkpointer
        if not inline and checkpointer is not None and checkpointer.usable(commits):
            checkpointer.request(commits)
            return
        try:
            busy, frames, copied = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            return
        if busy:
            # The thread is in a pass: try again after the next commit.
            self._checkpoint_due = commits + 1
        elif checkpointer is not None:
            # All copied: this writer starts the WAL over on its next write.
            checkpointer.note_inline(commits, 0 if frames == copied else max(0, frames))

    def release_wal(self) -> bool:
        """Copy the WAL into the file, then cut it to zero bytes unless a reader or
        writer needs it now (`checkpoints.truncate_wal`: never waits); True if cut.

        For after writes far larger than normal use (a bulk load, the demo's snapshots
        and read models): SQLite keeps the `-wal` file at the largest size it reached.
        """
        if self.read_only:
            return False
        conn = self._conn()
        self._checkpoint(conn, self._commits, inline=True)  # the long copy, taking no lock
        return checkpoints.truncate_wal(conn)

    def _start_checkpointer(self, commits: int) -> checkpoints.Checkpointer | None:
        path, timeout, synchronous = self.path, self.busy_timeout_ms, self.synchronous

        def connect() -> sqlite3.Connection:
            return checkpoints.open_connection(path, "rw", timeout, synchronous)

        try:
            checkpointer = checkpoints.Checkpointer(connect, f"eventscope-checkpoint-{path.name}")
        except RuntimeError:  # no more threads: checkpoint inline
            return None
        checkpointer.done = commits
        weakref.finalize(self, checkpointer.stop, 0)
        return checkpointer
