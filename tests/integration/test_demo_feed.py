"""`eventscope demo` generates its history in a child process that feeds the load
(`tui.cli.demo_feed.history_in_child`): the same items in the same order as in one
process, the generator's errors raised here, and no child left behind."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from domain.demo_timing import Generate, ending_at
from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput
from domain.inventory.demo import generate_demo as inventory_demo
from domain.ledger.demo import generate_demo as ledger_demo
from tui.cli.demo_feed import history_in_child

END = datetime(2026, 12, 6, 9, 0, 0, 5, tzinfo=UTC)


@pytest.mark.parametrize("batch", [1, 7, 2_000])
@pytest.mark.parametrize("generate", [ledger_demo, inventory_demo], ids=["ledger", "inventory"])
def test_the_child_sends_the_history_one_process_would_write(
    generate: Generate, batch: int
) -> None:
    fed = list(history_in_child(generate, 1_200, 3, END, batch=batch))
    assert fed == list(ending_at(generate, 1_200, 3, END))
    assert any(type(item) is Refusal for item in fed)


def _refuses(events: int, seed: int) -> Iterator[PendingEvent | Refusal]:
    yield from ledger_demo(5, seed)
    raise InvalidInput("the generator refuses these parameters")


def _crashes(events: int, seed: int) -> Iterator[PendingEvent | Refusal]:
    yield from ledger_demo(5, seed)
    raise ZeroDivisionError("a bug in a plug-in's generator")


def test_a_generator_refusal_is_raised_here_as_invalid_input() -> None:
    with pytest.raises(InvalidInput, match="refuses these parameters"):
        list(history_in_child(_refuses, 5, 1, END))


def test_a_generator_crash_is_raised_here_naming_it() -> None:
    with pytest.raises(RuntimeError, match="ZeroDivisionError: a bug in a plug-in"):
        list(history_in_child(_crashes, 5, 1, END))


def _children() -> set[int]:
    path = f"/proc/{os.getpid()}/task/{os.getpid()}/children"
    with open(path) as listing:
        return {int(pid) for pid in listing.read().split()}


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="reads /proc")
def test_stopping_early_leaves_no_child_process() -> None:
    before = _children()
    history = history_in_child(ledger_demo, 200_000, 1, END, batch=100)
    first = next(history)
    assert type(first) is PendingEvent
    assert len(_children() - before) == 1  # the generator runs, blocked on the pipe
    history.close()
    assert _children() == before
