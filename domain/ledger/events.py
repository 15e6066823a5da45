"""The ledger's events: facts about accounts. Their payloads are a public contract.

Money is an int of minor units, always next to its currency. Events are validated
strictly (no "100" for 100) because they are only ever written by handlers or read
back from the store, where anything loosely typed means corruption, not a typo.
Changing a payload means bumping `schema_version` and registering an upcaster in
`UPCASTERS`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field

from domain.ledger.money import MAX_MINOR_UNITS, Currency
from domain.messages import Event
from domain.model import EventCatalog
from domain.upcasting import UpcasterRegistry

ACCOUNT_ID_PATTERN = r"^[a-z0-9-]{1,40}$"
"""What an account id looks like: 1 to 40 lowercase letters, digits or dashes."""

AccountKey = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]
Amount = Annotated[int, Field(gt=0, le=MAX_MINOR_UNITS)]
Limit = Annotated[int, Field(ge=0, le=MAX_MINOR_UNITS)]


class LedgerEvent(Event):
    """Base of the ledger's events: strict types, as stored data must be exact."""

    model_config = ConfigDict(strict=True)


class AccountOpened(LedgerEvent):
    """An account was opened, empty, in one currency."""

    type_name = "AccountOpened"

    account_id: AccountKey = Field(description="The account's id (its stream is account-<id>).")
    owner: str = Field(description="Who holds the account.")
    currency: Currency = Field(description="The only currency the account holds.")
    overdraft_limit: Limit = Field(
        description="How far below zero the balance may go, in minor units."
    )


class MoneyDeposited(LedgerEvent):
    """Money was paid into an account."""

    type_name = "MoneyDeposited"

    account_id: AccountKey = Field(description="The account credited.")
    amount: Amount = Field(description="The amount, in minor units of `currency`.")
    currency: Currency = Field(description="The account's currency.")
    reference: str = Field(description="Free text from the depositor; may be empty.")


class MoneyWithdrawn(LedgerEvent):
    """Money was taken out of an account."""

    type_name = "MoneyWithdrawn"

    account_id: AccountKey = Field(description="The account debited.")
    amount: Amount = Field(description="The amount, in minor units of `currency`.")
    currency: Currency = Field(description="The account's currency.")
    reference: str = Field(description="Free text from the withdrawer; may be empty.")


class _TransferFact(LedgerEvent):
    """The fields both halves of a transfer share; not an event type of its own."""

    transfer_id: str = Field(description="Links the TransferSent and its TransferReceived.")
    from_account: AccountKey = Field(description="The account debited.")
    to_account: AccountKey = Field(description="The account credited.")
    amount: Amount = Field(description="The amount, in minor units of `currency`.")
    currency: Currency = Field(description="The currency of both accounts.")
    reference: str = Field(description="Free text from the sender; may be empty.")


class TransferSent(_TransferFact):
    """Money left `from_account` for `to_account` (recorded on the source's stream)."""

    type_name = "TransferSent"


class TransferReceived(_TransferFact):
    """Money arrived at `to_account` from `from_account` (recorded on the target's stream)."""

    type_name = "TransferReceived"


class AccountFrozen(LedgerEvent):
    """An account stopped accepting money movements."""

    type_name = "AccountFrozen"

    account_id: AccountKey = Field(description="The account frozen.")
    reason: str = Field(description="Why it was frozen.")


class AccountUnfrozen(LedgerEvent):
    """A frozen account accepts money movements again."""

    type_name = "AccountUnfrozen"

    account_id: AccountKey = Field(description="The account unfrozen.")
    reason: str = Field(description="Why it was unfrozen.")


class OverdraftLimitChanged(LedgerEvent):
    """How far below zero an account may go was changed."""

    type_name = "OverdraftLimitChanged"

    account_id: AccountKey = Field(description="The account.")
    old_limit: Limit = Field(description="The limit before, in minor units.")
    new_limit: Limit = Field(description="The limit after, in minor units.")


class AccountClosed(LedgerEvent):
    """An account was closed with a zero balance; it accepts nothing more."""

    type_name = "AccountClosed"

    account_id: AccountKey = Field(description="The account closed.")
    reason: str = Field(description="Why it was closed.")


EVENTS: tuple[type[LedgerEvent], ...] = (
    AccountOpened,
    MoneyDeposited,
    MoneyWithdrawn,
    TransferSent,
    TransferReceived,
    AccountFrozen,
    AccountUnfrozen,
    OverdraftLimitChanged,
    AccountClosed,
)
"""Every ledger event type, in the order a reader meets them in an account's life."""

UPCASTERS = UpcasterRegistry()
"""Where a ledger event that bumps its `schema_version` registers how to lift old data.

Every ledger event is at schema version 1 so far, so none is registered yet.
"""

CATALOG = EventCatalog(EVENTS, UPCASTERS)
"""The ledger's event types by stable name."""
