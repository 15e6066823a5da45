"""Live inventory traffic: real bus, in-memory store, a fake sleep and clock (no real waiting)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.errors import InvalidInput
from domain.inventory import INVENTORY
from domain.inventory.demo import generate_demo
from domain.inventory.description import INVENTORY_DOMAIN
from domain.inventory.simulate import (
    STARTER_PRODUCTS,
    SimProduct,
    discover_products,
    run_simulation,
    traffic,
)
from domain.simulation import SimulationStep
from store.memory import InMemoryEventStore


class FakeTime:
    """`monotonic` and `sleep` over a number that only sleeping moves."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _bus(store: InMemoryEventStore) -> CommandBus:
    return CommandBus(store, INVENTORY, clock=StepClock(), ids=SequentialIds("sim"))


def _store() -> InMemoryEventStore:
    return InMemoryEventStore(clock=StepClock())


def test_an_empty_store_gets_starter_products_then_paced_traffic() -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    assert INVENTORY_DOMAIN.simulate is run_simulation
    stats = run_simulation(
        _bus(store), store, 20, 10, 1, clock.sleep, monotonic=clock.monotonic,
        on_result=steps.append,
    )  # fmt: skip
    setup = [s for s in steps if s.index < 0]
    paced = [s for s in steps if s.index >= 0]
    assert stats.registered == stats.products == len(STARTER_PRODUCTS)
    assert len(setup) == 3 * len(STARTER_PRODUCTS) and all(s.outcome == "ok" for s in setup)
    assert [s.index for s in paced] == list(range(200))
    assert clock.now == pytest.approx(100.0 + 199 / 20)
    assert stats.commands == len(steps) == 218
    assert stats.ok > 150 and stats.refused > 3 and stats.conflicts == stats.invalid == 0
    assert stats.events == store.head().position
    assert len(store.refusals()) == stats.refused
    assert store.verify().ok
    assert stats.to_json_dict()["products"] == 6
    assert set(stats.to_json_dict()) >= {"commands", "ok", "refused", "events", "by_type"}
    assert paced[0].to_json_dict()["type"] == paced[0].command.type_name


def test_refusals_are_the_rules_own_words_and_every_command_runs() -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    run_simulation(
        _bus(store), store, 50, 20, seed=2, clock_sleep=clock.sleep,
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
    store.append_bulk(generate_demo(3000, 4))
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
    stats = run_simulation(
        _bus(store), store, 10, 5, seed=4, clock_sleep=clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    assert stats.registered == 0 and stats.commands == 50
    assert store.head().position == head + stats.events
    used = {s.command.sku for s in steps}  # type: ignore[attr-defined]
    known = {p.sku for p in products}
    assert {sku for sku in used if not sku.startswith("SIM-")} - known <= {
        sku[:-1] + c for sku in known for c in "QZ"
    }  # mistyped SKUs are the only strangers


def test_discovery_samples_big_stores() -> None:
    store = _store()
    store.append_bulk(generate_demo(3000, 4))
    sample = discover_products(store, limit=5, seed=9)
    assert len(sample) == 5 and sample == discover_products(store, limit=5, seed=9)
    assert sample == sorted(sample, key=lambda p: p.sku)


def test_traffic_is_deterministic_and_varied() -> None:
    products = [SimProduct("A-1", "each", ("ams-central",)), SimProduct("B-2", "box")]
    first = list(itertools.islice(traffic(5, products, lambda sku, w: 10), 500))
    assert first == list(itertools.islice(traffic(5, products, lambda sku, w: 10), 500))
    assert first != list(itertools.islice(traffic(6, products, lambda sku, w: 10), 500))
    kinds = Counter(command.type_name for _, command in first)
    assert kinds["ship_stock"] > kinds["receive_stock"] > kinds["adjust_stock"] > 0
    assert kinds["move_stock"] > 0 and kinds["register_product"] > 0
    actors = {actor for actor, _ in first}
    assert {"webshop", "b2b-edi", "replenishment-bot", "catalog:maria"} <= actors


def test_traffic_without_the_books_sends_no_counts() -> None:
    products = [SimProduct("A-1", "each", ("ams-central",))]
    first = list(itertools.islice(traffic(5, products), 300))
    assert not [c for _, c in first if c.type_name == "adjust_stock"]


def test_traffic_needs_a_product() -> None:
    with pytest.raises(InvalidInput, match="at least one product"):
        traffic(1, [])


def test_open_ended_run_stops_when_asked_or_on_ctrl_c() -> None:
    store, clock = _store(), FakeTime()
    bus = _bus(store)
    seen: list[SimulationStep] = []
    stats = run_simulation(
        bus, store, 5, None, seed=3, clock_sleep=clock.sleep, monotonic=clock.monotonic,
        on_result=seen.append, stop=lambda: len([s for s in seen if s.index >= 0]) >= 30,
    )  # fmt: skip
    assert stats.commands - 18 == 30
    deadline = clock.now + 10

    def interrupted(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now > deadline:
            raise KeyboardInterrupt

    stats = run_simulation(
        bus, store, 5, None, seed=3, clock_sleep=interrupted, monotonic=clock.monotonic
    )
    assert stats.registered == 0 and 45 <= stats.commands <= 55


def test_a_late_run_never_sleeps() -> None:
    store, clock = _store(), FakeTime()

    def slow_clock() -> float:
        clock.now += 0.5
        return clock.now

    stats = run_simulation(
        _bus(store), store, 10, 2, seed=1, clock_sleep=clock.sleep, monotonic=slow_clock
    )
    # 20 commands were due in 2 s, but readings at +0.5, +1.0 and +1.5 s send three and
    # the one at +2.0 s ends the run: a slow store cannot stretch the duration.
    assert stats.commands - 18 == 3 and clock.sleeps == []


@pytest.mark.parametrize(
    ("rate", "duration", "message"),
    [
        (0, 1, "rate must be more than 0"),
        (-1, 1, "rate"),
        (1, -1, "duration must be 0 or more"),
        (1, float("inf"), "finite"),
        (float("inf"), 1, "rate"),
        (float("nan"), 1, "rate"),
        (1, float("nan"), "duration"),
    ],
)
def test_bad_rate_or_duration_is_invalid_input(rate: float, duration: float, message: str) -> None:
    store = _store()
    with pytest.raises(InvalidInput, match=message):
        run_simulation(_bus(store), store, rate, duration, seed=1)
    assert store.head().position == 0
