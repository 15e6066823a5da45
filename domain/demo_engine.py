"""The event loop and clock every domain's demo generator runs on.

A demo history is a simulated calendar: each day is planned (fixed jobs, then random
traffic to an event budget) into a time-ordered queue of actions, and the loop plays
them through the domain's `InMemoryDecider`, stamping each with the simulated time,
until exactly the wanted number of events was recorded. A domain's generator
subclasses `DemoHistory`, sets `decider`, and writes `_plan_day` and the actions.

Time is an int of microseconds since midnight of day 0 (strings only when stamped),
which keeps the loop cheap over millions of events. Everything is drawn from one
seeded `random.Random`, so a seed gives the same history on every run.

When the history ends follows from its parameters alone (`DemoHistory.end_us`: the
end of the planned days), so that `domain.demo_timing.ending_at` can move it to end
now in one pass, with no dry run to learn its last time:
- the command that records the last event is stamped at that end;
- if the planned days run out before all the events are recorded, the days go on as
  before (the same planning, the same follow-ups), but their times are stamped on a
  clock that halves the time left to the end with each further day
  (`DemoHistory._overtime`), so they never pass it.
"""

from __future__ import annotations

import dataclasses
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

LAST_DAY_SURPLUS = 1.1
"""How much more than is still due the last planned day plans."""

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
        self._overtime_from = -1
        """The last stamped time before the planned days ran out (-1: they have not)."""

    @property
    def end_us(self) -> int:
        """When the history ends: the end of its planned days (its last event's time)."""
        return self.days * DAY

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
        if day < self.days - 1:
            budget = self._room * self._weights[day] / self._weight_left
            self._weight_left -= self._weights[day]
            return budget
        # The last planned day plans more than is due (the loop stops at the last
        # event), so the days seldom run out first (see `_overtime`).
        return self._room * LAST_DAY_SURPLUS + 4

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
    def run(self) -> DemoRun:
        """The history, played until exactly `target` events were recorded; it knows
        its last time before it is played."""
        last = self._time_text(self.end_us) if self.target > 0 else None
        return DemoRun(self._play(), last)

    def _play(self) -> Iterator[PendingEvent | Refusal]:
        decider = self.decider
        out = decider.out
        queue = self.queue
        end = self.end_us
        stamped = 0
        while decider.position < self.target:
            while not queue or queue[0][0] >= self.day_end:
                self._plan_day(self.day + 1)
            at_us, _, action, args = heapq.heappop(queue)
            # Follow-ups are only ever scheduled ahead, so time never goes back.
            if at_us > self.now_us:
                self.now_us = at_us
            stamped = self.now_us if self.now_us < end else self._overtime(self.now_us, stamped)
            decider.recorded_at = self._time_text(stamped)
            action(*args)
            if out:
                if decider.position >= self.target:  # the last command: at the end
                    at_end = self._time_text(end)
                    out[:] = [dataclasses.replace(item, recorded_at=at_end) for item in out]
                yield from out
                out.clear()

    def _overtime(self, at_us: int, stamped: int) -> int:
        """The stamped time of `at_us`, past the planned days: each further day takes
        half of the time still left before the end, so the end is never reached."""
        end = self.end_us
        if self._overtime_from < 0:
            self._overtime_from = stamped
        start = self._overtime_from
        moved = start + int((end - start) * (1.0 - 0.5 ** ((at_us - end) / DAY)))
        return max(stamped, min(moved, end))


class DemoRun(Iterator[PendingEvent | Refusal]):
    """A demo history being played, which knows when it ends before it is played.

    `last_time` is the stored time of its last item (None when it records nothing),
    so `domain.demo_timing.ending_at` needs no dry run to learn it.
    """

    def __init__(self, items: Iterator[PendingEvent | Refusal], last_time: str | None) -> None:
        self._items = items
        self.last_time = last_time

    def __iter__(self) -> DemoRun:
        return self

    def __next__(self) -> PendingEvent | Refusal:
        return next(self._items)


def poisson(rng: random.Random, rate: float) -> int:
    """A Poisson-distributed count with mean `rate` (Knuth's method; rates here are small)."""
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count
