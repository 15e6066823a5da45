"""Property: `HistoryCheck.offer` refuses and accepts what it did before its shortcuts
(a stream prefix already learned is tested in place; a command's later event whose
metadata equals its first one's skips the field-by-field comparison): the same
refusals, with the same messages, at the same events."""

from __future__ import annotations

from typing import Any

from hypothesis import example, given, settings
from hypothesis import strategies as st
from ledger_harness import as_recorded, decided

from domain.envelope import PendingEvent, RecordedEvent
from domain.errors import InvalidInput
from domain.history_check import METADATA_FIELDS, HistoryCheck, HistoryRefused, _Group
from domain.ledger.commands import Deposit, OpenAccount, Transfer, Withdraw
from domain.ledger.description import LEDGER_DOMAIN


class _Reference(HistoryCheck):
    """`offer` and `_join` as they were written before the shortcuts."""

    def offer(self, event: RecordedEvent, payload: dict[str, Any] | None = None) -> None:
        index = self._count
        self._count += 1
        group = self._group
        try:
            if group is None or event.metadata != group.events[0].metadata:
                self._check_metadata(event.metadata)
        except InvalidInput as exc:
            self.decode_offered()
            raise HistoryRefused(exc.message, index) from None
        try:
            self._check_stream(event)
            self._join(event, payload, index)
        except InvalidInput as exc:
            self.decode_offered()
            self._decode_at(event, index)
            if isinstance(exc, HistoryRefused):
                raise
            raise HistoryRefused(exc.message, index) from None

    def _join(self, event: RecordedEvent, payload: dict[str, Any] | None, index: int) -> None:
        command_id = event.metadata["command_id"]
        group = self._group
        if group is not None and group.command_id != command_id:
            self._decide(group)
            group = None
        if group is None:
            group = self._group = _Group(command_id, payload=payload)
        else:
            first = group.events[0].metadata
            for name in METADATA_FIELDS:
                if event.metadata[name] != first[name]:
                    raise HistoryRefused(
                        f"metadata.{name} differs from the first event of command "
                        f"{command_id}; one command's events share their metadata",
                        index,
                    )
        group.events.append(event)
        group.indexes.append(index)


def _history() -> list[PendingEvent]:
    return decided(
        OpenAccount(account_id="a1", owner="Ann", currency="EUR"),
        OpenAccount(account_id="a2", owner="Bob", currency="EUR"),
        Deposit(account_id="a1", amount="10.00", channel="online"),
        Transfer(from_account="a1", to_account="a2", amount="1.00"),
        Withdraw(account_id="a2", amount="0.50"),
        Transfer(from_account="a2", to_account="a1", amount="0.25"),
    )


_EVENTS = _history()  # 8 events: two transfers of two
_VALUES = st.sampled_from(
    ["account-a1", "account-a2", "acct-a1", "a1", "account-", "account", "ann", "", 1]
)
_CHANGE = st.tuples(
    st.integers(0, len(_EVENTS) - 1),
    st.sampled_from(["stream_id", "stream_type", *METADATA_FIELDS, "drop", "swap"]),
    _VALUES,
)


def _recorded(changes: list[tuple[int, str, Any]]) -> list[tuple[RecordedEvent, Any]]:
    events = []
    for position, pending in enumerate(_EVENTS, start=1):
        event = as_recorded(pending, position)
        events.append((event, pending.command))
    for at, name, value in changes:
        event = events[at][0]
        if name in ("stream_id", "stream_type"):
            setattr(event, name, str(value))  # (text, as every read event's)
        elif name == "drop":
            event.metadata.pop(METADATA_FIELDS[len(str(value)) % len(METADATA_FIELDS)], None)
        elif name == "swap":  # another command's metadata, as a whole
            event.metadata = dict(_EVENTS[(at + 1) % len(_EVENTS)].metadata)
        else:
            event.metadata[name] = value
    return events


def _outcome(check: HistoryCheck, events: list[tuple[RecordedEvent, Any]]) -> object:
    try:
        for event, payload in events:
            check.offer(event, payload)
        check.finish()
    except HistoryRefused as exc:
        return (exc.index, exc.detail)
    except InvalidInput as exc:
        return exc.message
    return "accepted"


@settings(max_examples=300, deadline=None)
@given(st.lists(_CHANGE, max_size=3))
@example([])
@example([(4, "actor", "bob")])  # a transfer's second half, by another actor
@example([(4, "stream_id", "acct-a2")])
@example([(3, "stream_type", "acc")])
def test_offer_refuses_as_before_its_shortcuts(changes: list[tuple[int, str, Any]]) -> None:
    model, fields = LEDGER_DOMAIN.model, LEDGER_DOMAIN.command_fields
    assert _outcome(HistoryCheck(model, fields), _recorded(changes)) == _outcome(
        _Reference(model, fields), _recorded(changes)
    )
