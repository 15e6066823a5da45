"""`products`: the catalog, one row per SKU."""

from __future__ import annotations

from collections.abc import Sequence

from domain.envelope import RecordedEvent
from domain.inventory.projections.common import (
    _DISCONTINUED,
    _NONE,
    _OPENED,
    _PRODUCT_STREAM,
    _REGISTERED,
    _count,
    _text,
    _time,
)
from domain.projection import Column, ProjectionState

# --- products ----------------------------------------------------------------------------


class Products:
    """The catalog: one row per SKU with its name, unit, status and warehouses stocked."""

    name = "products"
    title = "Products"
    key_title = "sku"
    version = 1
    columns: Sequence[Column] = (
        Column("sku", "SKU", "text", _text),
        Column("name", "Name", "text", _text),
        Column("unit", "Unit", "text", _text),
        Column("status", "Status", "status", _text),
        Column("warehouses", "Warehouses", "int", _count),
        Column("updated", "Updated", "time", _time),
    )

    def initial(self) -> ProjectionState:
        """No products."""
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the SKU whose row it changed (product events only)."""
        kind = event.type
        if kind == _OPENED:
            row = state.rows.get(event.data["sku"])
            if row is None:
                return _NONE
            row["warehouses"] += 1
        elif kind == _REGISTERED:
            data = event.data
            sku = data["sku"]
            state.rows[sku] = {
                "sku": sku,
                "name": data["name"],
                "unit": data["unit"],
                "status": "active",
                "warehouses": 0,
                "updated": event.recorded_at,
            }
            return (sku,)
        elif kind == _DISCONTINUED:
            row = state.rows.get(event.data["sku"])
            if row is None:
                return _NONE
            row["status"] = "discontinued"
        else:
            return _NONE
        row["updated"] = event.recorded_at
        return (row["sku"],)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A product's row depends on its own stream only."""
        return (_PRODUCT_STREAM + row_key,)
