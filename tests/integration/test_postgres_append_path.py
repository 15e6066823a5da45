"""The PostgreSQL append path: an unkeyed append is one round trip (one call of the
server-side `eventscope_append`, store/postgres/append_function.py), a keyed one two
inside its transaction (BEGIN, the lock and its one read; then the writes and COMMIT,
pipelined: the key stays on the client), and nothing either skips changes
what is stored: the same chain as the SQLite store, the Merkle tree of its definition,
commands rows whose HMAC verifies, and a clean connection after a refused append. The
tree is checked against the RFC 9162 definition (`root_from_leaves`, the verifier's)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer
from round_trips import RoundTripRelay

from domain.clock import StepClock
from domain.envelope import Metadata, NewEvent, StreamAppend
from domain.errors import ConcurrencyConflict, InvalidInput, StoreError
from store import SqliteEventStore
from store.postgres.append_sql import APPEND_LOCK
from store.postgres.store import PostgresEventStore
from store.proofs.verifier import leaf_hash, root_from_leaves

STREAMS = ("account-a", "account-b", "account-c")


def _deposit(store: PostgresEventStore | SqliteEventStore, n: int, sizes: tuple[int, ...]) -> None:
    """Append command `n`: `sizes[i]` events to STREAMS[i], at the current versions."""
    appends = [
        StreamAppend(
            stream,
            "account",
            store.stream_version(stream),
            tuple(
                NewEvent("Deposited", {"amount": k, "n": n}, event_id=f"e{n}-{stream}-{k}")
                for k in range(size)
            ),
        )
        for stream, size in zip(STREAMS, sizes, strict=False)
        if size
    ]
    store.append(appends, Metadata(actor="alice", command_id=f"c{n}", command_type="deposit"))


@pytest.fixture
def relay(postgres_server: PostgresServer) -> Iterator[RoundTripRelay]:
    relay = RoundTripRelay("127.0.0.1", postgres_server.port)
    yield relay
    relay.close()


@pytest.mark.parametrize("key", [None, b"k" * 32], ids=["plain", "keyed"])
@pytest.mark.parametrize("sizes", [(1,), (2, 1), (3, 2, 1)], ids=["1 event", "2 streams", "6"])
def test_an_append_takes_one_round_trip_unkeyed_and_two_keyed(
    postgres_url: str, relay: RoundTripRelay, key: bytes | None, sizes: tuple[int, ...]
) -> None:
    with PostgresEventStore(relay.url(postgres_url), create=True, key=key) as store:
        for n in range(9):  # past psycopg's prepare threshold, across tree levels
            _deposit(store, n, (1,))
        versions = [store.stream_version(s) for s in STREAMS]
        relay.reset()
        appends = [
            StreamAppend(
                stream,
                "account",
                version,
                tuple(
                    NewEvent("Deposited", {"k": k}, event_id=f"x-{stream}-{k}") for k in range(s)
                ),
            )
            for stream, version, s in zip(STREAMS, versions, sizes, strict=False)
        ]
        store.append(appends, Metadata(actor="alice", command_id="x", command_type="deposit"))
        assert relay.count == (1 if key is None else 2)
        assert store.head().position == 9 + sum(sizes)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    commands=st.lists(
        st.tuples(*[st.integers(0, 3)] * len(STREAMS)).filter(any), min_size=1, max_size=14
    ),
    keyed=st.booleans(),
)
def test_pipelined_appends_store_the_chain_and_tree_the_sqlite_store_does(
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    commands: list[tuple[int, ...]],
    keyed: bool,
) -> None:
    key = b"k" * 32 if keyed else None
    path: Path = tmp_path_factory.mktemp("chain") / "store.db"
    with (
        PostgresEventStore(
            postgres_server.database(), create=True, key=key, clock=StepClock()
        ) as pg,
        SqliteEventStore(path, create=True, key=key, clock=StepClock()) as lite,
    ):
        for n, sizes in enumerate(commands):
            _deposit(pg, n, sizes)
            _deposit(lite, n, sizes)
        assert pg.head() == lite.head()
        assert [e.hash for e in pg.read_all()] == [e.hash for e in lite.read_all()]
        leaves = [leaf_hash(e.hash) for e in pg.read_all()]
        for size in range(1, len(leaves) + 1):
            assert pg.proofs.root(size) == root_from_leaves(leaves[:size])
        # Every commands row checks out (with a key: its HMAC, made from the hashes in
        # memory, matches the stored events).
        for n in range(len(commands)):
            earlier = pg.find_command(f"c{n}")
            assert earlier is not None and earlier.duplicate
        assert pg.verify().ok


def test_a_refused_append_leaves_the_connection_ready_and_nothing_written(
    postgres_url: str,
) -> None:
    with PostgresEventStore(postgres_url, create=True) as store:
        _deposit(store, 0, (1,))
        head = store.head()
        stale = [StreamAppend("account-a", "account", 0, (NewEvent("D", {}, event_id="s"),))]
        with pytest.raises(ConcurrencyConflict):
            store.append(stale, Metadata(actor="alice", command_id="c1", command_type="d"))
        reused = [
            StreamAppend("account-b", "account", 0, (NewEvent("D", {}, event_id="e0-account-a-0"),))
        ]
        with pytest.raises(InvalidInput, match="event id"):
            store.append(reused, Metadata(actor="alice", command_id="c2", command_type="d"))
        assert store.head() == head
        assert store.find_command("c1") is None and store.find_command("c2") is None
        assert store._pg.info.transaction_status.name == "IDLE"
        _deposit(store, 3, (1, 1))
        assert [e.position for e in store.read_all()] == [1, 2, 3]
        assert store.verify().ok


def test_a_stale_append_conflicts_without_queueing_for_the_lock(postgres_url: str) -> None:
    with PostgresEventStore(postgres_url, create=True) as store:
        _deposit(store, 0, (1, 1))
        head = store.head()
        store._pg.execute("SET lock_timeout = '2s'")  # a wait for the lock fails, not hangs
        with psycopg.connect(postgres_url, autocommit=True) as holder:
            holder.execute("BEGIN")
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            stale = [StreamAppend("account-a", "account", 0, (NewEvent("D", {}, event_id="s"),))]
            with pytest.raises(ConcurrencyConflict) as conflict:
                store.append(stale, Metadata(actor="al", command_id="s", command_type="d"))
            assert (conflict.value.expected, conflict.value.actual) == (0, 1)
            # An append that is up to date, and a command id seen before, do wait for it.
            fresh = [StreamAppend("account-a", "account", 1, (NewEvent("D", {}, event_id="f"),))]
            with pytest.raises(StoreError, match="lock timeout"):
                store.append(fresh, Metadata(actor="al", command_id="f", command_type="d"))
            with pytest.raises(StoreError, match="lock timeout"):
                store.append(stale, Metadata(actor="al", command_id="c0", command_type="d"))
            holder.execute("ROLLBACK")
        assert store.head() == head
        assert store.find_command("c0") is not None
        assert store.append(
            stale, Metadata(actor="al", command_id="c0", command_type="d")
        ).duplicate
        # A writer whose wait timed out withdrew its queued entry: no later commit (the
        # one just made could have combined it) appends what its writer was told failed.
        assert store.head() == head and store.find_command("f") is None
        assert store._pg.execute("SELECT count(*) FROM eventscope_append_queue").fetchone() == (0,)
