"""A seek's tail folded from narrow rows (`store.timeline_tail`) on SQLite and PostgreSQL.

The state at P must be the fold of the first P events whichever way the tail after
the snapshot is folded: from narrow rows (what the app does) or from full
events (the timeline's own loop). Histories and the oracle are the unit properties'
(`tests/unit/timeline_support.py`), both domains. The trust checks stay on the lean
path: a snapshot of another history is not used, a forged one is refused, and a fold
that fails says which event and which projection, as the full path does.
"""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
from harness_stores import open_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.clock import StepClock
from domain.envelope import RecordedEvent
from domain.fold_failure import ProjectionFailed
from domain.inventory.fold_reads import INVENTORY_EVENT_READS
from domain.ledger.fold_reads import LEDGER_EVENT_READS
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.ports import EventStore, SnapshotStore
from domain.projection import EventReads, Projection, ProjectionState, StateMap
from domain.timeline import Timeline
from store.derived_macs import DerivedDataForged, DerivedMacs
from store.postgres.snapshots import PostgresSnapshotStore
from store.postgres.store import PostgresEventStore
from store.snapshots import SqliteSnapshotStore
from store.sqlite import SqliteEventStore
from store.timeline_tail import LeanTail, lean_tail

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))  # the unit properties' support
from timeline_support import CASES, TimelineCase, case_id, expected, full, ledger_history

KEY = b"the lean tail's key"
READS: Mapping[str, Mapping[str, EventReads]] = {
    "ledger": LEDGER_EVENT_READS,
    "inventory": INVENTORY_EVENT_READS,
}


class CountingTail:
    """A `TailFold` that counts the tails it folds (so a test sees the path taken)."""

    def __init__(self, tail: LeanTail) -> None:
        self.tail = tail
        self.calls = 0

    def __call__(self, states: StateMap, after: int, to: int) -> None:
        self.calls += 1
        self.tail(states, after, to)


def _store(target: Path | str) -> Any:
    def make(tick: StepClock) -> EventStore:
        return open_store(target, create=True, clock=tick, key=KEY, synchronous="OFF")

    return make


def _snapshots(store: EventStore) -> SnapshotStore:
    """The store's own snapshots, authenticated with the chain's key."""
    if isinstance(store, PostgresEventStore):
        return PostgresSnapshotStore(store.url, macs=DerivedMacs(KEY))
    assert isinstance(store, SqliteEventStore)
    return SqliteSnapshotStore(store.path, macs=DerivedMacs(KEY))


def _timeline(
    store: SqliteEventStore | PostgresEventStore,
    projections: Sequence[Projection],
    case: TimelineCase,
    cadence: int,
    *,
    lean: bool,
) -> tuple[Timeline, CountingTail | None]:
    tail = None
    if lean:
        made = lean_tail(store, projections, case.catalog, READS[case.name])
        assert isinstance(made, LeanTail)
        tail = CountingTail(made)
    snapshots = _snapshots(store)
    timeline = Timeline(
        store, projections, case.catalog, snapshots, cadence=cadence, chunk_rows=2, tail=tail
    )
    return timeline, tail


@pytest.fixture(params=["sqlite", "postgres"])
def fresh(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Each call gives a new, empty target: a SQLite file or a PostgreSQL database."""

    def make() -> Path | str:
        if request.param == "postgres":
            return str(request.getfixturevalue("postgres_server").database())
        return tmp_path_factory.mktemp("lean") / "history.db"

    return make


@pytest.mark.parametrize("case", CASES, ids=case_id)
@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_lean_tail_state_at_is_the_fold_of_the_first_p_events(
    case: TimelineCase, fresh: Any, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"), _store(fresh()))
    assert isinstance(store, SqliteEventStore | PostgresEventStore)
    cadence = data.draw(st.integers(2, 9), label="cadence")
    head = store.head().position
    truth = [full(expected(store, p, case.projections)) for p in range(head + 1)]
    lean, counted = _timeline(store, case.projections, case, cadence, lean=True)
    plain, _ = _timeline(store, case.projections, case, cadence, lean=False)
    assert counted is not None
    if data.draw(st.booleans(), label="snapshots first"):
        lean.build_snapshots()
    order = data.draw(st.permutations(range(head + 1)), label="order")
    for position in order:
        assert full(lean.state_at(position)) == truth[position], position
        assert full(plain.state_at(position)) == truth[position], position
    # Every position off the grid has a tail after its snapshot: the lean path took it.
    assert counted.calls >= sum(1 for p in range(head + 1) if p % cadence) > 0 or head < 2
    for timeline in (lean, plain):
        timeline.snapshots.close()  # type: ignore[attr-defined]
    store.close()


@pytest.fixture
def ledger_file(tmp_path: Path) -> SqliteEventStore:
    """A keyed ledger history of a few dozen events, with snapshots every 4."""
    plan = [("deposit", n % 3, 0, 5_000 + n, "alice") for n in range(30)]
    plan += [("transfer", n % 3, (n + 1) % 3, 700, "bob") for n in range(20)]
    store = ledger_history(plan, _store(tmp_path / "ledger.db"))
    assert isinstance(store, SqliteEventStore)
    case = CASES[0]
    timeline, _ = _timeline(store, LEDGER_PROJECTIONS, case, 4, lean=True)
    timeline.build_snapshots()
    timeline.snapshots.close()  # type: ignore[attr-defined]
    return store


def test_lean_tail_does_not_use_a_snapshot_of_another_history(
    ledger_file: SqliteEventStore,
) -> None:
    case = CASES[0]
    with sqlite3.connect(ledger_file.path) as conn:  # the history under it "changed"
        conn.execute("UPDATE snapshots SET event_hash = 'ab' || substr(event_hash, 3)")
    timeline, _ = _timeline(ledger_file, LEDGER_PROJECTIONS, case, 4, lean=True)
    timeline.snapshots.macs = None  # type: ignore[attr-defined]  # let the check see it
    target = ledger_file.head().position - 1
    assert full(timeline.state_at(target)) == full(
        expected(ledger_file, target, LEDGER_PROJECTIONS)
    )
    assert timeline._trusted is False  # the snapshots are no longer used


def test_lean_tail_refuses_a_forged_snapshot(ledger_file: SqliteEventStore) -> None:
    case = CASES[0]
    with sqlite3.connect(ledger_file.path) as conn:
        (position, blob), *_ = conn.execute(
            "SELECT position, blob FROM snapshots ORDER BY position DESC"
        ).fetchall()
        forged = bytes(blob[:-1]) + bytes([blob[-1] ^ 1])
        conn.execute("UPDATE snapshots SET blob = ? WHERE position = ?", (forged, position))
    timeline, _ = _timeline(ledger_file, LEDGER_PROJECTIONS, case, 4, lean=True)
    with pytest.raises(DerivedDataForged):
        timeline.state_at(position + 1)


class Boom:
    """A projection that fails on one position (a bug, or bad stored data)."""

    name = "boom"
    title = "Boom"
    key_title = "key"
    columns: Sequence[Any] = ()

    def __init__(self, at: int) -> None:
        self.at = at

    def initial(self) -> ProjectionState:
        return ProjectionState(rows={}, aux={})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> Iterable[str]:
        if event.position == self.at:
            raise ValueError("no such thing")
        return ()

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        return None


def test_lean_tail_failure_names_the_event_and_projection(
    ledger_file: SqliteEventStore,
) -> None:
    case = CASES[0]
    projections = [*LEDGER_PROJECTIONS, Boom(at=10)]
    failures = []
    for lean in (True, False):
        timeline, counted = _timeline(ledger_file, projections, case, 4, lean=lean)
        timeline.save_snapshots = False
        timeline.build_snapshots(to=8)  # snapshots at 4 and 8, before the failing event
        with pytest.raises(ProjectionFailed) as failed:
            timeline.state_at(11)
        failures.append(str(failed.value))
        assert counted is None or counted.calls == 1
    assert failures[0] == failures[1]
    assert "projection boom failed on event #10" in failures[0]
