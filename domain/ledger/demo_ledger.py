"""The ledger decided in memory, for writing long demo histories quickly and by the rules.

`DemoLedger` is what the bus would be without a store: it runs commands through the
real handlers (it is their `Context`), folds the events with the real `Account`
aggregate, and records `PendingEvent`s and `Refusal`s in order, with versions,
metadata and ids drawn as the bus draws them.

Most of a history is deposits, withdrawals and transfers, and the real path costs
about 25 µs a command (validated event models, a dataclass `replace` per fold). So
when the rules plainly allow one of those (open accounts, enough funds, room under
the cap), `deposit`, `withdraw` and `transfer` write the events directly and keep
the balance in a mirror; anything else (every refusal, every other command) goes
through the real handler. To keep that shortcut honest, every `check_every`-th
shortcut is decided again by the real handler and fold, and any difference raises.
Tests check every one, and replay whole histories through the real bus.
"""

from __future__ import annotations

import random
from dataclasses import replace
from typing import Any, TypeVar, cast

from domain.decider import InMemoryDecider, event_data, event_metadata, trusted, uuid4_from
from domain.envelope import PendingEvent
from domain.errors import RuleRefused
from domain.ledger import LEDGER
from domain.ledger.account import ACCOUNT, Account
from domain.ledger.commands import Deposit, Transfer, Withdraw
from domain.ledger.events import MoneyDeposited, MoneyWithdrawn, TransferReceived, TransferSent
from domain.ledger.money import MAX_MINOR_UNITS, format_amount
from domain.messages import Command, Event
from domain.model import AggregateType, DomainModel

S = TypeVar("S")

_STREAM_TYPE = ACCOUNT.stream_type
_PREFIX = ACCOUNT.stream_id("")

Move = tuple[str, type[Event], dict[str, Any], int]
"""One event of a shortcut: (stream id, event type, its data, the balance after it)."""


class DemoLedger(InMemoryDecider):
    """The ledger's write side over in-memory states, recording into `out`: the
    domain-free `InMemoryDecider` plus the deposit, withdrawal and transfer shortcuts.

    `recorded_at` is the time stamped on what is recorded next; the caller moves it.
    """

    def __init__(
        self, ids: random.Random, *, check_every: int = 64, model: DomainModel = LEDGER
    ) -> None:
        super().__init__(model, ids)
        self.balances: dict[str, int] = {}
        """The live balance of each account stream (the shortcuts update only this; an
        account's state in `states` may lag it)."""
        self._check_every = check_every
        self._shortcuts = 0
        self._pinned_id: str | None = None

    # -- the handlers' Context ---------------------------------------------------------
    def load(self, aggregate: AggregateType[S], key: str) -> S:
        """The aggregate's current state, with the account balance brought up to date."""
        stream_id = aggregate.stream_id(key)
        state = self.states.get(stream_id)
        if state is None:
            return aggregate.initial()
        balance = self.balances.get(stream_id)
        if balance is not None and cast(Account, state).balance != balance:
            state = replace(cast(Account, state), balance=balance)
            self.states[stream_id] = state
        return cast(S, state)

    def new_id(self) -> str:
        if self._pinned_id is not None:  # a re-check must reuse the id it checks
            return self._pinned_id
        return super().new_id()

    def _keep(self, stream_id: str, state: Any) -> None:
        super()._keep(stream_id, state)
        if isinstance(state, Account):
            self.balances[stream_id] = state.balance

    # -- reading -----------------------------------------------------------------------
    def account(self, account_id: str) -> Account:
        """The account's current state (an unopened `Account` when unknown)."""
        return self.load(ACCOUNT, account_id)

    def available(self, account_id: str) -> int:
        """How much may leave an existing account now: balance plus overdraft limit."""
        stream_id = _PREFIX + account_id
        return self.balances[stream_id] + cast(Account, self.states[stream_id]).overdraft_limit

    # -- the shortcuts -------------------------------------------------------------------
    def deposit(
        self,
        actor: str,
        account_id: str,
        amount: int,
        reference: str,
        correlation_id: str = "",
        causation_id: str = "",
        *,
        channel: str,
    ) -> str | None:
        """Deposit `amount` minor units into an existing account (as `Deposit`).

        `channel` must be one of `DEPOSIT_CHANNELS`: like the other fields it is trusted.
        """
        stream_id = _PREFIX + account_id
        account = cast(Account, self.states[stream_id])
        fields = {
            "account_id": account_id,
            "amount": format_amount(amount, account.currency),
            "channel": channel,
            "reference": reference,
        }
        balance = self.balances[stream_id] + amount
        if account.status != "open" or balance > MAX_MINOR_UNITS:
            command = trusted(Deposit, fields)
            return self.execute(actor, command, correlation_id, causation_id, fields)
        data = {
            "account_id": account_id,
            "amount": amount,
            "currency": account.currency,
            "reference": reference,
            "channel": channel,
        }
        command_id = uuid4_from(self._ids)
        moves: list[Move] = [(stream_id, MoneyDeposited, data, balance)]
        return self._commit(actor, Deposit, fields, command_id, correlation_id, causation_id, moves)

    def withdraw(
        self,
        actor: str,
        account_id: str,
        amount: int,
        reference: str,
        correlation_id: str = "",
        causation_id: str = "",
    ) -> str | None:
        """Withdraw `amount` minor units from an existing account (as `Withdraw`)."""
        stream_id = _PREFIX + account_id
        account = cast(Account, self.states[stream_id])
        fields = {
            "account_id": account_id,
            "amount": format_amount(amount, account.currency),
            "reference": reference,
        }
        balance = self.balances[stream_id] - amount
        if account.status != "open" or balance < -account.overdraft_limit:
            command = trusted(Withdraw, fields)
            return self.execute(actor, command, correlation_id, causation_id, fields)
        data = {
            "account_id": account_id,
            "amount": amount,
            "currency": account.currency,
            "reference": reference,
        }
        command_id = uuid4_from(self._ids)
        moves: list[Move] = [(stream_id, MoneyWithdrawn, data, balance)]
        return self._commit(
            actor, Withdraw, fields, command_id, correlation_id, causation_id, moves
        )

    def transfer(
        self,
        actor: str,
        source_id: str,
        target_id: str,
        amount: int,
        reference: str,
        correlation_id: str = "",
        causation_id: str = "",
    ) -> str | None:
        """Transfer `amount` minor units between existing accounts (as `Transfer`)."""
        source_stream, target_stream = _PREFIX + source_id, _PREFIX + target_id
        source = cast(Account, self.states[source_stream])
        target = cast(Account, self.states[target_stream])
        fields = {
            "from_account": source_id,
            "to_account": target_id,
            "amount": format_amount(amount, source.currency),
            "reference": reference,
        }
        after_source = self.balances[source_stream] - amount
        after_target = self.balances[target_stream] + amount
        if (
            source_id == target_id
            or source.status != "open"
            or target.status != "open"
            or source.currency != target.currency
            or after_source < -source.overdraft_limit
            or after_target > MAX_MINOR_UNITS
        ):
            command = trusted(Transfer, fields)
            return self.execute(actor, command, correlation_id, causation_id, fields)
        command_id = uuid4_from(self._ids)
        data = {
            "transfer_id": uuid4_from(self._ids),  # drawn where the handler draws it
            "from_account": source_id,
            "to_account": target_id,
            "amount": amount,
            "currency": source.currency,
            "reference": reference,
        }
        moves: list[Move] = [
            (source_stream, TransferSent, data, after_source),
            (target_stream, TransferReceived, dict(data), after_target),
        ]
        return self._commit(
            actor, Transfer, fields, command_id, correlation_id, causation_id, moves
        )

    def _commit(
        self,
        actor: str,
        model: type[Command],
        fields: dict[str, Any],
        command_id: str,
        correlation_id: str,
        causation_id: str,
        moves: list[Move],
    ) -> str:
        self._shortcuts += 1
        if self._check_every and self._shortcuts % self._check_every == 0:
            self._recheck(model, fields, moves)
        metadata = event_metadata(actor, command_id, model.type_name, correlation_id, causation_id)
        kept: dict[str, Any] | None = fields
        recorded_at = self.recorded_at
        for stream_id, event_type, data, balance in moves:
            version = self.versions[stream_id] + 1
            self.versions[stream_id] = version
            self.balances[stream_id] = balance
            self.out.append(
                PendingEvent(
                    event_id=uuid4_from(self._ids),
                    stream_id=stream_id,
                    stream_type=_STREAM_TYPE,
                    version=version,
                    type=event_type.type_name,
                    data=data,
                    metadata=metadata,
                    recorded_at=recorded_at,
                    schema_version=event_type.schema_version,
                    command=kept,
                )
            )
            kept = None
        self.position += len(moves)
        return command_id

    def _recheck(self, model: type[Command], fields: dict[str, Any], moves: list[Move]) -> None:
        """Decide a shortcut again with the real handler and fold; raise if they differ."""
        command = model.model_validate(fields)
        self._pinned_id = moves[0][2].get("transfer_id")
        try:
            emits = self.model.handlers[model](command, self)
            changes = self._fold(emits, [""] * len(emits))
        except RuleRefused as refused:
            raise AssertionError(
                f"the demo's shortcut recorded a {model.type_name} the ledger refuses: "
                f"{refused.message}"
            ) from None
        finally:
            self._pinned_id = None
        real = [
            (stream_id, event.type_name, event_data(event), cast(Account, state).balance)
            for stream_id, _, event, state, _ in changes
        ]
        short = [
            (stream_id, type_.type_name, data, balance) for stream_id, type_, data, balance in moves
        ]
        if real != short:
            raise AssertionError(
                f"the demo's shortcut disagrees with the ledger on {model.type_name} "
                f"{fields}: it wrote {short}, the handler {real}"
            )
