"""What only the SQLite store promises about bookmarks and lookups: the migrations that
add them upgrade older files, the lookups use their indexes, and read-only stays read-only.
"""

from __future__ import annotations

import bisect
import random
import sqlite3
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.clock import StepClock, format_time, parse_time
from domain.clock_skew import TimeBlocks
from domain.envelope import Metadata, NewEvent, PendingEvent, StreamAppend
from domain.errors import StoreError
from store import SqliteEventStore
from store.sqlite import schema
from store.sqlite.schema import SchemaStep

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
    monkeypatch.setattr("store.sqlite.queries._GLOB_WALK_SPAN", 1)
    plan = _plans(store, lambda s: s.positions(stream="account-eur-*"))[-1]
    assert "INDEX events_stream_version (stream_id>? AND stream_id<?)" in plan
    plan = _plans(store, lambda s: s.positions(actor="b*"))[-1]
    assert "INDEX events_actor (<expr>>? AND <expr><?)" in plan
    assert store.positions(stream="account-eur-*") == [1, 2]
    assert store.positions(stream="account-eur-*", after=1) == [2]
    # A short span (the log catching up on a few new events) walks positions instead.
    monkeypatch.setattr("store.sqlite.queries._GLOB_WALK_SPAN", 20_000)
    plan = _plans(store, lambda s: s.positions(stream="account-eur-*"))[-1]
    assert "INTEGER PRIMARY KEY (rowid>?)" in plan


# -- position_at without a time index ------------------------------------------------------


_MICRO = timedelta(microseconds=1)


def _times(count: int, seed: int) -> list[str]:
    """Non-decreasing stored times with many runs of equal ones (bulk loads, clamping)."""
    rng = random.Random(seed)
    moment = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    times = []
    for _ in range(count):
        moment += timedelta(microseconds=rng.choice([0, 0, 0, 1, 7, 1_000, 3_600_000_000]))
        times.append(format_time(moment))
    return times


def _timed_events(times: list[str]) -> list[PendingEvent]:
    return [
        PendingEvent(
            event_id=f"t-{n}",
            stream_id=f"account-{n % 5}",
            stream_type="account",
            version=n // 5 + 1,
            type="Deposited",
            data={"amount": n},
            metadata={"actor": "demo", "command_id": f"t-cmd-{n}", "command_type": "deposit"},
            recorded_at=moment,
        )
        for n, moment in enumerate(times)
    ]


@pytest.mark.parametrize("count", [1, 2, 3, 64, 1_000])
def test_position_at_is_the_last_position_at_or_before_a_time(
    opened: Callable[..., SqliteEventStore], db: Path, count: int
) -> None:
    store = opened(db, create=True)
    assert store.position_at("2026-03-01T09:00:00Z") == 0  # empty
    times = _times(count, seed=count)
    store.append_bulk(_timed_events(times))
    assert [e.recorded_at for e in store.read_all()] == times
    probes = {*times, "2000-01-01T00:00:00.000000Z", "2999-01-01T00:00:00.000000Z"}
    for moment in times:  # just before and just after each stored time
        at = parse_time(moment)
        probes |= {format_time(at - _MICRO), format_time(at + _MICRO)}
    for moment in sorted(probes):
        assert store.position_at(moment) == bisect.bisect_right(times, moment), moment


def test_position_at_finds_the_last_of_equal_times_after_appends(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    # A clock that stands still: equal stored times.
    clock = StepClock("2026-01-01T09:00:00Z", step=timedelta(0))
    store = opened(db, create=True, clock=clock)
    for n in range(7):
        run(store, f"c{n}", f"account-{n % 2}")
    assert store.position_at("2026-01-01T09:00:00Z") == 7
    assert store.position_at("2026-01-01T08:59:59.999999Z") == 0


def test_position_at_reads_positions_by_primary_key_and_times_by_their_index(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    store.append_bulk(_timed_events(_times(500, seed=1)))
    store._time_blocks = TimeBlocks(100)  # five full blocks, none of whose minima is known
    assert "events_recorded_at" in objects(db)
    plans = _plans(store, lambda s: s.position_at("2026-03-02T00:00:00Z"))
    # "Anything at or before T?" by the time index; the candidate by the time index
    # (index entries only); then its window's times by rowid ranges: never a scan of the
    # whole table, never a block walk over the events' rows.
    first, head, *rest = plans
    by_time = "SEARCH events USING COVERING INDEX events_recorded_at (recorded_at<?)"
    assert first == by_time
    assert head == "SEARCH events"  # max(position): the last rowid
    assert rest[:2] == [by_time, by_time]  # the latest time by then, then the shorter side
    assert set(rest[2:]) == {"SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"}
    assert len(rest[2:]) == 1  # one window of times: the candidate is not flagged


# -- the partial correlation index -----------------------------------------------------------


def _correlation_history(store: SqliteEventStore) -> None:
    """Every shape of metadata a correlation lookup can meet, appended and bulk-loaded."""
    run(store, "c1", "account-1", "Opened")  # its own correlation (not in the index)
    run(store, "c2", "account-2", correlation="c1")  # follows c1
    run(store, "c3", "account-1", correlation="c3")  # its own, named explicitly
    store.append(  # two events of one command, its own correlation
        [
            StreamAppend("account-3", "account", 0, (NewEvent("Opened", {}, event_id="e-c4a"),)),
            StreamAppend("account-4", "account", 0, (NewEvent("Opened", {}, event_id="e-c4b"),)),
        ],
        Metadata(actor="alice", command_id="c4", command_type="open"),
    )
    store.append(  # no command id: no commands row, correlation ""
        [StreamAppend("account-5", "account", 0, (NewEvent("Opened", {}, event_id="e-x"),))],
        Metadata(actor="alice", command_id="", command_type="open"),
    )
    odd_metadata: list[dict[str, Any]] = [
        {"command_id": "k1", "correlation_id": "k1"},  # bulk, its own: commands row k1
        {"command_id": "k1", "correlation_id": "k1"},
        {"command_id": "k2", "correlation_id": "c1"},
        {"correlation_id": "c1"},  # no command id at all
        {"command_id": "", "correlation_id": ""},
        {"command_id": 7, "correlation_id": 7},
        {"command_id": {"x": 1}, "correlation_id": {"x": 1}},
        {"command_id": "k3", "correlation_id": {"x": 1}},
        {"command_id": "k4"},  # no correlation id
        {},
    ]
    head = store.head().position
    store.append_bulk(
        [
            PendingEvent(
                event_id=f"b-{n}",
                stream_id=f"bulk-{n}",
                stream_type="account",
                version=1,
                type="Imported",
                data={},
                metadata=metadata,
                recorded_at="2030-01-01T00:00:00.000000Z",
            )
            for n, metadata in enumerate(odd_metadata)
        ]
    )
    assert store.head().position == head + len(odd_metadata)


def _scanned(db: Path, correlation_id: str, limit: int) -> list[int]:
    """What the lookup answered before the index was partial: every row, no index."""
    return [
        row[0]
        for row in raw(db).execute(
            "SELECT position FROM events NOT INDEXED WHERE "
            "json_extract(metadata, '$.correlation_id') = ? ORDER BY position LIMIT ?",
            (correlation_id, limit),
        )
    ]


def _correlation_ids(db: Path) -> list[str]:
    values = raw(db).execute(
        "SELECT DISTINCT json_extract(metadata, '$.correlation_id') FROM events"
    )
    texts = [v[0] for v in values if isinstance(v[0], str)]
    return [*texts, "7", "unknown", "k2", "k4"]


def test_the_partial_correlation_index_finds_what_a_scan_finds(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    _correlation_history(store)
    assert store.positions_by_correlation("c1") == [1, 2, 9, 10]
    assert store.positions_by_correlation("c3") == [3]
    assert store.positions_by_correlation("c4") == [4, 5]
    assert store.positions_by_correlation("k1") == [7, 8]
    assert store.positions_by_correlation("") == [6, 11]  # no command id: no commands row
    assert store.positions_by_correlation('{"x":1}') == [13, 14]  # SQLite's text of an object
    for correlation_id in _correlation_ids(db):
        for limit in (1000, 2, 1, 0):
            got = store.positions_by_correlation(correlation_id, limit=limit)
            assert got == _scanned(db, correlation_id, limit), (correlation_id, limit)


def test_commands_that_start_their_own_correlation_leave_the_index_alone(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    for n in range(20):
        run(store, f"own-{n}", f"account-{n % 3}")
    run(store, "follower", "account-1", correlation="own-3")
    where = schema.CORRELATION_INDEX_WHERE
    indexed = raw(db).execute(
        f"SELECT position FROM events INDEXED BY events_correlation WHERE ({where}) "
        "AND json_extract(metadata, '$.correlation_id') IS NOT NULL"
    )
    assert [row[0] for row in indexed] == [21]
    assert store.positions_by_correlation("own-3") == [4, 21]


def test_a_database_from_before_the_command_path_indexes_is_upgraded(
    opened: Callable[..., SqliteEventStore], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = steps_before("time_by_position")
    with monkeypatch.context() as patch:
        patch.setattr(schema, "_STEPS", older)
        store = opened(db, create=True)
        _correlation_history(store)
        store.close()
    assert {"events_recorded_at", "events_correlation"} <= objects(db)
    answers = {c: _scanned(db, c, 1000) for c in _correlation_ids(db)}
    times = [e.recorded_at for e in opened(db, read_only=True).read_all()]

    # Read-only, the old full index still serves the new query, and times need no index.
    reader = opened(db, read_only=True)
    assert {c: reader.positions_by_correlation(c) for c in answers} == answers
    assert reader.position_at(times[3]) == bisect.bisect_right(times, times[3])

    store = opened(db)
    assert store.schema_version() == schema.latest_version()
    assert "events_recorded_at" in objects(db)  # dropped by step 5, back with step 9
    index_sql = (
        raw(db)
        .execute("SELECT sql FROM sqlite_master WHERE name = 'events_correlation'")
        .fetchone()[0]
    )
    assert index_sql.endswith(f"WHERE {schema.CORRELATION_INDEX_WHERE}")
    assert {c: store.positions_by_correlation(c) for c in answers} == answers
    for moment in times:
        assert store.position_at(moment) == bisect.bisect_right(times, moment)
    assert store.verify().ok
