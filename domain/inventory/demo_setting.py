"""The inventory demo's world: warehouses, actors, hours of the day and products."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

from domain.demo_engine import DAY, HOUR, MINUTE, SECOND
from domain.inventory.demo_names import (
    WAREHOUSES,
    Family,
    Supplier,
)

DEFAULT_START = "2026-01-05T06:00:00Z"
"""A Monday morning: the day the demo wholesaler goes live on eventscope."""

EVENTS_PER_PRODUCT = 300
"""About one product per this many events (at least `MIN_PRODUCTS`, at most all ~500)."""
MIN_PRODUCTS = 24
EVENTS_PER_DAY = 1500
"""About this many events per simulated day, within `MIN_DAYS`..`MAX_DAYS` days."""
MIN_DAYS = 30
MAX_DAYS = 365

CLERKS = tuple(w.clerk for w in WAREHOUSES)
ACTORS = (
    *CLERKS,
    "catalog-import",
    "catalog:maria",
    "webshop",
    "b2b-edi",
    "marketplace",
    "replenishment-bot",
    "auditor:pia",
)
"""Everyone who acts in the demo history."""

_SECOND = SECOND
_MINUTE = MINUTE
_HOUR = HOUR
_DAY = DAY

_CENTRAL = tuple(w.id for w in WAREHOUSES if w.central)
_REGIONAL = tuple(w.id for w in WAREHOUSES if not w.central)
_CLERK = {w.id: w.clerk for w in WAREHOUSES}

# Relative order traffic per hour (UTC): quiet nights, busy afternoons before the cut-off.
_WEEKDAY_HOURS = (
    0.1, 0.06, 0.05, 0.05, 0.08, 0.2, 0.6, 1.0, 1.4, 1.6, 1.7, 1.6,
    1.5, 1.7, 1.9, 2.0, 1.6, 1.2, 0.9, 0.7, 0.5, 0.35, 0.25, 0.15,
)  # fmt: skip
_WEEKEND_HOURS = (
    0.1, 0.05, 0.04, 0.04, 0.05, 0.08, 0.15, 0.3, 0.5, 0.7, 0.8, 0.8,
    0.8, 0.7, 0.7, 0.6, 0.5, 0.45, 0.4, 0.35, 0.3, 0.25, 0.2, 0.15,
)  # fmt: skip
_WEEKDAY_CUM = list(itertools.accumulate(_WEEKDAY_HOURS))
_WEEKEND_CUM = list(itertools.accumulate(_WEEKEND_HOURS))
_DAY_WEIGHTS = (1.0, 1.05, 1.05, 1.1, 1.15, 0.45, 0.2)  # Monday .. Sunday
_SHIP_SHARE = 0.82
"""About this share of the events are shipments; deliveries, moves and counts the rest."""


@dataclass(slots=True)
class _Item:
    """How a product behaves in the story: the demo's bookkeeping, not inventory state."""

    sku: str
    name: str
    family: Family
    supplier: Supplier
    copies: int
    """How often it sits in the order pool: some products sell far more."""
    home: str
    """The central warehouse its deliveries go to."""
    regions: tuple[str, ...]
    """Regional warehouses it is replenished to."""
    daily: float
    """Units it sells a day, about."""
    on_order: bool = False
    phasing_out: bool = False
    discontinued: bool = False
    tries: int = 0
    """Attempts to discontinue it after clearing its stock, so far."""
    locations: list[str] = field(default_factory=list)
    """Warehouses it was stocked at, as the demo knows them."""


def _mean_order(family: Family) -> float:
    """The units an order of `family` takes on average, over the channels' mix in `_ship`."""
    low, high = family.order
    # quantity = low + int((high - low + 1) * r**2), with E[r**2] = 1/3 (about)
    plain = low + (high - low) / 3
    trade = 2 * low + (3 * high - 2 * low) / 3
    return 0.7 * plain + 0.3 * trade
