"""The bus decides again under the store's append lock after a conflict
(`EventWriter.exclusive_appends`), so a command on contended streams makes progress:
whatever a rival does before each of its unlocked appends, no conflict reaches the
caller, every command is recorded once, and the balances are those of applying every
recorded command in order."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.envelope import AppendResult, Metadata, StreamAppend
from domain.errors import ConcurrencyConflict, RuleRefused
from domain.ledger import LEDGER, Deposit, OpenAccount, Withdraw
from store.memory import InMemoryEventStore

ACCOUNTS = ("a1", "a2")


class RivalBeforeEveryAppend(InMemoryEventStore):
    """Before each of our appends made outside an exclusive block, a rival deposits to
    every account we are about to write (the worst a race can do); inside the block it
    cannot (it would wait for the lock)."""

    def __init__(self) -> None:
        super().__init__(clock=StepClock())
        self.rival: CommandBus | None = None
        self.depth = 0
        self.blocks = 0
        self.rival_deposits = 0

    @contextmanager
    def exclusive_appends(self) -> Iterator[None]:
        if self.rival is not None:  # ours (the rival's own run while it is taken out)
            self.blocks += 1
        self.depth += 1
        try:
            with super().exclusive_appends():
                yield
        finally:
            self.depth -= 1

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        rival, self.rival = self.rival, None  # the rival's own appends pass untouched
        if rival is not None and self.depth == 0 and metadata.actor == "me":
            for append in streams:
                account = append.stream_id.removeprefix("account-")
                rival.execute(Deposit(account_id=account, amount="1.00"), actor="rival")
                self.rival_deposits += 1
        self.rival = rival
        return super().append(streams, metadata)


def _balance(store: InMemoryEventStore, account: str) -> int:
    """The account's balance in cents, folded from the store."""
    bus = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("read"))
    aggregate = next(a for a in LEDGER.aggregates if a.stream_type == "account")
    _, state = bus.load(aggregate, account)
    return int(state.balance)


@settings(max_examples=60, deadline=None)
@given(
    commands=st.lists(
        st.tuples(st.sampled_from(ACCOUNTS), st.booleans(), st.integers(1, 300)),
        min_size=1,
        max_size=12,
    )
)
def test_no_conflict_reaches_the_caller_whatever_the_rival_does(
    commands: list[tuple[str, bool, int]],
) -> None:
    store = RivalBeforeEveryAppend()
    bus = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("me"), max_retries=1)
    for account in ACCOUNTS:
        bus.execute(OpenAccount(account_id=account, owner="O", currency="EUR"), actor="setup")
    store.rival = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("rival"))
    expected = dict.fromkeys(ACCOUNTS, 0)
    for account, deposit, cents in commands:
        amount = Decimal(cents) / 100
        command = (Deposit if deposit else Withdraw)(account_id=account, amount=str(amount))
        try:
            result = bus.execute(command, actor="me")
        except RuleRefused:
            continue
        assert not result.duplicate
        expected[account] += cents if deposit else -cents
    rivals = store.rival_deposits
    # The rival got in first before every unlocked append (one stream per command),
    # and each of those commands was then decided once more, under the lock.
    assert store.blocks == rivals
    rival_events = [e for e in store.read_all() if e.metadata["actor"] == "rival"]
    assert len(rival_events) == rivals
    for account in ACCOUNTS:
        deposited = sum(1 for e in rival_events if e.stream_id == f"account-{account}")
        assert _balance(store, account) == expected[account] + 100 * deposited
    assert [e.position for e in store.read_all()] == list(range(1, store.head().position + 1))


def test_without_the_locked_decision_the_same_rival_exhausts_the_retries() -> None:
    store = RivalBeforeEveryAppend()
    bus = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("me"), max_retries=3)
    bus.exclusive_after = bus.max_retries + 1  # never decide under the lock
    bus.execute(OpenAccount(account_id="a1", owner="O", currency="EUR"), actor="setup")
    store.rival = CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("rival"))
    with pytest.raises(ConcurrencyConflict):
        bus.execute(Deposit(account_id="a1", amount="1.00"), actor="me")
    assert store.blocks == 0
