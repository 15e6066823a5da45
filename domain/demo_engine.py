"""The event loop and clock every domain's demo generator runs on.

A demo history is a simulated calendar: each day is planned (fixed jobs, then random
traffic to an event budget) into a time-ordered queue of actions, and the loop plays
them through the domain's `InMemoryDecider`, stamping each with the simulated time,
until exactly the wanted number of events was recorded. A domain's generator
subclasses `DemoHistory`, sets `decider`, and writes `_plan_day` and the actions.

Time is an int of microseconds since midnight of day 0 (strings only when stamped),
which keeps the loop cheap over millions of events. Everything is drawn from one
seeded `random.Random`, so a seed gives the same history on every run.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Any

from domain.clock import parse_time
from domain.decider import InMemoryDecider
from domain.envelope import PendingEvent, Refusal

SECOND = 1_000_000
MINUTE = 60 * SECOND
HOUR = 60 * MINUTE
DAY = 24 * HOUR

Action = Callable[..., None]
"""Something that happens at a scheduled time (it decides commands)."""


class DemoHistory:
    """A simulated calendar played in time order through `decider` (set by the subclass).

    `days` is how many days the wanted `events` are spread over, by `day_weights`
    (Monday .. Sunday); after them the days go on until the events are all recorded.
    """

    decider: InMemoryDecider

    def __init__(
        self, events: int, seed: int, start: str, days: int, day_weights: Sequence[float]
    ) -> None:
        self.target = events
        self.rng = random.Random(seed)
        moment = parse_time(start)
        self.first_day = moment.date()
        self.start_us = (
            moment.hour * HOUR + moment.minute * MINUTE + moment.second * SECOND
        ) + moment.microsecond
        self.days = days
        self.queue: list[tuple[int, int, Action, tuple[Any, ...]]] = []
        self.sequence = itertools.count()
        self.day = -1
        self.day_end = 0
        self.now_us = 0
        self._prefix = (-1, "")
        self._weights = [
            day_weights[(self.first_day + timedelta(days=d)).weekday()] for d in range(days)
        ]
        self._weight_left = sum(self._weights)

    # -- time --------------------------------------------------------------------------
    def _time_text(self, at_us: int) -> str:
        """`at_us` (microseconds since day 0's midnight) as `format_time` writes it."""
        day, rest = divmod(at_us, DAY)
        if self._prefix[0] != day:
            self._prefix = (day, (self.first_day + timedelta(days=day)).isoformat() + "T")
        seconds, micros = divmod(rest, SECOND)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{self._prefix[1]}{hours:02d}:{minutes:02d}:{seconds:02d}.{micros:06d}Z"

    def _date(self, day: int) -> date:
        return self.first_day + timedelta(days=day)

    def _weekday(self, day: int) -> int:
        return self._date(day).weekday()

    def _at(self, at_us: int, action: Action, *args: Any) -> None:
        """Schedule `action(*args)` at `at_us` (after what is already due then)."""
        heapq.heappush(self.queue, (at_us, next(self.sequence), action, args))

    @property
    def _room(self) -> int:
        """How many more events may be recorded."""
        return self.target - self.decider.position

    # -- planning a day ----------------------------------------------------------------
    def _plan_day(self, day: int) -> None:
        """Schedule day `day` (calling `_begin_day` first)."""
        raise NotImplementedError

    def _begin_day(self, day: int) -> int:
        """Make `day` the day being planned; returns its start time."""
        self.day = day
        start = day * DAY
        self.day_end = start + DAY
        return start

    def _budget(self, day: int) -> float:
        """The events due on `day`: the events still due, shared by weight among the days
        left, so a day that fell short (refusals, skipped slots) is made up by the next
        ones; once the planned span is over, all that is still due."""
        if day < self.days:
            budget = self._room * self._weights[day] / self._weight_left
            self._weight_left -= self._weights[day]
            return budget
        return float(self._room)

    def _slots(
        self, day: int, slots: int, weekday_cum: Sequence[float], weekend_cum: Sequence[float]
    ) -> Iterator[tuple[int, int]]:
        """`slots` random (hour, offset in the day) of `day`, by the hourly weights of its
        kind of day, without those before the history's start time on day 0."""
        earliest = self.start_us if day == 0 else 0
        rng = self.rng
        cum_weights = weekend_cum if self._weekday(day) >= 5 else weekday_cum
        for hour in rng.choices(range(24), cum_weights=cum_weights, k=slots):
            offset = hour * HOUR + int(rng.random() * HOUR)
            if offset >= earliest:
                yield hour, offset

    # -- the main loop -----------------------------------------------------------------
    def run(self) -> Iterator[PendingEvent | Refusal]:
        """Play the history until exactly `target` events were recorded."""
        decider = self.decider
        out = decider.out
        queue = self.queue
        while decider.position < self.target:
            while not queue or queue[0][0] >= self.day_end:
                self._plan_day(self.day + 1)
            at_us, _, action, args = heapq.heappop(queue)
            # Follow-ups are only ever scheduled ahead, so time never goes back.
            if at_us > self.now_us:
                self.now_us = at_us
            decider.recorded_at = self._time_text(self.now_us)
            action(*args)
            if out:
                yield from out
                out.clear()


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson-distributed count with mean `rate` (Knuth's method; rates here are small)."""
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
