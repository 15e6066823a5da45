"""The inventory's read models: five pure folds over its events.

- `products`: the catalog, one row per SKU (name, unit, status, warehouses stocked).
- `stock_levels`: one row per SKU and warehouse: on hand, the last movement and when.
- `daily_movements`: per UTC day, units received, shipped, moved and adjusted, events.
- `shrinkage`: stock-takes as an audit, per warehouse and actor: units lost and found.
- `stock_invariant`: per SKU, "received - shipped + adjustments == on hand", shown as
  `holding`, `moving` (between the two halves of one move) or `broken`.

Each implements `domain.projection.Projection`: `initial()`, then `apply(state, event)`
mutating the state in place and returning the keys of exactly the rows whose values
changed (the timeline's lineage and the cursor's highlighting rely on it). Rows and
`aux` hold JSON data only. They are written for replay speed: a branch on the event
type and a handful of dict operations per event, no pydantic (stored data was
validated when it was written).

Quantities are summed as plain units, whatever the product's unit: a day's "received"
adds boxes and kilograms alike, as a warehouse's throughput count does. Events a
handler would never write (movements of an unregistered SKU, an adjustment whose
`previous` disagrees with the books) can arrive by import: the folds keep going
rather than crash, so `stock_invariant` can show what is wrong.
"""

from __future__ import annotations

from typing import Final

from domain.inventory.projections.common import INVENTORY_EVENT_TYPES
from domain.inventory.projections.daily_movements import DailyMovements
from domain.inventory.projections.products import Products
from domain.inventory.projections.shrinkage import Shrinkage
from domain.inventory.projections.stock_invariant import MOVING, StockInvariant
from domain.inventory.projections.stock_levels import StockLevels
from domain.paired_moves import BROKEN, HOLDING
from domain.projection import Projection

__all__ = [
    "BROKEN",
    "HOLDING",
    "INVENTORY_EVENT_TYPES",
    "INVENTORY_PROJECTIONS",
    "MOVING",
    "DailyMovements",
    "Products",
    "Shrinkage",
    "StockInvariant",
    "StockLevels",
    "inventory_projections",
]


def inventory_projections() -> tuple[Projection, ...]:
    """The five inventory projections, in panel order."""
    return (Products(), StockLevels(), DailyMovements(), Shrinkage(), StockInvariant())


INVENTORY_PROJECTIONS: Final[tuple[Projection, ...]] = inventory_projections()
"""The inventory's read models, in panel order."""
