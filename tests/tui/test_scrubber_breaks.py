"""The scrubber folds long idle stretches into break columns, so a live write months
after the history does not squash the history into a corner of the axis."""

from __future__ import annotations

import bisect
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from tui_support import make_app, settle, wait_for

from domain.clock import format_time
from tui.bootstrap import Workspace
from tui.services.time_axis import folded_axis
from tui.widgets.scrubber import BREAK, TimelineScrubber

START = datetime(2026, 1, 5, 8, tzinfo=UTC)


def _axis(offsets: list[int], columns: int) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The folded axis of events at `offsets` minutes after START."""
    times = sorted(format_time(START + timedelta(minutes=m)) for m in offsets)
    start, end = START + timedelta(minutes=min(offsets)), START + timedelta(minutes=max(offsets))
    folded = folded_axis(
        start,
        end,
        len(times),
        columns,
        lambda at: bisect.bisect_right(times, at),
        lambda position: times[position - 1],
    )
    return folded.boundaries, folded.breaks


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(0, 500_000), min_size=2, max_size=300).filter(
        lambda xs: max(xs) > min(xs)
    ),
    st.integers(1, 200),
)
def test_the_folded_axis_covers_every_event_once(offsets: list[int], columns: int) -> None:
    bounds, breaks = _axis(offsets, columns)
    assert len(bounds) == columns + 1
    assert bounds[0] == 0 and bounds[-1] == len(offsets)
    assert list(bounds) == sorted(bounds)
    for column in breaks:
        assert bounds[column + 1] == bounds[column], "a break holds no event"
    assert len(breaks) <= columns // 3


@given(st.integers(12, 200), st.integers(2, 40))
def test_a_long_idle_stretch_becomes_one_break(columns: int, burst: int) -> None:
    # A day of events, then nine months of nothing, then one event.
    offsets = [i * 1440 // burst for i in range(burst)] + [270 * 1440]
    bounds, breaks = _axis(offsets, columns)
    assert len(breaks) == 1
    counts = [bounds[i + 1] - bounds[i] for i in range(columns)]
    # The history is drawn over most of the axis, not squeezed into its first columns.
    busy_columns = [i for i, c in enumerate(counts) if c and i < breaks[0]]
    assert breaks[0] >= columns // 2
    assert len(busy_columns) >= min(burst, columns // 4)


async def test_a_live_write_months_later_leaves_the_history_readable(
    workspace: Workspace,
) -> None:
    # The demo ends in January; the test clock writes in June.
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settle(pilot)
        account = next(iter(screen.frame.rows["account_balances"]))  # type: ignore[union-attr]
        fields = {"account_id": account, "amount": "10.00", "reference": "live"}
        screen.session.execute("deposit", fields)
        scrubber = screen.query_one(TimelineScrubber)
        head = workspace.store.head().position
        await wait_for(pilot, lambda: scrubber.axis is not None and scrubber.axis.head == head)
        screen = await settle(pilot)
        await pilot.press("left")
        screen = await settle(pilot)
        axis = scrubber.axis
        assert axis is not None and len(axis.breaks) == 1
        width = len(axis.boundaries) - 1
        assert axis.breaks[0] >= width // 2, "history keeps most of the axis"
        assert BREAK in scrubber.render_line(0).text
