"""Group commit: appends from threads of one store share one transaction and one fsync,
a savepoint each, so each keeps its own checks, its own result and its own failure."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.envelope import AppendResult, Metadata, NewEvent, StreamAppend
from domain.errors import ConcurrencyConflict
from store import SqliteEventStore
from store.sqlite.group_commit import begin_immediate
from store.sqlite.writer_queue import WriterQueue

THREADS = 16
APPENDS = 20


def _append(store: SqliteEventStore, stream: str, expected: int) -> AppendResult:
    event = NewEvent("Deposited", {"amount": 1}, event_id=str(uuid.uuid4()))
    return store.append(
        [StreamAppend(stream, "account", expected, (event,))],
        Metadata(actor="t", command_id=str(uuid.uuid4()), command_type="deposit", command={}),
    )


def _wait_until_waiting(queue: WriterQueue, count: int) -> None:
    while queue.waiting() < count:
        threading.Event().wait(0.001)


def test_threads_appending_get_their_own_results_with_no_gap_and_no_duplicate(
    tmp_path: Path,
) -> None:
    store = SqliteEventStore(tmp_path / "group.db", create=True)
    results: dict[int, list[AppendResult]] = {i: [] for i in range(THREADS)}
    errors: list[BaseException] = []
    seen_committed: list[bool] = []
    start = threading.Barrier(THREADS)

    def write(index: int) -> None:
        start.wait()
        try:
            for version in range(APPENDS):
                result = _append(store, f"account-{index}", version)
                results[index].append(result)
                # Durable before the caller hears of it: another connection sees it.
                with sqlite3.connect(tmp_path / "group.db") as other:
                    row = other.execute(
                        "SELECT event_id FROM events WHERE position = ?", (result.positions[0],)
                    ).fetchone()
                seen_committed.append(row is not None and row[0] == result.events[0].event_id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert all(seen_committed) and len(seen_committed) == THREADS * APPENDS
    positions = [p for rs in results.values() for r in rs for p in r.positions]
    assert sorted(positions) == list(range(1, THREADS * APPENDS + 1))  # no gap, no duplicate
    for index, mine in results.items():
        # each caller got its own events, in its stream's order
        assert [r.events[0].stream_id for r in mine] == [f"account-{index}"] * APPENDS
        assert [r.events[0].version for r in mine] == list(range(1, APPENDS + 1))
    assert store.verify().ok
    store.close()


def _grouped_appends(
    store: SqliteEventStore, plan: list[tuple[str, int]]
) -> list[AppendResult | BaseException]:
    """Run `plan` (stream, expected version) as appends queued behind a held turn, in
    order, so the first thread released leads them all as one group."""
    outcomes: list[AppendResult | BaseException | None] = [None] * len(plan)

    def run(index: int, stream: str, expected: int) -> None:
        try:
            outcomes[index] = _append(store, stream, expected)
        except BaseException as exc:
            outcomes[index] = exc

    threads = []
    with store._writers.turn():  # as the projector does: every append queues behind it
        for index, (stream, expected) in enumerate(plan):
            thread = threading.Thread(target=run, args=(index, stream, expected))
            thread.start()
            threads.append(thread)
            _wait_until_waiting(store._writers, index + 1)
    for thread in threads:
        thread.join()
    return [o for o in outcomes if o is not None]


def test_one_conflicting_append_in_a_group_fails_alone(tmp_path: Path) -> None:
    store = SqliteEventStore(tmp_path / "conflict.db", create=True)
    _append(store, "account-b", 0)
    plan = [("account-a", 0), ("account-b", 0), ("account-c", 0), ("account-a", 1)]
    outcomes = _grouped_appends(store, plan)
    assert isinstance(outcomes[1], ConcurrencyConflict)  # account-b is at version 1
    ok = [o for i, o in enumerate(outcomes) if i != 1]
    assert all(isinstance(o, AppendResult) for o in ok)
    assert [o.positions for o in ok if isinstance(o, AppendResult)] == [(2,), (3,), (4,)]
    assert store.head().position == 4 and store.verify().ok
    store.close()


def test_a_group_runs_in_one_transaction_on_the_leaders_connection(tmp_path: Path) -> None:
    db = tmp_path / "queue.db"
    setup = sqlite3.connect(db, isolation_level=None)
    setup.execute("CREATE TABLE t (v INTEGER UNIQUE)")
    setup.close()
    queue = WriterQueue()
    used: list[int] = []
    outcomes: dict[int, object] = {}

    def work(value: int) -> object:
        def body(conn: sqlite3.Connection) -> int:
            used.append(id(conn))
            conn.execute("INSERT INTO t VALUES (?)", (value,))
            return value

        return body

    def run(index: int, value: int) -> None:
        conn = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
        try:
            outcomes[index] = queue.grouped(conn, work(value))  # type: ignore[arg-type]
        except sqlite3.IntegrityError as exc:
            outcomes[index] = exc
        finally:
            conn.close()

    values = [1, 2, 2, 3]  # the second 2 breaks the unique index: it alone fails
    threads = []
    with queue.turn():
        for index, value in enumerate(values):
            thread = threading.Thread(target=run, args=(index, value))
            thread.start()
            threads.append(thread)
            _wait_until_waiting(queue, index + 1)
    for thread in threads:
        thread.join()
    assert len(set(used)) == 1  # one leader's connection ran all four
    assert outcomes[0] == 1 and outcomes[1] == 2 and outcomes[3] == 3
    assert isinstance(outcomes[2], sqlite3.IntegrityError)
    with sqlite3.connect(db) as check:
        assert [v for (v,) in check.execute("SELECT v FROM t ORDER BY v")] == [1, 2, 3]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    st.lists(
        st.tuples(st.sampled_from(["a", "b", "c"]), st.integers(min_value=0, max_value=3)),
        min_size=1,
        max_size=8,
    )
)
def test_a_group_decides_each_append_as_if_they_ran_one_after_another(
    tmp_path: Path, plan: list[tuple[str, int]]
) -> None:
    db = tmp_path / f"{uuid.uuid4().hex}.db"
    store = SqliteEventStore(db, create=True)
    try:
        outcomes = _grouped_appends(store, [(f"account-{s}", v) for s, v in plan])
        versions: dict[str, int] = {}
        position = 0
        for (stream, expected), outcome in zip(plan, outcomes, strict=True):
            if versions.get(stream, 0) == expected:
                position += 1
                versions[stream] = expected + 1
                assert isinstance(outcome, AppendResult)
                assert outcome.positions == (position,)
            else:
                assert isinstance(outcome, ConcurrencyConflict)
        assert store.head().position == position
        assert store.verify().ok
    finally:
        store.close()
        for path in tmp_path.glob(f"{db.name}*"):
            path.unlink()


def test_a_busy_begin_is_tried_again_within_the_busy_timeout(tmp_path: Path) -> None:
    db = tmp_path / "busy.db"
    holder = sqlite3.connect(db, isolation_level=None, check_same_thread=False)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE t (v)")
    holder.execute("BEGIN IMMEDIATE")
    writer = sqlite3.connect(db, isolation_level=None, timeout=0)  # SQLite itself never waits
    release = threading.Timer(0.2, lambda: holder.execute("COMMIT"))
    release.start()
    begin_immediate(writer, 10_000)
    writer.execute("INSERT INTO t VALUES (1)")
    writer.execute("COMMIT")
    release.join()
    holder.close()
    writer.close()


def test_a_busy_begin_fails_once_the_busy_timeout_has_passed(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("PRAGMA journal_mode = WAL")
    holder.execute("CREATE TABLE t (v)")
    holder.execute("BEGIN IMMEDIATE")
    writer = sqlite3.connect(db, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        begin_immediate(writer, 50)
    holder.execute("ROLLBACK")
    holder.close()
    writer.close()
