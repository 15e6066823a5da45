"""`stock_invariant`: per SKU, whether received, shipped, adjustments and on hand agree."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from domain.envelope import RecordedEvent
from domain.inventory.projections.common import (
    _ADJUSTED,
    _DISCONTINUED,
    _MOVED_IN,
    _MOVED_OUT,
    _NONE,
    _RECEIVED,
    _REGISTERED,
    _SHIPPED,
    _count,
    _signed,
    _text,
)
from domain.paired_moves import HOLDING, close_pending, note_half, verdict, with_key
from domain.projection import Column, ProjectionState, Row

# --- stock_invariant -----------------------------------------------------------------------


MOVING: Final = "moving"


class StockInvariant:
    """Per SKU: received, shipped, adjustments, on hand, and whether they agree.

    `on_hand` sums the SKU's stock levels, where a stock-take *sets* a warehouse's level
    to what was counted; `adjusted` sums the stock-takes' recorded differences. The
    invariant is `on_hand + in_transit == received - shipped + adjusted`, with
    `in_transit` (moved out minus moved in) back at 0 once a move's command ends:
    moves only relocate stock, and a stock-take's difference is exactly how far the
    count moved the books.

    `invariant` reads `holding`; `moving` between the two halves of one move (they are
    consecutive positions of one command, and time travel can stop between them);
    `broken` when the sums disagree (e.g. an imported adjustment whose `previous` is not
    what the books said), or a move half stays unmatched after its command's events.
    """

    name = "stock_invariant"
    title = "Stock invariant"
    key_title = "sku"
    version = 1
    columns: Sequence[Column] = (
        Column("sku", "SKU", "text", _text),
        Column("status", "Status", "status", _text),
        Column("received", "Received", "int", _count),
        Column("shipped", "Shipped", "int", _count),
        Column("adjusted", "Adjusted", "int", _signed),
        Column("on_hand", "On hand", "int", _count),
        Column("in_transit", "In transit", "int", _count),
        Column("invariant", "Invariant", "status", _text),
    )

    def initial(self) -> ProjectionState:
        """No SKUs; aux: each location's level, and SKUs with a move half pending."""
        return ProjectionState(aux={"levels": {}, "pending": {}})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the SKUs whose rows changed."""
        kind = event.type
        aux = state.aux
        stale = close_pending(state, event, _judge) if aux["pending"] else _NONE
        data = event.data
        if kind in (_SHIPPED, _RECEIVED):
            sku = data["sku"]
            row = state.rows.get(sku) or self._row(state.rows, sku, "unregistered")
            quantity = data["quantity"]
            location = f"{sku}@{data['warehouse']}"
            levels = aux["levels"]
            if kind == _SHIPPED:
                row["shipped"] += quantity
                quantity = -quantity
            else:
                row["received"] += quantity
            levels[location] = levels.get(location, 0) + quantity
            row["on_hand"] += quantity
        elif kind in (_MOVED_OUT, _MOVED_IN):
            sku = data["sku"]
            row = state.rows.get(sku) or self._row(state.rows, sku, "unregistered")
            quantity = data["quantity"]
            levels = aux["levels"]
            if kind == _MOVED_OUT:
                location = f"{sku}@{data['from_warehouse']}"
                in_transit = row["in_transit"] + quantity
                quantity = -quantity
            else:
                location = f"{sku}@{data['to_warehouse']}"
                in_transit = row["in_transit"] - quantity
            levels[location] = levels.get(location, 0) + quantity
            row["on_hand"] += quantity
            row["in_transit"] = in_transit
            note_half(aux["pending"], sku, in_transit, event)
        elif kind == _ADJUSTED:
            sku = data["sku"]
            levels = aux["levels"]
            location = f"{sku}@{data['warehouse']}"
            counted = data["counted"]
            moved = counted - levels.get(location, 0)
            levels[location] = counted
            difference = data["difference"]
            known = state.rows.get(sku)
            if known is not None and not moved and not difference:
                return stale  # a count that confirmed the books changes no sum
            row = known or self._row(state.rows, sku, "unregistered")
            row["on_hand"] += moved
            row["adjusted"] += difference
        elif kind == _REGISTERED:
            sku = data["sku"]
            known = state.rows.get(sku)
            if known is None:
                self._row(state.rows, sku, "active")
                return with_key(stale, sku)
            if known["status"] == "active":
                return stale
            row = known
            row["status"] = "active"
        elif kind == _DISCONTINUED:
            sku = data["sku"]
            known = state.rows.get(sku)
            if known is None or known["status"] == "discontinued":
                return stale
            row = known
            row["status"] = "discontinued"
        else:
            return stale
        row["invariant"] = _judge(row, sku in aux["pending"])
        return with_key(stale, sku)

    @staticmethod
    def _row(rows: dict[str, Row], sku: str, status: str) -> Row:
        row = rows[sku] = {
            "sku": sku,
            "status": status,
            "received": 0,
            "shipped": 0,
            "adjusted": 0,
            "on_hand": 0,
            "in_transit": 0,
            "invariant": HOLDING,
        }
        return row

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A SKU's stock streams are not known from its key alone: no fast path."""
        return None


def _judge(row: Row, in_command: bool) -> str:
    expected = row["received"] - row["shipped"] + row["adjusted"]
    return verdict(row["on_hand"], expected, row["in_transit"], in_command, MOVING)
