"""How the inventory's event and aggregate fields read: titles and the number rule."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from domain.cells import count_cell, grouped_decimal
from domain.projection import Column


def change_cell(value: Any, row: Mapping[str, Any]) -> str:
    """A signed count (`+12`, `-3`, `±0`): how much a number moved."""
    return "" if value is None else grouped_decimal(int(value), signed=True)


INVENTORY_FIELDS: Final[tuple[Column, ...]] = (
    Column("sku", "SKU"),
    Column("name", "Name"),
    Column("unit", "Unit"),
    Column("status", "Status", "status"),
    Column("warehouse", "Warehouse"),
    Column("warehouses", "Warehouses"),
    Column("from_warehouse", "From"),
    Column("to_warehouse", "To"),
    Column("quantity", "Quantity", "int", count_cell),
    Column("on_hand", "On hand", "int", count_cell),
    Column("movements", "Movements", "int", count_cell),
    Column("counted", "Counted", "int", count_cell),
    Column("previous", "Previous", "int", count_cell),
    Column("difference", "Difference", "int", change_cell),
    Column("closed", "Closed", "bool"),
    Column("supplier_ref", "Supplier ref"),
    Column("order_ref", "Order ref"),
    Column("move_id", "Move"),
    Column("discontinued_reason", "Discontinued because"),
    Column("reason", "Reason"),
)
"""The inventory's payload and aggregate fields, by name (`DomainDescription.field`)."""
