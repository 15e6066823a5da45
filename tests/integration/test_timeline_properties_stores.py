"""The timeline's properties on the stores that keep history outside the process:
SQLite and PostgreSQL, each with its own stored snapshots.

The random histories and the oracle are those of the unit properties
(`tests/unit/timeline_support.py`: the real bus and rules, both domains; the state at P
is a fresh fold of the first P events). Here the history is written through the bus
into a fresh SQLite file or PostgreSQL database, and the timeline reads it back through
that store's reads and keeps its snapshots in that store's SnapshotStore; a second
timeline opened on the same store must answer from the snapshots the first one saved.
Examples are few (each PostgreSQL example is a new database): the many-example runs are
the unit properties in memory.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from harness_stores import AnyStore, open_store
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.clock import StepClock
from domain.ports import EventStore, SnapshotStore
from domain.timeline import Timeline, field_blame
from store.derived_macs import DerivedMacs
from store.postgres.snapshots import PostgresSnapshotStore
from store.postgres.store import PostgresEventStore
from store.snapshots import SqliteSnapshotStore
from store.sqlite import SqliteEventStore

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))  # the unit properties' support
from timeline_support import CASES, TimelineCase, case_id, expected, full, rows

SETTINGS = settings(
    max_examples=4,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
KEY = b"the timeline properties' key"

Where = Callable[[], Callable[[StepClock], EventStore]]
"""Each call gives a maker of one fresh, empty store (a new file or database)."""


@pytest.fixture(params=["sqlite", "postgres"])
def where(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Where, list[AnyStore]]]:
    made: list[AnyStore] = []
    counter = iter(range(10_000))

    def fresh() -> Callable[[StepClock], EventStore]:
        target: Path | str = (
            request.getfixturevalue("postgres_server").database()
            if request.param == "postgres"
            else tmp_path / f"history-{next(counter)}.db"
        )

        def make(tick: StepClock) -> EventStore:
            store = open_store(target, create=True, clock=tick, key=KEY, synchronous="OFF")
            made.append(store)
            return store

        return make

    yield fresh, made
    for store in made:
        store.close()


def _snapshots(store: EventStore) -> SnapshotStore:
    """The store's own snapshots, authenticated with the chain's key."""
    if isinstance(store, PostgresEventStore):
        return PostgresSnapshotStore(store.url, macs=DerivedMacs(KEY))
    assert isinstance(store, SqliteEventStore)
    return SqliteSnapshotStore(store.path, macs=DerivedMacs(KEY))


def _timeline(case: TimelineCase, store: EventStore, cadence: int) -> Timeline:
    return Timeline(
        store, case.projections, case.catalog, _snapshots(store), cadence=cadence, chunk_rows=2
    )


each_domain = pytest.mark.parametrize("case", CASES, ids=case_id)


@each_domain
@SETTINGS
@given(data=st.data())
def test_state_at_from_stored_snapshots_is_the_fold_of_the_first_p_events(
    case: TimelineCase, where: tuple[Where, list[AnyStore]], data: st.DataObject
) -> None:
    fresh, _ = where
    store = case.history(data.draw(case.plans, label="plan"), fresh())
    cadence = data.draw(st.integers(1, 7), label="cadence")
    head = store.head().position
    truth = [full(expected(store, p, case.projections)) for p in range(head + 1)]
    first = _timeline(case, store, cadence)
    for position in range(head + 1):
        assert full(first.state_at(position)) == truth[position]
    assert first.snapshots.positions(first.key) == list(range(cadence, head + 1, cadence))
    # Another session on the same store answers from the snapshots the first one kept.
    second = _timeline(case, store, cadence)
    targets = data.draw(st.lists(st.integers(0, head), max_size=6), label="targets")
    for position in targets:
        assert full(second.state_at(position)) == truth[position]
    for kept in (first.snapshots, second.snapshots):
        kept.close()  # type: ignore[attr-defined]


@each_domain
@SETTINGS
@given(data=st.data())
def test_diff_lineage_and_blame_agree_with_the_folds(
    case: TimelineCase, where: tuple[Where, list[AnyStore]], data: st.DataObject
) -> None:
    fresh, _ = where
    store = case.history(data.draw(case.plans, label="plan"), fresh())
    timeline = _timeline(case, store, cadence=3)
    head = store.head().position
    a = data.draw(st.integers(0, head), label="a")
    b = data.draw(st.integers(0, head), label="b")
    assert timeline.diff(a, b).apply_to(timeline.state_at(a)) == rows(timeline.state_at(b))

    pure = [rows(expected(store, p, case.projections, refusals=False)) for p in range(head + 1)]
    for projection in case.projections:
        name = projection.name
        for key in sorted(set().union(*(states[name] for states in pure))):
            changed = [
                p
                for p in range(1, head + 1)
                if pure[p - 1][name].get(key) != pure[p][name].get(key)
            ]
            assert timeline.lineage(name, key) == changed[::-1], (name, key)
            fields = sorted({f for states in pure for f in states[name].get(key, {})})
            field = data.draw(st.sampled_from(fields), label="field") if fields else None
            if field is None:
                continue
            blamed = [b.event.position for b in field_blame(timeline, name, key, field)]
            assert blamed == [
                p
                for p in changed
                if _field(pure, p - 1, name, key, field) != _field(pure, p, name, key, field)
            ]
    timeline.snapshots.close()  # type: ignore[attr-defined]


def _field(pure: list[Any], p: int, name: str, key: str, field: str) -> Any:
    row = pure[p][name].get(key)
    return None if row is None else row.get(field)


@each_domain
@SETTINGS
@given(data=st.data())
def test_aggregates_and_refusals_at_a_point_read_the_store(
    case: TimelineCase, where: tuple[Where, list[AnyStore]], data: st.DataObject
) -> None:
    fresh, _ = where
    store = case.history(data.draw(case.plans, label="plan"), fresh())
    timeline = _timeline(case, store, cadence=4)
    head = store.head().position
    for stream in sorted({e.stream_id for e in store.iter_all()}):
        events = [e for e in store.iter_all() if e.stream_id == stream]
        history = timeline.aggregate_history(case.model, stream)
        assert [h.event for h in history] == events
    every = sorted(store.refusals(), key=lambda r: (r.at_position, r.id), reverse=True)
    for position in data.draw(st.lists(st.integers(0, head + 2), max_size=5), label="at"):
        wanted = [r for r in every if r.at_position <= position][:3]
        assert list(timeline.refusals_at(position, 3)) == wanted
    timeline.snapshots.close()  # type: ignore[attr-defined]
