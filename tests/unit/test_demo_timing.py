"""`ending_at` moves every time of a demo history by one amount, and nothing else."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from domain.clock import format_time, parse_time
from domain.demo_timing import Generate, ending_at, last_time
from domain.envelope import PendingEvent, Refusal
from domain.inventory.demo import generate_demo as inventory_demo
from domain.ledger.demo import generate_demo as ledger_demo


@pytest.mark.parametrize("generate", [ledger_demo, inventory_demo], ids=["ledger", "inventory"])
def test_ending_at_moves_each_time_and_keeps_everything_else(generate: Generate) -> None:
    end = datetime(2026, 12, 6, 6, 30, 1, 123456, tzinfo=UTC)
    moved = list(ending_at(generate, 3_000, 4, end))
    last = last_time(generate, 3_000, 4)
    assert last is not None
    shift = end - parse_time(last)
    expected = [
        dataclasses.replace(
            item, recorded_at=format_time(datetime.fromisoformat(item.recorded_at) + shift)
        )
        for item in generate(3_000, 4)
    ]
    assert [type(item) for item in moved] == [type(item) for item in expected]
    assert moved == expected
    assert max(item.recorded_at for item in moved) == format_time(end)


@pytest.mark.parametrize("generate", [ledger_demo, inventory_demo], ids=["ledger", "inventory"])
def test_one_pass_moves_the_history_as_a_dry_run_would(generate: Generate) -> None:
    """A history that knows its last time is played once; one that cannot tell (a plain
    iterator) is played twice; both end at the same moment with the same items."""
    end = datetime(2026, 12, 6, 6, 30, 1, 123456, tzinfo=UTC)
    calls: list[int] = []

    def cannot_tell(events: int, seed: int) -> Iterator[PendingEvent | Refusal]:
        calls.append(events)
        return iter(list(generate(events, seed)))

    assert not hasattr(cannot_tell(10, 1), "last_time")
    calls.clear()
    assert list(ending_at(generate, 1_500, 9, end)) == list(ending_at(cannot_tell, 1_500, 9, end))
    assert calls == [1_500, 1_500]
