"""The inventory's events: facts about products and their stock. Payloads are a public contract.

Quantities are ints of the product's unit, never floats. Events are validated
strictly (no "12" for 12): they are only ever written by handlers or read back from
the store, where anything loosely typed means corruption, not a typo. Changing a
payload means bumping `schema_version` and registering an upcaster in `UPCASTERS`.

Which stream each event lands on is described in `domain.inventory.aggregates`.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal, get_args

from pydantic import ConfigDict, Field

from domain.messages import Event
from domain.model import EventCatalog
from domain.upcasting import UpcasterRegistry

SKU_PATTERN: Final = r"^[A-Z0-9-]{1,32}$"
"""What a stock-keeping unit looks like: 1 to 32 uppercase letters, digits or dashes."""

WAREHOUSE_PATTERN: Final = r"^[a-z0-9-]{1,24}$"
"""What a warehouse id looks like: 1 to 24 lowercase letters, digits or dashes."""

MAX_QUANTITY: Final = 10**12
"""The most units one command may name, and the most one warehouse may hold of a product.

Far beyond any real stock, yet sums over many warehouses stay well inside a 64-bit
SQLite INTEGER, so read models never overflow.
"""

Unit = Literal["each", "pair", "pack", "box", "case", "roll", "kg", "m"]
"""The units a product is counted in; quantities are whole numbers of it."""

UNITS: Final[tuple[Unit, ...]] = get_args(Unit)

Sku = Annotated[str, Field(pattern=SKU_PATTERN)]
WarehouseId = Annotated[str, Field(pattern=WAREHOUSE_PATTERN)]
Quantity = Annotated[int, Field(gt=0, le=MAX_QUANTITY)]
Count = Annotated[int, Field(ge=0, le=MAX_QUANTITY)]


class InventoryEvent(Event):
    """Base of the inventory's events: strict types, as stored data must be exact."""

    model_config = ConfigDict(strict=True)


class ProductRegistered(InventoryEvent):
    """A product entered the catalog; it holds no stock anywhere yet."""

    type_name = "ProductRegistered"

    sku: Sku = Field(description="The product's stock-keeping unit (its stream is product-<sku>).")
    name: str = Field(description="What the product is called.")
    unit: Unit = Field(description="The unit its quantities count.")


class StockLocationOpened(InventoryEvent):
    """A product was stocked at a warehouse for the first time (on the product's stream).

    It lets `discontinue_product` know every warehouse to check, and it makes a first
    delivery to a new warehouse conflict with a concurrent discontinuation.
    """

    type_name = "StockLocationOpened"

    sku: Sku = Field(description="The product.")
    warehouse: WarehouseId = Field(description="The warehouse now holding a stock record of it.")


class StockReceived(InventoryEvent):
    """Goods from a supplier were booked into a warehouse."""

    type_name = "StockReceived"

    sku: Sku = Field(description="The product received.")
    warehouse: WarehouseId = Field(description="Where it was received.")
    quantity: Quantity = Field(description="How many units arrived.")
    supplier_ref: str = Field(description="The supplier's delivery note or purchase order.")


class StockShipped(InventoryEvent):
    """Goods left a warehouse for a customer order."""

    type_name = "StockShipped"

    sku: Sku = Field(description="The product shipped.")
    warehouse: WarehouseId = Field(description="Where it was shipped from.")
    quantity: Quantity = Field(description="How many units left.")
    order_ref: str = Field(description="The customer order it was shipped for.")


class _MoveFact(InventoryEvent):
    """The fields both halves of a move share; not an event type of its own."""

    move_id: str = Field(description="Links the StockMovedOut and its StockMovedIn.")
    sku: Sku = Field(description="The product moved.")
    from_warehouse: WarehouseId = Field(description="The warehouse it left.")
    to_warehouse: WarehouseId = Field(description="The warehouse it arrived at.")
    quantity: Quantity = Field(description="How many units moved.")


class StockMovedOut(_MoveFact):
    """Units left `from_warehouse` for `to_warehouse` (on the source's stock stream)."""

    type_name = "StockMovedOut"


class StockMovedIn(_MoveFact):
    """Units arrived at `to_warehouse` from `from_warehouse` (on the target's stock stream)."""

    type_name = "StockMovedIn"


class StockAdjusted(InventoryEvent):
    """A stock-take: the units counted replace what the books said, the difference recorded.

    `difference` is `counted - previous`: negative for shrinkage (loss, damage, theft),
    positive for stock found, zero for a count that confirmed the books.
    """

    type_name = "StockAdjusted"

    sku: Sku = Field(description="The product counted.")
    warehouse: WarehouseId = Field(description="Where it was counted.")
    counted: Count = Field(description="The units found on the shelf.")
    previous: Count = Field(description="The units the books said before the count.")
    difference: int = Field(description="counted - previous; negative is shrinkage.")
    reason: str = Field(description="Why it was counted, or what explains the difference.")


class StockLocationClosed(InventoryEvent):
    """A product's stock record at a warehouse was closed, empty, as the product was
    discontinued (on that stock stream, so a concurrent movement there conflicts)."""

    type_name = "StockLocationClosed"

    sku: Sku = Field(description="The product discontinued.")
    warehouse: WarehouseId = Field(description="The warehouse whose record was closed.")


class ProductDiscontinued(InventoryEvent):
    """A product left the catalog with no stock anywhere; it accepts nothing more."""

    type_name = "ProductDiscontinued"

    sku: Sku = Field(description="The product discontinued.")
    reason: str = Field(description="Why it was discontinued.")


EVENTS: tuple[type[InventoryEvent], ...] = (
    ProductRegistered,
    StockLocationOpened,
    StockReceived,
    StockShipped,
    StockMovedOut,
    StockMovedIn,
    StockAdjusted,
    StockLocationClosed,
    ProductDiscontinued,
)
"""Every inventory event type, in the order a reader meets them in a product's life."""

UPCASTERS = UpcasterRegistry()
"""Where an inventory event that bumps its `schema_version` registers how to lift old data.

Every inventory event is at schema version 1 so far, so none is registered yet.
"""

CATALOG = EventCatalog(EVENTS, UPCASTERS)
"""The inventory's event types by stable name."""
