"""The command bus over the in-memory store: decide, append, retry, idempotency, refusals."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.envelope import AppendResult, Metadata, StreamAppend
from domain.errors import ConcurrencyConflict, InvalidInput, RuleRefused
from domain.ledger import LEDGER, Deposit, OpenAccount, Transfer, Withdraw
from store.memory import InMemoryEventStore


def _bus(store: InMemoryEventStore | None = None, prefix: str = "id") -> CommandBus:
    store = store or InMemoryEventStore(clock=StepClock())
    return CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds(prefix))


def _open(bus: CommandBus, *accounts: tuple[str, str]) -> None:
    for account_id, currency in accounts:
        bus.execute(OpenAccount(account_id=account_id, owner="Owner", currency=currency), actor="t")


def test_transfer_is_one_atomic_append_to_two_streams() -> None:
    bus = _bus()
    _open(bus, ("a1", "EUR"), ("a2", "EUR"))
    bus.execute(Deposit(account_id="a1", amount="10.00"), actor="t")
    result = bus.execute(Transfer(from_account="a1", to_account="a2", amount="4.00"), actor="t")
    assert result.positions == (4, 5)
    assert [(e.stream_id, e.version, e.type) for e in result.events] == [
        ("account-a1", 3, "TransferSent"),
        ("account-a2", 2, "TransferReceived"),
    ]
    assert {e.metadata["command_id"] for e in result.events} == {result.command_id}


def test_refusal_is_recorded_and_appends_nothing() -> None:
    store = InMemoryEventStore(clock=StepClock())
    bus = _bus(store)
    _open(bus, ("a1", "EUR"))
    before = store.head()
    with pytest.raises(RuleRefused, match="overdraft limit"):
        bus.execute(Withdraw(account_id="a1", amount="1.00"), actor="mallory")
    assert store.head() == before
    [refusal] = store.refusals()
    assert (refusal.actor, refusal.command_type, refusal.at_position) == ("mallory", "withdraw", 1)
    assert refusal.command == {"account_id": "a1", "amount": "1.00", "reference": ""}


def test_same_command_id_returns_the_earlier_result() -> None:
    store = InMemoryEventStore(clock=StepClock())
    bus = _bus(store)
    _open(bus, ("a1", "EUR"))
    first = bus.execute(Deposit(account_id="a1", amount="1.00"), actor="t", command_id="c-1")
    again = bus.execute(Deposit(account_id="a1", amount="1.00"), actor="t", command_id="c-1")
    assert again.duplicate and again.positions == first.positions
    assert store.head().position == 2
    with pytest.raises(InvalidInput, match="different command"):
        bus.execute(Deposit(account_id="a1", amount="2.00"), actor="t", command_id="c-1")


class FlakyStore(InMemoryEventStore):
    """Lets another writer slip in before the first `conflicts` appends."""

    def __init__(self, conflicts: int) -> None:
        super().__init__(clock=StepClock())
        self.conflicts = conflicts
        self.rival: CommandBus | None = None

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        if self.conflicts and self.rival is not None and metadata.actor == "me":
            self.conflicts -= 1
            self.rival.execute(Deposit(account_id="a1", amount="1.00"), actor="rival")
        return super().append(streams, metadata)


def test_conflict_is_retried_with_fresh_state() -> None:
    store = FlakyStore(conflicts=2)
    bus = _bus(store)
    _open(bus, ("a1", "EUR"))
    bus.execute(Deposit(account_id="a1", amount="5.00"), actor="t")
    store.rival = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("rival"))
    result = bus.execute(Withdraw(account_id="a1", amount="2.00"), actor="me")
    # Two rival deposits landed between load and append; the third attempt went through.
    assert result.events[0].version == 5
    assert store.conflicts == 0
    assert [e.type for e in store.read_all()][-1] == "MoneyWithdrawn"


def test_conflicts_beyond_the_retry_budget_reach_the_caller() -> None:
    store = FlakyStore(conflicts=10)
    bus = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("id"), max_retries=2)
    _open(bus, ("a1", "EUR"))
    store.rival = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("rival"))
    before_mine = [e for e in store.read_all() if e.actor == "me"]
    with pytest.raises(ConcurrencyConflict, match="retry"):
        bus.execute(Deposit(account_id="a1", amount="5.00"), actor="me")
    assert [e for e in store.read_all() if e.actor == "me"] == before_mine


def test_cache_sees_writes_from_another_bus() -> None:
    store = InMemoryEventStore(clock=StepClock())
    mine, theirs = _bus(store, "mine"), _bus(store, "theirs")
    _open(mine, ("a1", "EUR"))
    mine.execute(Deposit(account_id="a1", amount="5.00"), actor="t")
    theirs.execute(Withdraw(account_id="a1", amount="5.00"), actor="t")
    with pytest.raises(RuleRefused):
        mine.execute(Withdraw(account_id="a1", amount="0.01"), actor="t")


def test_empty_actor_is_invalid() -> None:
    with pytest.raises(InvalidInput, match="actor"):
        _bus().execute(OpenAccount(account_id="a1", owner="O", currency="EUR"), actor=" ")


def test_a_refusal_on_a_stale_cached_state_is_decided_again() -> None:
    store = InMemoryEventStore(clock=StepClock())
    mine, theirs = _bus(store, "mine"), _bus(store, "theirs")
    _open(mine, ("a1", "EUR"))
    mine.execute(Deposit(account_id="a1", amount="5.00"), actor="t")  # cached: 5.00
    theirs.execute(Deposit(account_id="a1", amount="10.00"), actor="t")  # now 15.00
    result = mine.execute(Withdraw(account_id="a1", amount="12.00"), actor="t")
    assert result.events[0].type == "MoneyWithdrawn"
    assert store.refusals() == []


def test_a_stale_cached_state_that_allows_the_command_ends_in_a_retry() -> None:
    store = InMemoryEventStore(clock=StepClock())
    mine, theirs = _bus(store, "mine"), _bus(store, "theirs")
    _open(mine, ("a1", "EUR"))
    mine.execute(Deposit(account_id="a1", amount="5.00"), actor="t")  # cached: 5.00
    theirs.execute(Withdraw(account_id="a1", amount="5.00"), actor="t")  # now 0.00
    with pytest.raises(RuleRefused, match="overdraft limit"):
        mine.execute(Withdraw(account_id="a1", amount="5.00"), actor="t")
    assert [e.type for e in store.read_all()][-1] == "MoneyWithdrawn"
    assert len(store.read_all()) == 3


def test_a_stream_the_decision_only_read_is_version_checked_too() -> None:
    """A handler that reads b1 and writes a1 is retried when b1 moved meanwhile."""
    from domain.ledger.account import ACCOUNT
    from domain.ledger.events import MoneyDeposited
    from domain.model import Emit

    store = InMemoryEventStore(clock=StepClock())
    bus = _bus(store)
    _open(bus, ("a1", "EUR"), ("b1", "EUR"))
    rival = _bus(store, "rival")
    seen: list[int] = []

    def deposit_as_much_as_b1_holds(command: Deposit, ctx: object) -> list[Emit]:
        b1 = ctx.load(ACCOUNT, "b1")  # type: ignore[attr-defined]
        ctx.load(ACCOUNT, "a1")  # type: ignore[attr-defined]
        seen.append(b1.balance)
        if len(seen) == 1:  # another writer changes b1 after we read it
            rival.execute(Deposit(account_id="b1", amount="3.00"), actor="rival")
        event = MoneyDeposited(
            account_id="a1", amount=b1.balance + 1, currency="EUR", reference="", channel="branch"
        )
        return [Emit(ACCOUNT, "a1", event)]

    handlers = dict(LEDGER.handlers)
    handlers[Deposit] = deposit_as_much_as_b1_holds
    from dataclasses import replace as _replace

    model = _replace(LEDGER, handlers=handlers)
    reader = CommandBus(store, model, clock=StepClock(), ids=SequentialIds("reader"))
    result = reader.execute(Deposit(account_id="a1", amount="1.00"), actor="t")
    assert seen == [0, 300]
    assert result.events[0].data["amount"] == 301


def test_a_stale_refusal_is_decided_again_even_without_conflict_retries() -> None:
    store = InMemoryEventStore(clock=StepClock())
    mine = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("m"), max_retries=0)
    theirs = _bus(store, "theirs")
    _open(mine, ("a1", "EUR"))
    mine.execute(Deposit(account_id="a1", amount="5.00"), actor="t")
    theirs.execute(Deposit(account_id="a1", amount="10.00"), actor="t")
    result = mine.execute(Withdraw(account_id="a1", amount="12.00"), actor="t")
    assert result.events[0].type == "MoneyWithdrawn"
