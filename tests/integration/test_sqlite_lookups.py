"""What only the SQLite store promises about bookmarks and lookups: the migrations that
add them upgrade older files, the lookups use their indexes, and read-only stays read-only.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.clock import StepClock
from domain.envelope import Metadata, NewEvent, StreamAppend
from domain.errors import StoreError
from store import SqliteEventStore, schema
from store.schema import SchemaStep

KEY = b"auditor's secret"


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


def raw(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(path, isolation_level=None)


def run(
    store: SqliteEventStore,
    command_id: str,
    stream: str,
    type_: str = "Deposited",
    *,
    actor: str = "alice",
    correlation: str = "",
) -> None:
    """One command recording one event on `stream`."""
    store.append(
        [
            StreamAppend(
                stream,
                "account",
                store.stream_version(stream),
                (NewEvent(type_, {"amount": 1}, event_id=f"e-{command_id}"),),
            )
        ],
        Metadata(
            actor=actor,
            command_id=command_id,
            command_type="deposit",
            correlation_id=correlation,
            causation_id=correlation,
        ),
    )


def history(store: SqliteEventStore) -> None:
    """c1 on account-eur-1, c2 (correlated to c1) on account-eur-2, c3 on account-usd-1."""
    run(store, "c1", "account-eur-1", "Opened")
    run(store, "c2", "account-eur-2", actor="bob", correlation="c1")
    run(store, "c3", "account-usd-1", "Opened")


def steps_before(name: str) -> list[SchemaStep]:
    """The schema steps registered before the step called `name`."""
    number = next(step.number for step in schema.steps() if step.name == name)
    return [step for step in schema.steps() if step.number < number]


def objects(path: Path) -> set[str]:
    return {row[0] for row in raw(path).execute("SELECT name FROM sqlite_master")}


# -- migrations ----------------------------------------------------------------------------


def test_a_database_from_before_bookmarks_is_upgraded_on_open(
    opened: Callable[..., SqliteEventStore], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = steps_before("bookmarks")
    with monkeypatch.context() as patch:
        patch.setattr(schema, "_STEPS", older)
        store = opened(db, create=True)
        history(store)
        head = store.head()
        store.close()
    assert raw(db).execute("PRAGMA user_version").fetchone()[0] == len(older)
    assert {"bookmarks", "events_correlation"}.isdisjoint(objects(db))

    # Read-only leaves the file as it is, and what needs the new schema degrades clearly.
    reader = opened(db, read_only=True)
    assert reader.schema_version() == len(older)
    assert reader.bookmarks() == []
    assert reader.positions_by_correlation("c1") == [1, 2]  # a scan, without the index
    with pytest.raises(StoreError, match="read-only: cannot set a bookmark"):
        reader.set_bookmark("x", 1, actor="alice")
    reader.close()

    store = opened(db)
    assert store.schema_version() == schema.latest_version()
    assert store.meta()["schema_version"] == str(schema.latest_version())
    assert {"bookmarks", "events_correlation"} <= objects(db)
    applied = [r[0] for r in raw(db).execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert applied == [step.key for step in schema.steps()]
    assert store.head() == head and store.verify().ok
    assert store.positions_by_correlation("c1") == [1, 2]
    assert store.set_bookmark("upgraded", 3, actor="alice").position == 3
    assert [b.name for b in store.bookmarks()] == ["upgraded"]


def test_the_bookmarks_table_has_no_triggers_and_is_outside_the_chain(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    history(store)
    head = store.head()
    store.set_bookmark("a", 1, actor="alice")
    conn = raw(db)
    triggers = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'bookmarks'"
    ).fetchall()
    assert triggers == []
    conn.execute("UPDATE bookmarks SET position = 2 WHERE name = 'a'")  # annotations move
    assert [b.position for b in store.bookmarks()] == [2]
    conn.execute("DELETE FROM bookmarks")
    assert store.bookmarks() == []
    assert store.head() == head and store.verify().ok


def test_bookmarks_are_shared_by_every_connection_to_the_file(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    writer = opened(db, create=True)
    history(writer)
    other = opened(db)
    token = other.data_version()
    writer.set_bookmark("seen elsewhere", 2, actor="alice")
    assert [(b.name, b.position, b.actor) for b in other.bookmarks()] == [
        ("seen elsewhere", 2, "alice")
    ]
    assert other.data_version() != token  # the app notices without polling the table
    assert other.delete_bookmark("seen elsewhere")
    assert writer.bookmarks() == []


# -- read-only -----------------------------------------------------------------------------


def test_read_only_lists_bookmarks_but_refuses_to_change_them(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    history(store)
    store.set_bookmark("kept", 2, actor="alice")
    store.close()
    reader = opened(db, read_only=True)
    assert [b.name for b in reader.bookmarks()] == ["kept"]
    attempts: list[tuple[Callable[[], object], str]] = [
        (lambda: reader.set_bookmark("new", 1, actor="bob"), "set a bookmark"),
        (lambda: reader.set_bookmark("bad\nname", 99, actor="bob"), "set a bookmark"),
        (lambda: reader.delete_bookmark("kept"), "delete a bookmark"),
    ]
    for attempt, action in attempts:
        with pytest.raises(StoreError) as caught:
            attempt()
        assert str(caught.value) == f"{db} is open read-only: cannot {action}"
    assert [b.name for b in reader.bookmarks()] == ["kept"]


def test_verify_event_on_a_keyed_chain_needs_the_key(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True, key=KEY)
    history(store)
    event = store.read_all()[1]
    assert store.verify_event(event)
    store.close()
    reader = opened(db, read_only=True)  # a keyed file can be read without its key...
    with pytest.raises(StoreError, match="HMAC-keyed: checking a hash needs the key"):
        reader.verify_event(event)  # ...but not checked
    assert opened(db, read_only=True, key=KEY).verify_event(event)


# -- query plans ---------------------------------------------------------------------------


def _plans(store: SqliteEventStore, call: Callable[[SqliteEventStore], object]) -> list[str]:
    """EXPLAIN QUERY PLAN of every statement `call` runs (as run, values bound)."""
    conn = store._conn()
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        call(store)
    finally:
        conn.set_trace_callback(None)
    plans = []
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT"):
            rows = conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            plans.append(" | ".join(row[3] for row in rows))
    return plans


@pytest.mark.parametrize(
    ("call", "expected"),
    [
        (
            lambda s: s.positions(stream="account-eur-1"),
            "INDEX events_stream_version (stream_id=?)",
        ),
        (lambda s: s.positions(type="Opened", after=1), "INDEX events_type (type=? AND rowid>?)"),
        (lambda s: s.positions(actor="bob"), "INDEX events_actor (<expr>=? AND rowid>?)"),
        (
            lambda s: s.positions(stream="account-eur-*", type="Opened"),
            "INDEX events_type (type=? AND rowid>?)",
        ),
        (lambda s: s.positions_by_correlation("c1"), "INDEX events_correlation (<expr>=?)"),
        (
            lambda s: s.positions_by_command("c2"),
            "INTEGER PRIMARY KEY (rowid>? AND rowid<?)",
        ),
        (lambda s: s.events_at([3, 1]), "INTEGER PRIMARY KEY (rowid=?)"),
    ],
    ids=["stream", "type", "actor", "glob+type", "correlation", "command", "events_at"],
)
def test_exact_lookups_use_their_indexes(
    opened: Callable[..., SqliteEventStore],
    db: Path,
    call: Callable[[SqliteEventStore], object],
    expected: str,
) -> None:
    store = opened(db, create=True)
    history(store)
    plans = _plans(store, call)
    assert len(plans) == 1
    assert expected in plans[0], plans[0]
    assert "SCAN events" not in plans[0] and "TEMP B-TREE" not in plans[0]


def test_a_glob_with_a_literal_prefix_uses_an_index_range_over_a_long_span(
    opened: Callable[..., SqliteEventStore], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = opened(db, create=True)
    history(store)
    monkeypatch.setattr("store.sqlite._GLOB_WALK_SPAN", 1)
    plan = _plans(store, lambda s: s.positions(stream="account-eur-*"))[-1]
    assert "INDEX events_stream_version (stream_id>? AND stream_id<?)" in plan
    plan = _plans(store, lambda s: s.positions(actor="b*"))[-1]
    assert "INDEX events_actor (<expr>>? AND <expr><?)" in plan
    assert store.positions(stream="account-eur-*") == [1, 2]
    assert store.positions(stream="account-eur-*", after=1) == [2]
    # A short span (the log catching up on a few new events) walks positions instead.
    monkeypatch.setattr("store.sqlite._GLOB_WALK_SPAN", 20_000)
    plan = _plans(store, lambda s: s.positions(stream="account-eur-*"))[-1]
    assert "INTEGER PRIMARY KEY (rowid>?)" in plan
