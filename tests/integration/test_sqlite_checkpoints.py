"""WAL checkpoints off the command path: a daemon thread per writing store, bounded WAL.

SQLite's own checkpoint (after a commit that leaves 1000 pages in the WAL) would run
inside some command's COMMIT; the store turns it off and checkpoints from a thread. These
tests shrink the thresholds so a few dozen appends exercise them.
"""

from __future__ import annotations

import gc
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.clock import StepClock
from domain.envelope import Metadata, NewEvent, StreamAppend
from store import SqliteEventStore
from store.sqlite import checkpoints

FRAME = 4096 + 24
"""Bytes per WAL frame at the default page size."""


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def opened() -> Iterator[Callable[..., SqliteEventStore]]:
    """Open stores that are closed after the test."""
    stores: list[SqliteEventStore] = []

    def open_(path: Path, **options: Any) -> SqliteEventStore:
        options.setdefault("clock", StepClock())
        store = SqliteEventStore(path, **options)
        stores.append(store)
        return store

    yield open_
    for store in stores:
        store.close()


@pytest.fixture
def every_5(monkeypatch: pytest.MonkeyPatch) -> None:
    """Ask for a checkpoint every 5 commits."""
    monkeypatch.setattr(checkpoints, "CHECKPOINT_EVERY", 5)


def deposit(store: SqliteEventStore, n: int) -> None:
    stream = f"account-{n % 7}"
    store.append(
        [
            StreamAppend(
                stream,
                "account",
                store.stream_version(stream),
                (NewEvent("Deposited", {"amount": n, "reference": "x" * 100}, event_id=f"e{n}"),),
            )
        ],
        Metadata(actor="alice", command_id=f"c{n}", command_type="deposit"),
    )


def wal_frames(db: Path) -> int:
    """How long the WAL file has ever grown, in frames (it is reused, not shrunk)."""
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size // FRAME if wal.exists() else 0


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("eventscope-checkpoint-")]


def wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_writer_connections_leave_checkpoints_to_the_store(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    assert store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
    other = threading.Thread(
        target=lambda: store._conn().execute("PRAGMA wal_autocheckpoint").fetchone()
    )
    other.start()
    other.join()
    reader = opened(db, read_only=True)
    assert reader._conn().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 1000


def test_a_few_writes_start_no_thread(
    opened: Callable[..., SqliteEventStore], db: Path, every_5: None
) -> None:
    store = opened(db, create=True)
    for n in range(4):
        deposit(store, n)
    assert store._checkpointer is None
    reader = opened(db, read_only=True)
    reader.read_all()
    assert reader._checkpointer is None


def test_the_checkpointer_copies_the_wal_and_stops_on_close(
    opened: Callable[..., SqliteEventStore], db: Path, every_5: None
) -> None:
    store = opened(db, create=True)
    size = db.stat().st_size
    for n in range(40):
        deposit(store, n)
    checkpointer = store._checkpointer
    assert checkpointer is not None and checkpointer.alive
    wait_for(lambda: checkpointer.passes > 0)
    assert db.stat().st_size > size  # a pass copied pages into the database file
    store.close()
    assert not checkpointer.alive
    assert checkpoint_threads() == []
    reopened = opened(db)
    assert reopened.head().position == 40 and reopened.verify().ok


def test_an_unclosed_store_stops_its_thread_when_collected(db: Path, every_5: None) -> None:
    store = SqliteEventStore(db, create=True, clock=StepClock())
    for n in range(10):
        deposit(store, n)
    checkpointer = store._checkpointer
    assert checkpointer is not None and checkpointer.alive
    del store
    gc.collect()
    wait_for(lambda: not checkpointer.alive)


def test_the_wal_stays_bounded_when_the_thread_is_gone(
    opened: Callable[..., SqliteEventStore], db: Path, every_5: None
) -> None:
    store = opened(db, create=True)
    for n in range(10):
        deposit(store, n)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.stop()  # as if the thread had died
    assert not checkpointer.alive
    for n in range(10, 310):
        deposit(store, n)
    # Without checkpoints the WAL would hold every page of 300 appends (about 1,500
    # frames); the writer checkpoints itself every 5 commits and starts it over.
    assert wal_frames(db) < 250
    assert store.head().position == 310 and store.verify().ok


def test_the_wal_stays_bounded_during_a_long_burst(
    opened: Callable[..., SqliteEventStore],
    db: Path,
    every_5: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A pass beside a busy writer never catches up with its last commit, so only the
    # cap (or a stalled thread) makes the writer checkpoint itself and restart the WAL.
    monkeypatch.setattr(checkpoints, "WAL_CAP_FRAMES", 60)
    monkeypatch.setattr(checkpoints, "CHECKPOINTER_STALLED", 40)
    store = opened(db, create=True)
    for n in range(400):
        deposit(store, n)
    assert wal_frames(db) < 800  # about 2,000 without checkpoints
    assert store.head().position == 400 and store.verify().ok


def test_a_checkpoint_held_back_by_a_reader_never_fails_an_append(
    opened: Callable[..., SqliteEventStore], db: Path, every_5: None
) -> None:
    store = opened(db, create=True)
    for n in range(10):
        deposit(store, n)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    checkpointer.stop()
    # A reader pins an old snapshot: no checkpoint can copy past it, nor can the WAL
    # start over; the writer's own checkpoints do what they can, appends go on.
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN")
    blocker.execute("SELECT count(*) FROM events").fetchone()  # pins a snapshot
    for n in range(10, 30):
        deposit(store, n)
    blocker.execute("COMMIT")
    blocker.close()
    assert store.head().position == 30 and store.verify().ok


def test_a_checkpointer_that_cannot_start_ends_quietly_and_the_writer_takes_over(
    opened: Callable[..., SqliteEventStore],
    db: Path,
    every_5: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    store = opened(db, create=True)
    deposit(store, 0)  # this thread's connection is open

    def refuse(*_: object) -> sqlite3.Connection:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(checkpoints, "open_connection", refuse)
    for n in range(1, 10):
        deposit(store, n)
    checkpointer = store._checkpointer
    assert checkpointer is not None
    wait_for(lambda: not checkpointer.alive)
    assert isinstance(checkpointer.error, sqlite3.OperationalError)
    for n in range(10, 210):
        deposit(store, n)
    assert wal_frames(db) < 250
    assert store.head().position == 210 and store.verify().ok
    assert capsys.readouterr().err == ""  # no thread traceback in the terminal
