"""Decoded snapshot chunks near the cursor (`store.chunk_cache.NearCursorChunks`).

A restore near the last one parses only the chunks that changed, the same restore
again parses none, the states stay independent and equal to a replay, and the cache
never holds more than its bound.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.ledger import CATALOG
from domain.ledger.demo import generate_demo
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.projection import StateMap
from domain.snapshots import ChunkCache, InMemorySnapshots
from domain.timeline import Timeline
from store.chunk_cache import NearCursorChunks
from store.snapshot_format import ZLIB
from store.snapshots import SqliteSnapshotStore
from store.sqlite import SqliteEventStore

CADENCE = 128


class CountingSnapshots(SqliteSnapshotStore):
    """Snapshots that count the chunks read from the file."""

    fetched = 0

    def chunks(self, key: str, digests: Sequence[str]) -> dict[str, bytes]:
        self.fetched += len(digests)
        return super().chunks(key, digests)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[tuple[SqliteEventStore, CountingSnapshots]]:
    path = tmp_path / "near.db"
    store = SqliteEventStore.init(path, synchronous="OFF")
    store.append_bulk(generate_demo(4_000, 11))
    snapshots = CountingSnapshots(path)
    try:
        yield store, snapshots
    finally:
        snapshots.close()
        store.close()


def timeline(
    store: SqliteEventStore, snapshots: CountingSnapshots, cache: NearCursorChunks | None
) -> Timeline:
    return Timeline(
        store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=CADENCE, chunk_rows=8,
        codec=ZLIB, chunk_cache=cache,
    )  # fmt: skip


def replayed(store: SqliteEventStore, position: int) -> StateMap:
    plain = Timeline(store, LEDGER_PROJECTIONS, CATALOG, InMemorySnapshots(), save_snapshots=False)
    return plain.state_at(position)


def rows(states: Mapping[str, object]) -> dict[str, object]:
    return {name: state.rows for name, state in states.items()}  # type: ignore[attr-defined]


def test_seeks_near_the_cursor_parse_only_changed_chunks(
    ledger: tuple[SqliteEventStore, CountingSnapshots],
) -> None:
    store, snapshots = ledger
    timeline(store, snapshots, None).build_snapshots()
    near = timeline(store, snapshots, NearCursorChunks())
    shared = timeline(store, snapshots, None)
    spot = 2_000 + CADENCE // 2
    fetched: dict[str, list[int]] = {"near": [], "shared": []}
    for name, each in (("near", near), ("shared", shared)):
        for position in (spot, spot, spot + CADENCE):
            before = snapshots.fetched
            states = each.state_at(position)
            fetched[name].append(snapshots.fetched - before)
            assert rows(states) == rows(replayed(store, position))
    first, again, beside = fetched["near"]
    assert first > 0 and first == fetched["shared"][0]
    assert again == 0  # the default cache parses a snapshot's own chunks a second time
    assert fetched["shared"][1] == first
    assert 0 < beside < first  # only the chunks the next snapshot changed


def test_states_from_kept_chunks_are_independent(
    ledger: tuple[SqliteEventStore, CountingSnapshots],
) -> None:
    store, snapshots = ledger
    near = timeline(store, snapshots, NearCursorChunks())
    near.build_snapshots()
    position = 3 * CADENCE + 5
    states = near.state_at(position)
    for state in states.values():
        for row in state.rows.values():
            row.clear()
        state.rows["forged"] = {"x": 1}
    assert rows(near.state_at(position)) == rows(replayed(store, position))


def test_a_state_larger_than_the_cache_is_still_right(
    ledger: tuple[SqliteEventStore, CountingSnapshots],
) -> None:
    store, snapshots = ledger
    small = timeline(store, snapshots, NearCursorChunks(max_entries=40))
    small.build_snapshots()
    for position in (3_900, 3_900, 1_000, 3_800):
        assert rows(small.state_at(position)) == rows(replayed(store, position))


@settings(max_examples=60, deadline=None)
@given(
    limit=st.integers(min_value=1, max_value=40),
    restores=st.lists(
        st.lists(st.integers(0, 30), min_size=1, max_size=12), min_size=1, max_size=12
    ),
)
def test_the_cache_stays_within_its_bound(limit: int, restores: list[list[int]]) -> None:
    """Restores of random chunks (chunk d has 1 + d % 12 entries): never more than
    `limit` entries kept, a kept chunk is given back whole, and no offer evicts a
    chunk of its own restore."""
    cache = NearCursorChunks(max_entries=limit)
    for restore in restores:
        digests = {f"d{d}": 1 + d % 12 for d in restore}
        have = {d: cache.get(d) for d in digests}
        for digest, size in digests.items():
            if have[digest] is None:
                cache.offer(digest, {f"{digest}.{i}": i for i in range(size)})
            assert cache.entries <= limit
        for digest, chunk in have.items():
            if chunk is not None:
                assert len(chunk) == digests[digest]
                assert cache.get(digest) is chunk  # used by this restore: still kept


@pytest.mark.parametrize("kind", ["shared", "near"])
def test_a_growing_cache_keeps_a_state_larger_than_its_first_bound(
    ledger: tuple[SqliteEventStore, CountingSnapshots], kind: str
) -> None:
    """A cache smaller than one state evicts each chunk just before the next restore
    needs it; with `grow` its bound follows the states restored (`ChunkCache.fit`), so
    the same snapshot restored again is read from the cache, as a small state is."""
    store, snapshots = ledger
    timeline(store, snapshots, None).build_snapshots()
    position = 3_900
    fetched: dict[bool, list[int]] = {}
    for grow in (False, True):
        cache = ChunkCache(40, grow=grow) if kind == "shared" else NearCursorChunks(40, grow=grow)
        each = Timeline(
            store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=CADENCE, chunk_rows=8,
            codec=ZLIB, chunk_cache=cache,
        )  # fmt: skip
        fetched[grow] = []
        for _ in range(4):
            before = snapshots.fetched
            assert rows(each.state_at(position)) == rows(replayed(store, position))
            fetched[grow].append(snapshots.fetched - before)
        assert cache.max_entries == 40 or grow
    # The default cache admits a chunk on its second sighting (and remembered few
    # sightings before it grew); the near one at once.
    assert fetched[True][-1] == 0
    assert fetched[False][-1] > 0
