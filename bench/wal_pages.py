"""WAL pages written per commit, for the write benchmark's three one-event paths.

Each path gets a fresh file, a few setup writes, then a TRUNCATE checkpoint (the WAL
file empties), then `COMMITS` one-event commits with no checkpoint in between (fewer
than SQLite's 1000-page autocheckpoint and the store's `CHECKPOINT_EVERY`). The WAL
then holds every page those commits wrote: (size - 32 header bytes) / (page size +
24 frame-header bytes) frames.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path
from typing import Any

COMMITS = 60
ACCOUNTS = 5


def wal_frames(path: Path) -> int:
    """Frames in the WAL file beside `path` (0 when there is none)."""
    wal = Path(f"{path}-wal")
    if not wal.exists() or wal.stat().st_size < 32:
        return 0
    with contextlib.closing(sqlite3.connect(path)) as conn:
        page = int(conn.execute("PRAGMA page_size").fetchone()[0])
    return (wal.stat().st_size - 32) // (page + 24)


def truncate_wal(path: Path) -> None:
    """Copy the WAL into the file and empty it (the writer's connection stays open)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        busy, _, _ = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy or wal_frames(path):
        raise RuntimeError(f"could not empty the WAL of {path}")


def command_pages(path: Path, synchronous: str) -> float:
    """WAL pages per deposit command through the bus on `SqliteEventStore`."""
    from domain.bus import CommandBus
    from domain.ledger import LEDGER
    from store.sqlite import SqliteEventStore

    store = SqliteEventStore.init(path, synchronous=synchronous)
    try:
        bus = CommandBus(store, LEDGER)
        for i in range(ACCOUNTS):
            fields = {"account_id": f"acc-{i}", "owner": "Owner", "currency": "EUR"}
            bus.execute_fields("open_account", fields, actor="bench")
        truncate_wal(path)
        for i in range(COMMITS):
            fields = {"account_id": f"acc-{i % ACCOUNTS}", "amount": "12.34", "reference": "x"}
            bus.execute_fields("deposit", fields, actor="bench")
        return wal_frames(path) / COMMITS
    finally:
        store.close()


def runner_pages(runner: Any, path: Path, count: int) -> float:
    """WAL pages per commit of a benchmark runner whose `run(0, 1)` commits `count` times."""
    try:
        truncate_wal(path)
        runner.run(0, 1)
        return wal_frames(path) / count
    finally:
        runner.close()
