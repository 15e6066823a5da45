"""The ProofStore contract: the Merkle tree kept by every store (in memory, SQLite).

The tree grows inside appends, bulk loads and imports; whatever path wrote the
events, roots and proofs equal RFC 9162 over the events' chain hashes. Schema step
10 builds the same tree for a database written before it.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer

from domain.clock import StepClock
from domain.envelope import Metadata, NewEvent, PendingEvent, StreamAppend
from domain.errors import InvalidInput
from domain.ports import KeptCheckpoint, ProofStore
from store import InMemoryEventStore, SqliteEventStore, export_events
from store import import_events as import_jsonl
from store.postgres.store import PostgresEventStore
from store.proofs import sqlite_log
from store.proofs.anchor import check_anchor_fast, expected_tops, tree_tie_problem
from store.proofs.sqlite_log import SqliteProofStore
from store.proofs.verifier import (
    Checkpoint,
    leaf_hash,
    root_from_leaves,
    verify_consistency,
    verify_inclusion,
)

AnyStore = InMemoryEventStore | SqliteEventStore | PostgresEventStore
TEN_EXAMPLES = settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
SERVERS: list[PostgresServer] = []
"""The throwaway PostgreSQL server, once the `kind` fixture asked for it."""


class Opened:
    """A store and its ProofStore role."""

    def __init__(self, kind: str, folder: Path, name: str = "a") -> None:
        self.kind = kind
        self.store: AnyStore
        self.proofs: ProofStore
        if kind == "memory":
            memory = InMemoryEventStore(clock=StepClock())
            self.store, self.proofs = memory, memory.proofs
        elif kind == "postgres":
            on_server = PostgresEventStore(SERVERS[0].database(), create=True, clock=StepClock())
            self.store, self.proofs = on_server, on_server.proofs
        else:
            path = folder / f"{name}.db"
            self.store = SqliteEventStore(path, create=True, clock=StepClock())
            self.sqlite_proofs = SqliteProofStore(path)
            self.proofs = self.sqlite_proofs

    def close(self) -> None:
        if self.kind == "sqlite":
            self.sqlite_proofs.close()
        self.store.close()


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def kind(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not SERVERS:  # skips without PostgreSQL
        SERVERS.append(request.getfixturevalue("postgres_server"))
    return str(request.param)


@pytest.fixture
def opened(kind: str, tmp_path: Path) -> Iterator[Opened]:
    made = Opened(kind, tmp_path)
    yield made
    made.close()


def append(store: AnyStore, count: int, tag: str) -> None:
    """One append of `count` events across two streams."""
    first = tuple(
        NewEvent("Happened", {"n": i}, event_id=f"{tag}-a{i}") for i in range((count + 1) // 2)
    )
    second = tuple(
        NewEvent("Happened", {"n": i}, event_id=f"{tag}-b{i}") for i in range(count // 2)
    )
    streams = [StreamAppend(f"a-{tag}", "s", 0, first)]
    if second:
        streams.append(StreamAppend(f"b-{tag}", "s", 0, second))
    store.append(streams, Metadata("ann", f"cmd-{tag}", "do"))


def pending(count: int, start: int = 0) -> list[PendingEvent]:
    return [
        PendingEvent(
            event_id=f"bulk-{start + n}",
            stream_id=f"bulk-{start + n}",
            stream_type="s",
            version=1,
            type="Happened",
            data={"n": n},
            metadata={"actor": "demo", "command_id": f"bulk-cmd-{start + n}"},
            recorded_at="2026-02-01T00:00:00.000000Z",
        )
        for n in range(count)
    ]


def check_tree(store: AnyStore, proofs: ProofStore) -> None:
    leaves = [leaf_hash(event.hash) for event in store.iter_all()]
    n = len(leaves)
    assert proofs.tree_size() == n
    # The stored tree's shape is that of n leaves, and its nodes are the subtrees' roots.
    assert proofs.top_indexes() == expected_tops(n)
    edge = [(level, index) for level, index in expected_tops(n).items()]
    found = proofs.nodes([*edge, (0, n - 1), (1, n + 7)] if n else edge)
    assert (1, n + 7) not in found
    for level, index in edge:
        assert found[(level, index)] == root_from_leaves(
            leaves[index << level : (index + 1) << level]
        )
    if n:
        assert found[(0, n - 1)] == leaves[-1]
    assert tree_tie_problem(proofs, store, store.head()) == ""
    for size in sorted({0, 1, n // 3, n // 2, n - 1, n} - {-1}):
        root = proofs.root(size)
        assert root == root_from_leaves(leaves[:size])
        for index in sorted({0, size // 2, size - 1} - {-1}):
            if index < size:
                path = proofs.inclusion_path(index, size)
                verify_inclusion(leaves[index], index, size, path, root)
        for old in sorted({0, 1, size // 2, size}):
            if old <= size:
                path = proofs.consistency_path(old, size)
                verify_consistency(old, size, proofs.root(old), root, path)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(batches=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=12))
def test_appends_of_any_size_keep_the_tree(kind: str, tmp_path: Path, batches: list[int]) -> None:
    folder = tmp_path / f"t{abs(hash(tuple(batches)))}"
    folder.mkdir()
    opened = Opened(kind, folder)
    try:
        for i, count in enumerate(batches):
            append(opened.store, count, f"t{i}")
        check_tree(opened.store, opened.proofs)
    finally:
        opened.close()


def test_bulk_loads_and_imports_keep_the_tree(opened: Opened, tmp_path: Path) -> None:
    opened.store.append_bulk(pending(37))
    append(opened.store, 3, "after-bulk")
    opened.store.append_bulk(pending(20, start=100))
    check_tree(opened.store, opened.proofs)
    out = io.BytesIO()
    export_events(opened.store.iter_all(), out)
    copy = Opened(opened.kind, tmp_path, "copy")
    try:
        import_jsonl(copy.store, io.BytesIO(out.getvalue()))
        check_tree(copy.store, copy.proofs)
        assert copy.proofs.root(60) == opened.proofs.root(60)
    finally:
        copy.close()


@TEN_EXAMPLES
@given(
    loads=st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=3),
    batch=st.integers(min_value=1, max_value=7),
)
def test_bulk_loads_in_batches_of_any_size_keep_the_tree(
    kind: str, tmp_path: Path, loads: list[int], batch: int
) -> None:
    """A load grows the tree batch after batch from the right edge it keeps
    (`sqlite_log.TreeGrowth`): into an empty store (PostgreSQL streams it), after
    appends, and after another load."""
    folder = tmp_path / f"b{abs(hash((tuple(loads), batch)))}"
    folder.mkdir()
    opened = Opened(kind, folder)
    try:
        for i, count in enumerate(loads):
            opened.store.append_bulk(pending(count, start=100 * i), batch=batch)
            check_tree(opened.store, opened.proofs)
            append(opened.store, i + 1, f"between-{i}")
        check_tree(opened.store, opened.proofs)
    finally:
        opened.close()


@pytest.mark.parametrize("stored", [11, 13, 37])
def test_a_load_in_batches_reads_each_stored_node_once(tmp_path: Path, stored: int) -> None:
    """The right edge a load's earlier batches made is kept: the batches together read
    the stored nodes one extension by all the rows reads (each once, about one a level,
    where each batch read the edge again), and write the same nodes."""
    store = SqliteEventStore(tmp_path / "a.db", create=True, clock=StepClock())
    store.append_bulk(pending(stored + 9))
    store.close()
    conn = sqlite3.connect(tmp_path / "a.db", isolation_level=None)
    try:
        # Rows as a load gives them: position first, prev_hash at [10], the hash last.
        rows = [
            (position, *([None] * 9), prev, hash_)
            for position, prev, hash_ in conn.execute(
                "SELECT position, prev_hash, hash FROM events ORDER BY position"
            )
        ][stored:]
        reads: list[str] = []
        conn.set_trace_callback(lambda sql: reads.append(sql) if "SELECT" in sql else None)

        def grow(batches: list[list[Any]]) -> tuple[list[str], list[tuple[Any, ...]]]:
            reads.clear()
            written: list[tuple[Any, ...]] = []

            class Recording:  # reads go to the file; the nodes are kept, not written
                def execute(self, sql: str, params: Any = ()) -> Any:
                    if sql.startswith("INSERT"):
                        written.append(tuple(params))
                        return None
                    return conn.execute(sql, params)

                def executemany(self, sql: str, many: Any) -> None:
                    written.extend(tuple(p) for p in many)

            growth = sqlite_log.TreeGrowth()
            for batch in batches:
                growth.extend(cast(Any, Recording()), batch)
            return list(reads), written

        once = grow([rows])
        batched = grow([rows[i : i + 2] for i in range(0, len(rows), 2)])
        assert once[0] and batched == once
        assert len(grow([[row] for row in rows])[0]) == len(once[0])
    finally:
        conn.close()


def test_a_refused_append_leaves_the_tree_unchanged(opened: Opened) -> None:
    append(opened.store, 5, "one")
    before = opened.proofs.root(5)
    with pytest.raises(InvalidInput):
        opened.store.append_bulk([*pending(3), *pending(1)])  # a repeated event id
    assert opened.proofs.tree_size() == 5
    assert opened.proofs.root(5) == before
    append(opened.store, 2, "two")
    check_tree(opened.store, opened.proofs)


def test_sizes_past_the_head_are_refused(opened: Opened) -> None:
    append(opened.store, 4, "x")
    with pytest.raises(InvalidInput, match="beyond the head"):
        opened.proofs.root(5)
    with pytest.raises(InvalidInput, match="beyond the head"):
        opened.proofs.inclusion_path(0, 5)
    with pytest.raises(InvalidInput):
        opened.proofs.inclusion_path(4, 4)
    with pytest.raises(InvalidInput):
        opened.proofs.consistency_path(4, 3)


def test_issued_checkpoints_are_kept_oldest_first(opened: Opened) -> None:
    append(opened.store, 3, "x")
    first = KeptCheckpoint(1, opened.proofs.root(1), "log\n1\n...\n", "2026-01-01T00:00:00Z")
    second = KeptCheckpoint(3, opened.proofs.root(3), "log\n3\n...\n", "2026-01-02T00:00:00Z")
    opened.proofs.keep_checkpoint(first)
    opened.proofs.keep_checkpoint(second)
    assert opened.proofs.checkpoints() == [first, second]
    assert opened.proofs.checkpoints(last=1) == [second]
    assert opened.proofs.checkpoints(last=5) == [first, second]


def test_the_tree_tables_are_append_only(tmp_path: Path) -> None:
    opened = Opened("sqlite", tmp_path)
    try:
        append(opened.store, 4, "x")
        path = tmp_path / "a.db"
        with sqlite3.connect(path) as conn:
            for sql in ("UPDATE merkle_nodes SET hash = x'00'", "DELETE FROM merkle_nodes"):
                with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                    conn.execute(sql)
    finally:
        opened.close()


def test_schema_step_10_builds_the_tree_appends_would_have_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sqlite_log, "_PROGRESS_FROM", 10)  # show the bar for a small store
    opened = Opened("sqlite", tmp_path)
    opened.store.append_bulk(pending(45))
    for i in range(7):
        append(opened.store, i % 3 + 1, f"m{i}")
    path = tmp_path / "a.db"
    with sqlite3.connect(path) as conn:
        expected = conn.execute(
            "SELECT level, idx, hash FROM merkle_nodes ORDER BY 1, 2"
        ).fetchall()
    opened.close()
    # Make the file as a version-9 eventscope left it: no tree tables, schema 9.
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("DROP TABLE merkle_nodes")
        conn.execute("DROP TABLE checkpoints")
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = '0010_merkle_tree'")
        conn.execute("PRAGMA user_version = 9")
    reopened = SqliteEventStore(path, clock=StepClock())
    try:
        assert reopened.schema_version() == 10
        assert "building the Merkle tree" in capsys.readouterr().err
        with sqlite3.connect(path) as conn:
            rebuilt = conn.execute(
                "SELECT level, idx, hash FROM merkle_nodes ORDER BY 1, 2"
            ).fetchall()
        assert rebuilt == expected
        append(reopened, 2, "after")
        proofs = SqliteProofStore(path)
        try:
            check_tree(reopened, proofs)
        finally:
            proofs.close()
    finally:
        reopened.close()


@TEN_EXAMPLES
@given(
    batches=st.lists(st.integers(min_value=1, max_value=9), min_size=1, max_size=10),
    share=st.floats(min_value=0, max_value=1),
)
def test_the_fast_anchor_check_accepts_every_earlier_tree(
    kind: str, tmp_path: Path, batches: list[int], share: float
) -> None:
    """`verify --anchor`'s O(log n) check passes for a checkpoint of any size m <= n, and
    fails for one whose root is not the store's tree at m."""
    folder = tmp_path / f"f{abs(hash((tuple(batches), share)))}"
    folder.mkdir()
    opened = Opened(kind, folder)
    try:
        for i, count in enumerate(batches):
            append(opened.store, count, f"t{i}")
        n = opened.store.head().position
        m = round(share * n)
        kept = Checkpoint("test/log", m, opened.proofs.root(m))
        report = check_anchor_fast(opened.proofs, opened.store, kept, None)
        assert report.ok, report.problem
        wrong = Checkpoint("test/log", m, bytes(32) if m else leaf_hash("ab" * 32))
        failed = check_anchor_fast(opened.proofs, opened.store, wrong, None)
        assert not failed.ok and "rewritten" in failed.problem
    finally:
        opened.close()
