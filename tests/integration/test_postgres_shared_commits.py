"""Writers on PostgreSQL sharing one commit (store/postgres/group_commit.py, migration 4).

A test holds the append lock from its own connection, so the writers that come meanwhile
queue their appends; when it lets go, one of them combines the whole queue into one
commit. Each entry is appended as `eventscope_append` would alone, in its own
subtransaction: a conflict or a duplicate fails or answers that entry only; an entry
whose session is gone is dropped; the chain and the tree are those of the same appends
made one by one.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer

from domain.clock import StepClock
from domain.envelope import AppendResult, Metadata, NewEvent, StreamAppend
from domain.errors import ConcurrencyConflict, StoreError
from store import SqliteEventStore
from store.postgres import schema
from store.postgres.append_sql import APPEND_LOCK
from store.postgres.store import PostgresEventStore
from store.proofs.verifier import leaf_hash, root_from_leaves

pytestmark = pytest.mark.usefixtures("shared_commit_path")

_FIXED = "2026-03-01T12:00:00Z"


def _clock() -> StepClock:
    """Every append at the same moment: the chain depends on content and order only."""
    return StepClock(_FIXED, timedelta(0))


def _append(store: PostgresEventStore | SqliteEventStore, stream: str, expected: int,
            event_id: str, command_id: str) -> AppendResult:  # fmt: skip
    event = NewEvent("Noted", {"id": event_id, "text": "ü 𝄞"}, event_id=event_id)
    return store.append(
        [StreamAppend(stream, "note", expected, (event,))],
        Metadata(actor="ann", command_id=command_id, command_type="note", command={"n": 1}),
    )


def _queued(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM eventscope_append_queue").fetchone()
        return int(row[0]) if row else 0


def _wait_for(check: Callable[[], bool], what: str) -> None:
    """Wait until `check()` holds (a bound on a wait, not a timing assertion)."""
    deadline = time.monotonic() + 60
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for {what}")
        time.sleep(0.02)


@contextlib.contextmanager
def _lock_held(url: str) -> Iterator[psycopg.Connection]:
    """The append lock held by a connection of the test's own until the block ends."""
    with psycopg.connect(url, autocommit=True) as holder:
        holder.execute("BEGIN")
        holder.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
        try:
            yield holder
        finally:
            holder.execute("ROLLBACK")


def _in_one_batch(url: str, calls: list[Callable[[], AppendResult]]) -> list[Any]:
    """Run `calls` in threads while the lock is held, so all of them queue; then let go.
    Returns each call's result or the exception it raised."""
    outcomes: list[Any] = [None] * len(calls)

    def run(k: int) -> None:
        try:
            outcomes[k] = calls[k]()
        except Exception as exc:  # kept for the test to look at
            outcomes[k] = exc

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    with _lock_held(url):
        for thread in threads:
            thread.start()
        _wait_for(lambda: _queued(url) == len(calls), f"{len(calls)} queued appends")
    for thread in threads:
        thread.join()
    return outcomes


def test_one_writer_alone_commits_its_append_by_itself(postgres_url: str) -> None:
    with PostgresEventStore(postgres_url, create=True) as store:
        result = _append(store, "a", 0, "e1", "c1")
        assert result.positions == (1,) and store.last_batch == 1
        assert store.verify().ok and _queued(postgres_url) == 0


def test_a_batch_where_one_entry_conflicts_lands_the_others(postgres_url: str) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    stores = [PostgresEventStore(postgres_url) for _ in range(5)]
    try:
        # Writers 0 and 1 both expect "shared" at version 0: whichever queued second
        # conflicts; the other three have streams of their own.
        streams = ["shared", "shared", "own-2", "own-3", "own-4"]
        calls: list[Callable[[], AppendResult]] = [
            (lambda k=k: _append(stores[k], streams[k], 0, f"e{k}", f"c{k}")) for k in range(5)
        ]
        outcomes = _in_one_batch(postgres_url, calls)
        conflicts = [k for k, got in enumerate(outcomes) if isinstance(got, ConcurrencyConflict)]
        assert len(conflicts) == 1 and conflicts[0] in (0, 1)
        landed = [got for got in outcomes if isinstance(got, AppendResult)]
        assert len(landed) == 4
        assert sorted(p for got in landed for p in got.positions) == [1, 2, 3, 4]
        assert {stores[k].last_batch for k in range(5) if k not in conflicts} == {5}
        check = stores[0]
        assert check.head().position == 4 and check.verify().ok
        assert check.proofs.tree_size() == 4
        assert check.find_command(f"c{conflicts[0]}") is None
        assert _queued(postgres_url) == 0
    finally:
        for store in stores:
            store.close()


def test_a_command_id_twice_in_one_batch_lands_once(postgres_url: str) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    stores = [PostgresEventStore(postgres_url) for _ in range(3)]
    try:
        calls: list[Callable[[], AppendResult]] = [
            lambda: _append(stores[0], "a", 0, "first", "same"),
            lambda: _append(stores[1], "b", 0, "second", "same"),
            lambda: _append(stores[2], "c", 0, "other", "other"),
        ]
        outcomes = _in_one_batch(postgres_url, calls)
        same = [got for got in outcomes[:2] if isinstance(got, AppendResult)]
        assert len(same) == 2, outcomes  # both answered: one landed, one is its duplicate
        assert sorted(got.duplicate for got in same) == [False, True]
        assert same[0].positions == same[1].positions
        assert isinstance(outcomes[2], AppendResult)
        assert stores[0].head().position == 2 and stores[0].verify().ok
    finally:
        for store in stores:
            store.close()


def test_an_entry_whose_writer_died_before_the_combiner_took_it_is_dropped(
    postgres_url: str,
) -> None:
    PostgresEventStore(postgres_url, create=True).close()
    doomed = PostgresEventStore(postgres_url)
    survivor = PostgresEventStore(postgres_url)
    got: list[Any] = []
    try:
        pid = doomed._pg.info.backend_pid
        with _lock_held(postgres_url) as holder:
            thread = threading.Thread(
                target=lambda: got.append(_catch(lambda: _append(doomed, "a", 0, "lost", "c1")))
            )
            thread.start()
            _wait_for(lambda: _queued(postgres_url) == 1, "the doomed append queued")
            holder.execute("SELECT pg_terminate_backend(%s)", (pid,))
            thread.join()
        assert isinstance(got[0], StoreError)  # its writer learns the connection was lost
        assert _queued(postgres_url) == 1  # still queued: nobody has combined since
        result = _append(survivor, "b", 0, "kept", "c2")
        assert result.positions == (1,) and survivor.last_batch == 1  # dropped, not counted
        assert _queued(postgres_url) == 0
        assert survivor.find_command("c1") is None
        # The writer retries with the same command id: it lands, once.
        retried = _append(doomed, "a", 0, "lost", "c1")
        assert retried.positions == (2,) and not retried.duplicate
        assert _append(doomed, "a", 0, "lost", "c1").duplicate
        assert survivor.head().position == 2 and survivor.verify().ok
    finally:
        doomed.close()
        survivor.close()


def _catch(call: Callable[[], AppendResult]) -> Any:
    try:
        return call()
    except Exception as exc:  # kept for the test to look at
        return exc


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batches=st.lists(st.lists(st.booleans(), min_size=4, max_size=4), min_size=1, max_size=5))
def test_appends_in_random_batches_chain_and_grow_the_tree_as_one_by_one(
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    batches: list[list[bool]],
) -> None:
    """Four writers, each on its own stream; in each round the writers marked True
    append at once while the lock is held (one batch). The log, whatever order the
    batches landed in, must hash and grow its tree exactly as the same appends made
    one by one in that order into a SQLite store, and grow the same Merkle tree."""
    url = postgres_server.database()
    PostgresEventStore(url, create=True).close()
    stores = [PostgresEventStore(url, clock=_clock()) for _ in range(4)]
    made = [0, 0, 0, 0]
    try:
        for round_, members in enumerate(batches):
            writers = [w for w in range(4) if members[w]]
            calls: list[Callable[[], AppendResult]] = []
            for w in writers:
                event_id = f"w{w}-{made[w]}"
                calls.append(
                    lambda w=w, v=made[w], e=event_id: _append(stores[w], f"s{w}", v, e, f"c-{e}")
                )
                made[w] += 1
            if len(calls) == 1:
                calls[0]()  # alone: it takes the lock itself
            elif calls:
                outcomes = _in_one_batch(url, calls)
                assert all(isinstance(got, AppendResult) for got in outcomes), (round_, outcomes)
        stored = list(stores[0].iter_chain_rows())
        path: Path = tmp_path_factory.mktemp("one-by-one") / "store.db"
        with SqliteEventStore(path, create=True, clock=_clock()) as lite:
            versions: dict[str, int] = {}
            for row in stored:  # the landed order, one append at a time
                stream, event_id = row[2], row[1]
                _append(lite, stream, versions.get(stream, 0), event_id, f"c-{event_id}")
                versions[stream] = versions.get(stream, 0) + 1
            assert list(lite.iter_chain_rows()) == stored
        leaves = [leaf_hash(row[11]) for row in stored]  # RFC 9162, as SQLite's tree
        for size in range(1, len(leaves) + 1):
            assert stores[0].proofs.root(size) == root_from_leaves(leaves[:size])
        assert stores[0].verify().ok
    finally:
        for store in stores:
            store.close()


def test_a_database_of_schema_3_upgrades_to_shared_commits(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(schema, "STEPS", schema.STEPS[:3])
    with PostgresEventStore(postgres_url, create=True) as old:
        old.shared_commits = False  # what an eventscope of schema 3 did
        _append(old, "a", 0, "e1", "c1")  # schema 3: eventscope_append, one commit each
    monkeypatch.undo()
    with PostgresEventStore(postgres_url) as store:
        with psycopg.connect(postgres_url) as conn:
            assert schema.current_version(conn) == schema.latest_version()
        assert _append(store, "a", 1, "e2", "c2").positions == (2,)
        assert store.last_batch == 1 and store.verify().ok
