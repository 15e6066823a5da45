"""The account fold's fast path: a balance change keeps every other field as it was."""

from __future__ import annotations

from dataclasses import fields, replace

from hypothesis import given
from hypothesis import strategies as st

from domain.ledger.account import Account, _with_balance, evolve
from domain.ledger.events import MoneyDeposited

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
