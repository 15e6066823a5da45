"""The `-wal` file after a bulk load: given back once no reader needs it.

SQLite keeps the WAL file at the largest size it ever reached, and a bulk load (one
transaction) writes a WAL as large as its data. After a load (`append_bulk`, an import)
and after the demo's snapshots and read models, the store copies the WAL into the file
and cuts it to zero bytes without waiting for anyone (`checkpoints.truncate_wal`); a
reader still reading from the WAL leaves it for later, and every writable connection's
`journal_size_limit` cuts it at the first commit after it starts over.

A connection kept open beside the CLI (as an app open in another terminal would) stops
SQLite from deleting the WAL when the command's own connections close, so what the
command leaves behind is seen.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest
from cli_support import Cli, head_of
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bulk_load_in_key_order import command_boundary
from test_sqlite_checkpoints import deposit

from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput
from domain.ledger.demo import generate_demo
from store import SqliteEventStore, connection
from store.snapshots import SqliteSnapshotStore
from store.sqlite import bulk

EVENTS = 3000
SMALL_WAL = 16 * (4096 + 24)
"""At most 16 frames: a load of `EVENTS` demo events leaves about 3 MB of WAL (750
frames) when nothing gives it back."""


def wal_bytes(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


def history(events: int = EVENTS) -> list[PendingEvent | Refusal]:
    return list(generate_demo(events, 11))


def count_events(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def idle_reader(db: Path) -> sqlite3.Connection:
    """A connection that has read `db` once (so it has the WAL open) and is now idle."""
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("SELECT count(*) FROM events").fetchone()
    return conn


@pytest.fixture
def observer(db: Path) -> Iterator[sqlite3.Connection]:
    """An idle connection to `db` (in no transaction), open for the whole test."""
    with closing(SqliteEventStore(db, create=True)):
        pass
    conn = idle_reader(db)
    yield conn
    conn.close()


def test_a_bulk_load_into_an_empty_store_leaves_no_wal(db: Path) -> None:
    with closing(SqliteEventStore(db, create=True)) as store:
        head = store.append_bulk(history())
        assert wal_bytes(db) <= SMALL_WAL
        assert head.position == count_events(db) and store.verify().ok


def test_a_bulk_load_into_a_store_with_events_leaves_no_wal(db: Path) -> None:
    items = history()
    cut = command_boundary(items, 100)
    with closing(SqliteEventStore(db, create=True)) as store:
        store.append_bulk(items[:cut])
        store.append_bulk(items[cut:])
        assert wal_bytes(db) <= SMALL_WAL
        assert store.head().position == count_events(db) and store.verify().ok


def test_a_failed_load_leaves_no_wal_of_the_pages_it_spilled(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With a small cache a load spills pages to the WAL (about 7 MB here; 3,000 events
    # spill none), and a failed load leaves them there.
    monkeypatch.setattr(bulk, "BULK_CACHE_KIB", 256)
    items = history(20_000)
    last = max(at for at, item in enumerate(items) if type(item) is PendingEvent)
    event = items[last]
    assert type(event) is PendingEvent
    broken = [*items[:last], replace(event, version=1)]  # its stream has events already
    with closing(SqliteEventStore(db, create=True)) as store, closing(idle_reader(db)):
        with pytest.raises(InvalidInput):
            store.append_bulk(broken)
        assert wal_bytes(db) <= SMALL_WAL
        assert store.head().position == 0 == count_events(db)


def test_a_reader_during_a_bulk_load_leaves_the_wal_for_later_and_loses_nothing(
    db: Path,
) -> None:
    items = history()
    cut = command_boundary(items, 50)
    with closing(SqliteEventStore(db, create=True)) as store:
        store.append_bulk(items[:cut])
    # A busy timeout of an hour: a checkpoint that waited for the reader would hang.
    store = SqliteEventStore(db, busy_timeout_ms=3_600_000)
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        before = reader.execute("SELECT count(*) FROM events").fetchone()[0]  # pins the WAL
        outcome: list[object] = []

        def load() -> None:
            try:
                outcome.append(store.append_bulk(items[cut:]))
            except BaseException as exc:  # reported below, not lost in the thread
                outcome.append(exc)

        loader = threading.Thread(target=load, daemon=True)
        loader.start()
        loader.join(600)  # a liveness guard for the hang above, not a measurement
        assert not loader.is_alive(), "the load waited for the reader"
        assert not isinstance(outcome[0], BaseException), outcome[0]
        # The reader still sees what it saw; the load's WAL is kept for it.
        assert reader.execute("SELECT count(*) FROM events").fetchone()[0] == before
        assert wal_bytes(db) > SMALL_WAL
        assert store.release_wal() is False
        reader.execute("COMMIT")
        assert store.release_wal() is True
        assert wal_bytes(db) == 0
        assert store.head().position == count_events(db) > before and store.verify().ok
    finally:
        reader.close()
        store.close()


def test_every_writable_connection_caps_the_wal(db: Path) -> None:
    def limit(conn: sqlite3.Connection) -> int:
        return int(conn.execute("PRAGMA journal_size_limit").fetchone()[0])

    with closing(SqliteEventStore(db, create=True)) as store:
        assert limit(store._conn()) == connection.JOURNAL_SIZE_LIMIT
        snapshots = SqliteSnapshotStore(db)
        try:
            assert limit(snapshots._conn()) == connection.JOURNAL_SIZE_LIMIT
        finally:
            snapshots.close()
    with closing(SqliteEventStore(db, read_only=True)) as reader:
        assert limit(reader._conn()) == -1  # a reader writes no WAL


def test_a_wal_left_by_a_reader_is_cut_by_the_next_commit_after_it_starts_over(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(connection, "JOURNAL_SIZE_LIMIT", 8 * 4096)
    items = history()
    with closing(SqliteEventStore(db, create=True)) as store:
        reader = sqlite3.connect(db, isolation_level=None)
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM events").fetchone()
        store.append_bulk(items)
        reader.execute("COMMIT")
        reader.close()
        assert wal_bytes(db) > SMALL_WAL  # kept for the reader
        # No explicit truncation: a checkpoint (the store's thread, or SQLite's own on
        # other connections) copies the WAL, and the next commit starts it over.
        with closing(sqlite3.connect(db)) as other:
            busy, frames, copied = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            assert (busy, frames) == (0, copied)
        deposit(store, 1)  # an ordinary command's commit
        # Cut to the limit, or to this commit's own frames when they need more (20 here).
        assert wal_bytes(db) <= 4 * SMALL_WAL
        assert store.head().position == count_events(db) and store.verify().ok


def test_the_demo_command_leaves_no_wal(cli: Cli, db: Path, observer: sqlite3.Connection) -> None:
    result = cli("demo", "--events", str(EVENTS), "--no-open")
    assert result.code == 0, result.err
    assert wal_bytes(db) <= SMALL_WAL
    assert cli("verify").code == 0
    assert observer.execute("SELECT count(*) FROM snapshots").fetchone()[0] > 0


def test_an_import_leaves_no_wal(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "source.db"
    assert cli("demo", "--events", str(EVENTS), "--no-open", db_path=source).code == 0
    dump = tmp_path / "dump.jsonl"
    assert cli("export", str(dump), db_path=source).code == 0
    copy = tmp_path / "copy.db"
    assert cli("init", db_path=copy).code == 0
    with closing(idle_reader(copy)):  # open meanwhile
        result = cli("import", str(dump), db_path=copy)
        assert result.code == 0, result.err
        assert wal_bytes(copy) <= SMALL_WAL
    assert head_of(copy) == head_of(source)
    assert cli("verify", db_path=copy).code == 0


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(loads=st.lists(st.tuples(st.integers(1, 400), st.booleans()), min_size=1, max_size=4))
def test_loads_with_or_without_a_reader_keep_every_event_and_end_with_a_small_wal(
    tmp_path_factory: pytest.TempPathFactory, loads: list[tuple[int, bool]]
) -> None:
    db = tmp_path_factory.mktemp("wal") / "bank.db"
    items = history(sum(size for size, _ in loads) + 50)
    events = [item for item in items if type(item) is PendingEvent]
    with closing(SqliteEventStore(db, create=True)) as store:
        at = 0
        for number, (size, pinned) in enumerate(loads, 1):
            # A command's events load together; the last load takes the rest.
            end = len(items) if number == len(loads) else command_boundary(items, at + size)
            reader = sqlite3.connect(db, isolation_level=None)
            if pinned:
                reader.execute("BEGIN")
                reader.execute("SELECT count(*) FROM events").fetchone()
            store.append_bulk(items[at:end])
            reader.close()  # ends its transaction
            at = end
        assert store.head().position == len(events) == count_events(db)
        assert store.verify().ok
        store.release_wal()
        assert wal_bytes(db) <= SMALL_WAL


def test_a_rebuild_leaves_no_wal(cli: Cli, db: Path, observer: sqlite3.Connection) -> None:
    assert cli("demo", "--events", str(EVENTS), "--no-open").code == 0
    result = cli("rebuild")
    assert result.code == 0, result.err
    assert wal_bytes(db) <= SMALL_WAL
    assert cli("verify").code == 0
