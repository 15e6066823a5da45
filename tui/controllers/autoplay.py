"""Autoplay: history played forward like a video, at a chosen number of events a second.

Started while live, it plays on from the present and then waits at the edge for
new events (a trainer's `simulate` shown at a readable pace); started in the past,
it stops at the end, and from the end it starts over. `play_schedule` plays in the
original timing instead, compressed to a chosen length (`tui.services.timed_play`).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, Protocol

from tui.controllers.cursor import TimeCursor
from tui.format import position_text
from tui.services.timed_play import PlaySchedule
from tui.services.types import LogIndex

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""Autoplay speeds, in events per second."""
MIN_TICK_SECONDS = 0.05
"""Ticks come at most this often; faster speeds move several events a tick."""


class Stoppable(Protocol):
    def stop(self) -> None: ...


class PlayerHost(Protocol):
    """What autoplay needs from the screen."""

    @property
    def time_cursor(self) -> TimeCursor: ...

    def go(self, position: int, *, live: bool = False) -> None: ...

    def set_interval(self, interval: float, callback: Callable[[], Any], *, name: str) -> Any: ...

    def notify(self, message: str, *, timeout: float) -> None: ...

    def show_status(self, **view: Any) -> None: ...


class Autoplay:
    """Plays, pauses and changes speed; one interval timer while playing."""

    def __init__(
        self,
        host: PlayerHost,
        index: Callable[[], LogIndex],
        speed: int = 10,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.host = host
        self.index = index
        self.clock = clock
        """Seconds, for playing in the original timing (tests move it by hand)."""
        self.schedule: PlaySchedule | None = None
        """Playing in the original timing, compressed (None: at `speed` events a second)."""
        self._started = 0.0
        """The positions the log shows now (autoplay visits those, as stepping does)."""
        self.playing = False
        self.speed = speed
        self.waits = False
        """Started from live: at the end it waits for new events instead of stopping."""
        self._timer: Stoppable | None = None

    @property
    def interval(self) -> float:
        """Seconds between ticks."""
        return max(MIN_TICK_SECONDS, 1 / self.speed)

    @property
    def events_per_tick(self) -> int:
        """How many events one tick moves (more than one above 20 events a second)."""
        return max(1, round(self.speed * self.interval))

    def toggle(self) -> None:
        """Play from the cursor, or pause."""
        if self.playing:
            self.pause()
            return
        host, cursor = self.host, self.host.time_cursor
        self.waits = cursor.live
        if cursor.live:
            host.go(cursor.target)
            host.notify(
                f"Playing from {position_text(cursor.target)}: new events play as they "
                "arrive (space pauses, l returns to live).",
                timeout=3,
            )
        elif cursor.target >= self.index().last():
            host.go(self.index().first())
        self.playing = True
        self._schedule()
        host.show_status(playing=True, speed=self.speed)

    def pause(self) -> None:
        """Stop playing (nothing happens when not playing)."""
        if not self.playing:
            return
        self.playing = False
        self.schedule = None
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.host.show_status(playing=False)

    def change_speed(self, direction: int) -> None:
        """One speed faster (`direction` 1) or slower (-1), within `SPEEDS`."""
        i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - self.speed))
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + direction))]
        if self.playing:
            self._schedule()
        self.host.show_status(speed=self.speed)
        self.host.notify(f"Autoplay: {self.speed:,} events/s", timeout=1.5)

    def tick(self) -> None:
        """Move on by `events_per_tick`; at the end, wait (from live) or stop."""
        if not self.playing:
            return
        if self.schedule is not None:
            self._timed_tick(self.schedule)
            return
        host, cursor = self.host, self.host.time_cursor
        target = self.index().step(cursor.target, self.events_per_tick)
        if target != cursor.target:
            host.go(target)
        elif not self.waits:
            self.pause()
            host.notify("Reached the end of history.", timeout=3)

    def play_schedule(self, schedule: PlaySchedule) -> None:
        """Play in the original timing, compressed to `schedule.length` seconds."""
        self.pause()
        self.schedule, self._started = schedule, self.clock()
        self.waits = False
        self.host.go(schedule.positions[0])
        self.playing = True
        self._schedule()
        self.host.show_status(playing=True)
        self.host.notify(
            f"Playing {schedule.first_time[:19]} to {schedule.last_time[:19]} in "
            f"{schedule.length:g} s, in the original timing (space pauses).",
            timeout=3,
        )

    def _timed_tick(self, schedule: PlaySchedule) -> None:
        elapsed = self.clock() - self._started
        target = schedule.position_after(elapsed)
        if target != self.host.time_cursor.target:
            self.host.go(target)
        if elapsed >= schedule.length:
            self.pause()
            self.host.notify(f"Played {schedule.length:g} s of history.", timeout=3)

    def _schedule(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        interval = MIN_TICK_SECONDS if self.schedule is not None else self.interval
        self._timer = self.host.set_interval(interval, self.tick, name="autoplay")
