"""The ledger domain: accounts holding money in one currency each.

`LEDGER` is what the composition root registers; the other names are its parts,
exported for projections, demo data and tests.
"""

from __future__ import annotations

from domain.ledger.account import ACCOUNT, Account, AccountStatus, evolve
from domain.ledger.commands import (
    COMMANDS,
    CloseAccount,
    Deposit,
    FreezeAccount,
    OpenAccount,
    SetOverdraftLimit,
    Transfer,
    UnfreezeAccount,
    Withdraw,
)
from domain.ledger.events import (
    CATALOG,
    EVENTS,
    UPCASTERS,
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    LedgerEvent,
    MoneyDeposited,
    MoneyWithdrawn,
    OverdraftLimitChanged,
    TransferReceived,
    TransferSent,
)
from domain.ledger.handlers import HANDLERS
from domain.ledger.money import (
    CURRENCIES,
    CURRENCY_DIGITS,
    MAX_MINOR_UNITS,
    AmountError,
    Currency,
    as_currency,
    check_decimal_text,
    currency_digits,
    format_amount,
    format_money,
    parse_amount,
)
from domain.model import DomainModel

LEDGER = DomainModel(
    name="ledger",
    commands=COMMANDS,
    handlers=HANDLERS,
    catalog=CATALOG,
    aggregates=(ACCOUNT,),
)
"""The ledger's write side: its commands, handlers, events and the account aggregate."""

__all__ = [
    "ACCOUNT",
    "CATALOG",
    "COMMANDS",
    "CURRENCIES",
    "CURRENCY_DIGITS",
    "EVENTS",
    "HANDLERS",
    "LEDGER",
    "MAX_MINOR_UNITS",
    "UPCASTERS",
    "Account",
    "AccountClosed",
    "AccountFrozen",
    "AccountOpened",
    "AccountStatus",
    "AccountUnfrozen",
    "AmountError",
    "CloseAccount",
    "Currency",
    "Deposit",
    "FreezeAccount",
    "LedgerEvent",
    "MoneyDeposited",
    "MoneyWithdrawn",
    "OpenAccount",
    "OverdraftLimitChanged",
    "SetOverdraftLimit",
    "Transfer",
    "TransferReceived",
    "TransferSent",
    "UnfreezeAccount",
    "Withdraw",
    "as_currency",
    "check_decimal_text",
    "currency_digits",
    "evolve",
    "format_amount",
    "format_money",
    "parse_amount",
]
