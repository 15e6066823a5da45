"""The fused rebuild: read models byte-identical to a plain replay of the history.

A rebuild reads of each event only what the domain declares its folds read
(`DomainDescription.event_reads`): SQLite selects only those columns, metadata is
decoded and checked only when a fold reads it, and upcasts run only for the types a
fold needs them for (`store.replay.fold_rows`). None of that may change one byte of
a read model: every table is compared here with the one upcast-then-fold loop of the
timeline (`domain.timeline.replay.fold`) over the whole history, for both bundled
domains' demo data, for random histories (hypothesis), and for `rebuild --projection`.
"""

from __future__ import annotations

import contextlib
import random
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.description import DomainDescription
from domain.envelope import PendingEvent, RecordedEvent, Refusal
from domain.inventory.description import INVENTORY_DOMAIN
from domain.ledger.description import LEDGER_DOMAIN
from domain.projection import EVENT_FIELDS, Projection, combined_reads, initial_states
from domain.timeline.replay import Upcaster, fold
from store import read_models as rm
from store.projector import Projector
from store.sqlite import SqliteEventStore

DOMAINS = {"ledger": LEDGER_DOMAIN, "inventory": INVENTORY_DOMAIN}


class _Watched(RecordedEvent):
    """A recorded event that notes which of its fields a fold reads."""

    __slots__ = ("read",)

    def __getattribute__(self, name: str) -> object:
        if name in EVENT_FIELDS:
            object.__getattribute__(self, "read").add(name)
        return object.__getattribute__(self, name)


Tables = dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]]
"""By projection: its (key, row) and (part, value) texts as stored, in key order."""


def demo_history(domain: DomainDescription, events: int, seed: int, v1_share: float) -> list:
    """The domain's demo history; with `v1_share`, that share of the ledger's deposits
    stored as schema version 1 (no `channel`), as eventscope wrote them before v2."""
    assert domain.demo is not None
    chooser = random.Random(seed)
    history: list[PendingEvent | Refusal] = []
    for item in domain.demo(events, seed):
        if (
            isinstance(item, PendingEvent)
            and item.type == "MoneyDeposited"
            and chooser.random() < v1_share
        ):
            data = {k: v for k, v in item.data.items() if k != "channel"}
            item = replace(item, data=data, schema_version=1)
        history.append(item)
    return history


@contextlib.contextmanager
def loaded_store(history: list[PendingEvent | Refusal]) -> Iterator[SqliteEventStore]:
    with tempfile.TemporaryDirectory() as folder:
        store = SqliteEventStore.init(Path(folder) / "fused.db", synchronous="OFF")
        try:
            store.append_bulk(history)
            yield store
        finally:
            store.close()


def stored_tables(path: Path, projections: Sequence[Projection]) -> Tables:
    """The read-model tables of `projections` as the file holds them (plain sqlite3)."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return {
            p.name: (
                conn.execute(
                    f'SELECT key, row FROM "{rm.rows_table(p.name)}" ORDER BY key'
                ).fetchall(),
                conn.execute(
                    f'SELECT part, value FROM "{rm.aux_table(p.name)}" ORDER BY part'
                ).fetchall(),
            )
            for p in projections
        }


def replayed_tables(
    events: Sequence[RecordedEvent], domain: DomainDescription, projections: Sequence[Projection]
) -> Tables:
    """What the tables must hold: the timeline's plain replay of every event, encoded."""
    states = initial_states(projections)
    for _ in fold(
        events, Upcaster(domain.model.catalog), projections, [states[p.name] for p in projections]
    ):
        pass
    tables: Tables = {}
    for p in projections:
        state = states[p.name]
        rows = [(key, rm.encode_row(state.rows[key])) for key in sorted(state.rows)]
        parts, _ = rm.changed_aux(state.aux, {})
        tables[p.name] = (rows, sorted((part, blob.decode()) for part, blob in parts.items()))
    return tables


def rebuilt(store: SqliteEventStore, domain: DomainDescription, only: Sequence[str] = ()) -> Tables:
    projector = Projector(
        store, domain.projections, domain.model.catalog, reads=domain.event_reads, name="fused"
    )
    try:
        projector.rebuild(only=only)
    finally:
        projector.close()
    assert store.path is not None
    return stored_tables(store.path, domain.projections)


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_fused_rebuild_equals_plain_replay_on_demo_data(name: str) -> None:
    domain = DOMAINS[name]
    with loaded_store(demo_history(domain, 3_000, 5, v1_share=0.3)) as store:
        expected = replayed_tables(list(store.iter_all()), domain, domain.projections)
        assert rebuilt(store, domain) == expected
        # A table no rebuild wrote would compare equal only if it were empty: these are not.
        assert all(rows for rows, _ in expected.values())


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_partial_fused_rebuild_equals_plain_replay(name: str) -> None:
    """`rebuild --projection NAME` folds only NAME, with only what NAME reads."""
    domain = DOMAINS[name]
    with loaded_store(demo_history(domain, 1_500, 9, v1_share=0.5)) as store:
        expected = replayed_tables(list(store.iter_all()), domain, domain.projections)
        rebuilt(store, domain)
        for projection in domain.projections:
            assert combined_reads([projection], domain.event_reads).fields != EVENT_FIELDS
            assert rebuilt(store, domain, only=[projection.name]) == expected


@pytest.mark.parametrize("name", sorted(DOMAINS))
def test_each_fold_reads_no_more_than_it_declares(name: str) -> None:
    """A fold touches only the fields it declares (whatever the data, even where a
    value would not change its rows); and with every other field blanked (None;
    metadata empty) and the upcasts it does not declare skipped, its rows and aux
    stay the same."""
    domain = DOMAINS[name]
    catalog = domain.model.catalog
    current = {t: model.schema_version for t, model in catalog.types.items()}
    with loaded_store(demo_history(domain, 2_000, 3, v1_share=0.5)) as store:
        events = list(store.iter_all())
    for projection in domain.projections:
        reads = domain.event_reads[projection.name]
        blanked = []
        for event in events:
            fields = {f: getattr(event, f) if f in reads.fields else None for f in EVENT_FIELDS}
            if "metadata" not in reads.fields:
                fields["metadata"] = {}
            if event.schema_version != current[event.type] and event.type in reads.upcast:
                fields["data"] = catalog.upcast(event.type, event.schema_version, event.data)
            watched = _Watched(**fields)
            watched.read = set()
            blanked.append(watched)
        state = projection.initial()
        for event in blanked:
            projection.apply(state, event)
            assert event.read <= reads.fields, (projection.name, event.read - reads.fields)
        expected = replayed_tables(events, domain, [projection])[projection.name]
        parts, _ = rm.changed_aux(state.aux, {})
        got = (
            [(key, rm.encode_row(state.rows[key])) for key in sorted(state.rows)],
            sorted((part, blob.decode()) for part, blob in parts.items()),
        )
        assert got == expected, projection.name


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(
    name=st.sampled_from(sorted(DOMAINS)),
    events=st.integers(min_value=1, max_value=700),
    seed=st.integers(min_value=0, max_value=10_000),
    v1_share=st.floats(min_value=0.0, max_value=1.0),
    data=st.data(),
)
def test_fused_rebuild_equals_plain_replay_on_random_histories(
    name: str, events: int, seed: int, v1_share: float, data: st.DataObject
) -> None:
    domain = DOMAINS[name]
    names = [p.name for p in domain.projections]
    some = data.draw(st.lists(st.sampled_from(names), min_size=1, unique=True))
    with loaded_store(demo_history(domain, events, seed, v1_share)) as store:
        expected = replayed_tables(list(store.iter_all()), domain, domain.projections)
        assert rebuilt(store, domain) == expected
        assert rebuilt(store, domain, only=some) == expected
