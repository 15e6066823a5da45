"""The Account aggregate: an immutable state and the fold that builds it from events."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Literal

from domain.ledger.events import (
    AccountClosed,
    AccountFrozen,
    AccountOpened,
    AccountUnfrozen,
    MoneyDeposited,
    MoneyWithdrawn,
    OverdraftLimitChanged,
    TransferReceived,
    TransferSent,
)
from domain.messages import Event
from domain.model import AggregateType

AccountStatus = Literal["unopened", "open", "frozen", "closed"]
"""Where an account is in its life. `frozen` is still open: it may be reconfigured,
unfrozen or closed, but moves no money."""


@dataclass(frozen=True, slots=True)
class Account:
    """One account as its events left it. The initial value is an account never opened.

    Money is in minor units of `currency`; `balance` may go down to `-overdraft_limit`.
    """

    account_id: str = ""
    owner: str = ""
    currency: str = ""
    balance: int = 0
    overdraft_limit: int = 0
    status: AccountStatus = "unopened"
    frozen_reason: str = ""
    """Why it is frozen (empty unless `status` is `frozen`)."""
    closed_reason: str = ""
    """Why it was closed (empty unless `status` is `closed`)."""

    @property
    def exists(self) -> bool:
        """True once the account was opened (closed accounts still exist)."""
        return self.status != "unopened"

    @property
    def available(self) -> int:
        """How much can still leave the account: the balance plus the overdraft limit."""
        return self.balance + self.overdraft_limit


_new = object.__new__
(
    _set_account_id,
    _set_owner,
    _set_currency,
    _set_balance,
    _set_overdraft_limit,
    _set_status,
    _set_frozen_reason,
    _set_closed_reason,
) = (Account.__dict__[f.name].__set__ for f in fields(Account))
"""Each field's slot, set directly: what the frozen `__init__` does through
`object.__setattr__`, in about half the time."""


def _with_balance(state: Account, balance: int) -> Account:
    """`replace(state, balance=balance)` without its field-by-field introspection: the
    hot path of every deposit, withdrawal and transfer (and of every replay). The new
    state's slots are set as `Account.__init__` sets them (it only assigns)."""
    new = _new(Account)
    _set_account_id(new, state.account_id)
    _set_owner(new, state.owner)
    _set_currency(new, state.currency)
    _set_balance(new, balance)
    _set_overdraft_limit(new, state.overdraft_limit)
    _set_status(new, state.status)
    _set_frozen_reason(new, state.frozen_reason)
    _set_closed_reason(new, state.closed_reason)
    return new


def evolve(state: Account, event: Event) -> Account:
    """The account after `event`. Pure: `state` is left untouched.

    Events are facts, so nothing is checked here; the handlers checked the rules
    before the events were recorded.
    """
    # Money movements (nearly every event) by their exact type first: the class
    # patterns below cost as much again as the new state. Any other type, a subclass
    # included, is matched as before.
    if type(event) is MoneyWithdrawn or type(event) is TransferSent:
        return _with_balance(state, state.balance - event.amount)
    if type(event) is MoneyDeposited or type(event) is TransferReceived:
        return _with_balance(state, state.balance + event.amount)
    match event:
        case MoneyDeposited(amount=amount) | TransferReceived(amount=amount):
            return _with_balance(state, state.balance + amount)
        case MoneyWithdrawn(amount=amount) | TransferSent(amount=amount):
            return _with_balance(state, state.balance - amount)
        case AccountOpened():
            return Account(
                account_id=event.account_id,
                owner=event.owner,
                currency=event.currency,
                overdraft_limit=event.overdraft_limit,
                status="open",
            )
        case AccountFrozen(reason=reason):
            return replace(state, status="frozen", frozen_reason=reason)
        case AccountUnfrozen():
            return replace(state, status="open", frozen_reason="")
        case OverdraftLimitChanged(new_limit=new_limit):
            return replace(state, overdraft_limit=new_limit)
        case AccountClosed(reason=reason):
            return replace(state, status="closed", closed_reason=reason, frozen_reason="")
    # A new ledger event type must be taught here; silently skipping it would give
    # handlers a wrong balance to decide on.
    raise TypeError(f"the Account aggregate does not know how to apply {event.type_name}")


ACCOUNT: AggregateType[Account] = AggregateType(
    stream_type="account", initial=Account, evolve=evolve
)
"""The account aggregate: stream `account-<account_id>`."""
