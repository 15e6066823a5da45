"""The SnapshotStore contract: content-addressed projection snapshots, in memory and in
SQLite (beside the events)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from domain.ports import Snapshot, SnapshotStore
from domain.snapshots import InMemorySnapshots
from store.snapshots import SqliteSnapshotStore
from store.sqlite import SqliteEventStore


@pytest.fixture(params=["memory", "sqlite"])
def snapshots(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SnapshotStore]:
    if request.param == "memory":
        yield InMemorySnapshots()
        return
    path = tmp_path / "snapshots.db"
    SqliteEventStore(path, create=True).close()
    kept = SqliteSnapshotStore(path)
    yield kept
    kept.close()


def snap(key: str, position: int, blob: bytes = b"manifest") -> Snapshot:
    return Snapshot(key, position, f"hash-{position}", "test", blob)


def test_latest_is_the_greatest_position_at_or_before(snapshots: SnapshotStore) -> None:
    assert snapshots.latest("k", 10) is None
    for position in (5, 2, 9):
        snapshots.save(snap("k", position), {})
    assert snapshots.positions("k") == [2, 5, 9]
    assert snapshots.latest("k", 1) is None
    found = snapshots.latest("k", 8)
    assert found is not None and (found.position, found.event_hash) == (5, "hash-5")
    assert snapshots.latest("other", 100) is None


def test_saving_at_a_kept_position_replaces_it(snapshots: SnapshotStore) -> None:
    snapshots.save(snap("k", 3, b"old"), {})
    snapshots.save(snap("k", 3, b"new"), {})
    found = snapshots.latest("k", 3)
    assert found is not None and found.blob == b"new"
    assert snapshots.positions("k") == [3]


def test_chunks_are_kept_by_key_and_digest(snapshots: SnapshotStore) -> None:
    snapshots.save(snap("k", 1), {"d1": b"one", "d2": b"two"})
    snapshots.save(snap("k", 2), {"d3": b"three"})
    assert snapshots.chunks("k", ["d1", "d3", "missing"]) == {"d1": b"one", "d3": b"three"}
    assert snapshots.known_chunks("k", ["d2", "nope"]) == {"d2"}
    assert snapshots.chunks("other", ["d1"]) == {}
    assert snapshots.size("k") == len(b"manifest") * 2 + len(b"onetwothree")


def test_discard_keeps_only_the_named_key(snapshots: SnapshotStore) -> None:
    snapshots.save(snap("old", 1), {"a": b"x"})
    snapshots.save(snap("old", 2), {})
    snapshots.save(snap("new", 1), {"b": b"y"})
    assert snapshots.discard(keep="new") == 2
    assert snapshots.positions("old") == [] and snapshots.known_chunks("old", ["a"]) == set()
    assert snapshots.positions("new") == [1]
    assert snapshots.discard() == 1
    assert snapshots.size() == 0
