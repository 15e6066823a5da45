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

from collections.abc import Iterator

from domain.demo_engine import poisson
from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput
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
from domain.inventory.demo_setting import (
    _CLERK,
    _DAY,
    _HOUR,
    _MINUTE,
    _WEEKDAY_CUM,
    _WEEKEND_CUM,
    ACTORS,
    CLERKS,
    DEFAULT_START,
    _Item,
)
from domain.inventory.demo_supply import _Supply

__all__ = ["ACTORS", "CLERKS", "DEFAULT_START", "generate_demo"]


class _DemoHistory(_Supply):
    """Plans simulated days and plays their actions through an `InMemoryDecider`, in order."""

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

    # -- orders ------------------------------------------------------------------------
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
