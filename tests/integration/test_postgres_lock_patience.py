"""Lock patience (store/postgres/group_commit.py, migration 5): a writer that finds the
append lock taken and nobody queued waits for the lock itself, as main's path does, for
up to `eventscope.lock_patience` ms, and queues its append for a combiner only when
that runs out; a writer that finds a queue joins it at once. Whichever way an append
goes, the log is the one the same appends make one by one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer
from test_postgres_shared_commits import _append, _clock, _lock_held, _queued, _wait_for

from domain.envelope import AppendResult
from store import SqliteEventStore
from store.postgres import schema
from store.postgres.append_sql import APPEND_LOCK
from store.postgres.group_commit import LOCK_PATIENCE_MS
from store.postgres.store import PostgresEventStore
from store.proofs.verifier import leaf_hash, root_from_leaves

pytestmark = pytest.mark.usefixtures("shared_commit_path")

_FOREVER = "600000"
"""A patience no test outlasts (ms): the writer waits for the lock, never queues."""


def _lock_waiters(url: str) -> int:
    """How many sessions wait for the append lock exclusively (`pg_locks`)."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
            "AND mode = 'ExclusiveLock' AND (classid::bigint << 32 | objid::bigint) = %s",
            (APPEND_LOCK,),
        ).fetchone()
        return int(row[0]) if row else 0


def _waiting(url: str, count: int) -> bool:
    """True when `count` writers have queued their appends or wait for the lock."""
    return _queued(url) + _lock_waiters(url) == count


def _patient(store: PostgresEventStore, ms: str) -> PostgresEventStore:
    store._pg.execute("SELECT set_config('eventscope.lock_patience', %s, false)", (ms,))
    return store


def _in_background(call: Callable[[], Any]) -> tuple[threading.Thread, list[Any]]:
    got: list[Any] = []

    def run() -> None:
        try:
            got.append(call())
        except Exception as exc:  # kept for the test to look at
            got.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, got


def _append_past_the_lock(
    url: str, store: PostgresEventStore, version: int, event_id: str, until: Callable[[], bool]
) -> Any:
    """Append `event_id` to stream "a" while the test holds the append lock, let go once
    `until()` holds; the append's result, or the exception it raised."""
    with _lock_held(url):
        thread, got = _in_background(
            partial(_append, store, "a", version, event_id, f"c-{event_id}")
        )
        _wait_for(until, "the writer queued or waiting")
    thread.join()
    return got[0]


def _waiting_unqueued(url: str) -> bool:
    """True once one writer waits for the lock; it must not have queued meanwhile."""
    if _lock_waiters(url) != 1:
        return False
    assert _queued(url) == 0
    return True


def test_a_writer_that_finds_the_lock_taken_waits_for_it_instead_of_queueing(
    postgres_url: str,
) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    with PostgresEventStore(postgres_url) as store:
        _patient(store, _FOREVER)
        got = _append_past_the_lock(
            postgres_url, store, 0, "e1", partial(_waiting_unqueued, postgres_url)
        )
        assert isinstance(got, AppendResult) and got.positions == (1,)
        assert store.last_batch == 1 and store.verify().ok


def test_a_writer_queues_once_its_patience_runs_out(postgres_url: str) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    with PostgresEventStore(postgres_url) as store:
        _patient(store, "1")
        got = _append_past_the_lock(
            postgres_url, store, 0, "e1", lambda: _queued(postgres_url) == 1
        )
        assert isinstance(got, AppendResult) and got.positions == (1,)
        assert _queued(postgres_url) == 0 and store.verify().ok


def test_a_writer_that_finds_a_queue_joins_it_at_once(postgres_url: str) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    eager = _patient(PostgresEventStore(postgres_url), "0")
    patient = _patient(PostgresEventStore(postgres_url), _FOREVER)
    try:
        with _lock_held(postgres_url):
            first, got_first = _in_background(lambda: _append(eager, "a", 0, "e1", "c1"))
            _wait_for(lambda: _queued(postgres_url) == 1, "the first append queued")
            second, got_second = _in_background(lambda: _append(patient, "b", 0, "e2", "c2"))
            _wait_for(lambda: _queued(postgres_url) == 2, "the second append queued")
            assert _lock_waiters(postgres_url) == 0  # neither waits for the lock itself
        first.join()
        second.join()
        results = [got_first[0], got_second[0]]
        assert all(isinstance(got, AppendResult) for got in results), results
        assert sorted(p for got in results for p in got.positions) == [1, 2]
        assert {eager.last_batch, patient.last_batch} == {2}  # one commit for both
        assert eager.verify().ok
    finally:
        eager.close()
        patient.close()


def test_a_session_lock_timeout_shorter_than_the_patience_still_bounds_the_wait(
    postgres_url: str,
) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    with PostgresEventStore(postgres_url) as store:
        _patient(store, _FOREVER)
        store._pg.execute("SET lock_timeout = '200ms'")
        with _lock_held(postgres_url):
            thread, got = _in_background(lambda: _append(store, "a", 0, "e1", "c1"))
            thread.join()
        assert "lock timeout" in str(got[0])
        assert store.head().position == 0 and _queued(postgres_url) == 0
        assert store.find_command("c1") is None


def test_the_default_patience_is_the_documented_one(postgres_url: str) -> None:
    with PostgresEventStore(postgres_url, create=True) as store:
        row = store._pg.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'eventscope_append_shared'"
        ).fetchone()
        assert row is not None and f"'{LOCK_PATIENCE_MS}')::double precision" in row[0]
        assert "eventscope.lock_patience" in row[0]


def test_a_database_of_schema_4_upgrades_to_lock_patience(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:4])
    with PostgresEventStore(postgres_url, create=True) as old:
        # Schema 4's procedure queued at once: the same with a patience of 0 and no setting.
        impatient = (
            schema.STEPS[3]
            .statements[-1]
            .replace("eventscope.lock_patience", "eventscope.schema_4")
            .replace(f"'{LOCK_PATIENCE_MS}')", "'0')")
        )
        old._pg.execute(impatient)
        assert _append(old, "a", 0, "e1", "c1").positions == (1,)
        got = _append_past_the_lock(postgres_url, old, 1, "e2", lambda: _queued(postgres_url) == 1)
        assert isinstance(got, AppendResult) and got.positions == (2,)
    monkeypatch.undo()
    with PostgresEventStore(postgres_url) as store:
        with psycopg.connect(postgres_url) as conn:
            assert schema.current_version(conn) == 5
        source = store._pg.execute(
            "SELECT prosrc FROM pg_proc WHERE proname = 'eventscope_append_shared'"
        ).fetchone()
        assert source is not None and "eventscope.lock_patience" in source[0]
        _patient(store, _FOREVER)
        got = _append_past_the_lock(
            postgres_url, store, 2, "e3", partial(_waiting_unqueued, postgres_url)
        )
        assert isinstance(got, AppendResult) and got.positions == (3,)
        assert store.verify().ok


@settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    rounds=st.lists(
        st.lists(st.sampled_from([None, "0", _FOREVER]), min_size=4, max_size=4),
        min_size=1,
        max_size=4,
    )
)
def test_patient_and_queued_writers_chain_and_grow_the_tree_as_one_by_one(
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    rounds: list[list[str | None]],
) -> None:
    """Four writers on their own streams; in each round those given a patience (None:
    not in this round) append while the lock is held: the first patient one waits for
    the lock, the others queue (patience 0, or a queue to join). The log must hash and
    grow its tree exactly as the same appends made one by one in the landed order."""
    url = postgres_server.database()
    PostgresEventStore(url, create=True).close()
    stores = [PostgresEventStore(url, clock=_clock()) for _ in range(4)]
    made = [0, 0, 0, 0]
    try:
        for patience in rounds:
            threads: list[tuple[threading.Thread, list[Any]]] = []
            with _lock_held(url):
                for w, ms in enumerate(patience):
                    if ms is None:
                        continue
                    _patient(stores[w], ms)
                    event_id = f"w{w}-{made[w]}"
                    stream, version = f"s{w}", made[w]
                    made[w] += 1
                    waiting = len(threads) + 1
                    threads.append(
                        _in_background(
                            partial(_append, stores[w], stream, version, event_id, f"c-{event_id}")
                        )
                    )
                    _wait_for(
                        partial(_waiting, url, waiting), "the writer queued or waiting for the lock"
                    )
            for thread, got in threads:
                thread.join()
                assert isinstance(got[0], AppendResult), got
        stored = list(stores[0].iter_chain_rows())
        assert [row[0] for row in stored] == list(range(1, sum(made) + 1))
        path: Path = tmp_path_factory.mktemp("one-by-one") / "store.db"
        with SqliteEventStore(path, create=True, clock=_clock()) as lite:
            versions: dict[str, int] = {}
            for row in stored:
                stream, event_id = row[2], row[1]
                _append(lite, stream, versions.get(stream, 0), event_id, f"c-{event_id}")
                versions[stream] = versions.get(stream, 0) + 1
            assert list(lite.iter_chain_rows()) == stored
        leaves = [leaf_hash(row[11]) for row in stored]
        assert stores[0].proofs.root(len(leaves)) == root_from_leaves(leaves)
        assert stores[0].verify().ok and _queued(url) == 0
    finally:
        for store in stores:
            store.close()
