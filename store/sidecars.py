"""The files SQLite keeps beside a database: `-wal`, `-shm` and `-journal`.

A read-only (`mode=ro`) connection to a WAL database creates an empty `-wal` and a
`-shm` when they are missing, and cannot remove them when it closes (removing them is
part of the last connection's checkpoint, which a read-only connection may not run).
`--read-only` promises to leave the folder as it found it, so `forget_read_only_traces`
lets SQLite do that last-close cleanup itself, only when nothing can be lost by it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path

from store.connection import connect

SIDECAR_SUFFIXES = ("-wal", "-shm", "-journal")


def sidecars(path: Path) -> list[Path]:
    """The database's `-wal`, `-shm` and `-journal` paths (existing or not)."""
    return [path.with_name(path.name + suffix) for suffix in SIDECAR_SUFFIXES]


def existing_sidecars(path: Path) -> frozenset[Path]:
    """The sidecar files of `path` that exist now."""
    return frozenset(side for side in sidecars(path) if side.exists())


def forget_read_only_traces(path: Path, existed: frozenset[Path]) -> None:
    """Remove the empty `-wal` and the `-shm` a read-only session created, if safe.

    Only when neither existed before the session, the `-wal` is still empty (no writer
    committed anything meanwhile), and the file is writable: then one read-write
    connection is opened and closed, and SQLite's own last-close logic removes both,
    and only if no other connection (in any process) has the database open. Nothing
    is written to the database: an empty WAL has nothing to checkpoint.
    """
    wal, shm, _ = sidecars(path)
    if wal in existed or shm in existed:
        return
    try:
        if wal.stat().st_size != 0:
            return
    except OSError:
        return  # no -wal: nothing was created (an immutable open), or it is gone
    with contextlib.suppress(sqlite3.Error, OSError):
        conn = connect(path, "rw", 0)
        try:
            conn.execute("PRAGMA user_version").fetchone()  # opens the WAL, needs no schema
        finally:
            conn.close()


_SHARED_FIRST = 0x40000002
_SHARED_SIZE = 510
"""SQLite's byte range for SHARED locks (os_unix.c): every open WAL connection holds a
read lock on it for as long as it is open."""


def remove_new_database(path: Path, existed: frozenset[Path]) -> bool:
    """Remove a database this process created (and its new sidecars) after a failure.

    A refused `import` into a new path must leave nothing behind. Called once every
    connection of this process is closed; the file goes only if no other process has
    it open (SQLite's SHARED byte range can be write-locked) and it holds no events.
    Returns whether it was removed.
    """
    try:
        with contextlib.closing(connect(path, "ro", 0)) as conn:
            events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    except sqlite3.OperationalError as exc:
        events = 0 if "no such table" in str(exc) else 1
    except sqlite3.Error:
        events = 0  # not a database at all: nothing worth keeping was written
    if events:
        return False
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, _SHARED_SIZE, _SHARED_FIRST)
    except OSError:
        os.close(fd)
        return False  # another process has it open: it is theirs now too
    try:
        for file in (path, *sidecars(path)):
            if file not in existed:
                with contextlib.suppress(FileNotFoundError):
                    file.unlink()
    finally:
        os.close(fd)
    return True
