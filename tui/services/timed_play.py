"""Autoplay in the original timing, compressed: "play this day in 60 s".

A `PlaySchedule` samples the history's clock: `positions[i]` is the last event recorded
at or before the i-th of evenly spaced moments between the start and the end. Playing
then needs no query per tick: after `elapsed` seconds of the chosen `length`, the
cursor goes to the sample for that moment. Quiet hours pass quickly, busy ones slowly,
as they happened. Textual-free; `plan_play` is blocking (call it from a worker).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal

from domain.clock import format_time, parse_time
from domain.errors import InvalidInput
from tui.services.queries import Queries

SAMPLES_PER_SECOND = 20
"""Samples per second of play (autoplay ticks at most this often)."""
MAX_SAMPLES = 20 * 600
"""At most this many samples (ten minutes of play at the full rate)."""
LENGTHS = (30, 60, 120)
"""The lengths the palette offers, in seconds."""

PlaySpan = Literal["day", "rest"]
"""`day`: the UTC day of the event under the cursor; `rest`: from the cursor to the end."""


@dataclass(frozen=True)
class PlaySchedule:
    """Where the cursor is after each moment of a compressed replay."""

    length: float
    """Seconds the replay lasts."""
    positions: tuple[int, ...]
    """At least two samples, non-decreasing: the first is where play starts, the last
    where it ends."""
    first_time: str = ""
    last_time: str = ""

    def position_after(self, elapsed: float) -> int:
        """The position to show `elapsed` seconds into the replay."""
        if elapsed >= self.length:
            return self.positions[-1]
        if elapsed <= 0:
            return self.positions[0]
        return self.positions[int(elapsed / self.length * (len(self.positions) - 1))]


def sample_times(start: datetime, end: datetime, samples: int) -> list[datetime]:
    """`samples` evenly spaced moments from `start` to `end`, both included."""
    span = end - start
    return [start + span * i / (samples - 1) for i in range(samples)]


def plan_play(queries: Queries, at: int, span: PlaySpan, length: float) -> PlaySchedule:
    """The schedule for replaying `span` around position `at` in `length` seconds.

    Raises InvalidInput when there is nothing to play (no events, or none after `at`).
    """
    if length <= 0:
        raise InvalidInput("the replay must last more than 0 seconds")
    head = queries.head().position
    if head == 0:
        raise InvalidInput("there are no events to play")
    if span == "rest" and at >= head:
        at = 0  # at the end (live): the whole history
    event = queries.event(max(at, 1))
    assert event is not None
    moment = parse_time(event.recorded_at)
    if span == "day":
        day = datetime.combine(moment.date(), time.min, tzinfo=moment.tzinfo)
        start, end = day, day + timedelta(days=1) - timedelta(microseconds=1)
        first = queries.resolve_target(format_time(start - timedelta(microseconds=1)), 0)
        last = queries.resolve_target(format_time(end), 0)
    else:
        first, last = at, head
        start = moment
        last_event = queries.event(head)
        assert last_event is not None
        end = parse_time(last_event.recorded_at)
    if last <= first:
        raise InvalidInput("no events to play after the cursor")
    if end <= start:
        return PlaySchedule(length, (first, last), format_time(start), format_time(end))
    samples = max(2, min(MAX_SAMPLES, int(length * SAMPLES_PER_SECOND) + 1))
    positions = [first]
    for moment in sample_times(start, end, samples)[1:-1]:
        found = queries.resolve_target(format_time(moment), 0)
        positions.append(min(last, max(positions[-1], found)))
    positions.append(last)
    return PlaySchedule(length, tuple(positions), format_time(start), format_time(end))
