"""With a key, any one-byte change to a stored snapshot is refused when it is read.

The manifest's HMAC covers its bytes, so any change to it is refused. A chunk is named
by the digest of what it decompresses to: a change that alters its content is refused;
the one kind that does not (zlib header bits such as the compression level, which
leave the content as it was) reads back the true state, never a forged one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.ports import Snapshot
from domain.projection import ProjectionState
from domain.snapshots import ENCODING, compress_chunk, decode_states, encode_states
from store.derived_macs import DerivedDataForged, DerivedMacs
from store.snapshots import SqliteSnapshotStore
from store.sqlite import SqliteEventStore

KEY = b"the auditor's HMAC key"
SNAPSHOT_KEY = "v1-test"
POSITION = 7
STATES = {
    "balances": ProjectionState(
        rows={f"acc-{n:03d}": {"owner": f"Owner {n}", "balance": n * 100} for n in range(40)},
        aux={"currencies": {f"acc-{n:03d}": "EUR" for n in range(40)}},
    )
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[str]]]:
    """A keyed database holding one snapshot of `STATES` (in several chunks)."""
    db = tmp_path_factory.mktemp("macs") / "snap.db"
    SqliteEventStore.init(db, key=KEY, domain="ledger").close()
    manifest, chunks = encode_states(STATES, chunk_rows=8)
    with SqliteSnapshotStore(db, macs=DerivedMacs(KEY)) as snapshots:
        snapshots.save(
            Snapshot(SNAPSHOT_KEY, POSITION, "ab" * 32, ENCODING, manifest),
            {digest: compress_chunk(data) for digest, data in chunks.items()},
        )
    yield db, sorted(chunks)


def _read(db: Path) -> dict[str, ProjectionState]:
    with SqliteSnapshotStore(db, macs=DerivedMacs(KEY)) as snapshots:
        snapshot = snapshots.latest(SNAPSHOT_KEY, POSITION)
        assert snapshot is not None
        fetch = lambda digests: snapshots.chunks(SNAPSHOT_KEY, digests)  # noqa: E731
        return decode_states(snapshot.encoding, snapshot.blob, fetch)


def test_an_untouched_snapshot_reads_back(stored: tuple[Path, list[str]]) -> None:
    db, _ = stored
    assert _read(db)["balances"].rows == STATES["balances"].rows


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_single_byte_change_is_refused(
    stored: tuple[Path, list[str]], data: st.DataObject
) -> None:
    db, digests = stored
    target = data.draw(st.sampled_from(["manifest", *digests]), label="target")
    if target == "manifest":
        select, update = "SELECT blob FROM snapshots", "UPDATE snapshots SET blob = ?"
        params: tuple[str, ...] = ()
    else:
        select = "SELECT blob FROM snapshot_chunks WHERE digest = ?"
        update = "UPDATE snapshot_chunks SET blob = ? WHERE digest = ?"
        params = (target,)
    with sqlite3.connect(db) as conn:
        original = bytes(conn.execute(select, params).fetchone()[0])
    index = data.draw(st.integers(0, len(original) - 1), label="index")
    value = data.draw(st.integers(0, 255).filter(lambda b: b != original[index]), label="byte")
    changed = original[:index] + bytes([value]) + original[index + 1 :]
    with sqlite3.connect(db) as conn:
        conn.execute(update, (changed, *params))
    try:
        try:
            states = _read(db)
        except DerivedDataForged:
            pass
        else:
            assert target != "manifest"
            assert states["balances"].rows == STATES["balances"].rows
            assert states["balances"].aux == STATES["balances"].aux
    finally:
        with sqlite3.connect(db) as conn:
            conn.execute(update, (original, *params))
