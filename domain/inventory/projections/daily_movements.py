"""`daily_movements`: per UTC day, units moved and events."""

from __future__ import annotations

from collections.abc import Sequence

from domain.clock import day_span
from domain.envelope import RecordedEvent
from domain.inventory.projections.common import (
    _ADJUSTED,
    _MOVED_OUT,
    _NONE,
    _RECEIVED,
    _SHIPPED,
    INVENTORY_EVENT_TYPES,
    _count,
    _signed,
    _text,
)
from domain.projection import Column, ProjectionState

# --- daily_movements -----------------------------------------------------------------------


class DailyMovements:
    """Per UTC day: units received, shipped, moved, the net of stock-takes, and events.

    `moved` counts each move once (its StockMovedOut); `adjusted` is the sum of the
    stock-takes' differences (negative: shrinkage); `events` counts every inventory
    event of the day, whatever its type. Row key: `2026-03-01`.
    """

    name = "daily_movements"
    title = "Daily movements"
    key_title = "day"
    version = 1
    columns: Sequence[Column] = (
        Column("day", "Day", "date", _text),
        Column("received", "Received", "int", _count),
        Column("shipped", "Shipped", "int", _count),
        Column("moved", "Moved", "int", _count),
        Column("adjusted", "Adjusted", "int", _signed),
        Column("stock_takes", "Counts", "int", _count),
        Column("events", "Events", "int", _count),
    )

    def initial(self) -> ProjectionState:
        """No days."""
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns its day's row."""
        kind = event.type
        if kind not in INVENTORY_EVENT_TYPES:
            return _NONE
        day = event.recorded_at[:10]
        row = state.rows.get(day)
        if row is None:
            row = state.rows[day] = {
                "day": day,
                "received": 0,
                "shipped": 0,
                "moved": 0,
                "adjusted": 0,
                "stock_takes": 0,
                "events": 0,
            }
        row["events"] += 1
        if kind == _SHIPPED:
            row["shipped"] += event.data["quantity"]
        elif kind == _RECEIVED:
            row["received"] += event.data["quantity"]
        elif kind == _MOVED_OUT:
            row["moved"] += event.data["quantity"]
        elif kind == _ADJUSTED:
            row["adjusted"] += event.data["difference"]
            row["stock_takes"] += 1
        return (day,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """Any stream may touch a day: no stream fast path."""
        return None

    def lineage_span(self, row_key: str) -> tuple[str, str] | None:
        """The row's day, as [midnight, next midnight): it changes only then."""
        return day_span(row_key)
