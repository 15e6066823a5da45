"""The scrubber's axis is rebuilt one build at a time, and always lands.

Found on PostgreSQL at 100,000 events under load: an axis build takes seconds (a query
per column), and while `simulate` kept the head moving each new build superseded the one
under way, so after a resize the scrubber kept its old, cut axis until traffic stopped.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.controllers import axis as axis_module
from tui.controllers.axis import AxisBuilt, ScrubberAxis
from tui.services.types import TimeAxis


class _Cursor:
    head = 100


class _Screen:
    """What ScrubberAxis uses of the main screen: workers are held, not run, so the
    test decides when each build lands."""

    def __init__(self) -> None:
        self.workers: list[Callable[[], Any]] = []
        self.posted: list[AxisBuilt] = []
        self.shown: list[TimeAxis] = []
        self.timers: list[Callable[[], None]] = []
        self.session = self
        self.queries = self

    def run_worker(self, work: Callable[[], Any], **_: object) -> None:
        self.workers.append(work)

    def set_timer(self, _delay: float, callback: Callable[[], None], **_: object) -> object:
        self.timers.append(callback)
        return object()

    def post_message(self, message: AxisBuilt) -> None:
        self.posted.append(message)

    def query_one(self, _kind: object) -> _Screen:
        return self

    def update_view(self, *, axis: TimeAxis) -> None:
        self.shown.append(axis)

    def time_axis(self, buckets: int) -> TimeAxis:
        return TimeAxis("", "", tuple(range(buckets + 1)))


def _land(screen: _Screen, axis: ScrubberAxis) -> None:
    """Run the oldest build held, and deliver its message."""
    screen.workers.pop(0)()
    axis.built(screen.posted.pop(0).axis)


@pytest.fixture(autouse=True)
def _no_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    # No minimum spacing between builds: the rule under test is one at a time.
    monkeypatch.setattr(axis_module, "AXIS_REFRESH_SECONDS", 0.0)


def _axis() -> tuple[_Screen, _Cursor, ScrubberAxis]:
    screen, cursor = _Screen(), _Cursor()
    axis = ScrubberAxis(screen, cursor)  # type: ignore[arg-type]
    axis.enabled = True
    return screen, cursor, axis


def test_a_resize_during_a_build_is_built_when_that_build_lands() -> None:
    screen, cursor, axis = _axis()
    axis.resized(118)
    assert len(screen.workers) == 1
    cursor.head = 150  # events arrive while the first build runs
    axis.maybe_refresh()
    axis.resized(78)
    assert len(screen.workers) == 1, "a second build superseded the one under way"
    _land(screen, axis)
    assert len(screen.shown[-1].boundaries) == 119 and len(screen.workers) == 1
    _land(screen, axis)
    assert len(screen.shown[-1].boundaries) == 79 and not screen.workers


def test_a_failed_build_does_not_stop_later_ones() -> None:
    screen, cursor, axis = _axis()
    axis.resized(40)

    def fail(_buckets: int) -> TimeAxis:
        raise RuntimeError("the server went away")

    screen.time_axis = fail  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        screen.workers.pop(0)()  # the worker reports its own failure
    axis.built(screen.posted.pop(0).axis)
    assert screen.shown == []
    del screen.time_axis  # the class's again
    cursor.head = 101
    axis.maybe_refresh()
    _land(screen, axis)
    assert len(screen.shown[-1].boundaries) == 41


@settings(max_examples=60, deadline=None)
@given(
    steps=st.lists(
        st.one_of(
            st.tuples(st.just("resize"), st.integers(min_value=1, max_value=200)),
            st.tuples(st.just("event"), st.integers(min_value=1, max_value=50)),
            st.tuples(st.just("land"), st.just(0)),
        ),
        max_size=30,
    ),
    first=st.integers(min_value=1, max_value=200),
)
def test_at_most_one_build_runs_and_the_last_one_fits_the_scrubber(
    steps: list[tuple[str, int]], first: int
) -> None:
    screen, cursor, axis = _axis()
    axis.resized(first)
    width = first
    for kind, value in steps:
        if kind == "resize":
            width = value
            axis.resized(value)
        elif kind == "event":
            cursor.head += value
            axis.maybe_refresh()
        elif screen.workers:
            _land(screen, axis)
        assert len(screen.workers) <= 1
    while screen.workers:  # traffic stops: whatever was asked for lands
        _land(screen, axis)
    assert len(screen.shown[-1].boundaries) == width + 1
