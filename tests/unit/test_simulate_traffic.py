"""What each domain's simulated traffic acts on and sends: discovery of existing
streams, and the mix of actors and commands (the shared pacing contract is in
test_simulate.py)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.errors import InvalidInput
from domain.inventory import INVENTORY
from domain.inventory import simulate as inventory_sim
from domain.inventory.demo import generate_demo as inventory_demo
from domain.inventory.simulate import SimProduct, discover_products
from domain.ledger import LEDGER
from domain.ledger import simulate as ledger_sim
from domain.ledger.demo import write_demo
from domain.ledger.simulate import SimAccount, discover_accounts
from domain.simulation import SimulationStep
from store.memory import InMemoryEventStore
from tests.unit.test_simulate import FakeTime


def _store() -> InMemoryEventStore:
    return InMemoryEventStore(clock=StepClock())


def _bus(store: InMemoryEventStore, model: object) -> CommandBus:
    return CommandBus(store, model, clock=StepClock(), ids=SequentialIds("sim"))  # type: ignore[arg-type]


# -- ledger ------------------------------------------------------------------------


def test_ledger_refusals_name_overdrafts_and_currencies() -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    ledger_sim.run_simulation(
        _bus(store, LEDGER), store, 50, 20, 2, clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    reasons = " ".join(r.reason for r in store.refusals())
    assert "beyond its overdraft limit" in reasons
    assert "transfers must stay in one currency" in reasons or "does not exist" in reasons
    types = Counter(s.command.type_name for s in steps if s.outcome == "ok")
    assert {"withdraw", "deposit", "transfer", "freeze_account", "unfreeze_account"} <= set(types)


def test_existing_accounts_are_discovered_and_used() -> None:
    store, clock = _store(), FakeTime()
    write_demo(store, 3000, seed=4)
    accounts = discover_accounts(store)
    closed = {e.stream_id for e in store.read_all() if e.type == "AccountClosed"}
    opened = {e.stream_id for e in store.read_all() if e.type == "AccountOpened"}
    assert {f"account-{a.account_id}" for a in accounts} == opened - closed
    head = store.head().position
    steps: list[SimulationStep] = []
    stats = ledger_sim.run_simulation(
        _bus(store, LEDGER), store, 10, 5, 4, clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    assert stats.opened == 0 and stats.commands == 50
    assert store.head().position == head + stats.events
    known = {a.account_id for a in accounts}
    payloads = [s.command.payload() for s in steps]
    used = {p.get("account_id") or p["from_account"] for p in payloads}
    assert used <= known


def test_account_discovery_samples_big_stores_and_skips_closed_accounts() -> None:
    store = _store()
    write_demo(store, 3000, seed=4)
    closed = {e.data["account_id"] for e in store.read_all() if e.type == "AccountClosed"}
    assert closed
    sample = discover_accounts(store, limit=5, seed=9)
    assert len(sample) == 5
    assert not closed & {a.account_id for a in sample}
    assert sample == discover_accounts(store, limit=5, seed=9)
    assert all(a.currency in ("EUR", "USD", "GBP", "CHF", "JPY") for a in sample)


def test_ledger_traffic_is_deterministic_and_varied() -> None:
    accounts = [SimAccount("a1", "EUR"), SimAccount("a2", "EUR"), SimAccount("b1", "JPY")]
    first = list(itertools.islice(ledger_sim.traffic(5, accounts), 500))
    assert first == list(itertools.islice(ledger_sim.traffic(5, accounts), 500))
    assert first != list(itertools.islice(ledger_sim.traffic(6, accounts), 500))
    actors = {actor for actor, _ in first}
    assert {"card-gateway", "atm-network", "mobile-app", "ops:dana"} <= actors
    kinds = Counter(command.type_name for _, command in first)
    assert kinds["withdraw"] > kinds["freeze_account"] > 0
    assert kinds["unfreeze_account"] > 0


def test_ledger_traffic_unfreezes_accounts_found_frozen() -> None:
    accounts = [SimAccount("a1", "EUR", frozen=True), SimAccount("a2", "EUR")]
    first = list(itertools.islice(ledger_sim.traffic(1, accounts), 40))
    assert any(
        c.type_name == "unfreeze_account" and c.account_id == "a1"  # type: ignore[attr-defined]
        for _, c in first
    )


def test_ledger_traffic_needs_an_account() -> None:
    with pytest.raises(InvalidInput, match="at least one account"):
        ledger_sim.traffic(1, [])


# -- inventory ---------------------------------------------------------------------


def test_inventory_refusals_are_named_and_every_command_runs() -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    inventory_sim.run_simulation(
        _bus(store, INVENTORY), store, 50, 20, 2, clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    kept = {r.reason for r in store.refusals()}
    assert {s.detail for s in steps if s.outcome == "refused"} <= kept
    reasons = " ".join(kept)
    for expected in ("on hand", "to itself", "is not registered", "still holds stock"):
        assert expected in reasons
    ok = Counter(s.command.type_name for s in steps if s.outcome == "ok")
    assert set(ok) == set(INVENTORY.command_by_name)  # discontinuations included


def test_existing_products_are_discovered_and_used() -> None:
    store, clock = _store(), FakeTime()
    store.append_bulk(inventory_demo(3000, 4))
    products = discover_products(store)
    events = store.read_all()
    gone = {e.data["sku"] for e in events if e.type == "ProductDiscontinued"}
    registered = {e.data["sku"] for e in events if e.type == "ProductRegistered"}
    assert gone and {p.sku for p in products} == registered - gone
    for product in products:
        opened = [e.data["warehouse"] for e in events
                  if e.type == "StockLocationOpened" and e.data["sku"] == product.sku]  # fmt: skip
        assert list(product.warehouses) == opened
    head = store.head().position
    steps: list[SimulationStep] = []
    stats = inventory_sim.run_simulation(
        _bus(store, INVENTORY), store, 10, 5, 4, clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    assert stats.registered == 0 and stats.commands == 50
    assert store.head().position == head + stats.events
    used = {s.command.sku for s in steps}  # type: ignore[attr-defined]
    known = {p.sku for p in products}
    assert {sku for sku in used if not sku.startswith("SIM-")} - known <= {
        sku[:-1] + c for sku in known for c in "QZ"
    }  # mistyped SKUs are the only strangers


def test_product_discovery_samples_big_stores() -> None:
    store = _store()
    store.append_bulk(inventory_demo(3000, 4))
    sample = discover_products(store, limit=5, seed=9)
    assert len(sample) == 5 and sample == discover_products(store, limit=5, seed=9)
    assert sample == sorted(sample, key=lambda p: p.sku)


def test_inventory_traffic_is_deterministic_and_varied() -> None:
    products = [SimProduct("A-1", "each", ("ams-central",)), SimProduct("B-2", "box")]
    first = list(itertools.islice(inventory_sim.traffic(5, products, lambda sku, w: 10), 500))
    assert first == list(
        itertools.islice(inventory_sim.traffic(5, products, lambda sku, w: 10), 500)
    )
    assert first != list(
        itertools.islice(inventory_sim.traffic(6, products, lambda sku, w: 10), 500)
    )
    kinds = Counter(command.type_name for _, command in first)
    assert kinds["ship_stock"] > kinds["receive_stock"] > kinds["adjust_stock"] > 0
    assert kinds["move_stock"] > 0 and kinds["register_product"] > 0
    actors = {actor for actor, _ in first}
    assert {"webshop", "b2b-edi", "replenishment-bot", "catalog:maria"} <= actors


def test_inventory_traffic_without_the_books_sends_no_counts() -> None:
    products = [SimProduct("A-1", "each", ("ams-central",))]
    first = list(itertools.islice(inventory_sim.traffic(5, products), 300))
    assert not [c for _, c in first if c.type_name == "adjust_stock"]


def test_inventory_traffic_needs_a_product() -> None:
    with pytest.raises(InvalidInput, match="at least one product"):
        inventory_sim.traffic(1, [])
