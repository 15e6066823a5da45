"""Autoplay in the original timing, compressed ("play this day in 60 s").

The schedule's rules as properties, autoplay following it on a fake clock, the plan
read from a real demo database, and the app playing a day to its end. No timing is
asserted: the clock is moved by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tui_support import make_app, settle, wait_for

from domain.clock import parse_time
from domain.errors import InvalidInput
from tui.bootstrap import Workspace, app_session
from tui.controllers.autoplay import Autoplay
from tui.controllers.cursor import TimeCursor
from tui.controllers.timed_play import play_timed
from tui.services.timed_play import PlaySchedule, plan_play
from tui.services.types import LogIndex

schedules = st.lists(st.integers(0, 10_000), min_size=2, max_size=200).map(
    lambda found: tuple(sorted(found))
)


@given(schedules, st.floats(0.5, 600), st.lists(st.floats(-10, 700), min_size=2, max_size=20))
def test_the_cursor_only_moves_forward_from_the_first_sample_to_the_last(
    positions: tuple[int, ...], length: float, moments: list[float]
) -> None:
    schedule = PlaySchedule(length, positions)
    shown = [schedule.position_after(t) for t in sorted(moments)]
    assert shown == sorted(shown)
    assert schedule.position_after(0) == positions[0]
    assert schedule.position_after(length) == positions[-1]
    assert all(positions[0] <= p <= positions[-1] for p in shown)


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Host:
    """The parts of the main screen autoplay uses."""

    def __init__(self, head: int) -> None:
        self.time_cursor = TimeCursor()
        self.time_cursor.head = head
        self.time_cursor.move(head, live=True)
        self.notes: list[str] = []
        self.status: dict[str, Any] = {}

    def go(self, position: int, *, live: bool = False) -> None:
        self.time_cursor.move(position, live=live)

    def set_interval(self, interval: float, callback: Callable[[], Any], *, name: str) -> Any:
        return self

    def stop(self) -> None:
        pass

    def notify(self, message: str, *, timeout: float) -> None:
        self.notes.append(message)

    def show_status(self, **view: Any) -> None:
        self.status.update(view)


def test_autoplay_follows_the_schedule_on_its_clock_and_stops_at_the_end() -> None:
    clock, host = FakeClock(), Host(head=100)
    autoplay = Autoplay(host, lambda: LogIndex(head=100), clock=clock)
    schedule = PlaySchedule(10.0, (20, 20, 25, 60, 90))
    autoplay.play_schedule(schedule)
    assert autoplay.playing and host.time_cursor.target == 20
    clock.now += 5.0  # half way: the third of five samples
    autoplay.tick()
    assert host.time_cursor.target == 25 and autoplay.playing
    clock.now += 5.0
    autoplay.tick()
    assert host.time_cursor.target == 90
    assert not autoplay.playing and autoplay.schedule is None
    assert "Played 10 s" in host.notes[-1]


def test_pausing_ends_the_timed_replay() -> None:
    clock, host = FakeClock(), Host(head=100)
    autoplay = Autoplay(host, lambda: LogIndex(head=100), clock=clock)
    autoplay.play_schedule(PlaySchedule(10.0, (1, 50)))
    autoplay.toggle()
    assert not autoplay.playing and autoplay.schedule is None


def test_a_day_is_planned_from_its_first_to_its_last_event(workspace: Workspace) -> None:
    session = app_session(workspace, project=False)
    try:
        queries = session.queries
        event = queries.event(300)
        assert event is not None
        day = event.recorded_at[:10]
        schedule = plan_play(queries, 300, "day", 60)
        first, last = schedule.positions[0], schedule.positions[-1]
        assert list(schedule.positions) == sorted(schedule.positions)
        assert len(schedule.positions) == 60 * 20 + 1
        after_last, at_first = queries.event(last + 1), queries.event(first + 1)
        assert at_first is not None and at_first.recorded_at[:10] == day
        assert queries.event(last).recorded_at[:10] == day  # type: ignore[union-attr]
        assert after_last is None or after_last.recorded_at[:10] > day
        before = queries.event(first)
        assert before is None or before.recorded_at[:10] < day
        # Original timing: half way through the play is half way through the day's clock.
        middle = queries.event(schedule.position_after(30))
        assert middle is not None
        assert parse_time(middle.recorded_at) <= parse_time(f"{day}T12:00:00Z")
    finally:
        session.close()


def test_there_is_nothing_to_play_after_the_last_event_of_a_single_day(
    workspace: Workspace,
) -> None:
    session = app_session(workspace, project=False)
    try:
        with pytest.raises(InvalidInput):
            plan_play(session.queries, 10, "rest", 0)
    finally:
        session.close()


async def test_the_app_plays_the_cursors_day_to_its_end(workspace: Workspace) -> None:
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        main = await settle(pilot)
        main.go(300)
        await settle(pilot)
        clock = FakeClock()
        main.autoplay.clock = clock
        play_timed(main, "day", 60)
        await wait_for(pilot, lambda: main.autoplay.schedule is not None, what="the schedule")
        schedule = main.autoplay.schedule
        assert schedule is not None
        await wait_for(pilot, lambda: main.target == schedule.positions[0])
        clock.now += 60
        await wait_for(pilot, lambda: not main.autoplay.playing, what="the end of the day")
        assert main.target == schedule.positions[-1]
        await settle(pilot)
        assert main.frame is not None and main.frame.position == schedule.positions[-1]
