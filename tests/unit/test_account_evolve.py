"""The account fold's fast path: a balance change keeps every other field as it was."""

from __future__ import annotations

from dataclasses import fields, replace

from hypothesis import given
from hypothesis import strategies as st

from domain.decider import event_data
from domain.ledger.account import Account, _with_balance, evolve
from domain.ledger.events import (
    MoneyDeposited,
    MoneyWithdrawn,
    TransferReceived,
    TransferSent,
)

accounts = st.builds(
    Account,
    account_id=st.text(max_size=8),
    owner=st.text(max_size=8),
    currency=st.sampled_from(["EUR", "USD"]),
    balance=st.integers(-(10**9), 10**9),
    overdraft_limit=st.integers(0, 10**6),
    status=st.sampled_from(["unopened", "open", "frozen", "closed"]),
    frozen_reason=st.text(max_size=8),
    closed_reason=st.text(max_size=8),
)


@given(accounts, st.integers(-(10**9), 10**9))
def test_with_balance_equals_replace_for_every_field(state: Account, balance: int) -> None:
    assert _with_balance(state, balance) == replace(state, balance=balance)


def test_the_strategy_sets_every_field_of_an_account() -> None:
    # A field added to Account must be added to `_with_balance` (and here).
    assert {f.name for f in fields(Account)} == {
        "account_id",
        "owner",
        "currency",
        "balance",
        "overdraft_limit",
        "status",
        "frozen_reason",
        "closed_reason",
    }


@given(accounts, st.integers(1, 10**6))
def test_a_deposit_moves_only_the_balance(state: Account, amount: int) -> None:
    event = MoneyDeposited(
        account_id="a1", amount=amount, currency="EUR", reference="", channel="online"
    )
    assert evolve(state, event) == replace(state, balance=state.balance + amount)


_TRANSFER = {"transfer_id": "t1", "from_account": "a1", "to_account": "a2", "reference": "r"}


@given(accounts, st.integers(1, 10**6))
def test_each_money_movement_moves_only_the_balance(state: Account, amount: int) -> None:
    """Money movements skip the `match` by their exact type: the same new state."""
    moves = [
        (
            MoneyDeposited(
                account_id="a1", amount=amount, currency="EUR", reference="", channel="atm"
            ),
            amount,
        ),
        (MoneyWithdrawn(account_id="a1", amount=amount, currency="EUR", reference=""), -amount),
        (TransferSent(amount=amount, currency="EUR", **_TRANSFER), -amount),
        (TransferReceived(amount=amount, currency="EUR", **_TRANSFER), amount),
    ]
    for event, change in moves:
        assert evolve(state, event) == replace(state, balance=state.balance + change)


class _AuditedWithdrawal(MoneyWithdrawn):
    """Not a ledger event: a subclass, which the exact-type fast path leaves to `match`."""


@given(accounts, st.integers(1, 10**6))
def test_a_subclass_of_a_movement_is_still_folded_by_its_class_pattern(
    state: Account, amount: int
) -> None:
    event = _AuditedWithdrawal(account_id="a1", amount=amount, currency="EUR", reference="")
    assert evolve(state, event) == replace(state, balance=state.balance - amount)


@given(st.integers(1, 10**6), st.text(max_size=12))
def test_event_data_is_the_payload(amount: int, reference: str) -> None:
    """`event_data`'s fast path (plain field types) gives what `payload()` gives."""
    for event in (
        MoneyDeposited(
            account_id="a1", amount=amount, currency="EUR", reference=reference, channel="atm"
        ),
        TransferSent(amount=amount, currency="EUR", **_TRANSFER),
    ):
        data = event_data(event)
        assert data == event.payload()
        assert [type(v) for v in data.values()] == [type(v) for v in event.payload().values()]
