"""The inventory's demo story: streams that match payloads, a realistic mix, daily
rhythm, refusals, phase-outs, and an invariant that holds at the end (the contract
every demo keeps is in test_demo.py)."""

from __future__ import annotations

from collections import Counter

import pytest

from domain.clock import parse_time
from domain.envelope import PendingEvent
from domain.inventory import INVENTORY, split_stock_key
from domain.inventory.demo import ACTORS
from domain.inventory.projections import INVENTORY_PROJECTIONS
from domain.projection import fold
from store.memory import InMemoryEventStore
from tests.unit.demo_support import INVENTORY_CASE, Item, commands_of, events_of, refusals_of

_events, _refusals, _commands = events_of, refusals_of, commands_of


@pytest.fixture(scope="module")
def history() -> list[Item]:
    return INVENTORY_CASE.history()


# -- the story -------------------------------------------------------------------------------


def test_streams_match_payloads(history: list[Item]) -> None:
    for event in _events(history):
        data = event.data
        if event.stream_type == "product":
            assert event.stream_id == f"product-{data['sku']}"
        else:
            assert event.stream_type == "stock"
            sku, warehouse = split_stock_key(event.stream_id.removeprefix("stock-"))
            assert sku == data["sku"]
            assert warehouse == {
                "StockMovedOut": data.get("from_warehouse"),
                "StockMovedIn": data.get("to_warehouse"),
            }.get(event.type, data.get("warehouse"))


def test_a_realistic_mix(history: list[Item]) -> None:
    events = _events(history)
    kinds = Counter(e.type for e in events)
    assert set(kinds) == set(INVENTORY.catalog.types)
    assert kinds["StockShipped"] > len(events) * 0.6
    assert kinds["StockMovedOut"] == kinds["StockMovedIn"] > 100
    assert kinds["ProductDiscontinued"] >= 2
    assert kinds["ProductRegistered"] == 66  # one product per 300 events
    actors = Counter(item.metadata["actor"] if isinstance(item, PendingEvent) else item.actor
                     for item in history)  # fmt: skip
    assert set(actors) <= set(ACTORS) and len(actors) >= 12
    warehouses = {e.data["warehouse"] for e in events if e.type == "StockLocationOpened"}
    assert len(warehouses) == 6
    signs = [
        (d > 0) - (d < 0)
        for e in events
        if e.type == "StockAdjusted"
        for d in [e.data["difference"]]
    ]
    differences = Counter(signs)
    assert differences[0] > differences[-1] > differences[1] > 0  # shrinkage outweighs finds


def test_days_have_a_rhythm(history: list[Item]) -> None:
    events = _events(history)
    hours = Counter(int(e.recorded_at[11:13]) for e in events if e.type == "StockShipped")
    assert hours[15] > 5 * hours[3]  # afternoons are busy, nights are quiet
    days = Counter(parse_time(e.recorded_at).weekday() for e in events)
    assert days[2] > 3 * days[6]  # a Wednesday is busier than a Sunday
    receipts = [e for e in events if e.type == "StockReceived"]
    assert all(int(e.recorded_at[11:13]) < 12 for e in receipts[100:])  # deliveries: mornings
    bot = [e for e in events if e.metadata["actor"] == "replenishment-bot"]
    runs = {e.metadata["correlation_id"] for e in bot}
    assert 10 < len(runs) < len(bot) // 2  # nightly runs share a correlation id
    assert {int(e.recorded_at[11:13]) for e in bot} <= {1, 2, 3, 4, 5}


def test_refusals_are_rare_and_carry_the_rules_reasons(history: list[Item]) -> None:
    refusals = _refusals(history)
    assert 0 < len(refusals) < len(history) // 40
    reasons = " ".join(r.reason for r in refusals)
    for expected in ("on hand", "to itself", "is not registered", "already registered",
                     "never stocked at", "still holds stock"):  # fmt: skip
        assert expected in reasons


def test_discontinued_products_end_with_no_stock_and_nothing_after(history: list[Item]) -> None:
    on_hand: Counter[str] = Counter()
    gone: set[str] = set()
    for event in _events(history):
        sku = event.data["sku"]
        assert sku not in gone or event.type == "StockLocationClosed", event
        if event.type in ("StockReceived", "StockMovedIn"):
            on_hand[sku] += event.data["quantity"]
        elif event.type in ("StockShipped", "StockMovedOut"):
            on_hand[sku] -= event.data["quantity"]
        elif event.type == "StockAdjusted":
            on_hand[sku] += event.data["difference"]
        elif event.type == "ProductDiscontinued":
            assert on_hand[sku] == 0
            gone.add(sku)
    assert len(gone) >= 2


# -- the rules -----------------------------------------------------------------------------


def test_the_stock_invariant_holds_for_every_product_at_the_end(history: list[Item]) -> None:
    store = InMemoryEventStore()
    store.append_bulk(history)
    rows = fold(INVENTORY_PROJECTIONS, store.read_all())["stock_invariant"].rows
    assert len(rows) == 66 and {r["invariant"] for r in rows.values()} == {"holding"}
