"""`stock_levels`: one row per SKU and warehouse."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

from domain.envelope import RecordedEvent
from domain.inventory.projections.common import (
    _ADJUSTED,
    _CLOSED,
    _MOVED_IN,
    _MOVED_OUT,
    _NONE,
    _PRODUCT_STREAM,
    _RECEIVED,
    _REGISTERED,
    _SHIPPED,
    _STOCK_STREAM,
    _count,
    _movement,
    _text,
    _time,
)
from domain.projection import Column, ProjectionState, Row

# --- stock_levels --------------------------------------------------------------------------

_STOCK_MOVES: Final[Mapping[str, tuple[str, int]]] = {
    _SHIPPED: ("warehouse", -1),
    _RECEIVED: ("warehouse", 1),
    _MOVED_OUT: ("from_warehouse", -1),
    _MOVED_IN: ("to_warehouse", 1),
}
"""Movements by quantity: (the field naming the warehouse whose row moves, the sign)."""


class StockLevels:
    """One row per SKU and warehouse: units on hand, the last movement and when.

    Row key `BOLT-M8@ams-central` (the stock stream's key). A stock-take sets on hand
    to what was counted. `status` is `in stock`, `empty`, or `closed` once the
    product was discontinued.
    """

    name = "stock_levels"
    title = "Stock levels"
    key_title = "sku@warehouse"
    version = 1
    columns: Sequence[Column] = (
        Column("sku", "SKU", "text", _text),
        Column("warehouse", "Warehouse", "text", _text),
        Column("on_hand", "On hand", "int", _count),
        Column("unit", "Unit", "text", _text),
        Column("status", "Status", "status", _text),
        Column("last_movement", "Last movement", "text", _movement),
        Column("last_at", "At", "time", _time),
        Column("movements", "Moves", "int", _count),
    )

    def initial(self) -> ProjectionState:
        """No stock; `aux["units"]` maps SKU -> unit, from its registration."""
        return ProjectionState(aux={"units": {}})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the stock row it touched."""
        kind = event.type
        data = event.data
        move = _STOCK_MOVES.get(kind)
        if move is not None:
            warehouse = data[move[0]]
            quantity = data["quantity"]
            row = self._row(state, data["sku"], warehouse)
            row["on_hand"] += quantity * move[1]
            row["last_quantity"] = quantity
            if kind == _MOVED_OUT:
                row["last_other"] = data["to_warehouse"]
            elif kind == _MOVED_IN:
                row["last_other"] = data["from_warehouse"]
        elif kind == _ADJUSTED:
            row = self._row(state, data["sku"], data["warehouse"])
            row["on_hand"] = data["counted"]
            row["last_quantity"] = data["counted"]
            row["last_difference"] = data["difference"]
        elif kind == _CLOSED:
            row = self._row(state, data["sku"], data["warehouse"])
            row["closed"] = True
        elif kind == _REGISTERED:
            state.aux["units"][data["sku"]] = data["unit"]
            return _NONE
        else:
            return _NONE
        row["last_kind"] = kind
        row["last_at"] = event.recorded_at
        row["movements"] += 1
        row["status"] = "closed" if row["closed"] else "in stock" if row["on_hand"] else "empty"
        return (row["key"],)

    @staticmethod
    def _row(state: ProjectionState, sku: str, warehouse: str) -> Row:
        key = f"{sku}@{warehouse}"
        row = state.rows.get(key)
        if row is None:
            row = state.rows[key] = {
                "key": key,
                "sku": sku,
                "warehouse": warehouse,
                "on_hand": 0,
                "unit": state.aux["units"].get(sku, ""),
                "status": "empty",
                "closed": False,
                "last_kind": "",
                "last_quantity": 0,
                "last_other": "",
                "last_difference": 0,
                "last_at": "",
                "movements": 0,
            }
        return row

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A stock row changes with its own stock stream; its unit comes from the product's."""
        return (_STOCK_STREAM + row_key, _PRODUCT_STREAM + row_key.rpartition("@")[0])
