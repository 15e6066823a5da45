"""The `ProjectionStore` role's contract, for every store: its transactions, tables,
checkpoint and lease, and the projector that runs on nothing else.
"""

from __future__ import annotations

import pytest
from contract_support import AnyStore
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.envelope import PendingEvent, Refusal
from domain.ledger.demo import generate_demo
from domain.ledger.description import LEDGER_DOMAIN
from domain.projection import fold
from domain.refusals import MergesRefusals
from store.projector import Projector


class Boom(Exception):
    pass


def _items(events: int, seed: int = 3) -> list[PendingEvent | Refusal]:
    return list(generate_demo(events, seed))


def _projector(store: AnyStore, **options: object) -> Projector:
    return Projector(
        store,
        LEDGER_DOMAIN.projections,
        LEDGER_DOMAIN.model.catalog,
        **options,  # type: ignore[arg-type]
    )


def _replayed(store: AnyStore) -> dict[str, dict[str, object]]:
    states = fold(LEDGER_DOMAIN.projections, store.iter_all())
    return {
        p.name: dict(states[p.name].rows)
        for p in LEDGER_DOMAIN.projections
        if not isinstance(p, MergesRefusals)
    }


def _persisted(projector: Projector) -> dict[str, dict[str, object]]:
    models = projector.read_models(refusals=False)
    return {
        name: dict(state.rows)
        for name, state in models.states.items()
        if not isinstance(projector.projection(name), MergesRefusals)
    }


def test_a_write_transaction_that_raises_leaves_nothing(store: AnyStore) -> None:
    models = store.read_models()
    try:
        with models.transaction("set up", write=True) as tables:
            tables.create_tables("things")
            tables.put_rows("things", [("a", '{"n": 1}')])
            tables.write_checkpoint("main", 0, "f", {"things": "d"}, "t0")
        with pytest.raises(Boom), models.transaction("fail", write=True) as tables:
            tables.put_rows("things", [("a", '{"n": 2}'), ("b", '{"n": 3}')])
            tables.delete_rows("things", ["a"])
            tables.put_aux("things", [("total", "5")])
            tables.write_checkpoint("main", 7, "f", {"things": "d"}, "t1")
            tables.take_lease("main", "me", 10.0, 5.0)
            raise Boom
        with models.transaction("look", write=False) as tables:
            assert tables.read_rows("things") == {"a": {"n": 1}}
            assert tables.read_aux("things") == {}
            checkpoint = tables.checkpoint("main")
            assert checkpoint is not None and checkpoint.position == 0
            assert tables.lease("main") is None
    finally:
        models.close()


def test_rebuilt_tables_stay_hidden_until_swapped_in(store: AnyStore) -> None:
    models = store.read_models()
    try:
        with models.transaction("live", write=True) as tables:
            tables.create_tables("things")
            tables.put_rows("things", [("old", "1")])
            tables.create_tables("things", new=True)
            tables.put_rows("things", [("new", "2")], new=True)
            tables.put_aux("things", [("part", '"x"')], new=True)
        with models.transaction("look", write=False) as tables:
            assert tables.tables() == {"things"}
            assert tables.read_rows("things") == {"old": 1}
            assert tables.rebuild_leftovers()
        with models.transaction("swap", write=True) as tables:
            tables.swap_in("things")
        with models.transaction("look", write=False) as tables:
            assert tables.read_rows("things") == {"new": 2}
            assert tables.read_aux("things") == {"part": b'"x"'}
            assert tables.rebuild_leftovers() == []
    finally:
        models.close()


def test_rows_read_in_key_order_by_page_and_by_key(store: AnyStore) -> None:
    models = store.read_models()
    try:
        with models.transaction("fill", write=True) as tables:
            tables.create_tables("things")
            tables.put_rows("things", [(k, str(i)) for i, k in enumerate("dbca")])
        with models.transaction("look", write=False) as tables:
            assert list(tables.read_rows("things")) == ["a", "b", "c", "d"]
            assert tables.read_rows("things", after="a", limit=2) == {"b": 1, "c": 2}
            assert tables.read_rows("things", keys=["d", "zz", "a"]) == {"d": 0, "a": 3}
    finally:
        models.close()


def test_a_lease_is_renewed_only_by_its_holder_and_released_by_it(store: AnyStore) -> None:
    models = store.read_models()
    try:
        with models.transaction("take", write=True) as tables:
            tables.take_lease("main", "ann", 100.0, 10.0)
            assert not tables.renew_lease("main", "bob", 200.0)
            tables.release_lease("main", "bob")
            assert tables.renew_lease("main", "ann", 150.0)
        with models.transaction("look", write=False) as tables:
            lease = tables.lease("main")
            assert lease is not None and (lease.owner, lease.expires_at) == ("ann", 150.0)
        with models.transaction("release", write=True) as tables:
            tables.release_lease("main", "ann")
            assert tables.lease("main") is None
    finally:
        models.close()


def test_a_failure_is_kept_on_the_checkpoint_until_the_next_write(store: AnyStore) -> None:
    models = store.read_models()
    try:
        with models.transaction("fail", write=True) as tables:
            tables.write_checkpoint("main", 4, "f", {}, "t0")
            tables.record_failure("main", "it broke", 5, "t1")
            checkpoint = tables.checkpoint("main")
            assert checkpoint is not None
            assert (checkpoint.position, checkpoint.error, checkpoint.error_position) == (
                4,
                "it broke",
                5,
            )
            tables.write_checkpoint("main", 6, "f", {}, "t2")
            checkpoint = tables.checkpoint("main")
            assert checkpoint is not None and checkpoint.error is None
    finally:
        models.close()


def test_fold_rows_follow_the_log(store: AnyStore) -> None:
    store.append_bulk(_items(50))
    models = store.read_models()
    try:
        rows = models.fold_rows(10, 5)
        events = store.read_all(after=10, limit=5)
        assert [r[0] for r in rows] == [e.position for e in events]
        assert [(r[2], r[5], r[11]) for r in rows] == [
            (e.stream_id, e.type, e.hash) for e in events
        ]
        assert models.head() == store.head().position
    finally:
        models.close()


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cuts=st.lists(st.integers(min_value=1, max_value=599), max_size=4), batch=st.integers(1, 400)
)
def test_the_projector_keeps_every_store_equal_to_a_replay(
    store: AnyStore, cuts: list[int], batch: int
) -> None:
    """Catching up in slices, with any batch size, gives what one replay gives; a rebuild
    gives the same."""
    items = _items(600)
    if store.head().position:  # hypothesis reuses the fixture: one history per store
        items = []
    projector = _projector(store, batch=batch)
    try:
        start = 0
        for cut in [*sorted(set(cuts)), len(items)]:
            if cut > start:
                store.append_bulk(items[start:cut])
                start = cut
            projector.catch_up()
            assert projector.checkpoint() == store.head().position
            assert _persisted(projector) == _replayed(store)
        projector.rebuild()
        assert _persisted(projector) == _replayed(store)
    finally:
        projector.close()


def test_two_projectors_on_one_store_share_the_read_models_through_the_lease(
    store: AnyStore,
) -> None:
    store.append_bulk(_items(200))
    now = [1_800_000_000.0]
    leader = _projector(store, lease_seconds=10.0, clock=lambda: now[0])
    follower = _projector(store, lease_seconds=10.0, clock=lambda: now[0])
    try:
        assert leader.catch_up().role == "leader"
        assert follower.catch_up().role == "follower"
        assert _persisted(follower) == _replayed(store)
        leader.release()
        now[0] += 3.0  # a follower looks at the lease again after a quarter of one
        assert follower.catch_up().role == "leader"
    finally:
        leader.close()
        follower.close()
