"""Seeks with the cyclic collector paused, as the composition root sets them up
(`store.collector.collector_paused`), through caches that keep decoded chunks: the
collector is on again after every seek, what the caches keep is out of its way, and
every state equals a plain replay (aux lists come back as lists a fold may change).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import nullcontext

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ledger import CATALOG
from domain.ledger.demo import generate_demo
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.snapshots import ChunkCache, InMemorySnapshots
from domain.timeline import Timeline
from domain.timeline.replay import pause_collector_with
from store.chunk_cache import NearCursorChunks
from store.collector import collector_paused
from store.snapshot_format import ZLIB
from store.snapshots import SqliteSnapshotStore
from store.sqlite import SqliteEventStore

CADENCE = 128
EVENTS = 3_000


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Timeline]:
    path = tmp_path_factory.mktemp("collector") / "seeks.db"
    store = SqliteEventStore.init(path, synchronous="OFF")
    store.append_bulk(generate_demo(EVENTS, 5))
    snapshots = SqliteSnapshotStore(path)
    # chunk_rows=8 splits the demo's aux maps into chunks that caches keep.
    built = Timeline(
        store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=CADENCE, chunk_rows=8, codec=ZLIB
    )
    built.build_snapshots()
    pause_collector_with(collector_paused)
    try:
        yield built
    finally:
        pause_collector_with(nullcontext)
        snapshots.close()
        store.close()


def _replayed(timeline: Timeline, position: int) -> dict[str, object]:
    plain = Timeline(
        timeline.store, LEDGER_PROJECTIONS, CATALOG, InMemorySnapshots(), save_snapshots=False
    )
    return {n: (s.rows, s.aux) for n, s in plain.state_at(position).items()}


@settings(max_examples=25, deadline=None)
@given(positions=st.lists(st.integers(0, EVENTS), min_size=2, max_size=6))
def test_seeks_leave_the_collector_on_and_equal_a_replay(
    ledger: Timeline, positions: list[int]
) -> None:
    assert gc.isenabled()
    for cache in (NearCursorChunks(), ChunkCache(100_000, grow=True)):
        timeline = Timeline(
            ledger.store, LEDGER_PROJECTIONS, CATALOG, ledger.snapshots, cadence=CADENCE,
            chunk_rows=8, codec=ZLIB, chunk_cache=cache,
        )  # fmt: skip
        for position in positions * 2:  # the second time through the cache
            state = {n: (s.rows, s.aux) for n, s in timeline.state_at(position).items()}
            assert gc.isenabled()
            assert state == _replayed(ledger, position)


def test_what_a_cache_keeps_of_the_accounts_map_is_left_out_of_collections(
    ledger: Timeline,
) -> None:
    cache = ChunkCache(100_000, grow=True)
    timeline = Timeline(
        ledger.store, LEDGER_PROJECTIONS, CATALOG, ledger.snapshots, cadence=CADENCE,
        chunk_rows=8, codec=ZLIB, chunk_cache=cache,
    )  # fmt: skip
    for _ in range(2):  # a chunk is kept on its second sighting
        timeline.state_at(EVENTS)
    gc.collect()
    kept = [c for c in cache._chunks.values() if any(type(v) in (list, tuple) for v in c.values())]
    assert kept, "the accounts map ([currency, status] per account) was not cached"
    assert not any(gc.is_tracked(v) for c in kept for v in c.values())
