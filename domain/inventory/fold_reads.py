"""What each inventory projection reads of an event (`domain.projection.EventReads`).

Kept apart from `domain/inventory/projections/`, whose source is part of the
projections' stored identity. No inventory event has an upcaster yet.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from domain.projection import EventReads

INVENTORY_EVENT_READS: Final[Mapping[str, EventReads]] = {
    "stock_levels": EventReads(frozenset({"type", "data", "recorded_at"})),
    "products": EventReads(frozenset({"type", "data", "recorded_at"})),
    "daily_movements": EventReads(frozenset({"type", "data", "recorded_at"})),
    "shrinkage": EventReads(frozenset({"type", "data", "metadata", "recorded_at"})),
    "stock_invariant": EventReads(frozenset({"type", "data", "metadata"})),
}
"""By projection name: the fields each fold reads (`metadata` for actors and command ids)."""
