"""Autoplay's rules, without a screen: speeds, ticks, the end of history, the live edge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tui.controllers.autoplay import SPEEDS, Autoplay
from tui.controllers.cursor import TimeCursor
from tui.services.types import LogIndex


class FakeTimer:
    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.stopped = False

    def stop(self) -> None:
        self.stopped = True


class FakeScreen:
    """The parts of the main screen autoplay uses, recorded."""

    def __init__(self, head: int, *, at: int, live: bool) -> None:
        self.time_cursor = TimeCursor()
        self.time_cursor.head = head
        self.time_cursor.move(at, live=live)
        self.timers: list[FakeTimer] = []
        self.notes: list[str] = []
        self.status: dict[str, Any] = {}

    def go(self, position: int, *, live: bool = False) -> None:
        self.time_cursor.move(position, live=live)

    def set_interval(self, interval: float, callback: Callable[[], Any], *, name: str) -> Any:
        self.timers.append(FakeTimer(interval))
        return self.timers[-1]

    def notify(self, message: str, *, timeout: float) -> None:
        self.notes.append(message)

    def show_status(self, **view: Any) -> None:
        self.status.update(view)


def player(head: int, *, at: int, live: bool = False) -> tuple[Autoplay, FakeScreen]:
    screen = FakeScreen(head, at=at, live=live)
    return Autoplay(screen, lambda: LogIndex(head=screen.time_cursor.head)), screen


def test_play_moves_one_event_a_tick_at_ten_a_second() -> None:
    autoplay, screen = player(50, at=10)
    autoplay.toggle()
    assert autoplay.playing and screen.status == {"playing": True, "speed": 10}
    assert screen.timers[-1].interval == 0.1
    autoplay.tick()
    autoplay.tick()
    assert screen.time_cursor.target == 12


def test_fast_speeds_move_several_events_a_tick() -> None:
    autoplay, screen = player(5000, at=0)
    for _ in range(len(SPEEDS)):
        autoplay.change_speed(1)
    assert autoplay.speed == 1000 and autoplay.interval == 0.05
    autoplay.toggle()
    autoplay.tick()
    assert screen.time_cursor.target == 50


@given(st.lists(st.sampled_from([1, -1]), max_size=30))
def test_speed_stays_one_of_the_speeds(directions: list[int]) -> None:
    autoplay, _ = player(10, at=0)
    for direction in directions:
        autoplay.change_speed(direction)
        assert autoplay.speed in SPEEDS
        assert autoplay.events_per_tick >= 1


def test_changing_speed_while_playing_replaces_the_timer() -> None:
    autoplay, screen = player(50, at=0)
    autoplay.toggle()
    autoplay.change_speed(1)
    assert screen.timers[0].stopped and not screen.timers[1].stopped
    assert screen.timers[1].interval == 0.05


def test_played_from_the_past_it_stops_at_the_end() -> None:
    autoplay, screen = player(3, at=2)
    autoplay.toggle()
    autoplay.tick()
    assert screen.time_cursor.target == 3 and autoplay.playing
    autoplay.tick()
    assert not autoplay.playing
    assert screen.notes[-1] == "Reached the end of history."
    assert screen.timers[-1].stopped and screen.status["playing"] is False


def test_at_the_end_of_the_past_it_starts_over() -> None:
    autoplay, screen = player(3, at=3)
    autoplay.toggle()
    assert screen.time_cursor.target == 0 and not screen.time_cursor.live


def test_played_from_live_it_waits_at_the_edge_for_new_events() -> None:
    autoplay, screen = player(7, at=7, live=True)
    autoplay.toggle()
    cursor = screen.time_cursor
    assert not cursor.live and cursor.target == 7  # plays on from the present
    assert "new events play as they arrive" in screen.notes[-1]
    autoplay.tick()
    assert autoplay.playing and cursor.target == 7  # waits, does not stop
    cursor.saw_head(9)  # another writer appended two events
    autoplay.tick()
    autoplay.tick()
    assert cursor.target == 9 and autoplay.playing


def test_space_again_pauses() -> None:
    autoplay, screen = player(50, at=10)
    autoplay.toggle()
    autoplay.toggle()
    assert not autoplay.playing and screen.timers[-1].stopped
    autoplay.tick()
    assert screen.time_cursor.target == 10
