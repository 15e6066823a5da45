"""The SnapshotStore contract: content-addressed projection snapshots, in memory, in
SQLite and in PostgreSQL (beside the events); with a key, a forged manifest or chunk is
refused when read, on every store that keeps them outside this process."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from domain.ports import Snapshot, SnapshotStore
from domain.snapshots import InMemorySnapshots
from store.derived_macs import DerivedDataForged, DerivedMacs
from store.postgres.snapshots import PostgresSnapshotStore
from store.postgres.store import PostgresEventStore
from store.snapshots import SqliteSnapshotStore
from store.sqlite import SqliteEventStore

KEY = b"the snapshot contract's key"


def _open(
    kind: str, request: pytest.FixtureRequest, tmp_path: Path, key: bytes | None
) -> tuple[SnapshotStore, Callable[[str, str, bytes], None]]:
    """A store of snapshots of `kind`, and how to overwrite a stored blob behind its back
    (`table`, `where` digest or "" for the manifest, new bytes)."""
    macs = DerivedMacs.from_key(key)
    if kind == "sqlite":
        path = tmp_path / "snapshots.db"
        SqliteEventStore(path, create=True, key=key).close()

        def forge_sqlite(table: str, digest: str, blob: bytes) -> None:
            with sqlite3.connect(path) as conn:
                where = " WHERE digest = ?" if digest else ""
                conn.execute(
                    f"UPDATE {table} SET blob = ?{where}", (blob, *[digest][: 1 if digest else 0])
                )

        return SqliteSnapshotStore(path, macs=macs), forge_sqlite
    url = request.getfixturevalue("postgres_url")
    PostgresEventStore(url, create=True, key=key).close()

    def forge_postgres(table: str, digest: str, blob: bytes) -> None:
        import psycopg

        with psycopg.connect(url, autocommit=True) as conn:
            where = " WHERE digest = %s" if digest else ""
            conn.execute(
                f"UPDATE {table} SET blob = %s{where}",  # type: ignore[arg-type]
                (blob, *([digest] if digest else [])),
            )

    return PostgresSnapshotStore(url, macs=macs), forge_postgres


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def snapshots(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SnapshotStore]:
    if request.param == "memory":
        yield InMemorySnapshots()
        return
    kept, _ = _open(request.param, request, tmp_path, None)
    yield kept
    kept.close()  # type: ignore[attr-defined]


@pytest.fixture(params=["sqlite", "postgres"])
def keyed(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[SnapshotStore, Callable[[str, str, bytes], None]]]:
    """Snapshots kept with the chain's key, and a forger that writes behind their back."""
    kept, forge = _open(request.param, request, tmp_path, KEY)
    yield kept, forge
    kept.close()  # type: ignore[attr-defined]


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


def test_a_keyed_snapshot_reads_back(
    keyed: tuple[SnapshotStore, Callable[[str, str, bytes], None]],
) -> None:
    snapshots, _ = keyed
    snapshots.save(snap("k", 4, b"manifest"), {"d1": b"{}"})
    found = snapshots.latest("k", 10)
    assert found is not None and found.blob == b"manifest"


def test_a_forged_manifest_is_refused_with_a_key(
    keyed: tuple[SnapshotStore, Callable[[str, str, bytes], None]],
) -> None:
    snapshots, forge = keyed
    snapshots.save(snap("k", 4, b"manifest"), {})
    forge("snapshots", "", b"forged manifest")
    with pytest.raises(DerivedDataForged, match="#4 does not match its HMAC"):
        snapshots.latest("k", 10)


def test_a_forged_chunk_is_refused_with_a_key(
    keyed: tuple[SnapshotStore, Callable[[str, str, bytes], None]],
) -> None:
    snapshots, forge = keyed
    snapshots.save(snap("k", 4), {"d1": b'{"rows": {}}'})
    forge("snapshot_chunks", "d1", b'{"rows": {"forged": 1}}')
    with pytest.raises(DerivedDataForged, match="chunk d1 does not match its digest"):
        snapshots.chunks("k", ["d1"])
