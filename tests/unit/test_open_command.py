"""`OpenCommand`, the load's stand-in for `HistoryCheck` beside a replay child: it
groups the offered events by the rule `HistoryCheck` groups them by, and
`decode_offered` names the first event of the command being loaded (never of an
earlier one) whose data does not validate, at its index. Pure: no IO."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ledger_harness import as_recorded, decided

from domain.envelope import RecordedEvent
from domain.history_check import HistoryRefused, OpenCommand
from domain.ledger.commands import Deposit, OpenAccount, Transfer, Withdraw
from domain.ledger.description import LEDGER_DOMAIN


def _history() -> list[RecordedEvent]:
    pending = decided(
        OpenAccount(account_id="a1", owner="Ann", currency="EUR"),
        OpenAccount(account_id="a2", owner="Bob", currency="EUR"),
        Deposit(account_id="a1", amount="10.00", channel="online"),
        Transfer(from_account="a1", to_account="a2", amount="1.00"),
        Transfer(from_account="a2", to_account="a1", amount="0.25"),
        Withdraw(account_id="a2", amount="0.50"),
        seed=3,
    )
    return [as_recorded(event, n) for n, event in enumerate(pending, start=1)]


_EVENTS = _history()  # 8 events; the two transfers have two each (indexes 3-4 and 5-6)


def _open_command_of(last: int) -> list[int]:
    """The indexes of the command run that ends at `last` (its events so far)."""
    command_id = _EVENTS[last].metadata["command_id"]
    first = last
    while first > 0 and _EVENTS[first - 1].metadata["command_id"] == command_id:
        first -= 1
    return list(range(first, last + 1))


@settings(max_examples=100, deadline=None)
@given(bad=st.integers(0, len(_EVENTS) - 1), last=st.integers(0, len(_EVENTS) - 1))
def test_decode_offered_names_a_bad_event_of_the_open_command_only(bad: int, last: int) -> None:
    events = list(_EVENTS)
    events[bad] = replace(events[bad], data={**events[bad].data, "currency": 7})
    check = OpenCommand(LEDGER_DOMAIN.model)
    for event in events[: last + 1]:
        check.offer(event)
    if bad in _open_command_of(last):
        with pytest.raises(HistoryRefused) as refused:
            check.decode_offered()
        assert refused.value.index == bad
        assert "currency" in refused.value.detail
    else:
        check.decode_offered()  # an earlier command's event is the child's to judge
    check.finish()
    check.decode_offered()  # nothing is open after the last command
