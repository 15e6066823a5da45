"""Deterministic demo history for the inventory: months of a wholesaler's warehouses, by the rules.

`generate_demo(events, seed)` yields `PendingEvent`s (for the store's bulk path) and
`Refusal`s (for its audit table) in the order they happened. Every command is
decided by the inventory's real handlers over in-memory state (`InMemoryDecider`),
so every event is one the rules would have recorded at that point, and every refusal
carries the reason the rules give. The same seed always yields the same history,
byte for byte: all randomness comes from one `random.Random(seed)` and time is
simulated. 100,000 events take about 2.5 s of CPU.

The story, so the app's panels and scrubber have something to show:
- a catalog import registers most products at go-live, with their opening stock booked
  into their central warehouse; `catalog:maria` registers the rest on weekdays, and
  the first delivery follows a few days later;
- two central warehouses receive from suppliers (weekday mornings, each delivery with
  the supplier's delivery note), when a product's stock runs low;
- `replenishment-bot` moves stock to the four regional warehouses at night, in runs
  that share a correlation id; clerks move stock by hand now and then;
- orders ship all day from `webshop`, `b2b-edi` and `marketplace`: busy weekday
  afternoons before the cut-off, quiet nights, quieter weekends;
- clerks count shelves on weekday evenings (cycle counts), and `auditor:pia` checks
  some: most counts confirm the books, many find a few units missing, some find
  surplus, and now and then a large loss;
- a few products are phased out: purchasing stops, the remaining stock is sold to a
  liquidator (or written off), then `catalog:maria` discontinues them;
- now and then a mistake a rule refuses: an oversold order, a move to the same
  warehouse, a mistyped SKU, a SKU registered twice, a count at the wrong warehouse,
  a discontinuation while stock remains, a late delivery of a discontinued product.
"""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from domain.decider import InMemoryDecider, trusted
from domain.demo_engine import DAY, HOUR, MINUTE, SECOND, DemoHistory, poisson
from domain.demo_pool import WeightedPool
from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput
from domain.inventory import INVENTORY
from domain.inventory.aggregates import Product, Stock
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
    FAMILIES,
    FOUND_REASONS,
    LOSS_REASONS,
    SUPPLIERS,
    WAREHOUSES,
    Family,
    Supplier,
)

DEFAULT_START = "2026-01-05T06:00:00Z"
"""A Monday morning: the day the demo wholesaler goes live on eventscope."""

EVENTS_PER_PRODUCT = 300
"""About one product per this many events (at least `MIN_PRODUCTS`, at most all ~500)."""
MIN_PRODUCTS = 24
EVENTS_PER_DAY = 1500
"""About this many events per simulated day, within `MIN_DAYS`..`MAX_DAYS` days."""
MIN_DAYS = 30
MAX_DAYS = 365

CLERKS = tuple(w.clerk for w in WAREHOUSES)
ACTORS = (
    *CLERKS,
    "catalog-import",
    "catalog:maria",
    "webshop",
    "b2b-edi",
    "marketplace",
    "replenishment-bot",
    "auditor:pia",
)
"""Everyone who acts in the demo history."""

_SECOND = SECOND
_MINUTE = MINUTE
_HOUR = HOUR
_DAY = DAY

_CENTRAL = tuple(w.id for w in WAREHOUSES if w.central)
_REGIONAL = tuple(w.id for w in WAREHOUSES if not w.central)
_CLERK = {w.id: w.clerk for w in WAREHOUSES}

# Relative order traffic per hour (UTC): quiet nights, busy afternoons before the cut-off.
_WEEKDAY_HOURS = (
    0.1, 0.06, 0.05, 0.05, 0.08, 0.2, 0.6, 1.0, 1.4, 1.6, 1.7, 1.6,
    1.5, 1.7, 1.9, 2.0, 1.6, 1.2, 0.9, 0.7, 0.5, 0.35, 0.25, 0.15,
)  # fmt: skip
_WEEKEND_HOURS = (
    0.1, 0.05, 0.04, 0.04, 0.05, 0.08, 0.15, 0.3, 0.5, 0.7, 0.8, 0.8,
    0.8, 0.7, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15,
)  # fmt: skip
_WEEKDAY_CUM = list(itertools.accumulate(_WEEKDAY_HOURS))
_WEEKEND_CUM = list(itertools.accumulate(_WEEKEND_HOURS))
_DAY_WEIGHTS = (1.0, 1.05, 1.05, 1.1, 1.15, 0.45, 0.2)  # Monday .. Sunday
_SHIP_SHARE = 0.82
"""About this share of the events are shipments; deliveries, moves and counts the rest."""


@dataclass(slots=True)
class _Item:
    """How a product behaves in the story: the demo's bookkeeping, not inventory state."""

    sku: str
    name: str
    family: Family
    supplier: Supplier
    copies: int
    """How often it sits in the order pool: some products sell far more."""
    home: str
    """The central warehouse its deliveries go to."""
    regions: tuple[str, ...]
    """Regional warehouses it is replenished to."""
    daily: float
    """Units it sells a day, about."""
    on_order: bool = False
    phasing_out: bool = False
    discontinued: bool = False
    tries: int = 0
    """Attempts to discontinue it after clearing its stock, so far."""
    locations: list[str] = field(default_factory=list)
    """Warehouses it was stocked at, as the demo knows them."""


class _DemoHistory(DemoHistory):
    """Plans simulated days and plays their actions through an `InMemoryDecider`, in order."""

    def __init__(self, events: int, seed: int, start: str) -> None:
        days = min(MAX_DAYS, max(MIN_DAYS, events // EVENTS_PER_DAY))
        super().__init__(events, seed, start, days, _DAY_WEIGHTS)
        self.decider = InMemoryDecider(INVENTORY, random.Random(self.rng.getrandbits(64)))
        self.items = self._catalog(max(MIN_PRODUCTS, events // EVENTS_PER_PRODUCT))
        self.by_sku = {item.sku: item for item in self.items}
        self._go_live: list[_Item] = []
        self.registered: list[str] = []
        self.orderable = WeightedPool()
        """Products that sell: registered, not discontinued."""
        self.numbers: dict[str, itertools.count[int]] = {}
        self._later = self._plan_registrations()

    # -- the catalog -------------------------------------------------------------------
    def _catalog(self, wanted: int) -> list[_Item]:
        """`wanted` products (at most all there are) drawn from the families, with profiles."""
        rng = self.rng
        every = [
            (family, combo) for family in FAMILIES for combo in itertools.product(*family.variants)
        ]
        chosen = rng.sample(every, min(wanted, len(every)))
        events_per_day = self.target / self.days
        weights = [family.popularity * (1 + 6 * rng.random() ** 3) for family, _ in chosen]
        per_weight = events_per_day * _SHIP_SHARE / sum(weights) if weights else 0.0
        items = []
        for (family, combo), weight in zip(chosen, weights, strict=True):
            regions = tuple(rng.sample(_REGIONAL, rng.choice((0, 1, 2, 2, 3))))
            items.append(
                _Item(
                    sku="-".join([family.sku, *(part[0] for part in combo)]),
                    name=family.name.format(*(part[1] for part in combo)),
                    family=family,
                    supplier=rng.choice(SUPPLIERS[family.group]),
                    copies=max(1, round(weight * 2)),
                    home=rng.choice(_CENTRAL),
                    regions=regions,
                    daily=per_weight * weight * _mean_order(family),
                )
            )
        return items

    def _plan_registrations(self) -> dict[int, list[_Item]]:
        """Which products `catalog:maria` registers on which day (the rest go live at once)."""
        at_go_live = max(1, math.ceil(len(self.items) * 0.7))
        weekdays = [
            d
            for d in range(1, max(2, self.days * 3 // 4))
            if (self.first_day + timedelta(days=d)).weekday() < 5
        ]
        later: dict[int, list[_Item]] = {}
        for item in self.items[at_go_live:]:
            day = weekdays[int(self.rng.random() * len(weekdays))] if weekdays else 1
            later.setdefault(day, []).append(item)
        self._go_live = self.items[:at_go_live]
        return later

    # -- time --------------------------------------------------------------------------
    def _next_morning(self, at_us: int) -> int:
        """A weekday delivery time (06:00-12:00) at or after `at_us`."""
        day, rest = divmod(at_us, _DAY)
        if rest >= 11 * _HOUR:
            day, rest = day + 1, 0
        while self._weekday(day) >= 5:
            day, rest = day + 1, 0
        earliest = max(rest, 6 * _HOUR)
        return day * _DAY + earliest + int(self.rng.random() * (12 * _HOUR - earliest))

    def _number(self, series: str) -> int:
        counter = self.numbers.get(series)
        if counter is None:
            counter = self.numbers[series] = itertools.count(1)
        return next(counter)

    # -- state, as the rules see it ----------------------------------------------------
    def _stock(self, sku: str, warehouse: str) -> int:
        state = self.decider.states.get(f"stock-{sku}@{warehouse}")
        return state.on_hand if isinstance(state, Stock) else 0

    def _product(self, sku: str) -> Product | None:
        state = self.decider.states.get(f"product-{sku}")
        return state if isinstance(state, Product) else None

    def _execute(
        self, actor: str, model: type[Any], fields: dict[str, Any], corr: str = ""
    ) -> bool:
        """Decide one command whose fields the demo minted (valid by construction)."""
        command = trusted(model, fields)
        return self.decider.execute(actor, command, corr, corr, fields) is not None

    # -- the days ----------------------------------------------------------------------
    def _plan_day(self, day: int) -> None:
        """Schedule one simulated day: its fixed jobs, then orders to its event budget.

        The budget is the events still due, shared by weight among the days left, so
        a day that fell short (refusals, empty shelves) is made up by the next ones.
        """
        start = self._begin_day(day)
        weekday = self._weekday(day)
        planned = 0.0
        if day == 0:
            planned += self._plan_go_live(self.start_us)
        for item in self._later.get(day, ()):
            self._at(start + int((8.5 + 8 * self.rng.random()) * _HOUR), self._register, item)
            planned += 1
        if day > 0:
            planned += self._plan_deliveries(start)
            planned += self._plan_replenishment(start)
        if weekday < 5 and day > 0:
            planned += self._plan_counts(start)
            planned += self._plan_phase_outs(start)
        slots = max(0, round(self._budget(day) - planned))
        rng = self.rng
        for hour, offset in self._slots(day, slots, _WEEKDAY_CUM, _WEEKEND_CUM):
            r = rng.random()
            if r < 0.008:
                action = self._mistake
            elif r < 0.02 and 8 <= hour < 18 and weekday < 5:
                action = self._rebalance
            else:
                action = self._ship
            self._at(start + offset, action)

    # -- the catalog over time ---------------------------------------------------------
    def _plan_go_live(self, at_us: int) -> float:
        """The go-live import: products registered, then their opening stock booked in."""
        batch = self.decider.new_id()
        for i, item in enumerate(self._go_live):
            self._at(at_us + i * 200_000, self._import_one, item, batch)
        opening = at_us + len(self._go_live) * 200_000 + 30 * _SECOND
        for i, item in enumerate(self._go_live):
            self._at(opening + i * 300_000, self._opening_stock, item, batch)
        return 3.0 * len(self._go_live)

    def _import_one(self, item: _Item, batch: str) -> None:
        self._register(item, "catalog-import", batch)

    def _register(self, item: _Item, actor: str = "catalog:maria", corr: str = "") -> None:
        fields = {"sku": item.sku, "name": item.name, "unit": item.family.unit}
        if self._room < 1 or not self._execute(actor, RegisterProduct, fields, corr):
            return
        self.registered.append(item.sku)
        self.orderable.add(item.sku, item.copies)
        if actor != "catalog-import":
            # The first delivery, a few days after the product is listed.
            later = self._next_morning(self.now_us + int(self.rng.uniform(1, 5) * _DAY))
            item.on_order = True
            self._at(later, self._deliver, item)

    def _opening_stock(self, item: _Item, batch: str) -> None:
        if self._room >= 2 and item.sku in self.orderable:
            self._receive(item, "opening stock take-on", self._lot(item) // 2 + 1, batch)

    def _lot(self, item: _Item) -> int:
        """A delivery's size: two to four weeks of sales, at least the supplier's minimum."""
        low, high = item.family.lot
        units = max(low, int(item.daily * self.rng.uniform(14, 28)))
        units = min(units, high * 20)
        return units if units < 100 else units // 10 * 10

    def _receive(self, item: _Item, reference: str, quantity: int, corr: str = "") -> None:
        fields = {
            "sku": item.sku,
            "warehouse": item.home,
            "quantity": quantity,
            "supplier_ref": reference,
        }
        if self._execute(_CLERK[item.home], ReceiveStock, fields, corr) and (
            item.home not in item.locations
        ):
            item.locations.append(item.home)

    # -- deliveries and replenishment --------------------------------------------------
    def _plan_deliveries(self, start: int) -> float:
        """Order what runs low: a delivery arrives one to four weekdays later."""
        planned = 0.0
        for sku in self.registered:
            item = self._item(sku)
            if item.on_order or item.phasing_out or item.discontinued:
                continue
            total = sum(self._stock(sku, w) for w in item.locations)
            if total < item.daily * 8 + 1:
                item.on_order = True
                at = self._next_morning(start + int(self.rng.uniform(1, 4) * _DAY))
                self._at(at, self._deliver, item)
                planned += 1
        return planned

    def _item(self, sku: str) -> _Item:
        return self.by_sku[sku]

    def _deliver(self, item: _Item) -> None:
        """A supplier delivery; one for a product discontinued meanwhile is refused."""
        item.on_order = False
        if self._room < 2 or (item.phasing_out and not item.discontinued):
            return  # purchasing cancelled the order
        number = self._number(item.supplier.code)
        reference = f"{item.supplier.code}-DN-{number:06d}"
        self._receive(item, reference, self._lot(item))

    def _plan_replenishment(self, start: int) -> float:
        """Tonight's run: top up regional warehouses from their product's central one."""
        run = ""
        planned = 0.0
        at = start + int(1.5 * _HOUR)
        for sku in self.registered:
            item = self._item(sku)
            if item.phasing_out or item.discontinued or not item.regions:
                continue
            home = self._stock(sku, item.home)
            share = item.daily / (len(item.regions) + 1)
            for region in item.regions:
                level = self._stock(sku, region)
                if level < share * 3 + 1 and home > share * 6 + 1:
                    quantity = max(1, min(home // 3, int(share * 10) - level))
                    home -= quantity
                    run = run or self.decider.new_id()
                    self._at(at, self._replenish, item, region, quantity, run)
                    at += int(self.rng.uniform(20, 90) * _SECOND)
                    planned += 2
        return planned

    def _replenish(self, item: _Item, region: str, quantity: int, run: str) -> None:
        if item.discontinued or self._room < 3:
            return
        quantity = min(quantity, self._stock(item.sku, item.home))
        if quantity > 0:
            self._move("replenishment-bot", item, item.home, region, quantity, run)

    def _move(
        self, actor: str, item: _Item, source: str, target: str, quantity: int, corr: str = ""
    ) -> None:
        fields = {
            "sku": item.sku,
            "from_warehouse": source,
            "to_warehouse": target,
            "quantity": quantity,
        }
        if self._execute(actor, MoveStock, fields, corr) and target not in item.locations:
            item.locations.append(target)

    def _rebalance(self) -> None:
        """A clerk moves stock by hand from the fullest warehouse to the emptiest."""
        item = self._pick()
        if item is None or len(item.locations) < 2 or self._room < 2:
            return
        levels = sorted((self._stock(item.sku, w), w) for w in item.locations)
        (low, target), (high, source) = levels[0], levels[-1]
        if high < 4 or high <= low * 2:
            return
        self._move(_CLERK[target], item, source, target, (high - low) // 2)

    # -- orders ------------------------------------------------------------------------
    def _pick(self) -> _Item | None:
        sku = self.orderable.pick(self.rng)
        return None if sku is None else self._item(sku)

    def _ship(self) -> None:
        """An order from one of the channels, from a warehouse that has the product."""
        item = self._pick()
        if item is None or not item.locations:
            return
        rng = self.rng
        warehouse = item.locations[int(rng.random() * len(item.locations))]
        on_hand = self._stock(item.sku, warehouse)
        if on_hand == 0:
            return  # the shop shows it out of stock there
        low, high = item.family.order
        r = rng.random()
        if r < 0.55:
            actor, reference = "webshop", f"SO-2026-{self._number('SO'):06d}"
        elif r < 0.85:
            customer = CUSTOMERS[int(rng.random() * len(CUSTOMERS))]
            actor, reference = "b2b-edi", f"B2B-{customer}-{self._number(customer):05d}"
            low, high = low * 2, high * 3
        else:
            actor, reference = "marketplace", f"MKT-{self._number('MKT'):07d}"
        quantity = min(on_hand, low + int((high - low + 1) * rng.random() ** 2))
        fields = {"sku": item.sku, "warehouse": warehouse, "quantity": quantity}
        self._execute(actor, ShipStock, {**fields, "order_ref": reference})

    # -- stock-takes -------------------------------------------------------------------
    def _plan_counts(self, start: int) -> float:
        """Weekday evening cycle counts: a few shelves in every warehouse."""
        per_warehouse = max(1, round(self.target / self.days * 0.012 / len(WAREHOUSES)))
        planned = 0.0
        for warehouse in WAREHOUSES:
            for _ in range(poisson(self.rng, per_warehouse)):
                at = start + int((16 + 3 * self.rng.random()) * _HOUR)
                self._at(at, self._count, warehouse.id)
                planned += 1
        return planned

    def _count(self, warehouse: str) -> None:
        """Count one product's shelf: usually right, often a few short, sometimes worse."""
        rng = self.rng
        stocked = [s for s in self.registered if warehouse in self._item(s).locations]
        if not stocked or self._room < 1:
            return
        item = self._item(stocked[int(rng.random() * len(stocked))])
        if item.discontinued:
            return
        on_hand = self._stock(item.sku, warehouse)
        r = rng.random()
        if r < 0.6 or on_hand == 0:
            counted, reason = on_hand, rng.choice(COUNT_REASONS)
        elif r < 0.88:
            missing = max(1, round(on_hand * rng.uniform(0.002, 0.03)))
            counted, reason = on_hand - missing, rng.choice(LOSS_REASONS)
        elif r < 0.97:
            extra = max(1, round(on_hand * rng.uniform(0.001, 0.01)))
            counted, reason = on_hand + extra, rng.choice(FOUND_REASONS)
        else:
            missing = max(1, round(on_hand * rng.uniform(0.05, 0.25)))
            counted = on_hand - missing
            reason = rng.choice(("suspected theft", "water damage", "pallet dropped"))
        actor = "auditor:pia" if rng.random() < 0.15 else _CLERK[warehouse]
        fields = {"sku": item.sku, "warehouse": warehouse, "counted": max(0, counted)}
        self._execute(actor, AdjustStock, {**fields, "reason": reason})

    # -- phasing products out ----------------------------------------------------------
    def _plan_phase_outs(self, start: int) -> float:
        """Now and then a product is phased out: about 5% of the catalog (at least 3) over
        the span."""
        rate = max(3.0, len(self.items) * 0.05) / max(1, self.days * 5 // 7)
        planned = 0.0
        for _ in range(poisson(self.rng, rate)):
            item = self._pick()
            if item is None or item.phasing_out:
                continue
            item.phasing_out = True
            decision = self.decider.new_id()
            if self.rng.random() < 0.25:  # too early: the rule refuses while stock remains
                self._at(start + int(10.5 * _HOUR), self._discontinue, item, decision, True)
            later = start + int(self.rng.uniform(4, 15)) * _DAY + int(14.5 * _HOUR)
            self._at(later, self._clear, item, decision)
            planned += 1 + len(item.locations)
        return planned

    def _clear(self, item: _Item, decision: str) -> None:
        """Sell what is left to a liquidator (or write it off), then discontinue soon after."""
        if item.discontinued:
            return
        stocked = [w for w in item.locations if self._stock(item.sku, w)]
        if self._room < len(stocked) + 1 + len(item.locations):
            return
        for warehouse in stocked:
            quantity = self._stock(item.sku, warehouse)
            if self.rng.random() < 0.8:
                fields = {
                    "sku": item.sku,
                    "warehouse": warehouse,
                    "quantity": quantity,
                    "order_ref": f"CLEARANCE-{self._number('CLR'):05d}",
                }
                self._execute("b2b-edi", ShipStock, fields, decision)
            else:
                fields = {
                    "sku": item.sku,
                    "warehouse": warehouse,
                    "counted": 0,
                    "reason": "end of life: remaining stock written off",
                }
                self._execute(_CLERK[warehouse], AdjustStock, fields, decision)
        later = self.now_us + int(self.rng.uniform(2, 30) * _MINUTE)
        self._at(later, self._discontinue, item, decision)

    def _discontinue(self, item: _Item, decision: str, early: bool = False) -> None:
        if item.discontinued or self._room < 1 + len(item.locations):
            return
        item.tries += 0 if early else 1
        reason = DISCONTINUE_REASONS[int(self.rng.random() * len(DISCONTINUE_REASONS))]
        fields = {"sku": item.sku, "reason": reason}
        if self._execute("catalog:maria", DiscontinueProduct, fields, decision):
            item.discontinued = True
            self.orderable.remove(item.sku)
            if self.rng.random() < 0.3:  # a delivery ordered long ago turns up anyway
                late = self._next_morning(self.now_us + int(self.rng.uniform(1, 6) * _DAY))
                self._at(late, self._late_delivery, item)
        elif not early and item.tries < 4:
            # Stock arrived between the clearance and now: clear again in a few days.
            later = self.now_us + int(self.rng.uniform(2, 6) * _DAY)
            self._at(later, self._clear, item, decision)

    def _late_delivery(self, item: _Item) -> None:
        number = self._number(item.supplier.code)
        reference = f"{item.supplier.code}-DN-{number:06d}"
        self._receive(item, reference, self._lot(item))

    # -- mistakes the rules refuse -------------------------------------------------------
    def _mistake(self) -> None:
        """An attempt a rule refuses, the way people and systems get things wrong."""
        item = self._pick()
        if item is None or not item.locations:
            return
        rng = self.rng
        kind = int(rng.random() * 7)
        warehouse = item.locations[int(rng.random() * len(item.locations))]
        sku = item.sku
        if kind <= 1:  # an oversold order: the shop sold more than the shelf holds
            quantity = self._stock(sku, warehouse) + 1 + int(rng.random() * 20)
            fields = {"sku": sku, "warehouse": warehouse, "quantity": quantity}
            reference = f"SO-2026-{self._number('SO'):06d}"
            self._execute("webshop", ShipStock, {**fields, "order_ref": reference})
        elif kind == 2:  # a clerk moves stock to the warehouse it is already in
            fields = {"sku": sku, "from_warehouse": warehouse, "to_warehouse": warehouse}
            self._execute(_CLERK[warehouse], MoveStock, {**fields, "quantity": 1})
        elif kind == 3:  # a mistyped SKU on a delivery note
            typo = sku[:-1] + ("X" if sku[-1] != "X" else "Y")
            if self._product(typo) is not None:
                return
            fields = {"sku": typo, "warehouse": warehouse, "quantity": 10}
            reference = f"{item.supplier.code}-DN-{self._number(item.supplier.code):06d}"
            self._execute(_CLERK[warehouse], ReceiveStock, {**fields, "supplier_ref": reference})
        elif kind == 4:  # registering a SKU that is taken
            fields = {"sku": sku, "name": item.name, "unit": item.family.unit}
            self._execute("catalog:maria", RegisterProduct, fields)
        elif kind == 5:  # a count booked at a warehouse that never had the product
            elsewhere = [w.id for w in WAREHOUSES if w.id not in item.locations]
            if not elsewhere:
                return
            other = elsewhere[int(rng.random() * len(elsewhere))]
            fields = {"sku": sku, "warehouse": other, "counted": 0, "reason": "cycle count"}
            self._execute(_CLERK[other], AdjustStock, fields)
        elif not item.phasing_out and any(self._stock(sku, w) for w in item.locations):
            fields = {"sku": sku, "reason": "range review"}  # stock remains: refused
            self._execute("catalog:maria", DiscontinueProduct, fields)


def _mean_order(family: Family) -> float:
    """The units an order of `family` takes on average, over the channels' mix in `_ship`."""
    low, high = family.order
    # quantity = low + int((high - low + 1) * r**2), with E[r**2] = 1/3 (about)
    plain = low + (high - low) / 3
    trade = 2 * low + (3 * high - 2 * low) / 3
    return 0.7 * plain + 0.3 * trade


def generate_demo(
    events: int, seed: int, start: str = DEFAULT_START
) -> Iterator[PendingEvent | Refusal]:
    """A realistic inventory history of exactly `events` events, the same for the same seed.

    Yields `PendingEvent`s and `Refusal`s in the order they happened. Positions are not
    assigned: the n-th `PendingEvent` yielded takes position n in an empty store, and a
    refusal's `at_position` counts the events yielded before it. `recorded_at` starts
    at `start` (an ISO time, UTC) and never goes back.
    """
    if events < 0:
        raise InvalidInput(f"events must be 0 or more, got {events}")
    return _DemoHistory(events, seed, start).run()
