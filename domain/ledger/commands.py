"""The ledger's commands: orders a person gives, validated for shape where they enter.

Forms and `eventscope exec` are generated from these models, so every field has a
description, and bad input fails here with a message naming the field. Amounts are
decimal strings: their shape (a positive number) is checked here, and their decimals
in the handler, once the account's currency is known.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field

from domain.fields import FreeText
from domain.ledger.events import ACCOUNT_ID_PATTERN, DepositChannel
from domain.ledger.money import Currency, check_decimal_text
from domain.messages import Command

_ACCOUNT_ID = re.compile(ACCOUNT_ID_PATTERN)
OWNER_MAX = 100
REASON_MAX = 200
REFERENCE_MAX = 140


def _account_id(value: str) -> str:
    # Checked by hand rather than with `pattern=`, whose error only echoes the regex.
    if _ACCOUNT_ID.fullmatch(value) is None:
        raise ValueError(
            f"{value!r} is not an account id; use 1 to 40 lowercase letters, digits or "
            "dashes, e.g. acc-1"
        )
    return value


def _number_as_text(value: Any) -> Any:
    """Let JSON callers send whole numbers; refuse floats, which may have lost cents."""
    if isinstance(value, bool):
        raise ValueError("must be a decimal number written as text, e.g. 12.50")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise ValueError(
            f'{value!r} is a floating-point number; send amounts as text, e.g. "12.50"'
        )
    return value


def _currency_code(value: Any) -> Any:
    # Literal fields skip the model's whitespace stripping, so do it here too.
    return value.strip().upper() if isinstance(value, str) else value


def _channel_name(value: Any) -> Any:
    # Like currencies: a Literal skips the whitespace stripping; "Online" means online.
    return value.strip().lower() if isinstance(value, str) else value


def _amount(value: str) -> str:
    return check_decimal_text(value, allow_zero=False)


def _limit(value: str) -> str:
    return check_decimal_text(value, allow_zero=True)


_DECIMAL_SCHEMA = {"pattern": r"^[0-9]+(\.[0-9]+)?$"}

AccountId = Annotated[
    str,
    AfterValidator(_account_id),
    Field(json_schema_extra={"pattern": ACCOUNT_ID_PATTERN}, examples=["acc-1"]),
]
"""An account id: 1 to 40 lowercase letters, digits or dashes."""

PositiveAmount = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_amount),
    Field(json_schema_extra=_DECIMAL_SCHEMA, examples=["12.50"]),
]
"""A decimal string above zero ("12.50"); its decimals are checked against the currency."""

LimitAmount = Annotated[
    str,
    BeforeValidator(_number_as_text),
    AfterValidator(_limit),
    Field(json_schema_extra=_DECIMAL_SCHEMA, examples=["0", "500.00"]),
]
"""A decimal string of zero or more ("500.00")."""

CurrencyCode = Annotated[Currency, BeforeValidator(_currency_code)]
"""One of the ledger's currencies; lowercase input ("eur") is accepted."""

Channel = Annotated[DepositChannel, BeforeValidator(_channel_name)]
"""How a deposit is paid in (`DepositChannel`); `unknown` is only ever read from history."""

Owner = Annotated[str, FreeText(OWNER_MAX)]
Reason = Annotated[str, FreeText(REASON_MAX)]
Reference = Annotated[str, FreeText(REFERENCE_MAX, required=False)]


class OpenAccount(Command):
    """Open a new, empty account in one currency."""

    type_name = "open_account"
    title = "Open account"

    account_id: AccountId = Field(
        description="Id of the new account: 1-40 lowercase letters, digits or dashes."
    )
    owner: Owner = Field(description="Who holds the account.")
    currency: CurrencyCode = Field(description="The account's currency: EUR, USD, GBP, CHF or JPY.")
    overdraft_limit: LimitAmount = Field(
        default="0", description="How far below zero the balance may go, e.g. 500.00."
    )


class Deposit(Command):
    """Pay money into an account."""

    type_name = "deposit"
    title = "Deposit money"

    account_id: AccountId = Field(description="The account to credit.")
    amount: PositiveAmount = Field(description="How much, in the account's currency, e.g. 12.50.")
    channel: Channel = Field(
        default="branch",
        description="How it is paid in: branch, atm, online, card, transfer, payroll or internal.",
    )
    reference: Reference = Field(default="", description="Optional note, e.g. an invoice number.")


class Withdraw(Command):
    """Take money out of an account, down to its overdraft limit."""

    type_name = "withdraw"
    title = "Withdraw money"

    account_id: AccountId = Field(description="The account to debit.")
    amount: PositiveAmount = Field(description="How much, in the account's currency, e.g. 12.50.")
    reference: Reference = Field(default="", description="Optional note, e.g. an invoice number.")


class Transfer(Command):
    """Move money between two accounts of the same currency, atomically."""

    type_name = "transfer"
    title = "Transfer money"

    from_account: AccountId = Field(description="The account to debit.")
    to_account: AccountId = Field(description="The account to credit (same currency).")
    amount: PositiveAmount = Field(description="How much, in the accounts' currency, e.g. 12.50.")
    reference: Reference = Field(default="", description="Optional note shown on both accounts.")


class FreezeAccount(Command):
    """Stop all money movements on an account until it is unfrozen."""

    type_name = "freeze_account"
    title = "Freeze account"

    account_id: AccountId = Field(description="The account to freeze.")
    reason: Reason = Field(description="Why, e.g. fraud check; shown on every refusal.")


class UnfreezeAccount(Command):
    """Let a frozen account move money again."""

    type_name = "unfreeze_account"
    title = "Unfreeze account"

    account_id: AccountId = Field(description="The frozen account.")
    reason: Reason = Field(description="Why it may move money again.")


class SetOverdraftLimit(Command):
    """Change how far below zero an account's balance may go."""

    type_name = "set_overdraft_limit"
    title = "Set overdraft limit"

    account_id: AccountId = Field(description="The account.")
    limit: LimitAmount = Field(
        description="The new limit (0 for none), at least what the account already owes."
    )


class CloseAccount(Command):
    """Close an account whose balance is zero; it then accepts nothing more."""

    type_name = "close_account"
    title = "Close account"

    account_id: AccountId = Field(description="The account to close.")
    reason: Reason = Field(description="Why it is closed.")


COMMANDS: tuple[type[Command], ...] = (
    OpenAccount,
    Deposit,
    Withdraw,
    Transfer,
    FreezeAccount,
    UnfreezeAccount,
    SetOverdraftLimit,
    CloseAccount,
)
"""Every ledger command, in the order a menu should offer them."""
