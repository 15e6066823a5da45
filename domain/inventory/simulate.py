"""Live traffic for `eventscope --domain inventory simulate`: warehouses at work.

`traffic(seed, products, on_hand)` is an endless, deterministic stream of (actor,
command) pairs: orders shipped, supplier deliveries, replenishment moves, stock-takes,
now and then a new product (some soon discontinued again), and attempts the rules
refuse (orders beyond the stock, moves to the same warehouse, mistyped SKUs, SKUs
registered twice, discontinuing a product that still holds stock). Orders do not
know the stock, so the real rules decide, as they would live; stock-takes read the
books through `on_hand` so that counts are near the truth.

`run_simulation` runs that stream through the real `CommandBus` at a steady rate
(`domain.simulation.run_paced`), finding the products to use in the store (and
registering a few, with stock, if there are none).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, cast

from domain.bus import CommandBus
from domain.errors import InvalidInput
from domain.inventory.aggregates import PRODUCT, STOCK, stock_key
from domain.inventory.commands import (
    AdjustStock,
    DiscontinueProduct,
    MoveStock,
    ReceiveStock,
    RegisterProduct,
    ShipStock,
)
from domain.inventory.demo_names import (
    COUNT_REASONS,
    CUSTOMERS,
    DISCONTINUE_REASONS,
    FOUND_REASONS,
    LOSS_REASONS,
    WAREHOUSES,
)
from domain.inventory.events import Unit
from domain.messages import Command
from domain.simulation import (
    OnResult,
    Setup,
    SimulationStats,
    StreamSource,
    check_pace,
    run_paced,
    stream_sample,
)

OnHand = Callable[[str, str], int]
"""`on_hand(sku, warehouse)`: the units the books hold now."""

_CLERKS = {w.id: w.clerk for w in WAREHOUSES}
_CENTRAL = tuple(w.id for w in WAREHOUSES if w.central)

STARTER_PRODUCTS: tuple[tuple[str, str, Unit], ...] = (
    ("BOLT-M8-40-ZN", "Hex bolt M8 x 40 mm, zinc plated", "box"),
    ("GLV-NIT-M", "Work gloves nitrile, size M", "pair"),
    ("CBL-25-BU", "Copper cable 2.5 mm², blue", "m"),
    ("LED-E27-9W-WW", "LED bulb E27 9 W, warm white", "each"),
    ("TAPE-48-CL", "Packing tape 48 mm, clear", "roll"),
    ("PNT-WH-5L", "Wall paint white, 5 l", "each"),
)
"""What a simulation registers (and stocks) in a store that has no products."""


@dataclass(frozen=True, slots=True)
class SimProduct:
    """A product the traffic may use, with the warehouses that hold a stock record of it."""

    sku: str
    unit: str
    warehouses: tuple[str, ...] = ()


@dataclass
class InventorySimulationStats(SimulationStats):
    """What an inventory simulation did: outcomes, plus the products it used."""

    products: int = 0
    """Products the traffic used."""
    registered: int = 0
    """Products the simulation registered itself (in a store that had none)."""

    def to_json_dict(self) -> dict[str, Any]:
        return {**super().to_json_dict(), "products": self.products, "registered": self.registered}


def discover_products(store: StreamSource, *, limit: int = 500, seed: int = 0) -> list[SimProduct]:
    """Products in `store` that are not discontinued, by SKU: at most `limit`, a seeded
    sample if more. Reads only product streams, which are short (a registration, one
    event per warehouse stocked, a discontinuation)."""
    found: list[SimProduct] = []
    for summary in stream_sample(store, PRODUCT.stream_id(""), limit=limit, seed=seed):
        if len(found) >= limit:
            break
        events = store.read_stream(summary.stream_id)
        if not events or events[0].type != "ProductRegistered":
            continue
        if any(e.type == "ProductDiscontinued" for e in events):
            continue
        warehouses = tuple(
            str(e.data["warehouse"]) for e in events if e.type == "StockLocationOpened"
        )
        unit = str(events[0].data["unit"])
        found.append(SimProduct(PRODUCT.key_of(summary.stream_id), unit, warehouses))
    return sorted(found, key=_sku)


def _sku(product: SimProduct) -> str:
    return product.sku


def traffic(
    seed: int, products: Sequence[SimProduct], on_hand: OnHand | None = None
) -> Iterator[tuple[str, Command]]:
    """An endless, deterministic mix of (actor, command) over `products`.

    Needs at least one product. Without `on_hand` no stock-takes are sent (a count
    needs to know roughly what is on the shelf).
    """
    if not products:
        raise InvalidInput("the simulation needs at least one product")
    return _Traffic(seed, products, on_hand).run()


class _Traffic:
    def __init__(self, seed: int, products: Sequence[SimProduct], on_hand: OnHand | None):
        self.rng = random.Random(seed)
        self.on_hand = on_hand
        self.products = [p.sku for p in products]
        self.units = {p.sku: p.unit for p in products}
        # Where each product is believed to be stocked: what discovery found, plus
        # where this traffic sent goods (optimistic: a refused receipt changes nothing).
        self.stocked: dict[str, list[str]] = {p.sku: list(p.warehouses) for p in products}
        self.step = 0
        self.due: list[tuple[int, str, Command]] = []
        """Follow-ups (due step, actor, command), earliest first."""
        self.orders = 0

    def run(self) -> Iterator[tuple[str, Command]]:
        while True:
            self.step += 1
            if self.due and self.due[0][0] <= self.step:
                _, actor, command = self.due.pop(0)
                yield actor, command
                continue
            yield self._next()

    def _later(self, steps: int, actor: str, command: Command) -> None:
        self.due.append((self.step + steps, actor, command))
        self.due.sort(key=lambda item: item[0])

    def _next(self) -> tuple[str, Command]:
        rng = self.rng
        sku = rng.choice(self.products)
        stocked = self.stocked[sku]
        r = rng.random()
        if r < 0.55 and stocked:
            return self._ship(sku, rng.choice(stocked))
        if r < 0.72 or not stocked:
            return self._receive(sku, rng.choice(stocked) if stocked else rng.choice(_CENTRAL))
        if r < 0.84:
            source = rng.choice(stocked)
            target = rng.choice([w.id for w in WAREHOUSES if w.id != source])
            if target not in stocked:
                stocked.append(target)
            quantity = rng.randint(5, 60)
            return "replenishment-bot", MoveStock(
                sku=sku, from_warehouse=source, to_warehouse=target, quantity=quantity
            )
        if r < 0.91 and self.on_hand is not None:
            return self._count(sku, rng.choice(stocked))
        if r < 0.93:
            return self._new_product()
        return self._mistake(sku, rng.choice(stocked))

    def _ship(self, sku: str, warehouse: str) -> tuple[str, Command]:
        rng = self.rng
        self.orders += 1
        if rng.random() < 0.6:
            actor, reference = "webshop", f"SO-SIM-{self.orders:06d}"
            quantity = rng.randint(1, 8)
        elif rng.random() < 0.7:
            customer = rng.choice(CUSTOMERS)
            actor, reference = "b2b-edi", f"B2B-{customer}-SIM{self.orders:05d}"
            quantity = rng.randint(5, 60)
        else:
            actor, reference = "marketplace", f"MKT-SIM-{self.orders:07d}"
            quantity = rng.randint(1, 4)
        command = ShipStock(sku=sku, warehouse=warehouse, quantity=quantity, order_ref=reference)
        return actor, command

    def _receive(self, sku: str, warehouse: str) -> tuple[str, Command]:
        rng = self.rng
        if warehouse not in self.stocked[sku]:
            self.stocked[sku].append(warehouse)
        reference = f"DN-SIM-{rng.randrange(10**6):06d}"
        command = ReceiveStock(
            sku=sku, warehouse=warehouse, quantity=rng.randint(40, 400), supplier_ref=reference
        )
        return _CLERKS.get(warehouse, "goods-in"), command

    def _count(self, sku: str, warehouse: str) -> tuple[str, Command]:
        rng = self.rng
        books = self.on_hand(sku, warehouse) if self.on_hand is not None else 0
        r = rng.random()
        if r < 0.6 or books == 0:
            counted, reason = books, rng.choice(COUNT_REASONS)
        elif r < 0.9:
            counted = books - max(1, round(books * rng.uniform(0.005, 0.04)))
            reason = rng.choice(LOSS_REASONS)
        else:
            counted = books + max(1, round(books * rng.uniform(0.002, 0.01)))
            reason = rng.choice(FOUND_REASONS)
        actor = "auditor:pia" if rng.random() < 0.2 else _CLERKS.get(warehouse, "stock-taker")
        command = AdjustStock(sku=sku, warehouse=warehouse, counted=max(0, counted), reason=reason)
        return actor, command

    def _new_product(self) -> tuple[str, Command]:
        """A new product; half of them are delisted again before any stock arrives."""
        rng = self.rng
        sku = f"SIM-{rng.getrandbits(32):08X}"
        command = RegisterProduct(sku=sku, name=f"Trial product {sku[4:]}", unit="each")
        if rng.random() < 0.5:
            self.products.append(sku)
            self.units[sku] = "each"
            self.stocked[sku] = []
        else:
            delisting = DiscontinueProduct(sku=sku, reason=rng.choice(DISCONTINUE_REASONS))
            self._later(rng.randrange(5, 40), "catalog:maria", delisting)
        return "catalog:maria", command

    def _mistake(self, sku: str, warehouse: str) -> tuple[str, Command]:
        """Something the rules refuse (or, rarely, accept: discontinuing an empty product)."""
        rng = self.rng
        kind = rng.randrange(4)
        if kind == 0:
            return _CLERKS.get(warehouse, "goods-in"), MoveStock(
                sku=sku, from_warehouse=warehouse, to_warehouse=warehouse, quantity=1
            )
        if kind == 1:
            typo = sku[:-1] + ("Q" if sku[-1] != "Q" else "Z")
            return _CLERKS.get(warehouse, "goods-in"), ReceiveStock(
                sku=typo, warehouse=warehouse, quantity=10, supplier_ref="DN-SIM-TYPO"
            )
        if kind == 2:
            unit = cast(Unit, self.units[sku])
            return "catalog:maria", RegisterProduct(sku=sku, name="Duplicate entry", unit=unit)
        return "catalog:maria", DiscontinueProduct(sku=sku, reason="range review")


def register_starter_products(bus: CommandBus, setup: Setup, seed: int) -> list[SimProduct]:
    """Register and stock a few products (`BOLT-M8-40-ZN`...) in a store that has none."""
    rng = random.Random(seed)
    products: list[SimProduct] = []
    for sku, name, unit in STARTER_PRODUCTS:
        registration = RegisterProduct(sku=sku, name=name, unit=unit)
        if setup.run("catalog:maria", registration).outcome != "ok":
            continue  # the SKU is taken (by a discontinued product): leave it
        warehouses = []
        for warehouse in _CENTRAL:
            delivery = ReceiveStock(
                sku=sku,
                warehouse=warehouse,
                quantity=rng.randint(200, 800),
                supplier_ref=f"DN-SIM-{rng.randrange(10**6):06d}",
            )
            if setup.run(_CLERKS[warehouse], delivery).outcome == "ok":
                warehouses.append(warehouse)
        products.append(SimProduct(sku, unit, tuple(warehouses)))
    return products


def run_simulation(
    bus: CommandBus,
    store: StreamSource,
    rate: float,
    duration: float | None,
    seed: int,
    pace: Callable[[float], None],
    *,
    monotonic: Callable[[], float],
    on_result: OnResult | None = None,
    stop: Callable[[], bool] | None = None,
    max_accounts: int = 500,
) -> InventorySimulationStats:
    """Send `rate` commands a second for `duration` seconds through `bus`.

    The same contract as the ledger's `run_simulation` (see `domain.simulation.run_paced`
    for pacing and `stop`). Products come from `store` (see
    `discover_products`; `max_accounts`, named as the ledger names it, caps how many);
    if it has none, a few are registered and stocked first (those commands are
    counted, but not paced).
    """
    check_pace(rate, duration)
    stats = InventorySimulationStats()
    products = discover_products(store, limit=max_accounts, seed=seed)
    if not products:
        products = register_starter_products(bus, Setup(bus, stats, on_result), seed)
        stats.registered = len(products)
    if not products:
        raise InvalidInput("no product could be registered for the simulation")
    stats.products = len(products)

    def on_hand(sku: str, warehouse: str) -> int:
        return bus.load(STOCK, stock_key(sku, warehouse))[1].on_hand

    run_paced(
        bus,
        traffic(seed, products, on_hand),
        stats,
        rate,
        duration,
        pace=pace,
        monotonic=monotonic,
        on_result=on_result,
        stop=stop,
    )
    return stats
