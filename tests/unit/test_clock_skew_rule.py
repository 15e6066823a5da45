"""The clock-skew rule: the projections' fold flags exactly what the stores' check does."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from domain.clock import format_time
from domain.clock_skew import SKEW_WINDOW, initial_watch, observe, skew_at

_BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_STEPS = st.sampled_from(
    [timedelta(0), timedelta(seconds=5), timedelta(hours=1), timedelta(minutes=-10)]
)
_OFFSETS = st.sampled_from([timedelta(0)] * 5 + [timedelta(days=10_000), -timedelta(days=10_000)])


@st.composite
def _times(draw: st.DrawFn) -> list[str]:
    moment, times = _BASE, []
    for _ in range(draw(st.integers(0, 80))):
        moment += draw(_STEPS)
        times.append(format_time(moment + draw(_OFFSETS)))
    return times


@given(_times())
def test_the_fold_flags_what_the_window_check_flags(times: list[str]) -> None:
    def read(first: int, last: int) -> Sequence[str]:
        return times[first - 1 : last]

    watch = initial_watch()
    folded = []
    for position, moment in enumerate(times, start=1):
        skew = observe(watch, position, moment)
        if skew is not None:
            assert skew.position == position - SKEW_WINDOW
            folded.append(skew)
    assert folded == [
        s for p in range(1, len(times) + 1) if (s := skew_at(p, len(times), read)) is not None
    ]
    assert len(watch["times"]) <= 2 * SKEW_WINDOW + 1


def test_times_in_order_flag_nothing_whatever_their_gaps() -> None:
    gaps = [0, 1, 3600, 0, 86_400 * 30, 2, 2, 7200] * 4
    times, moment = [], _BASE
    for gap in gaps:
        moment += timedelta(seconds=gap)
        times.append(format_time(moment))
    watch = initial_watch()
    assert [observe(watch, p, t) for p, t in enumerate(times, start=1)] == [None] * len(times)


def test_one_event_far_ahead_or_behind_is_flagged_and_its_neighbours_are_not() -> None:
    times = [format_time(_BASE + timedelta(minutes=m)) for m in range(30)]
    times[10] = "2057-01-01T00:00:00.000000Z"
    times[20] = "1990-01-01T00:00:00.000000Z"
    watch = initial_watch()
    flags = [s for p, t in enumerate(times, start=1) if (s := observe(watch, p, t))]
    assert [(s.position, s.direction) for s in flags] == [(11, "ahead"), (21, "behind")]
