"""Property: a history the demo generator decided imports; one impossible step is refused.

The demo generators decide every command with the real handlers, so any history they
write is possible. Injecting one transition the rules forbid (a withdrawal beyond what
an account may give, a shipment beyond what a shelf holds) at a random command boundary
must be refused at exactly that line, for both bundled domains.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from history_support import chained_lines
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from domain.decider import event_metadata
from domain.description import DomainDescription
from domain.envelope import PendingEvent, RecordedEvent
from domain.errors import InvalidInput
from domain.history_check import decode_event
from domain.inventory.aggregates import Stock
from domain.inventory.description import INVENTORY_DOMAIN
from domain.ledger.account import Account
from domain.ledger.description import LEDGER_DOMAIN
from store.sqlite import SqliteEventStore
from store.transfer.importer import import_history

Inject = Callable[[str, Any], tuple[str, dict[str, Any], str] | None]
"""(stream id, state) -> (event type, data, command type) the rules forbid, or None."""


def _overdraw(stream_id: str, state: Any) -> tuple[str, dict[str, Any], str] | None:
    if not isinstance(state, Account) or state.status != "open":
        return None
    data = {
        "account_id": state.account_id,
        "amount": state.available + 1,
        "currency": state.currency,
        "reference": "",
    }
    return "MoneyWithdrawn", data, "withdraw"


def _overship(stream_id: str, state: Any) -> tuple[str, dict[str, Any], str] | None:
    if not isinstance(state, Stock) or state.closed or not state.movements:
        return None
    sku, warehouse = stream_id.removeprefix("stock-").split("@")
    data = {"sku": sku, "warehouse": warehouse, "quantity": state.on_hand + 1, "order_ref": "X"}
    return "StockShipped", data, "ship_stock"


def _history(domain: DomainDescription, size: int, seed: int) -> list[PendingEvent]:
    assert domain.demo is not None
    return [e for e in domain.demo(size, seed) if isinstance(e, PendingEvent)]


def _states(domain: DomainDescription, events: list[PendingEvent]) -> dict[str, Any]:
    states: dict[str, Any] = {}
    for i, event in enumerate(events):
        aggregate = domain.model.aggregate_for(event.stream_type)
        recorded = RecordedEvent(
            i + 1, event.event_id, event.stream_id, event.stream_type, event.version,
            event.type, event.schema_version, event.data, event.metadata, event.recorded_at,
            "", "",
        )  # fmt: skip
        state = states.get(event.stream_id, aggregate.initial())
        states[event.stream_id] = aggregate.evolve(state, decode_event(domain.model, recorded))
    return states


def _import(domain: DomainDescription, events: list[PendingEvent]) -> str:
    """'' if the history imports, else the refusal; the database is checked unchanged."""
    with tempfile.TemporaryDirectory() as work:
        path = Path(work) / "history.jsonl"
        path.write_bytes(b"\n".join(chained_lines(list(events))) + b"\n")
        store = SqliteEventStore.init(Path(work) / "t.db", domain=domain.name, synchronous="OFF")
        try:
            with path.open("rb") as source:
                try:
                    import_history(store, source, domain=domain, actor="prop", name="h")
                except InvalidInput as exc:
                    assert store.head().position == 0
                    return exc.message
            return ""
        finally:
            store.close()


def _inject(
    domain: DomainDescription, events: list[PendingEvent], cut: float, inject: Inject
) -> tuple[list[PendingEvent], int]:
    """The history with one forbidden event at a command boundary near `cut`; its line."""
    k = max(1, int(cut * len(events)))
    while (
        k < len(events) and events[k].metadata["command_id"] == events[k - 1].metadata["command_id"]
    ):
        k += 1
    states = _states(domain, events[:k])
    choices = [(sid, inject(sid, state)) for sid, state in sorted(states.items())]
    found = [(sid, made) for sid, made in choices if made is not None]
    assume(found)
    stream_id, (type_, data, command_type) = found[0]
    version = max((e.version for e in events[:k] if e.stream_id == stream_id), default=0) + 1
    forged = PendingEvent(
        event_id="injected-event",
        stream_id=stream_id,
        stream_type=stream_id.split("-", 1)[0],
        version=version,
        type=type_,
        data=data,
        metadata=event_metadata("mallory", "injected-command", command_type, "", ""),
        recorded_at=events[k - 1].recorded_at,
        schema_version=domain.model.catalog.current_version(type_),
    )
    after = [
        replace(e, version=e.version + 1) if e.stream_id == stream_id else e for e in events[k:]
    ]
    return [*events[:k], forged, *after], k + 1


CASES = [
    pytest.param(LEDGER_DOMAIN, _overdraw, "beyond its overdraft limit", id="ledger"),
    pytest.param(INVENTORY_DOMAIN, _overship, "ship_stock on stock-", id="inventory"),
]


@pytest.mark.parametrize(("domain", "inject", "rule"), CASES)
@settings(max_examples=6, deadline=None)
# Refused one or two lines late when the injected command was decided as the next
# command's first event arrived, and that event's index was given to the refusal.
@example(seed=0, size=30, cut=0.5)
@given(seed=st.integers(0, 10_000), size=st.integers(30, 400), cut=st.floats(0.2, 1.0))
def test_a_decided_history_imports_and_one_impossible_step_is_refused(
    domain: DomainDescription, inject: Inject, rule: str, seed: int, size: int, cut: float
) -> None:
    events = _history(domain, size, seed)
    bad, line = _inject(domain, events, cut, inject)
    assert _import(domain, events) == ""
    refused = _import(domain, bad)
    assert refused.startswith(f"h: line {line}: ") and rule in refused, refused
