"""given / when / then for the inventory's rules: real handlers, no bus, no store.

    given(registered("BOLT-M8"), received("BOLT-M8", "ams", 10))
        .when(ShipStock(sku="BOLT-M8", warehouse="ams", quantity=12, order_ref="SO-1"))
        .then_refused(RuleRefused, "only 10 each on hand")

The generic `Scenario` is in `scenario_harness`; this module adds the inventory's
`place` (which stream an event lands on), its aggregates and event builders.
"""

from __future__ import annotations

from typing import Any

from scenario_harness import Scenario

from domain.inventory import (
    INVENTORY,
    PRODUCT,
    STOCK,
    Product,
    ProductDiscontinued,
    ProductRegistered,
    Stock,
    StockAdjusted,
    StockLocationClosed,
    StockLocationOpened,
    StockMovedIn,
    StockMovedOut,
    StockReceived,
    StockShipped,
    Unit,
    stock_key,
)
from domain.messages import Event
from domain.model import AggregateType

# --- the inventory ----------------------------------------------------------------------


def place(event: Event) -> tuple[AggregateType[Any], str]:
    """The stream an inventory event lands on (see `domain.inventory.aggregates`)."""
    if isinstance(event, ProductRegistered | StockLocationOpened | ProductDiscontinued):
        return PRODUCT, event.sku
    if isinstance(event, StockMovedOut):
        return STOCK, stock_key(event.sku, event.from_warehouse)
    if isinstance(event, StockMovedIn):
        return STOCK, stock_key(event.sku, event.to_warehouse)
    if isinstance(event, StockReceived | StockShipped | StockAdjusted | StockLocationClosed):
        return STOCK, stock_key(event.sku, event.warehouse)
    raise TypeError(f"{event.type_name} is not an inventory event")


class InventoryScenario(Scenario):
    """A scenario of the inventory, with its aggregates at hand."""

    def __init__(self) -> None:
        super().__init__(INVENTORY, place, "move")

    def product(self, sku: str) -> Product:
        return self.state(PRODUCT, sku)

    def stock(self, sku: str, warehouse: str) -> Stock:
        return self.state(STOCK, stock_key(sku, warehouse))


def given(*events: Event) -> InventoryScenario:
    """Start an inventory scenario from the events already recorded (none is fine)."""
    scenario = InventoryScenario()
    scenario.given(*events)
    return scenario


# Event builders with sensible defaults, so each test states only what matters to it.


def registered(sku: str, unit: Unit = "each", name: str = "Hex bolt") -> ProductRegistered:
    return ProductRegistered(sku=sku, name=name, unit=unit)


def opened(sku: str, warehouse: str) -> StockLocationOpened:
    return StockLocationOpened(sku=sku, warehouse=warehouse)


def received(sku: str, warehouse: str, quantity: int, supplier_ref: str = "DN-1") -> StockReceived:
    return StockReceived(sku=sku, warehouse=warehouse, quantity=quantity, supplier_ref=supplier_ref)


def stocked(sku: str, warehouse: str, quantity: int) -> tuple[StockLocationOpened, StockReceived]:
    """A first delivery to a warehouse: the location opened, then the goods received."""
    return opened(sku, warehouse), received(sku, warehouse, quantity)


def shipped(sku: str, warehouse: str, quantity: int, order_ref: str = "SO-1") -> StockShipped:
    return StockShipped(sku=sku, warehouse=warehouse, quantity=quantity, order_ref=order_ref)


def moved(
    sku: str, source: str, target: str, quantity: int, move_id: str = "move-000001"
) -> tuple[StockMovedOut, StockMovedIn]:
    fields: dict[str, Any] = {
        "move_id": move_id,
        "sku": sku,
        "from_warehouse": source,
        "to_warehouse": target,
        "quantity": quantity,
    }
    return StockMovedOut(**fields), StockMovedIn(**fields)


def adjusted(
    sku: str, warehouse: str, counted: int, previous: int, reason: str = "cycle count"
) -> StockAdjusted:
    return StockAdjusted(
        sku=sku,
        warehouse=warehouse,
        counted=counted,
        previous=previous,
        difference=counted - previous,
        reason=reason,
    )


def closed(sku: str, warehouse: str) -> StockLocationClosed:
    return StockLocationClosed(sku=sku, warehouse=warehouse)


def discontinued(sku: str, reason: str = "replaced") -> ProductDiscontinued:
    return ProductDiscontinued(sku=sku, reason=reason)
