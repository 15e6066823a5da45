"""The inventory domain: products, and their stock in several warehouses.

`INVENTORY` is the write side the composition root registers (through
`domain.inventory.description.INVENTORY_DOMAIN`); the other names are its parts,
exported for projections, demo data and tests. Streams and aggregates are described
in `domain.inventory.aggregates`: `product-<sku>` and `stock-<sku>@<warehouse>`.
"""

from __future__ import annotations

from domain.inventory.aggregates import (
    PRODUCT,
    STOCK,
    Product,
    ProductStatus,
    Stock,
    evolve_product,
    evolve_stock,
    split_stock_key,
    stock_key,
)
from domain.inventory.commands import (
    COMMANDS,
    AdjustStock,
    DiscontinueProduct,
    MoveStock,
    ReceiveStock,
    RegisterProduct,
    ShipStock,
)
from domain.inventory.events import (
    CATALOG,
    EVENTS,
    MAX_QUANTITY,
    SKU_PATTERN,
    UNITS,
    UPCASTERS,
    WAREHOUSE_PATTERN,
    InventoryEvent,
    ProductDiscontinued,
    ProductRegistered,
    StockAdjusted,
    StockLocationClosed,
    StockLocationOpened,
    StockMovedIn,
    StockMovedOut,
    StockReceived,
    StockShipped,
    Unit,
)
from domain.inventory.handlers import HANDLERS
from domain.model import DomainModel

INVENTORY = DomainModel(
    name="inventory",
    commands=COMMANDS,
    handlers=HANDLERS,
    catalog=CATALOG,
    aggregates=(PRODUCT, STOCK),
)
"""The inventory's write side: its commands, handlers, events and the two aggregates."""

__all__ = [
    "CATALOG",
    "COMMANDS",
    "EVENTS",
    "HANDLERS",
    "INVENTORY",
    "MAX_QUANTITY",
    "PRODUCT",
    "SKU_PATTERN",
    "STOCK",
    "UNITS",
    "UPCASTERS",
    "WAREHOUSE_PATTERN",
    "AdjustStock",
    "DiscontinueProduct",
    "InventoryEvent",
    "MoveStock",
    "Product",
    "ProductDiscontinued",
    "ProductRegistered",
    "ProductStatus",
    "ReceiveStock",
    "RegisterProduct",
    "ShipStock",
    "Stock",
    "StockAdjusted",
    "StockLocationClosed",
    "StockLocationOpened",
    "StockMovedIn",
    "StockMovedOut",
    "StockReceived",
    "StockShipped",
    "Unit",
    "evolve_product",
    "evolve_stock",
    "split_stock_key",
    "stock_key",
]
