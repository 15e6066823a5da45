"""The timeline over random valid inventory histories (real bus, in-memory store).

The same properties `test_timeline_properties.py` checks for the ledger, for a second
domain: the state at P is the fold of the first P events; stepping reports exactly
the rows that changed; lineage is exactly the positions where a row changed (which
also proves each projection's `apply` return value and `lineage_streams`).
"""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from timeline_support import clock, expected, full, rows

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.errors import DomainError
from domain.inventory import CATALOG, INVENTORY
from domain.inventory.projections import INVENTORY_PROJECTIONS
from domain.snapshots import InMemorySnapshots
from domain.timeline import Timeline, changed_keys
from store.memory import InMemoryEventStore

SKUS = ("BOLT-M8", "NUT-M8", "GLV-M")
"""Two registered up front; the third only if a plan registers it."""
WAREHOUSES = ("ams", "rtm", "ber")

Step = tuple[str, int, int, int, int, str]
"""(command kind, SKU index, warehouse index, other warehouse index, quantity, actor)."""

KINDS = (
    *("receive",) * 3,
    *("ship",) * 5,
    *("move",) * 3,
    *("adjust",) * 3,
    "register",
    *("discontinue",) * 2,
)

steps = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, len(SKUS) - 1),
    st.integers(0, len(WAREHOUSES) - 1),
    st.integers(0, len(WAREHOUSES) - 1),
    st.integers(0, 40),
    st.sampled_from(("sanne", "daan", "webshop")),
)
plans = st.lists(steps, min_size=10, max_size=60)

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _history(plan: list[Step]) -> InMemoryEventStore:
    """The plan run through the real bus; refused and invalid commands are part of it."""
    tick = clock()
    store = InMemoryEventStore(clock=tick)
    bus = CommandBus(store, INVENTORY, clock=tick, ids=SequentialIds("t"))
    for sku in SKUS[:2]:
        fields = {"sku": sku, "name": "Thing", "unit": "each"}
        bus.execute_fields("register_product", fields, actor="catalog")
        fields = {"sku": sku, "warehouse": "ams", "quantity": 50, "supplier_ref": "DN"}
        bus.execute_fields("receive_stock", fields, actor="sanne")
    for kind, sku_index, w, o, quantity, actor in plan:
        sku, warehouse, other = SKUS[sku_index], WAREHOUSES[w], WAREHOUSES[o]
        fields: dict[str, Any] = {"sku": sku}
        small = 1 + quantity // 4  # orders and moves take a little; zero is invalid input
        if kind == "receive":
            fields |= {"warehouse": warehouse, "quantity": quantity * 2, "supplier_ref": "DN"}
        elif kind == "ship":
            fields |= {"warehouse": warehouse, "quantity": small, "order_ref": "SO"}
        elif kind == "move":
            fields |= {"from_warehouse": warehouse, "to_warehouse": other, "quantity": small}
        elif kind == "adjust":
            # A third of the counts write the shelf off, so discontinuations can happen.
            counted = 0 if quantity < 14 else quantity
            fields |= {"warehouse": warehouse, "counted": counted, "reason": "count"}
        elif kind == "register":
            fields |= {"name": "Thing", "unit": "pair"}
        else:
            fields |= {"reason": "delisted"}
        name = {"register": "register_product", "discontinue": "discontinue_product"}.get(
            kind, f"{kind}_stock"
        )
        with contextlib.suppress(DomainError):
            bus.execute_fields(name, fields, actor=actor)
    return store


def _timeline(store: InMemoryEventStore, cadence: int = 3) -> Timeline:
    return Timeline(
        store, INVENTORY_PROJECTIONS, CATALOG, InMemorySnapshots(), cadence=cadence, chunk_rows=2
    )


@SETTINGS
@given(plans, st.integers(1, 7))
def test_state_at_is_the_fold_of_the_first_p_events(plan: list[Step], cadence: int) -> None:
    store = _history(plan)
    timeline = _timeline(store, cadence)
    head = store.head().position
    for position in range(head + 1):
        assert full(timeline.state_at(position)) == full(
            expected(store, position, INVENTORY_PROJECTIONS)
        )
    assert full(timeline.state_at(head + 3)) == full(expected(store, head, INVENTORY_PROJECTIONS))


@SETTINGS
@given(plans, st.data())
def test_stepping_reports_exactly_the_rows_that_changed(plan: list[Step], data: Any) -> None:
    store = _history(plan)
    timeline = _timeline(store, data.draw(st.integers(1, 5), label="cadence"))
    head = store.head().position
    truth = [rows(expected(store, p, INVENTORY_PROJECTIONS)) for p in range(head + 1)]
    cursor = timeline.cursor(data.draw(st.integers(0, head), label="start"), window=3)
    for delta in data.draw(st.lists(st.sampled_from([1, -1, 1, 2, -3, 7]), max_size=20)):
        before = cursor.position
        move = cursor.step(delta)
        after = max(0, min(head, before + delta))
        assert rows(cursor.states) == truth[after]
        assert move.changed == {
            name: keys
            for name in truth[after]
            if (keys := changed_keys(truth[before][name], truth[after][name]))
        }


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plans)
def test_lineage_is_exactly_the_positions_where_the_row_changed(plan: list[Step]) -> None:
    store = _history(plan)
    timeline = _timeline(store)
    head = store.head().position
    pure = [rows(expected(store, p, INVENTORY_PROJECTIONS)) for p in range(head + 1)]
    for projection in INVENTORY_PROJECTIONS:
        name = projection.name
        for key in sorted(set().union(*(states[name] for states in pure))):
            wanted = [
                p
                for p in range(head, 0, -1)
                if pure[p - 1][name].get(key) != pure[p][name].get(key)
            ]
            assert timeline.lineage(name, key) == wanted, (name, key)
