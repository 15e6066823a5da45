"""The timeline on a real SQLite event store with SQLite snapshots, in tmp_path.

A seeded random history goes through the real bus into the real store; the engine's
answers are checked against plain folds of the events read back from the file.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.errors import DomainError, StoreError
from domain.ledger import CATALOG, LEDGER
from domain.ledger.projections import LEDGER_PROJECTIONS, ledger_projections
from domain.projection import StateMap, fold
from domain.refusals import MergesRefusals, RefusalTally
from domain.snapshots import manifest_digests, snapshot_key
from domain.timeline import Timeline, changed_keys
from store.snapshots import SqliteSnapshotStore, ensure_snapshot_schema
from store.sqlite import SqliteEventStore

ACCOUNTS = ("a1", "a2", "a3", "a4", "y1")


def _history(store: SqliteEventStore, commands: int, seed: int) -> None:
    """Random everyday traffic through the real bus, refusals included."""
    rng = random.Random(seed)
    tick = StepClock("2026-03-01T21:00:00Z", step=timedelta(minutes=7))
    store.clock = tick
    bus = CommandBus(store, LEDGER, clock=tick, ids=SequentialIds(f"s{seed}"))
    for account in ACCOUNTS:
        currency = "JPY" if account.startswith("y") else "EUR"
        bus.execute_fields(
            "open_account",
            {"account_id": account, "owner": "O", "currency": currency, "overdraft_limit": "50"},
            actor="ops",
        )
    for _ in range(commands):
        account, other = rng.choice(ACCOUNTS), rng.choice(ACCOUNTS)
        # Large deposits now and then (audit flags); small outflows, so most succeed.
        amount = str(rng.choice((1, 5, 20, 80, 120)))
        choice = rng.random()
        if choice < 0.35:
            deposit = str(rng.choice((50, 200, 900, 12_000)))
            name, fields = "deposit", {"account_id": account, "amount": deposit}
        elif choice < 0.55:
            name, fields = "withdraw", {"account_id": account, "amount": amount}
        elif choice < 0.92:
            name = "transfer"
            fields = {"from_account": account, "to_account": other, "amount": amount}
        elif choice < 0.94:
            name, fields = "freeze_account", {"account_id": account, "reason": "check"}
        else:
            name, fields = "unfreeze_account", {"account_id": account, "reason": "ok"}
        with contextlib.suppress(DomainError):
            bus.execute_fields(name, fields, actor=rng.choice(("alice", "bob", "ops")))


def _expected(store: SqliteEventStore, position: int) -> StateMap:
    states = fold(LEDGER_PROJECTIONS, store.read_all(to=position))
    times: dict[str, list[str]] = {}
    for refusal in store.refusals(to_position=position):
        times.setdefault(refusal.actor, []).append(refusal.recorded_at)
    counted = {a: RefusalTally(len(t), min(t), max(t)) for a, t in times.items()}
    for projection in LEDGER_PROJECTIONS:
        if isinstance(projection, MergesRefusals):
            states[projection.name] = projection.merge_refusals(states[projection.name], counted)
    return states


def _full(states: StateMap) -> dict[str, object]:
    return {name: (state.rows, state.aux) for name, state in states.items()}


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("timeline") / "ledger.db"
    with SqliteEventStore.init(path, synchronous="OFF") as store:
        _history(store, 300, seed=11)
    return path


@pytest.fixture
def db(ledger_db: Path, tmp_path: Path) -> Path:
    """A private copy of the shared history, so tests may write snapshots freely."""
    copy = tmp_path / "copy.db"
    source = sqlite3.connect(ledger_db)
    target = sqlite3.connect(copy)
    source.backup(target)
    source.close()
    target.close()
    return copy


def test_state_at_and_snapshots_match_plain_folds(db: Path) -> None:
    with SqliteEventStore(db) as store, SqliteSnapshotStore(db) as snapshots:
        timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=16)
        head = store.head().position
        assert head > 200
        assert store.refusals(), "the history has refusals to overlay"
        assert timeline.build_snapshots() == head // 16
        rng = random.Random(3)
        for position in [0, 1, 16, 17, head, *rng.sample(range(head), 25)]:
            assert _full(timeline.state_at(position)) == _full(_expected(store, position))
        assert timeline.snapshot_size() > 0


def test_snapshots_share_unchanged_chunks(db: Path) -> None:
    with SqliteEventStore(db) as store, SqliteSnapshotStore(db) as snapshots:
        timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=10, chunk_rows=4)
        timeline.build_snapshots()
        key = timeline.key
        named = [
            digest
            for position in snapshots.positions(key)
            for digest in manifest_digests(_manifest(snapshots, key, position))
        ]
        stored = sqlite3.connect(db).execute("SELECT count(*) FROM snapshot_chunks").fetchone()[0]
        assert stored == len(set(named)) < len(named), "chunks are shared, stored once"
        head = store.head().position
        fresh = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=10)
        for position in range(head - 30, head + 1, 7):
            assert _full(fresh.state_at(position)) == _full(_expected(store, position))


def _manifest(snapshots: SqliteSnapshotStore, key: str, position: int) -> bytes:
    snapshot = snapshots.latest(key, position)
    assert snapshot is not None and snapshot.position == position
    return snapshot.blob


def test_snapshots_survive_the_process_and_are_keyed_by_definitions(db: Path) -> None:
    with SqliteEventStore(db) as store, SqliteSnapshotStore(db) as snapshots:
        Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=32).build_snapshots()
        kept = snapshots.positions(snapshot_key(LEDGER_PROJECTIONS))
        assert kept and kept == sorted(kept)
    with SqliteEventStore(db) as store, SqliteSnapshotStore(db) as snapshots:
        again = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=32)
        assert again.build_snapshots() == 0, "found on disk"
        other = Timeline(store, ledger_projections(large_amounts={"EUR": 100}), CATALOG, snapshots)
        assert snapshots.latest(other.key, 10**9) is None
        assert other.discard_stale_snapshots() == len(kept)
        assert snapshots.size() == 0


def test_a_cursor_steps_through_the_file(db: Path) -> None:
    with SqliteEventStore(db) as store, SqliteSnapshotStore(db) as snapshots:
        timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=20)
        head = store.head().position
        start = head // 2
        truth = {p: _expected(store, p) for p in range(start - 45, start + 45)}
        cursor = timeline.cursor(start, window=16, seek_journal=8)
        position = start
        rng = random.Random(5)
        for delta in [-1] * 40 + [1] * 60 + [rng.choice((-3, 2, 5, -7)) for _ in range(30)]:
            target = min(max(position + delta, start - 44), start + 44)
            move = cursor.seek(target)
            rows_now = {n: s.rows for n, s in cursor.states.items()}
            assert rows_now == {n: s.rows for n, s in truth[target].items()}
            expected_changes = {
                n: keys
                for n in rows_now
                if (keys := changed_keys(truth[position][n].rows, truth[target][n].rows))
            }
            assert move.changed == expected_changes
            position = target
        # A long jump and back again.
        assert cursor.seek(3).position == 3
        assert {n: s.rows for n, s in cursor.states.items()} == {
            n: s.rows for n, s in _expected(store, 3).items()
        }


def test_diff_lineage_and_time_on_the_file(db: Path) -> None:
    with SqliteEventStore(db) as store, SqliteSnapshotStore(db) as snapshots:
        timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=25)
        head = store.head().position
        diff = timeline.diff(40, head)
        assert diff.apply_to(timeline.state_at(40)) == {
            n: s.rows for n, s in timeline.state_at(head).items()
        }
        pure = [fold(LEDGER_PROJECTIONS, store.read_all(to=p)) for p in range(head + 1)]
        for name, key in [
            ("account_balances", "a2"),
            ("ledger_totals", "EUR"),
            ("actor_activity", "bob"),
            ("daily_activity", next(iter(pure[head]["daily_activity"].rows))),
        ]:
            wanted = [
                p
                for p in range(head, 0, -1)
                if pure[p - 1][name].rows.get(key) != pure[p][name].rows.get(key)
            ]
            assert timeline.lineage(name, key) == wanted, (name, key)
        some = store.read_all(after=99, to=100)[0]
        assert timeline.position_at(some.recorded_at) >= 100
        assert timeline.aggregate_at(LEDGER, "account-a1").version == store.stream_version(
            "account-a1"
        )


def test_a_read_only_file_reads_without_snapshots_table(db: Path) -> None:
    with SqliteEventStore(db, read_only=True) as store:
        snapshots = SqliteSnapshotStore(db, read_only=True)
        timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=10)
        head = store.head().position
        assert _full(timeline.state_at(head)) == _full(_expected(store, head))
        assert snapshots.positions(timeline.key) == []
        assert not timeline.save_snapshots, "writes were refused, so it stopped trying"
        with pytest.raises(StoreError, match="read-only"):
            snapshots.discard()
        snapshots.close()


def test_the_snapshot_schema_is_idempotent(db: Path) -> None:
    conn = sqlite3.connect(db)
    ensure_snapshot_schema(conn)
    ensure_snapshot_schema(conn)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(snapshots)")]
    assert columns == ["id", "key", "position", "event_hash", "encoding", "blob", "mac"]
    conn.close()
    with pytest.raises(StoreError, match="does not exist"):
        SqliteSnapshotStore(db.parent / "missing.db")
