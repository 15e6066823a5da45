"""WAL checkpoints off the command path: a daemon thread copies WAL pages into the file.

SQLite's own checkpoint (after any commit that leaves 1000 pages in the WAL) would copy
those pages and fsync inside some command's COMMIT; the store turns it off and asks
`Checkpointer` for a pass every `CHECKPOINT_EVERY` commits instead.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path

from store.connection import connect

# WAL checkpoints. SQLite's own (after any commit that leaves 1000 pages in the WAL)
# would copy those pages into the database file and fsync it inside some command's
# COMMIT; the store turns them off and lets a daemon thread do it between commands.
CHECKPOINT_EVERY = 100
"""Commits between two requests to the background checkpointer."""
CHECKPOINTER_STALLED = 1000
"""Commits since the checkpointer's last pass after which the writer stops counting on it."""
WAL_CAP_FRAMES = 4000
"""WAL pages (about 4 KB each) past which the writer checkpoints inline. A checkpoint
running beside a busy writer never catches up with the last commit, and only a writer
that finds every page copied starts the WAL file over, so during a long burst the WAL
grows until the writer itself checkpoints (cheap then: the thread copied most pages)."""
CHECKPOINTER_JOIN_SECONDS = 10.0


def open_connection(
    path: Path, mode: str, busy_timeout_ms: int, synchronous: str
) -> sqlite3.Connection:
    """A connection to `path` (`mode` ro, rw or rwc) at the store's settings."""
    conn = connect(path, mode, busy_timeout_ms)
    try:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
    except BaseException:
        conn.close()
        raise
    return conn


def truncate_wal(conn: sqlite3.Connection) -> bool:
    """Empty the `-wal` file now if nobody needs it (after a bulk load): True if done.

    A `TRUNCATE` checkpoint copies what is left of the WAL into the file, syncs the file
    as any checkpoint does, and cuts the WAL to zero bytes; it needs the write lock and
    no reader still reading from the WAL. It waits for neither here (the busy timeout is
    0 for the call, then restored): with a busy handler it would hold the write lock,
    stalling every writer, for as long as the longest reader stays. When it cannot, the
    WAL is left as it is, whole and valid, and `store.connection.JOURNAL_SIZE_LIMIT`
    cuts it at the first commit after it starts over. Call it after a PASSIVE pass
    (`SqliteBase.release_wal`), so that the long copy holds no lock. Never raises.
    """
    try:
        timeout = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
        conn.execute("PRAGMA busy_timeout = 0")
        try:
            busy = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        finally:
            conn.execute(f"PRAGMA busy_timeout = {timeout}")
    except sqlite3.Error:
        return False
    return not busy


class Checkpointer:
    """Copies WAL pages into the database file on a daemon thread (PASSIVE checkpoints).

    The writer asks for a pass every `CHECKPOINT_EVERY` commits (`request`). A pass
    never blocks the writer or readers. It holds no reference to the store, so an
    unclosed store can still be collected (a finalizer stops the thread then).
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection], name: str) -> None:
        self._connect = connect
        self._wake = threading.Event()
        self._stopping = False
        self._requested = 0
        self.done = 0
        """The writer's commit count when the last pass started."""
        self.frames = 0
        """How long the WAL was (in pages) at the last pass."""
        self.passes = 0
        self.error: Exception | None = None
        """What ended the thread, if anything did."""
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def usable(self, commits: int) -> bool:
        """True while the thread runs, keeps up, and the WAL is below the cap."""
        return (
            commits - self.done < CHECKPOINTER_STALLED
            and self.frames < WAL_CAP_FRAMES
            and self._thread.is_alive()
        )

    def request(self, commits: int) -> None:
        """Ask for a pass (returns at once)."""
        self._requested = commits
        self._wake.set()

    def note_inline(self, commits: int, frames: int) -> None:
        """The writer checkpointed itself: `frames` pages are still to copy."""
        self.done = commits
        self.frames = frames

    def stop(self, timeout: float = CHECKPOINTER_JOIN_SECONDS) -> None:
        """End the thread after its current pass (waits up to `timeout` seconds)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        # Any error ends the thread quietly (a traceback on stderr would land in the
        # middle of the terminal app): the writer notices (`usable`) and checkpoints.
        try:
            with contextlib.closing(self._connect()) as conn:
                while True:
                    self._wake.wait()
                    self._wake.clear()
                    if self._stopping:
                        return
                    started = self._requested
                    busy, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    if not busy:
                        # The WAL's length, copied or not: only a writer that finds every
                        # page copied starts it over, so a pass cannot tell it shrank.
                        self.frames = max(0, frames)
                        self.done = started
                        self.passes += 1
        except Exception as exc:  # reported through `error` and `alive`
            self.error = exc
