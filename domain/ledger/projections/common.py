"""What the ledger's projections share: event type names, money movements, cells."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from domain.cells import count_cell, text_cell, time_cell
from domain.ledger.money import grouped_amount
from domain.paired_moves import NO_CHANGE

_NONE: Final[tuple[str, ...]] = NO_CHANGE
"""What `apply` returns when no row changed (shared, so it allocates nothing)."""

_DEPOSITED = "MoneyDeposited"
_WITHDRAWN = "MoneyWithdrawn"
_SENT = "TransferSent"
_RECEIVED = "TransferReceived"
_OPENED = "AccountOpened"
_FROZEN = "AccountFrozen"
_UNFROZEN = "AccountUnfrozen"
_LIMIT = "OverdraftLimitChanged"
_CLOSED = "AccountClosed"

LEDGER_EVENT_TYPES: Final = frozenset(
    {_DEPOSITED, _WITHDRAWN, _SENT, _RECEIVED, _OPENED, _FROZEN, _UNFROZEN, _LIMIT, _CLOSED}
)

_MOVES: Final = frozenset({_DEPOSITED, _WITHDRAWN, _SENT, _RECEIVED})

_BALANCE_MOVES: Final[Mapping[str, tuple[str, bool]]] = {
    _WITHDRAWN: ("account_id", False),
    _SENT: ("from_account", False),
    _RECEIVED: ("to_account", True),
    _DEPOSITED: ("account_id", True),
}
"""Money movements: (the field naming the account whose row moves, money comes in)."""

_ACCOUNT_STREAM = "account-"


# --- cell formatting -------------------------------------------------------------------


def format_minor(minor: int, currency: str) -> str:
    """Minor units as a grouped decimal for panels (`-1,234.56`; JPY `1,234`)."""
    return grouped_amount(minor, currency)


def _money(value: Any, row: Mapping[str, Any]) -> str:
    if value is None:
        return ""
    return format_minor(int(value), str(row.get("currency", "")))


_time = time_cell
_text = text_cell
_count = count_cell


def _look_alike(value: Any, row: Mapping[str, Any]) -> str:
    """`mixed scripts` for a name whose letters mix scripts (`domain.text.mixed_scripts`)."""
    return "mixed scripts" if value else ""
