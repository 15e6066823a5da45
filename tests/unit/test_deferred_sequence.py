"""A description's projections may be loaded on first use (`domain.deferred`): the
sequence reads as the one it loads, and loads it once, only when read."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.deferred import DeferredSequence


@given(st.lists(st.integers()), st.integers(-5, 5), st.integers(-5, 5), st.integers())
def test_a_deferred_sequence_reads_as_the_sequence_it_loads(
    items: list[int], start: int, stop: int, probe: int
) -> None:
    deferred = DeferredSequence(lambda: tuple(items))
    assert list(deferred) == items
    assert len(deferred) == len(items)
    assert list(deferred[start:stop]) == items[start:stop]
    assert (probe in deferred) == (probe in items)
    if items:
        assert deferred[-1] == items[-1]


def test_it_loads_once_and_only_when_read() -> None:
    loads: list[int] = []

    def load() -> tuple[str, ...]:
        loads.append(1)
        return ("a", "b")

    deferred = DeferredSequence(load)
    assert loads == []
    assert repr(deferred) == "DeferredSequence(<not loaded>)"
    assert deferred[0] == "a" and len(deferred) == 2 and list(deferred) == ["a", "b"]
    assert loads == [1]


def test_the_ledger_reads_its_projections_through_its_description() -> None:
    from domain.ledger.description import LEDGER_DOMAIN
    from domain.ledger.projections import LEDGER_PROJECTIONS

    assert list(LEDGER_DOMAIN.projections) == list(LEDGER_PROJECTIONS)
    assert LEDGER_DOMAIN.projection("account_balances") in LEDGER_PROJECTIONS
