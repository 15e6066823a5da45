"""The inventory's two aggregates, their streams, and why they are cut this way.

- **Product**, stream `product-<sku>` (e.g. `product-BOLT-M8`): `ProductRegistered`,
  `StockLocationOpened` (once per warehouse, the first time the product is stocked
  there) and `ProductDiscontinued`. Its state knows whether the product may move and
  at which warehouses it has a stock record.
- **Stock**, stream `stock-<sku>@<warehouse>` (e.g. `stock-BOLT-M8@ams-central`), one per
  product and warehouse: `StockReceived`, `StockShipped`, `StockMovedOut`, `StockMovedIn`,
  `StockAdjusted` and, at discontinuation, `StockLocationClosed`. Its state is the
  units on hand. Neither a sku nor a warehouse id may contain `@`, so the key
  `<sku>@<warehouse>` splits back unambiguously.

Stock lives in one stream per warehouse so that movements at different warehouses
never contend; `move_stock` is one atomic append to the two stock streams (plus the
product stream when the target warehouse is new for the product).

**How `discontinue_product` knows the stock is zero everywhere, under concurrency.**
The bus checks an expected version only on the streams a command *writes*, so every
fact a decision relies on is guarded by writing to the stream that holds it:

- The product stream lists every warehouse with a stock record (`StockLocationOpened`).
  A movement into a warehouse new to the product writes that event, so it conflicts
  with a concurrent discontinuation (both write the product stream).
- `discontinue_product` loads the product and each listed stock stream, checks each is
  at zero, and writes `ProductDiscontinued` on the product stream *and*
  `StockLocationClosed` on every stock stream it checked. A concurrent movement at a
  known warehouse writes that stock stream too, so one of the two conflicts and is
  decided again on fresh state (then refused: "discontinued" or "still holds stock").
- Every movement loads the product (registered, not discontinued) and writes its stock
  stream(s); the product only changes by discontinuation (which writes those stock
  streams) or by opening another warehouse (irrelevant to this movement).

So no interleaving can discontinue a product that holds stock, or move stock of a
discontinued one. Tests replay each race.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

from domain.inventory.events import (
    ProductDiscontinued,
    ProductRegistered,
    StockAdjusted,
    StockLocationClosed,
    StockLocationOpened,
    StockMovedIn,
    StockMovedOut,
    StockReceived,
    StockShipped,
)
from domain.messages import Event
from domain.model import AggregateType

ProductStatus = Literal["unregistered", "active", "discontinued"]
"""Where a product is in its life; only an `active` product's stock may change."""


@dataclass(frozen=True, slots=True)
class Product:
    """One product as its events left it. The initial value is a product never registered."""

    sku: str = ""
    name: str = ""
    unit: str = ""
    status: ProductStatus = "unregistered"
    warehouses: tuple[str, ...] = ()
    """Every warehouse with a stock record of it, in the order they were opened."""
    discontinued_reason: str = ""

    @property
    def exists(self) -> bool:
        """True once registered (discontinued products still exist)."""
        return self.status != "unregistered"


def evolve_product(state: Product, event: Event) -> Product:
    """The product after `event`. Pure; nothing is checked (events are facts)."""
    match event:
        case StockLocationOpened(warehouse=warehouse):
            return replace(state, warehouses=(*state.warehouses, warehouse))
        case ProductRegistered():
            return Product(sku=event.sku, name=event.name, unit=event.unit, status="active")
        case ProductDiscontinued(reason=reason):
            return replace(state, status="discontinued", discontinued_reason=reason)
    # A new event type must be taught here; skipping it would let handlers decide on
    # a wrong catalog.
    raise TypeError(f"the Product aggregate does not know how to apply {event.type_name}")


@dataclass(frozen=True, slots=True)
class Stock:
    """A product's stock at one warehouse. The initial value is a location never stocked."""

    on_hand: int = 0
    movements: int = 0
    """How many events the location has had (0: never stocked)."""
    closed: bool = False
    """True once the product was discontinued (the record stays, empty)."""


def evolve_stock(state: Stock, event: Event) -> Stock:
    """The stock after `event`. Pure; nothing is checked (events are facts)."""
    moves = state.movements + 1
    match event:
        case StockShipped(quantity=quantity) | StockMovedOut(quantity=quantity):
            return Stock(state.on_hand - quantity, moves, state.closed)
        case StockReceived(quantity=quantity) | StockMovedIn(quantity=quantity):
            return Stock(state.on_hand + quantity, moves, state.closed)
        case StockAdjusted(counted=counted):
            return Stock(counted, moves, state.closed)
        case StockLocationClosed():
            return Stock(state.on_hand, moves, True)
    raise TypeError(f"the Stock aggregate does not know how to apply {event.type_name}")


PRODUCT: AggregateType[Product] = AggregateType(
    stream_type="product", initial=Product, evolve=evolve_product
)
"""The product aggregate: stream `product-<sku>`."""

STOCK: AggregateType[Stock] = AggregateType(stream_type="stock", initial=Stock, evolve=evolve_stock)
"""A product's stock at one warehouse: stream `stock-<sku>@<warehouse>` (key: `stock_key`)."""


def stock_key(sku: str, warehouse: str) -> str:
    """The STOCK aggregate key of `sku` at `warehouse` (`BOLT-M8@ams-central`)."""
    return f"{sku}@{warehouse}"


def split_stock_key(key: str) -> tuple[str, str]:
    """(sku, warehouse) of a STOCK key; ValueError when it is not one."""
    sku, sep, warehouse = key.partition("@")
    if not sep or not sku or not warehouse:
        raise ValueError(f"{key!r} is not a stock key (<sku>@<warehouse>)")
    return sku, warehouse
