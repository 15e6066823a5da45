"""given / when / then for the ledger's rules: real handlers, no bus, no store.

    given(opened("a1"), deposited("a1", 10_000))
        .when(Withdraw(account_id="a1", amount="150.00"))
        .then_refused(RuleRefused, "beyond its overdraft limit")

The generic `Scenario` is in `scenario_harness`; here the ledger's `place` (an event
lands on its account's stream; a transfer's halves on each side), `account(id)`, and
event builders.
"""

from __future__ import annotations

import random
from typing import Any

from scenario_harness import Scenario

from domain.decider import InMemoryDecider
from domain.envelope import PendingEvent, RecordedEvent
from domain.ledger import (
    ACCOUNT,
    LEDGER,
    Account,
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    Currency,
    MoneyDeposited,
    MoneyWithdrawn,
    OverdraftLimitChanged,
    TransferReceived,
    TransferSent,
)
from domain.ledger.events import RecordedChannel
from domain.messages import Command, Event


def stream_key(event: Event) -> str:
    """The account whose stream an event belongs on (transfers have two halves)."""
    if isinstance(event, TransferSent):
        return event.from_account
    if isinstance(event, TransferReceived):
        return event.to_account
    key = getattr(event, "account_id", None)
    if not isinstance(key, str):
        raise TypeError(f"{event.type_name} names no account")
    return key


class LedgerScenario(Scenario):
    """A scenario of the ledger: every event lands on one account's stream."""

    def __init__(self) -> None:
        super().__init__(LEDGER, lambda event: (ACCOUNT, stream_key(event)), "transfer")

    def account(self, account_id: str) -> Account:
        """The account's state after everything given and done so far."""
        return self.state(ACCOUNT, account_id)


def given(*events: Event) -> LedgerScenario:
    """Start a scenario from the events already recorded (none is fine)."""
    scenario = LedgerScenario()
    scenario.given(*events)
    return scenario


# Event builders with sensible defaults, so each test states only what matters to it.


def opened(
    account_id: str, currency: Currency = "EUR", overdraft_limit: int = 0, owner: str = "Ann"
) -> AccountOpened:
    return AccountOpened(
        account_id=account_id, owner=owner, currency=currency, overdraft_limit=overdraft_limit
    )


def deposited(
    account_id: str,
    amount: int,
    currency: Currency = "EUR",
    reference: str = "",
    channel: RecordedChannel = "branch",
) -> MoneyDeposited:
    return MoneyDeposited(
        account_id=account_id,
        amount=amount,
        currency=currency,
        reference=reference,
        channel=channel,
    )


def withdrawn(
    account_id: str, amount: int, currency: Currency = "EUR", reference: str = ""
) -> MoneyWithdrawn:
    return MoneyWithdrawn(
        account_id=account_id, amount=amount, currency=currency, reference=reference
    )


def transferred(
    source: str,
    target: str,
    amount: int,
    currency: Currency = "EUR",
    reference: str = "",
    transfer_id: str = "transfer-000001",
) -> tuple[TransferSent, TransferReceived]:
    fields: dict[str, Any] = {
        "transfer_id": transfer_id,
        "from_account": source,
        "to_account": target,
        "amount": amount,
        "currency": currency,
        "reference": reference,
    }
    return TransferSent(**fields), TransferReceived(**fields)


def frozen(account_id: str, reason: str = "fraud check") -> AccountFrozen:
    return AccountFrozen(account_id=account_id, reason=reason)


def unfrozen(account_id: str, reason: str = "cleared") -> AccountUnfrozen:
    return AccountUnfrozen(account_id=account_id, reason=reason)


def limit_changed(account_id: str, old: int, new: int) -> OverdraftLimitChanged:
    return OverdraftLimitChanged(account_id=account_id, old_limit=old, new_limit=new)


def closed(account_id: str, reason: str = "customer left") -> AccountClosed:
    return AccountClosed(account_id=account_id, reason=reason)


def decided(*commands: Command, seed: int = 7) -> list[PendingEvent]:
    """The events the ledger's real decider emits for `commands` run in order (by ann,
    at one time), each accepted; ids drawn from `seed`."""
    decider = InMemoryDecider(LEDGER, random.Random(seed))
    decider.recorded_at = "2026-01-31T09:00:00.000000Z"
    for command in commands:
        assert decider.execute("ann", command) is not None, command
    return [e for e in decider.out if isinstance(e, PendingEvent)]


def as_recorded(pending: PendingEvent, position: int) -> RecordedEvent:
    """`pending` as recorded at `position` (its data and metadata copied; hashes zero)."""
    return RecordedEvent(
        position,
        pending.event_id,
        pending.stream_id,
        pending.stream_type,
        pending.version,
        pending.type,
        pending.schema_version,
        dict(pending.data),
        dict(pending.metadata),
        pending.recorded_at,
        "0" * 64,
        "0" * 64,
    )
