"""How the ledger's event and aggregate fields read: titles and the money rule.

Projections describe their own columns; these describe the fields of payloads and of
the `Account` aggregate, so aggregate history, the inspector and the CLI write an
amount exactly as the panels do (`domain.ledger.money.grouped_amount`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from domain.cells import grouped_decimal
from domain.errors import InvalidInput
from domain.ledger.money import grouped_amount, money_text, parse_amount
from domain.projection import Column


def money_cell(value: Any, row: Mapping[str, Any]) -> str:
    """Minor units in the row's currency, grouped (`1,441.36`); a row without a
    currency (an `OverdraftLimitChanged`) says its numbers are minor units."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return "" if value is None else str(value)
    currency = row.get("currency")
    if isinstance(currency, str) and currency:
        return grouped_amount(value, currency)
    return f"{grouped_decimal(value)} minor units"


LEDGER_FIELDS: Final[tuple[Column, ...]] = (
    Column("account_id", "Account"),
    Column("owner", "Owner"),
    Column("currency", "Currency"),
    Column("balance", "Balance", "money", money_cell),
    Column("overdraft_limit", "Overdraft", "money", money_cell),
    Column("amount", "Amount", "money", money_cell),
    Column("old_limit", "Old limit", "money", money_cell),
    Column("new_limit", "New limit", "money", money_cell),
    Column("status", "Status", "status"),
    Column("frozen_reason", "Frozen because"),
    Column("closed_reason", "Closed because"),
    Column("from_account", "From"),
    Column("to_account", "To"),
    Column("transfer_id", "Transfer"),
    Column("reference", "Reference"),
    Column("channel", "Channel"),
    Column("reason", "Reason"),
)
"""The ledger's payload and aggregate fields, by name (`DomainDescription.field`)."""


MONEY_FIELDS: Final[frozenset[str]] = frozenset(c.name for c in LEDGER_FIELDS if c.kind == "money")


def value_text(name: str, value: Any, row: Mapping[str, Any]) -> str | None:
    """A money field as a person reads it whole (`1,441.36 EUR`, by `money_text`), in
    minor units or as typed in a command (`"1047.76"`); None for any other field (and
    for text that is no amount of the currency). Without a currency (imported garbage)
    the money cell's rule."""
    if name not in MONEY_FIELDS:
        return None
    currency = row.get("currency")
    if isinstance(value, str) and isinstance(currency, str) and currency:
        try:  # a command's amount as typed (`1047.76`); anything else stays as typed
            value = parse_amount(value, currency)
        except InvalidInput:
            return None
    if isinstance(currency, str) and currency and isinstance(value, int):
        return money_text(value, currency)
    return None if isinstance(value, str) else money_cell(value, row)


CONTEXT_FIELDS: Final[dict[str, tuple[str, ...]]] = {"OverdraftLimitChanged": ("currency",)}
"""`OverdraftLimitChanged` carries no currency: it is read in its account's
(`DomainDescription.context_fields`)."""
