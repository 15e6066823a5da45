"""What the inventory's projections share: event type names and cells."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from domain.cells import count_cell, text_cell, time_cell
from domain.paired_moves import NO_CHANGE

_NONE: Final[tuple[str, ...]] = NO_CHANGE
"""What `apply` returns when no row changed (shared, so it allocates nothing)."""

_REGISTERED = "ProductRegistered"
_OPENED = "StockLocationOpened"
_RECEIVED = "StockReceived"
_SHIPPED = "StockShipped"
_MOVED_OUT = "StockMovedOut"
_MOVED_IN = "StockMovedIn"
_ADJUSTED = "StockAdjusted"
_CLOSED = "StockLocationClosed"
_DISCONTINUED = "ProductDiscontinued"

INVENTORY_EVENT_TYPES: Final = frozenset(
    {
        _REGISTERED,
        _OPENED,
        _RECEIVED,
        _SHIPPED,
        _MOVED_OUT,
        _MOVED_IN,
        _ADJUSTED,
        _CLOSED,
        _DISCONTINUED,
    }
)

_PRODUCT_STREAM = "product-"
_STOCK_STREAM = "stock-"


# --- cell formatting -------------------------------------------------------------------

_text = text_cell
_count = count_cell
_time = time_cell


def _signed(value: Any, row: Mapping[str, Any]) -> str:
    """`+3`, `-12`, `0`: a difference reads with its sign."""
    if value is None:
        return ""
    number = int(value)
    return f"{number:+,}" if number else "0"


def _movement(value: Any, row: Mapping[str, Any]) -> str:
    """The last movement of a stock row in words (`shipped 5`, `counted 40 (-2)`)."""
    kind = row.get("last_kind")
    quantity = row.get("last_quantity", 0)
    if kind == _RECEIVED:
        return f"received {quantity:,}"
    if kind == _SHIPPED:
        return f"shipped {quantity:,}"
    if kind == _MOVED_OUT:
        return f"moved {quantity:,} to {row.get('last_other', '')}"
    if kind == _MOVED_IN:
        return f"moved {quantity:,} from {row.get('last_other', '')}"
    if kind == _ADJUSTED:
        return f"counted {quantity:,} ({_signed(row.get('last_difference', 0), row)})"
    if kind == _CLOSED:
        return "closed (discontinued)"
    return ""
