"""The inventory demo's catalog and supply: go-live, deliveries, replenishment, moves."""

from __future__ import annotations

import itertools
import math
import random
from datetime import timedelta
from typing import Any

from domain.decider import InMemoryDecider, trusted
from domain.demo_engine import DemoHistory
from domain.demo_pool import WeightedPool
from domain.inventory import INVENTORY
from domain.inventory.aggregates import Product, Stock
from domain.inventory.commands import (
    MoveStock,
    ReceiveStock,
    RegisterProduct,
)
from domain.inventory.demo_names import (
    FAMILIES,
    SUPPLIERS,
)
from domain.inventory.demo_setting import (
    _CENTRAL,
    _CLERK,
    _DAY,
    _DAY_WEIGHTS,
    _HOUR,
    _REGIONAL,
    _SECOND,
    _SHIP_SHARE,
    EVENTS_PER_DAY,
    EVENTS_PER_PRODUCT,
    MAX_DAYS,
    MIN_DAYS,
    MIN_PRODUCTS,
    _Item,
    _mean_order,
)


class _Supply(DemoHistory):
    """The inventory demo's catalog and stock over the shared demo loop: products going
    live, deliveries, replenishment and moves. Orders and the rest come in the subclass."""

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

    def _pick(self) -> _Item | None:
        sku = self.orderable.pick(self.rng)
        return None if sku is None else self._item(sku)

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
