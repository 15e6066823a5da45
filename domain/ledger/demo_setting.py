"""The ledger demo's world: its actors, currencies, hours of the day and customers."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from domain.demo_engine import DAY, HOUR, MINUTE, SECOND
from domain.ledger.demo_names import (
    CITIES,
    MERCHANTS,
)
from domain.ledger.money import CURRENCIES

DEFAULT_START = "2026-01-05T08:00:00Z"
"""A Monday morning: the day the demo bank goes live on eventscope."""

EVENTS_PER_ACCOUNT = 300
"""About one account per this many events (at least `MIN_ACCOUNTS`)."""
MIN_ACCOUNTS = 20
EVENTS_PER_DAY = 4000
"""About this many events per simulated day, within `MIN_DAYS`..`MAX_DAYS` days."""
MIN_DAYS = 60
MAX_DAYS = 300

TELLERS = ("alice", "bob", "carol")
ACTORS = (
    *TELLERS,
    "migration",
    "payroll-bot",
    "standing-orders",
    "card-gateway",
    "atm-network",
    "mobile-app",
    "online-banking",
    "clearing-house",
    "fraud-monitor",
    "ops:dana",
    "ops:erik",
)
"""Everyone who acts in the demo history."""

_SECOND = SECOND
_MINUTE = MINUTE
_HOUR = HOUR
_DAY = DAY

MINOR_PER_EURO = {"EUR": 100, "USD": 108, "GBP": 86, "CHF": 96, "JPY": 160}
"""Minor units per euro, so one set of euro-like amounts reads right in every currency."""
_CURRENCY_WEIGHTS = (34, 26, 15, 11, 14)  # in CURRENCIES order: EUR, USD, GBP, CHF, JPY
_SHOPS: dict[str, list[str]] = {
    c: [f"{m} {city}" for m in MERCHANTS[c] for city in CITIES[c]] for c in CURRENCIES
}
_CLEARING = {"EUR": "SEPA", "USD": "ACH", "GBP": "Faster Payments", "CHF": "SIC", "JPY": "Zengin"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Relative traffic per hour (UTC): quiet nights, a lunchtime peak, an evening tail.
_WEEKDAY_HOURS = (
    0.15, 0.1, 0.07, 0.05, 0.05, 0.1, 0.3, 0.7, 1.2, 1.5, 1.6, 1.7,
    2.0, 1.8, 1.5, 1.5, 1.6, 1.7, 1.6, 1.3, 1.0, 0.7, 0.45, 0.25,
)  # fmt: skip
_WEEKEND_HOURS = (
    0.3, 0.2, 0.12, 0.08, 0.06, 0.06, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2,
    1.3, 1.3, 1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4,
)  # fmt: skip
_DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.05, 1.2, 0.55, 0.35)  # Monday .. Sunday
_EVENTS_PER_SLOT = 1.25  # transfers write two events, refusals none
_TRANSFER_NOTES = (
    "dinner", "rent share", "birthday present", "holiday", "thanks!", "savings",
    "concert tickets", "groceries", "car repair", "loan repayment", "wedding gift",
)  # fmt: skip
_FREEZE_REASONS = (
    "KYC documents expired", "customer reported card stolen", "court order 2026/113",
    "returned mail: address unknown",
)  # fmt: skip
_UNFREEZE_REASONS = (
    "customer identity confirmed", "documents received", "new card issued",
    "false alarm: customer was travelling", "court order lifted",
)  # fmt: skip
_CLOSE_REASONS = (
    "customer request", "moved abroad", "switched to another bank", "duplicate account",
    "estate settled",
)  # fmt: skip


def _cumulative(weights: tuple[float, ...]) -> list[float]:
    return list(itertools.accumulate(weights))


_WEEKDAY_CUM = _cumulative(_WEEKDAY_HOURS)
_WEEKEND_CUM = _cumulative(_WEEKEND_HOURS)
_CURRENCY_CUM = _cumulative(tuple(float(w) for w in _CURRENCY_WEIGHTS))


@dataclass(slots=True)
class _Profile:
    """How an account's holder behaves: the demo's bookkeeping, not ledger state."""

    account_id: str
    currency: str
    owner: str
    business: bool
    copies: int
    """How often it sits in the pools: some customers use their account far more."""
    salary: int
    """Monthly salary in minor units (0: none)."""
    employer: str
    rent: int
    card: str
    """How the card shows on statements: `card *1234 `."""
    landlord: str = ""
