"""Opening SQLite connections to an eventscope file: one rule for every part of the store."""

from __future__ import annotations

import sqlite3
from pathlib import Path

JOURNAL_SIZE_LIMIT = 32 * 1024 * 1024
"""`PRAGMA journal_size_limit` of every writable connection, in bytes. SQLite keeps the
`-wal` file at the largest size it ever reached (a bulk load's WAL is as large as the
data it wrote) and only writes over it again from the start; with a limit, the first
commit after the WAL starts over cuts the file back to this size. Twice the WAL the
writer lets grow in normal use (`store.sqlite.checkpoints.WAL_CAP_FRAMES`, 4,000 pages
of 4 KiB), so that normal use never pays to grow the file again; only what an unusual
write left (a load, a rebuild, a burst behind a long reader) is given back."""


def connect(
    path: Path, mode: str, timeout_ms: int, *, immutable: bool = False
) -> sqlite3.Connection:
    """A connection to `path` in `mode` (`ro`, `rw` or `rwc`), in autocommit mode.

    `immutable` (read-only only) opens it `immutable=1`: no locks, no `-wal`/`-shm`
    created; only for a short look at a file no connection has open (no `-wal`).

    A writable connection caps the `-wal` file it leaves (`JOURNAL_SIZE_LIMIT`).

    isolation_level=None: callers issue BEGIN/COMMIT themselves. check_same_thread=False
    only so that a close() can close other threads' connections; each is used by one.

    A read-only open of a WAL database still needs its `-shm` index file; in a folder
    nobody may write (an auditor's evidence copy on read-only media) SQLite cannot
    create it and refuses. When that happens and there is no `-wal` file (so no
    committed data can be missed), the file is opened `immutable=1` instead.
    """
    uri = f"{path.resolve().as_uri()}?mode={mode}" + ("&immutable=1" if immutable else "")
    conn = _connect(uri, timeout_ms)
    if mode != "ro":
        try:
            conn.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
        except BaseException:
            conn.close()
            raise
        return conn
    try:
        conn.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchall()
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        wal = path.with_name(path.name + "-wal")
        if ("readonly" in text or "unable to open" in text) and not wal.exists():
            conn.close()
            return _connect(uri + "&immutable=1", timeout_ms)
        conn.close()
        raise
    return conn


def _connect(uri: str, timeout_ms: int) -> sqlite3.Connection:
    return sqlite3.connect(
        uri, uri=True, timeout=timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
