"""`shrinkage`: stock-takes as an audit, per warehouse and actor."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from domain.envelope import RecordedEvent
from domain.inventory.projections.common import (
    _ADJUSTED,
    _NONE,
    _count,
    _signed,
    _text,
    _time,
)
from domain.projection import Column, ProjectionState

# --- shrinkage -----------------------------------------------------------------------------


def _worst(value: Any, row: Mapping[str, Any]) -> str:
    """The largest single loss and its SKU (`12 BOLT-M8`), or nothing."""
    if not value:
        return ""
    return f"{int(value):,} {row.get('worst_sku', '')}"


class Shrinkage:
    """Stock-takes as an audit of shrinkage, one row per warehouse and the actor who counted.

    `lost` adds the units missing at counts that found less than the books (shrinkage:
    loss, damage, theft), `found` the units at counts that found more; `net` is
    found - lost. `exact` counts stock-takes that confirmed the books. `worst` is the
    largest single loss. Row key: `<warehouse> <actor>` (warehouse ids hold no space).
    """

    name = "shrinkage"
    title = "Shrinkage"
    key_title = "warehouse actor"
    version = 1
    columns: Sequence[Column] = (
        Column("warehouse", "Warehouse", "text", _text),
        Column("actor", "Counted by", "text", _text),
        Column("counts", "Counts", "int", _count),
        Column("exact", "Exact", "int", _count),
        Column("lost", "Lost", "int", _count),
        Column("found", "Found", "int", _count),
        Column("net", "Net", "int", _signed),
        Column("worst", "Largest loss", "text", _worst),
        Column("last_count", "Last count", "time", _time),
    )

    def initial(self) -> ProjectionState:
        """No stock-takes."""
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the row of the stock-take's warehouse and actor."""
        if event.type != _ADJUSTED:
            return _NONE
        data = event.data
        warehouse = data["warehouse"]
        actor = event.metadata.get("actor", "")
        key = f"{warehouse} {actor}"
        row = state.rows.get(key)
        if row is None:
            row = state.rows[key] = {
                "warehouse": warehouse,
                "actor": actor,
                "counts": 0,
                "exact": 0,
                "lost": 0,
                "found": 0,
                "net": 0,
                "worst": 0,
                "worst_sku": "",
                "last_count": "",
            }
        difference = data["difference"]
        row["counts"] += 1
        row["net"] += difference
        if difference < 0:
            row["lost"] -= difference
            if -difference > row["worst"]:
                row["worst"] = -difference
                row["worst_sku"] = data["sku"]
        elif difference > 0:
            row["found"] += difference
        else:
            row["exact"] += 1
        row["last_count"] = event.recorded_at
        return (key,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A warehouse holds many SKUs' streams: no fast path."""
        return None
