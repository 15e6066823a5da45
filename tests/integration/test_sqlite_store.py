"""What only the SQLite store promises: files, triggers, tampering, keys, locks, processes."""

from __future__ import annotations

import hashlib
import hmac
import io
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import orjson
import pytest

from domain.clock import StepClock
from domain.envelope import (
    GENESIS_HASH,
    Head,
    Metadata,
    NewEvent,
    PendingEvent,
    Refusal,
    StreamAppend,
)
from domain.errors import ConcurrencyConflict, InvalidInput, StoreError
from store import SqliteEventStore, check_anchor, export_events, import_events
from store.sqlite import schema
from store.sqlite.schema import SchemaStep, latest_version

ROOT = Path(__file__).resolve().parents[2]
KEY = b"auditor's secret"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "audit.db"


@pytest.fixture
def opened() -> Iterator[Callable[..., SqliteEventStore]]:
    """Open stores that are closed after the test."""
    stores: list[SqliteEventStore] = []

    def open_(path: Path, **options: object) -> SqliteEventStore:
        options.setdefault("clock", StepClock())
        store = SqliteEventStore(path, **options)  # type: ignore[arg-type]
        stores.append(store)
        return store

    yield open_
    for store in stores:
        store.close()


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection, as an auditor (or an attacker) with the sqlite3 shell has."""
    return sqlite3.connect(path, isolation_level=None)


counter = iter(range(1_000_000))


def append(store: SqliteEventStore, stream: str = "account-a", **data: object) -> None:
    n = next(counter)
    store.append(
        [
            StreamAppend(
                stream,
                "account",
                store.stream_version(stream),
                (NewEvent("Deposited", data or {"amount": n}, event_id=f"e-{n}"),),
            )
        ],
        Metadata(actor="alice", command_id=f"c-{n}", command_type="deposit", command={"n": n}),
    )


def filled(
    open_: Callable[..., SqliteEventStore], path: Path, count: int, **options: object
) -> SqliteEventStore:
    store = open_(path, create=True, **options)
    for i in range(count):
        append(store, f"account-{i % 3}")
    return store


def rehash(conn: sqlite3.Connection, start: int, key: bytes | None = None) -> None:
    """Recompute the chain from `start` on, as an attacker who edited history would."""
    columns = (
        "position, event_id, stream_id, stream_type, version, type, schema_version, "
        "recorded_at, data, metadata"
    )
    prev = conn.execute("SELECT hash FROM events WHERE position = ?", (start - 1,)).fetchone()
    prev_hash = prev[0] if prev else GENESIS_HASH
    rows = conn.execute(
        f"SELECT {columns} FROM events WHERE position >= ? ORDER BY position", (start,)
    ).fetchall()
    for row in rows:
        message = prev_hash.encode() + orjson.dumps(list(row))
        digest = (
            hashlib.sha256(message).hexdigest()
            if key is None
            else hmac.new(key, message, "sha256").hexdigest()
        )
        conn.execute(
            "UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?",
            (prev_hash, digest, row[0]),
        )
        prev_hash = digest


# -- schema ----------------------------------------------------------------------------------


def test_a_new_database_is_marked_versioned_and_in_wal_mode(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True, domain="ledger")
    conn = raw(db)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == schema.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == latest_version()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    names = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]
    assert names == [step.key for step in schema.steps()]
    meta = store.meta()
    assert meta["hash_mode"] == "sha256" and meta["domain"] == "ledger"
    assert meta["schema_version"] == str(latest_version())
    assert "key_check" not in meta
    assert store.domain == "ledger" and store.schema_version() == latest_version()
    store.close()
    again = SqliteEventStore.init(db)
    assert again.head() == Head(0, GENESIS_HASH)
    again.close()
    assert conn.execute("SELECT count(*) FROM _sqlite_migrations").fetchone()[0] == len(names)


def test_a_later_schema_step_upgrades_an_older_file(
    opened: Callable[..., SqliteEventStore], db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = latest_version()
    opened(db, create=True).close()

    def bookmarks(database: object) -> None:
        database.execute("CREATE TABLE bookmarks_test (position INTEGER PRIMARY KEY)")  # type: ignore[attr-defined]

    step = SchemaStep(current + 1, "bookmarks_test", bookmarks)
    monkeypatch.setattr(schema, "_STEPS", [*schema._STEPS, step])
    reader = opened(db, read_only=True)  # an older file is still readable as it is
    assert reader.schema_version() == current
    store = opened(db)
    assert store.schema_version() == current + 1
    assert raw(db).execute("SELECT count(*) FROM bookmarks_test").fetchone() == (0,)
    assert store.meta()["schema_version"] == str(current + 1)


def test_schema_steps_must_be_numbered_in_order() -> None:
    with pytest.raises(ValueError, match="next number is"):
        schema.migration(latest_version() + 2, "skipped")(lambda db: None)


# -- append-only -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}' WHERE position = 1",
        "DELETE FROM events WHERE position = 1",
        "INSERT OR REPLACE INTO events SELECT * FROM events WHERE position = 1",
        "UPDATE commands SET payload = '{}'",
        "DELETE FROM commands",
        "UPDATE refusals SET reason = 'fine'",
        "DELETE FROM refusals",
    ],
)
def test_triggers_refuse_changing_history(
    opened: Callable[..., SqliteEventStore], db: Path, statement: str
) -> None:
    store = filled(opened, db, 2)
    store.record_refusal(
        Refusal("2026-01-01T09:00:00.000000Z", "bob", "r1", "withdraw", {}, "no funds", "refused")
    )
    conn = raw(db)
    conn.execute("PRAGMA recursive_triggers = ON")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute(statement)
    assert store.verify().ok


# -- tampering -------------------------------------------------------------------------------


def _edit_data(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE events SET data = '{\"amount\":1000000}' WHERE position = 4")


def _edit_metadata(conn: sqlite3.Connection) -> None:
    conn.execute(
        "UPDATE events SET metadata = json_set(metadata, '$.actor', 'mallory') WHERE position = 4"
    )


def _delete_middle(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM events WHERE position = 4")


def _swap(conn: sqlite3.Connection) -> None:
    # Swap everything but the position, so positions stay 1..N.
    columns = (
        "event_id, stream_id, stream_type, version, type, schema_version, data, metadata, "
        "recorded_at, prev_hash, hash"
    )
    four = conn.execute(f"SELECT {columns} FROM events WHERE position = 4").fetchone()
    seven = conn.execute(f"SELECT {columns} FROM events WHERE position = 7").fetchone()
    conn.execute("DROP INDEX events_event_id")
    conn.execute("DROP INDEX events_stream_version")
    assign = f"({columns}) = ({', '.join('?' * 11)})"
    conn.execute(f"UPDATE events SET {assign} WHERE position = 4", seven)
    conn.execute(f"UPDATE events SET {assign} WHERE position = 7", four)


def _forge_insert(conn: sqlite3.Connection) -> None:
    conn.execute(
        "INSERT INTO events SELECT 10, 'forged', stream_id, stream_type, version + 1, type, "
        "schema_version, data, metadata, recorded_at, hash, printf('%064d', 7) FROM events "
        "WHERE position = 9"
    )


@pytest.mark.parametrize(
    ("tamper", "position", "problem"),
    [
        (_edit_data, 4, "hash does not match"),
        (_edit_metadata, 4, "hash does not match"),
        (_delete_middle, 4, "position 4 is missing"),
        (_swap, 4, "stream"),
        (_forge_insert, 10, "hash does not match"),
    ],
    ids=["edit data", "edit metadata", "delete middle", "swap", "forged insert"],
)
def test_tampering_is_found_at_the_right_position(
    opened: Callable[..., SqliteEventStore],
    db: Path,
    tamper: Callable[[sqlite3.Connection], None],
    position: int,
    problem: str,
) -> None:
    store = filled(opened, db, 9)
    conn = raw(db)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute("DROP TRIGGER events_no_delete")
    tamper(conn)
    report = store.verify()
    assert not report.ok
    assert report.first_bad_position == position
    assert problem in report.problem
    assert report.checked == position - 1


def test_a_rehashed_edit_is_caught_only_with_the_key(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = filled(opened, db, 6, key=KEY)
    assert store.verify().ok
    conn = raw(db)
    conn.execute("DROP TRIGGER events_no_update")
    _edit_data(conn)
    rehash(conn, 4)  # the attacker has no key, so re-hashes with plain SHA-256
    report = store.verify()
    assert not report.ok and report.first_bad_position == 4
    # Claiming the file was never keyed does not help: the key holder is told.
    conn.execute("UPDATE meta SET value = 'sha256' WHERE key = 'hash_mode'")
    rehash(conn, 1)
    with pytest.raises(StoreError, match="not keyed"):
        opened(db, key=KEY)
    assert opened(db).verify().ok  # ...whereas without the key the forgery passes


def test_a_forged_append_passes_plain_sha256_but_not_hmac(
    opened: Callable[..., SqliteEventStore], tmp_path: Path
) -> None:
    for key, caught in ((None, False), (KEY, True)):
        path = tmp_path / f"forged-{caught}.db"
        store = filled(opened, path, 5, key=key)
        conn = raw(path)
        conn.execute(
            "INSERT INTO events SELECT 6, 'forged', stream_id, stream_type, version + 1, type, "
            "schema_version, data, metadata, recorded_at, hash, '' FROM events "
            "WHERE position = 5"
        )
        conn.execute("DROP TRIGGER events_no_update")
        rehash(conn, 6)
        report = store.verify()
        assert report.ok is not caught
        if caught:
            assert report.first_bad_position == 6


def test_a_truncated_tail_is_caught_by_the_anchor(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = filled(opened, db, 8)
    anchor = store.head()
    conn = raw(db)
    conn.execute("DROP TRIGGER events_no_delete")
    conn.execute("DELETE FROM events WHERE position > 6")
    assert store.verify().ok  # the shorter chain is internally consistent...
    report = check_anchor(store, anchor)
    assert not report.ok and "removed from the tail" in report.problem  # ...but not the kept head


def test_a_rewritten_and_rehashed_history_is_caught_by_the_anchor(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = filled(opened, db, 8)
    anchor = store.read_all(after=5, to=6)[0]
    conn = raw(db)
    conn.execute("DROP TRIGGER events_no_update")
    _edit_data(conn)
    rehash(conn, 4)
    assert store.verify().ok
    report = check_anchor(store, Head(anchor.position, anchor.hash))
    assert not report.ok and "rewritten" in report.problem


# -- keys ------------------------------------------------------------------------------------


def test_a_keyed_database_needs_its_key(opened: Callable[..., SqliteEventStore], db: Path) -> None:
    filled(opened, db, 3, key=KEY).close()
    with pytest.raises(StoreError, match="HMAC-keyed: set EVENTSCOPE_KEY"):
        opened(db)
    with pytest.raises(StoreError, match="key does not match"):
        opened(db, key=b"wrong")
    reader = opened(db, read_only=True)
    assert reader.head().position == 3 and reader.keyed and not reader.has_key
    with pytest.raises(StoreError, match="verifying needs the key"):
        reader.verify()
    assert opened(db, key=KEY, read_only=True).verify().ok


def test_a_plain_database_refuses_a_key(opened: Callable[..., SqliteEventStore], db: Path) -> None:
    filled(opened, db, 1).close()
    with pytest.raises(StoreError, match="not keyed"):
        opened(db, key=KEY)


def test_open_reads_the_key_from_the_environment(
    db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    key_file = tmp_path / "key"
    key_file.write_bytes(KEY + b"\n")
    monkeypatch.setenv("EVENTSCOPE_KEY_FILE", str(key_file))
    monkeypatch.delenv("EVENTSCOPE_KEY", raising=False)
    with SqliteEventStore.open(db, create=True) as store:
        assert store.keyed
    with SqliteEventStore(db, key=KEY) as store:
        assert store.keyed


# -- bad files -------------------------------------------------------------------------------


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path


def _sqlite_with(path: Path, *statements: str) -> Path:
    conn = raw(path)
    for statement in statements:
        conn.execute(statement)
    conn.close()
    return path


def _newer(path: Path) -> Path:
    SqliteEventStore(path, create=True).close()
    return _sqlite_with(path, f"PRAGMA user_version = {latest_version() + 1}")


@pytest.mark.parametrize(
    ("make", "options", "message"),
    [
        (lambda d: d / "missing" / "x.db", {"create": True}, "folder .* does not exist"),
        (lambda d: d, {}, "is a folder"),
        (lambda d: d / "none.db", {}, "does not exist; create it with `eventscope init`"),
        (lambda d: d / "none.db", {"read_only": True}, "does not exist"),
        (lambda d: _write(d / "notes.db", b"hello, world\n"), {}, "is not a SQLite database"),
        (lambda d: _write(d / "bin.db", bytes(range(256)) * 16), {}, "not a SQLite database"),
        (
            lambda d: _sqlite_with(d / "other.db", "CREATE TABLE t (x)"),
            {},
            "a SQLite database but not an eventscope database",
        ),
        (
            lambda d: _sqlite_with(d / "app.db", "PRAGMA application_id = 42", "CREATE TABLE t(x)"),
            {},
            "another application",
        ),
        (lambda d: _write(d / "empty.db", b""), {}, "empty database; set it up"),
        (
            _newer,
            {},
            rf"newer eventscope \(schema {latest_version() + 1} > {latest_version()}\); "
            "upgrade eventscope",
        ),
    ],
    ids=[
        "missing folder",
        "a folder",
        "missing file",
        "missing file read-only",
        "text file",
        "binary file",
        "plain sqlite",
        "other application",
        "empty file",
        "newer schema",
    ],
)
def test_bad_database_files_are_named_in_one_line(
    tmp_path: Path, make: Callable[[Path], Path], options: dict[str, bool], message: str
) -> None:
    path = make(tmp_path / "newer.db" if make is _newer else tmp_path)
    with pytest.raises(StoreError, match=message) as caught:
        SqliteEventStore(path, **options)  # type: ignore[arg-type]
    assert "\n" not in caught.value.message


def test_an_empty_file_is_set_up_by_init(tmp_path: Path) -> None:
    path = _write(tmp_path / "empty.db", b"")
    with SqliteEventStore.init(path) as store:
        assert store.head().position == 0


def test_bad_options_are_refused(db: Path) -> None:
    with pytest.raises(InvalidInput, match="synchronous"):
        SqliteEventStore(db, create=True, synchronous="SOMETIMES")
    with pytest.raises(InvalidInput, match="read-only"):
        SqliteEventStore(db, create=True, read_only=True)
    with pytest.raises(InvalidInput, match="file path"):
        SqliteEventStore(":memory:", create=True)


@pytest.mark.parametrize(("mode", "number"), [("FULL", 2), ("NORMAL", 1)])
def test_synchronous_is_configurable(
    opened: Callable[..., SqliteEventStore], db: Path, mode: str, number: int
) -> None:
    store = opened(db, create=True, synchronous=mode)
    assert store._conn().execute("PRAGMA synchronous").fetchone()[0] == number


# -- locks, read-only, threads and processes -------------------------------------------------


def test_a_locked_database_is_a_clear_error_not_a_traceback(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = filled(opened, db, 2, busy_timeout_ms=100)
    other = raw(db)
    other.execute("BEGIN IMMEDIATE")
    locked = r"database is locked by another writer for more than 0.1s; try again"
    with pytest.raises(StoreError, match=locked):
        append(store)
    with pytest.raises(StoreError, match=locked):
        store.record_refusal(Refusal("", "bob", "r", "withdraw", {}, "no", "refused"))
    with pytest.raises(StoreError, match=locked):
        store.append_bulk([])
    assert store.head().position == 2  # readers are never blocked
    other.execute("COMMIT")
    append(store)
    assert store.head().position == 3


def test_read_only_mode_is_enforced_by_sqlite(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    filled(opened, db, 3).close()
    reader = opened(db, read_only=True)
    assert reader.head().position == 3 and reader.verify().ok
    with pytest.raises(StoreError, match="open read-only: cannot append"):
        append(reader)
    with pytest.raises(StoreError, match="read-only"):
        reader.record_refusal(Refusal("", "bob", "r", "withdraw", {}, "no", "refused"))
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader._conn().execute("INSERT INTO meta VALUES ('x', 'y')")
    assert reader.head().position == 3


def test_connections_are_per_thread(opened: Callable[..., SqliteEventStore], db: Path) -> None:
    store = filled(opened, db, 5)
    together = threading.Barrier(3)

    def read(_: int) -> tuple[int, int]:
        together.wait(timeout=10)  # three threads at once, so three connections
        return store.head().position, id(store._conn())

    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(read, range(3)))
    assert [head for head, _ in results] == [5, 5, 5]
    assert len({conn for _, conn in results}) == 3
    store.close()
    with pytest.raises(StoreError, match="closed"):
        store.head()


def _append_with_retries(store: SqliteEventStore, stream: str, n: int) -> None:
    while True:
        try:
            version = store.stream_version(stream)
            store.append(
                [
                    StreamAppend(
                        stream,
                        "account",
                        version,
                        (
                            NewEvent(
                                "T", {"n": n}, event_id=f"{stream}-{n}-{threading.get_ident()}"
                            ),
                        ),
                    )
                ],
                Metadata(actor="t", command_id="", command_type="t"),
            )
            return
        except ConcurrencyConflict:
            continue


def test_two_connections_appending_at_once_stay_gap_free(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    first = opened(db, create=True)
    second = opened(db)

    def work(store: SqliteEventStore) -> None:
        for n in range(40):
            _append_with_retries(store, f"account-{n % 2}", n)

    threads = [threading.Thread(target=work, args=(s,)) for s in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    positions = [e.position for e in first.read_all()]
    assert positions == list(range(1, 81))
    assert first.verify().ok and first.stream_version("account-0") == 40


WRITER = """
import sys
from domain.envelope import Metadata, NewEvent, StreamAppend
from domain.errors import ConcurrencyConflict
from store import SqliteEventStore

store = SqliteEventStore(sys.argv[1], synchronous="NORMAL")
name = sys.argv[2]
for n in range(int(sys.argv[3])):
    stream = f"account-{n % 3}"
    while True:
        try:
            store.append(
                [StreamAppend(stream, "account", store.stream_version(stream),
                              (NewEvent("T", {"n": n}, event_id=f"{name}-{n}"),))],
                Metadata(actor=name, command_id=f"{name}-cmd-{n}", command_type="t"),
            )
            break
        except ConcurrencyConflict:
            pass
store.close()
"""


def test_two_processes_appending_at_once_stay_gap_free(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(db), name, "40"], cwd=ROOT)
        for name in ("p1", "p2")
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0]
    assert [e.position for e in store.read_all()] == list(range(1, 81))
    assert store.count_events(actor="p1") == store.count_events(actor="p2") == 40
    assert store.verify().ok


# -- bulk ------------------------------------------------------------------------------------


def _indexes(path: Path) -> list[tuple[str, str]]:
    return (
        raw(path)
        .execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            "ORDER BY name"
        )
        .fetchall()
    )


def _pending(count: int) -> list[PendingEvent]:
    return [
        PendingEvent(
            event_id=f"bulk-{n}",
            stream_id=f"account-{n % 4}",
            stream_type="account",
            version=n // 4 + 1,
            type="Deposited",
            data={"amount": n},
            metadata={"actor": "demo", "command_id": f"bulk-cmd-{n}", "command_type": "deposit"},
            recorded_at="2026-02-01T00:00:00.000000Z",
            command={"n": n},
        )
        for n in range(count)
    ]


def test_a_bulk_load_rebuilds_the_indexes_it_dropped(
    opened: Callable[..., SqliteEventStore], db: Path
) -> None:
    store = opened(db, create=True)
    before = _indexes(db)
    events = _pending(20)
    events[15] = replace(events[15], event_id=events[3].event_id)
    with pytest.raises(InvalidInput, match=r"event 16: event id bulk-3 is used twice"):
        store.append_bulk(events)
    assert _indexes(db) == before and store.head().position == 0
    store.append_bulk(_pending(20))
    assert _indexes(db) == before and store.verify().ok
    assert store.count_events(stream="account-1") == 5


# -- export and import -----------------------------------------------------------------------


def _rows(path: Path, table: str) -> list[tuple[object, ...]]:
    return raw(path).execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


def test_export_then_import_gives_identical_rows_and_head(
    opened: Callable[..., SqliteEventStore], tmp_path: Path
) -> None:
    source = filled(opened, tmp_path / "source.db", 25, key=KEY)
    exported = tmp_path / "events.jsonl"
    with exported.open("wb") as out:
        assert export_events(source.iter_all(), out) == 25
    target = opened(tmp_path / "target.db", create=True, key=KEY)
    with exported.open("rb") as source_file:
        head = import_events(target, source_file, name="events.jsonl")
    assert head == source.head() == target.head()
    assert _rows(tmp_path / "target.db", "events") == _rows(tmp_path / "source.db", "events")
    commands = _rows(tmp_path / "target.db", "commands")
    assert len(commands) == 25 and all(row[2] is None for row in commands)
    assert target.verify().ok


def _export_lines(opened: Callable[..., SqliteEventStore], path: Path) -> list[bytes]:
    store = filled(opened, path, 5)
    buffer = io.BytesIO()
    export_events(store.iter_all(), buffer)
    return buffer.getvalue().splitlines(keepends=True)


def _replace_field(line: bytes, field: str, value: object) -> bytes:
    event = orjson.loads(line)
    event[field] = value
    return orjson.dumps(event) + b"\n"


def _drop_field(line: bytes, field: str) -> bytes:
    event = orjson.loads(line)
    del event[field]
    return orjson.dumps(event) + b"\n"


BadFile = Callable[[list[bytes]], list[bytes]]

BAD_FILES: list[tuple[str, BadFile, str]] = [
    (
        "malformed JSON",
        lambda ls: [*ls[:2], b'{"position": 3,\n', *ls[3:]],
        "line 3: is not valid JSON",
    ),
    (
        "missing field",
        lambda ls: [*ls[:1], _drop_field(ls[1], "hash"), *ls[2:]],
        "line 2: missing hash",
    ),
    (
        "extra field",
        lambda ls: [_replace_field(ls[0], "note", 1), *ls[1:]],
        "line 1: unexpected note",
    ),
    (
        "mistyped field",
        lambda ls: [*ls[:3], _replace_field(ls[3], "version", "2"), *ls[4:]],
        "line 4: version must be a whole number",
    ),
    (
        "bad time",
        lambda ls: [*ls[:3], _replace_field(ls[3], "recorded_at", "noon"), *ls[4:]],
        "line 4: recorded_at must look like",
    ),
    (
        "bad hash text",
        lambda ls: [*ls[:3], _replace_field(ls[3], "hash", "xyz"), *ls[4:]],
        "line 4: hash must be 64",
    ),
    (
        "broken hash",
        lambda ls: [*ls[:3], _replace_field(ls[3], "data", {"amount": -1}), *ls[4:]],
        "line 4: position 4: hash does not match",
    ),
    (
        "reordered",
        lambda ls: [ls[0], ls[2], ls[1], *ls[3:]],
        "line 2: expected position 2 after 1, found 3",
    ),
    (
        "duplicated",
        lambda ls: [*ls[:3], ls[2], *ls[3:]],
        "line 4: expected position 4 after 3, found 3",
    ),
    ("empty file", lambda ls: [], "the file is empty"),
    ("only blank lines", lambda ls: [b"\n", b"  \n"], "the file is empty"),
    ("blank line inside", lambda ls: [*ls[:2], b"\n", *ls[2:]], "line 3: is empty"),
    ("binary data", lambda ls: [b"\x00\x01\x02garbage\n", *ls], "line 1: contains binary data"),
    (
        "invalid UTF-8",
        lambda ls: [ls[0], b'{"position": "\xff\xfe"}\n'],
        "line 2: is not valid JSON",
    ),
    ("huge line", lambda ls: [ls[0], b"[" + b"1," * 600_000 + b"1]\n"], "line 2: is longer than"),
    ("not an object", lambda ls: [b"[1, 2, 3]\n", *ls], "line 1: is a JSON list"),
]


@pytest.mark.parametrize(
    ("breakage", "message"), [b[1:] for b in BAD_FILES], ids=[b[0] for b in BAD_FILES]
)
def test_a_bad_import_names_the_line_and_changes_nothing(
    opened: Callable[..., SqliteEventStore],
    tmp_path: Path,
    breakage: BadFile,
    message: str,
) -> None:
    lines = _export_lines(opened, tmp_path / "source.db")
    target = opened(tmp_path / "target.db", create=True)
    with pytest.raises(InvalidInput) as caught:
        import_events(target, io.BytesIO(b"".join(breakage(lines))), name="events.jsonl")
    assert caught.value.message.startswith("events.jsonl: ")
    assert message in caught.value.message
    assert "\n" not in caught.value.message
    assert target.head() == Head(0, GENESIS_HASH)
    assert _rows(tmp_path / "target.db", "commands") == []


def test_a_bad_line_in_a_continuing_import_leaves_the_head_alone(
    opened: Callable[..., SqliteEventStore], tmp_path: Path
) -> None:
    lines = _export_lines(opened, tmp_path / "source.db")
    target = opened(tmp_path / "target.db", create=True)
    import_events(target, io.BytesIO(b"".join(lines[:2])))
    head = target.head()
    broken = [lines[2], _replace_field(lines[3], "type", ""), lines[4]]
    with pytest.raises(InvalidInput, match="line 2: type must be a non-empty string"):
        import_events(target, io.BytesIO(b"".join(broken)))
    assert target.head() == head and target.count_events() == 2
    import_events(target, io.BytesIO(b"".join(lines[2:])))
    assert target.verify().ok and target.head().position == 5
