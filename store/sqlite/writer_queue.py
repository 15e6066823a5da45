"""The in-process queue of writers in front of SQLite's write lock.

SQLite lets one connection write at a time; the others wait in its busy handler,
which sleeps and retries with no order at all. With 32 threads appending through one
store, an unlucky thread lost every retry for the whole busy timeout and a
"database is locked" reached its caller. So threads of one store queue here first,
first come first served, and only the thread at the front runs `BEGIN IMMEDIATE`;
the busy handler then only arbitrates between processes. Readers never queue.

Each write is handed in as a unit of work (`transaction(conn, work)`), not run
between a lock and an unlock by the caller. That keeps the door open for group
commit: the thread at the front could later run the work of everyone waiting behind
it in one transaction (a savepoint each, so each keeps its own checks and result)
and pay one fsync for all. Today each runs its own transaction on its own turn.
"""

from __future__ import annotations

import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")


def _always(_: object) -> bool:
    return True


class WriterQueue:
    """A fair (FIFO) turn for the threads of one store that want to write."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: deque[threading.Event] = deque()
        self._owner: int | None = None
        self._depth = 0

    @contextmanager
    def turn(self) -> Iterator[None]:
        """Wait for this thread's turn (re-entrant), hold it for the block."""
        me = threading.get_ident()
        if self._owner == me:  # a write inside a write (only this thread sets it so)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        ticket: threading.Event | None = None
        with self._lock:
            if self._owner is None and not self._waiting:
                self._owner = me
            else:
                ticket = threading.Event()
                self._waiting.append(ticket)
        if ticket is not None:
            self._wait(ticket)
            self._owner = me  # handed over by the previous owner, in arrival order
        try:
            yield
        finally:
            self._hand_over()

    def _wait(self, ticket: threading.Event) -> None:
        try:
            ticket.wait()
        except BaseException:  # interrupted (Ctrl-C): leave the line without blocking it
            with self._lock:
                if ticket in self._waiting:
                    self._waiting.remove(ticket)
                    raise
            self._hand_over()  # the turn had reached us: pass it on
            raise

    def _hand_over(self) -> None:
        with self._lock:
            self._owner = None
            if self._waiting:
                # The next in line owns the turn from now; it records itself on waking.
                self._owner = -1
                self._waiting.popleft().set()

    def waiting(self) -> int:
        """How many threads wait for a turn (what a group commit would take along)."""
        with self._lock:
            return len(self._waiting)

    def transaction(
        self,
        conn: sqlite3.Connection,
        work: Callable[[sqlite3.Connection], T],
        *,
        keep: Callable[[T], bool] = _always,
    ) -> T:
        """Run `work(conn)` in `BEGIN IMMEDIATE … COMMIT` on this thread's turn.

        `keep(result)` False rolls the transaction back instead (a duplicate command);
        any exception rolls it back and propagates (sqlite3 errors included: the
        caller turns them into one-line errors).
        """
        with self.turn():
            conn.execute("BEGIN IMMEDIATE")
            try:
                result = work(conn)
                conn.execute("COMMIT" if keep(result) else "ROLLBACK")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return result
