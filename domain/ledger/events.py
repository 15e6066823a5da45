"""The ledger's events: facts about accounts. Their payloads are a public contract.

Money is an int of minor units, always next to its currency. Events are validated
strictly (no "100" for 100) because they are only ever written by handlers or read
back from the store, where anything loosely typed means corruption, not a typo.
Changing a payload means bumping `schema_version` and registering an upcaster in
`UPCASTERS`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import ConfigDict, Field

from domain.errors import InvalidInput
from domain.ledger.money import MAX_MINOR_UNITS, Currency
from domain.messages import Event
from domain.model import EventCatalog
from domain.upcasting import UpcasterRegistry

ACCOUNT_ID_PATTERN = r"^[a-z0-9-]{1,40}$"
"""What an account id looks like: 1 to 40 lowercase letters, digits or dashes."""

AccountKey = Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]
Amount = Annotated[int, Field(gt=0, le=MAX_MINOR_UNITS)]
Limit = Annotated[int, Field(ge=0, le=MAX_MINOR_UNITS)]

DepositChannel = Literal["branch", "atm", "online", "card", "transfer", "payroll", "internal"]
"""How money was paid in, as a person giving a `deposit` command chooses it:

- `branch`: cash or a cheque paid in at a counter, by a teller;
- `atm`: cash paid in at a deposit machine;
- `online`: paid in through online or mobile banking (a photographed cheque, a top-up);
- `card`: credited by a card network (a merchant's settlement, a refund to a card);
- `transfer`: a credit transfer from another bank, through the clearing house;
- `payroll`: a salary, paid in by an employer's payroll run;
- `internal`: booked by the bank itself (balances migrated from an old system, corrections).
"""

UNKNOWN_CHANNEL = "unknown"
"""The channel of a deposit recorded before channels were (MoneyDeposited v1): never chosen."""

RecordedChannel = Literal[DepositChannel, "unknown"]
"""A channel as stored: one of `DepositChannel`, or `unknown` for deposits made before v2."""

DEPOSIT_CHANNELS: tuple[str, ...] = get_args(DepositChannel)
"""The channels a deposit may be given, in the order a form offers them."""


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
    """Money was paid into an account.

    Schema version 2 added `channel`; version 1 events are read with channel
    `unknown` (see `deposit_v1_to_v2`).
    """

    type_name = "MoneyDeposited"
    schema_version = 2

    account_id: AccountKey = Field(description="The account credited.")
    amount: Amount = Field(description="The amount, in minor units of `currency`.")
    currency: Currency = Field(description="The account's currency.")
    reference: str = Field(description="Free text from the depositor; may be empty.")
    channel: RecordedChannel = Field(
        description="How the money was paid in (`unknown` for deposits recorded before v2)."
    )


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
"""Where a ledger event that bumps its `schema_version` registers how to lift old data."""


@UPCASTERS.register("MoneyDeposited", 1)
def deposit_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """MoneyDeposited v1 -> v2: add `channel`, `unknown` since v1 did not record it.

    Guessing a channel from the actor or the reference would put a claim into the
    audit trail that nobody made; `unknown` says exactly what the stored fact says.
    A v1 payload that already has a channel is not one v1 ever wrote: it is refused
    rather than silently overwritten.
    """
    if "channel" in data:
        raise InvalidInput(
            "channel is not a field of MoneyDeposited v1 (deposits record it from v2 on)"
        )
    return {**data, "channel": UNKNOWN_CHANNEL}


CATALOG = EventCatalog(EVENTS, UPCASTERS)
"""The ledger's event types by stable name."""
