"""given / when / then for the ledger's rules: real handlers, no bus, no store.

    given(opened("a1"), deposited("a1", 10_000))
        .when(Withdraw(account_id="a1", amount="150.00"))
        .then_refused(RuleRefused, "beyond its overdraft limit")

`given` folds events into account states with the real `evolve`; `when` runs the real
handler against a Context serving those states (deterministic clock and ids); `then`
compares the emitted events, each on the stream it should land on. A successful `when`
folds its events in too, so scenarios can chain and inspect `account(id)`.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

from domain.clock import SequentialIds, StepClock
from domain.errors import DomainError
from domain.ledger import (
    ACCOUNT,
    HANDLERS,
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
from domain.model import AggregateType, Emit

S = TypeVar("S")


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


class _GivenContext:
    """A handler's Context over in-memory states; remembers which streams were loaded."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self.loaded: set[str] = set()

    def load(self, aggregate: AggregateType[S], key: str) -> S:
        stream_id = aggregate.stream_id(key)
        self.loaded.add(stream_id)
        state: S = self._scenario.states.get(stream_id, aggregate.initial())
        return state

    def now(self) -> str:
        return self._scenario.clock.now()

    def new_id(self) -> str:
        return self._scenario.ids.new_id()


class Scenario:
    """One given/when/then run. Build it with `given(...)`."""

    def __init__(self) -> None:
        self.states: dict[str, Any] = {}
        self.clock = StepClock()
        self.ids = SequentialIds("transfer")
        self.emitted: list[Emit] | None = None
        self.error: DomainError | None = None

    def given(self, *events: Event) -> Scenario:
        """Fold `events`, in order, into the states of the accounts they name."""
        for event in events:
            self._fold(ACCOUNT, stream_key(event), event)
        return self

    def when(self, command: Command) -> Scenario:
        """Run the command's real handler; keep its events or the DomainError it raised."""
        self.emitted, self.error = None, None
        ctx = _GivenContext(self)
        try:
            emits = list(HANDLERS[type(command)](command, ctx))
        except DomainError as exc:
            self.error = exc
            return self
        for emit in emits:
            stream_id = emit.aggregate.stream_id(emit.key)
            # The bus refuses the same: it needs a loaded version to append against.
            assert stream_id in ctx.loaded, f"handler emitted to {stream_id} without loading it"
            self._fold(emit.aggregate, emit.key, emit.event)
        self.emitted = emits
        return self

    def when_fields(self, type_name: str, fields: dict[str, Any]) -> Scenario:
        """Validate raw fields as a form or the CLI would, then run the command."""
        self.emitted, self.error = None, None
        try:
            command = LEDGER.parse_command(type_name, fields)
        except DomainError as exc:
            self.error = exc
            return self
        return self.when(command)

    def then(self, *expected: Event) -> Scenario:
        """Assert the handler emitted exactly `expected`, each on its account's stream."""
        assert self.error is None, f"expected events, but it was refused: {self.error!r}"
        assert self.emitted is not None, "call when() first"
        actual = [(e.aggregate.stream_type, e.key, e.event) for e in self.emitted]
        wanted = [(ACCOUNT.stream_type, stream_key(e), e) for e in expected]
        assert actual == wanted
        return self

    def then_refused(self, error: type[DomainError], match: str) -> DomainError:
        """Assert the command failed with `error` (exactly that class) matching `match`."""
        assert self.emitted is None, f"expected {error.__name__}, got events {self.emitted!r}"
        assert self.error is not None, "call when() first"
        assert type(self.error) is error, f"expected {error.__name__}, got {self.error!r}"
        message = self.error.message
        assert re.search(match, message), f"{match!r} not found in {message!r}"
        assert "\n" not in message, "error messages are one line"
        return self.error

    def account(self, account_id: str) -> Account:
        """The account's state after everything given and done so far."""
        state: Account = self.states.get(ACCOUNT.stream_id(account_id), ACCOUNT.initial())
        return state

    def _fold(self, aggregate: AggregateType[Any], key: str, event: Event) -> None:
        stream_id = aggregate.stream_id(key)
        state = self.states.get(stream_id, aggregate.initial())
        self.states[stream_id] = aggregate.evolve(state, event)


def given(*events: Event) -> Scenario:
    """Start a scenario from the events already recorded (none is fine)."""
    return Scenario().given(*events)


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
