"""One SQLite connection per thread, released when its thread ends.

A store (or projector) is shared by threads: the app's workers, a server's request
threads. Each thread gets its own connection on first use. Holding them in a plain
list kept every one open for the store's life, so short-lived threads leaked two or
three file descriptors each. Here a thread's connection lives in a slot that only
that thread's `threading.local` holds: when the thread ends, Python drops its local
data, the slot goes, and a finalizer closes the connection. `close_all` still
reaches every open one (the registry holds slots weakly).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Callable


class _Slot:
    """Holds one thread's connection; its finalizer closes the connection."""

    __slots__ = ("__weakref__", "conn")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn


def _close(conn: sqlite3.Connection) -> None:
    with contextlib.suppress(sqlite3.Error):
        conn.close()


class ThreadConnections:
    """This thread's connection from `connect()`, opened on first use.

    `closed_error()` makes the error raised once `close_all` has run.
    """

    def __init__(
        self, connect: Callable[[], sqlite3.Connection], closed_error: Callable[[], Exception]
    ) -> None:
        self._connect = connect
        self._closed_error = closed_error
        self._local = threading.local()
        self._slots: weakref.WeakSet[_Slot] = weakref.WeakSet()
        self._lock = threading.Lock()
        self.closed = False

    def get(self) -> sqlite3.Connection:
        """This thread's connection (raises `closed_error()` after `close_all`)."""
        if self.closed:
            raise self._closed_error()
        slot: _Slot | None = getattr(self._local, "slot", None)
        if slot is not None:
            return slot.conn
        conn = self._connect()
        slot = _Slot(conn)
        weakref.finalize(slot, _close, conn)
        with self._lock:
            if self.closed:
                _close(conn)
                raise self._closed_error()
            self._slots.add(slot)
        self._local.slot = slot
        return conn

    def open_count(self) -> int:
        """How many threads hold an open connection now."""
        with self._lock:
            return len(self._slots)

    def close_all(self) -> None:
        """Close every thread's connection; `get` refuses from now on."""
        with self._lock:
            self.closed = True
            slots = list(self._slots)
            self._slots = weakref.WeakSet()
        for slot in slots:
            _close(slot.conn)
