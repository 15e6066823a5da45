"""Clock skew: which events carry a time their neighbours contradict, and what
"the books as they stood at time T" means when recorded times do not run in order.

Every event keeps the time its writer's clock gave it (`recorded_at`); nothing is
clamped, so one writer whose clock is 30 years ahead changes no other event's time.
Instead such an event is *flagged*, by one pure rule that the stores (`position_at`),
the projections (`audit_flags`) and the inspector all share:

- The **window** of position P is positions max(1, P - W) .. P + W (W =
  `SKEW_WINDOW`). P's flag is decided once P + W is recorded; until then P is not
  flagged (a fold cannot know what comes next).
- Let m be the window's median time (the upper one of an even count).
- P is **ahead** when t(P) > m + TOL and some later event of the window is recorded
  more than TOL (`SKEW_TOLERANCE`) before t(P): its time runs ahead of its successors.
- P is **behind** when t(P) < m - TOL and some earlier event of the window is
  recorded more than TOL after t(P).

A log whose times never go back flags nothing, whatever its gaps. A run of up to W
skewed events among correct ones is flagged whole; a longer run is the majority of
its windows, and its correct neighbours may be flagged instead.

**position_at(T)** is the last position P with t(P) <= T that is not flagged: the
books as they stood at T are every event up to the last unflagged one recorded by
then. It never decreases as T grows, and skewed events never move the boundary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from domain.clock import format_time, parse_time

if TYPE_CHECKING:
    from domain.ports import EventStore

SKEW_WINDOW: Final = 8
"""W: how many events on each side of an event its time is compared with."""

SKEW_TOLERANCE: Final = timedelta(minutes=5)
"""TOL: how far apart two clocks may be before one of them counts as skewed."""

BLOCK: Final = 4096
"""Positions per block of `TimeBlocks` (the minimum time of each full block is kept)."""

Direction = Literal["ahead", "behind"]


@dataclass(frozen=True)
class ClockSkew:
    """An event whose recorded time its neighbours contradict."""

    position: int
    recorded_at: str
    direction: Direction
    median: str
    """The median time of its window: about when it was really recorded."""

    def describe(self) -> str:
        """One line for people: `clock skew: recorded ahead of the events around it (...)`."""
        return f"clock skew: {describe_skew_row(skew_flag_row(self)[1])}"


def _shift(moment: str, delta: timedelta) -> str:
    return format_time(parse_time(moment) + delta)


def skew_in_window(times: Sequence[str], center: int, position: int) -> ClockSkew | None:
    """The flag of the event at `times[center]` (position `position`), or None.

    `times` are the recorded times of its whole window, in position order (see the
    module docstring); the caller makes sure the window is complete.
    """
    own = times[center]
    median = sorted(times)[len(times) // 2]
    if own == median:
        return None
    if own > median:
        low = _shift(own, -SKEW_TOLERANCE)
        if median < low and min(times[center + 1 :], default=own) < low:
            return ClockSkew(position, own, "ahead", median)
        return None
    high = _shift(own, SKEW_TOLERANCE)
    if median > high and max(times[:center], default=own) > high:
        return ClockSkew(position, own, "behind", median)
    return None


def window_bounds(position: int) -> tuple[int, int]:
    """The first and last position of `position`'s window."""
    return max(1, position - SKEW_WINDOW), position + SKEW_WINDOW


def skew_at(
    position: int, head: int, times: Callable[[int, int], Sequence[str]]
) -> ClockSkew | None:
    """The flag of `position` in a log of `head` events (None while undecided).

    `times(first, last)` returns the recorded times of positions first..last.
    """
    first, last = window_bounds(position)
    if last > head or position < 1:
        return None
    return skew_in_window(times(first, last), position - first, position)


def skew_of_event(store: EventStore, position: int) -> ClockSkew | None:
    """The clock-skew flag of `position`, read through the store port (the inspector)."""

    def times(first: int, last: int) -> Sequence[str]:
        return [event.recorded_at for event in store.read_all(after=first - 1, to=last)]

    return skew_at(position, store.head().position, times)


# -- the fold ----------------------------------------------------------------------------


def initial_watch() -> dict[str, Any]:
    """The state of `observe`: JSON data, so it fits a projection's `aux`."""
    return {"times": [], "first": 0, "descents": 0}


def observe(watch: dict[str, Any], position: int, recorded_at: str) -> ClockSkew | None:
    """Fold the next event into `watch`; returns the flag of the event decided now
    (position - W), if it is skewed.

    Keeps the last 2W + 1 times, and how many of their neighbours go back in time,
    so a log whose times run in order costs no sort at all.
    """
    times: list[str] = watch["times"]
    if not times:
        watch["first"] = position
    elif recorded_at < times[-1]:
        watch["descents"] += 1
    times.append(recorded_at)
    if len(times) > 2 * SKEW_WINDOW + 1:
        if times[1] < times[0]:
            watch["descents"] -= 1
        del times[0]
        watch["first"] += 1
    decided = position - SKEW_WINDOW
    if decided < 1 or watch["descents"] == 0:
        return None
    return skew_in_window(times, decided - watch["first"], decided)


# -- position_at -------------------------------------------------------------------------


class TimeBlocks:
    """The minimum recorded time of each full block of `BLOCK` positions.

    A full block never changes (events are append-only), so its minimum is read once;
    `position_at` then skips every block recorded wholly after the time asked for.
    """

    def __init__(self, size: int = BLOCK) -> None:
        self.size = size
        # By block number: a dict, so threads sharing it may each fill in a block.
        self._mins: dict[int, str] = {}

    def known(self) -> int:
        """How many block minima are kept."""
        return len(self._mins)

    def minimum(self, block: int, block_min: Callable[[int, int], str]) -> str:
        """The minimum time of full block `block` (0-based), read through `block_min`."""
        found = self._mins.get(block)
        if found is None:
            start = block * self.size + 1
            found = self._mins[block] = block_min(start, start + self.size - 1)
        return found


@dataclass(frozen=True)
class TimeReader:
    """How `position_at` reads a log of `head` events (each store supplies its own).

    - `times(first, last)`: the recorded times of positions first..last, in order;
    - `block_min(first, last)`: their minimum;
    - `last_at_or_before(first, last, moment)`: the last of those positions recorded
      at or before `moment`, or 0.
    """

    head: int
    times: Callable[[int, int], Sequence[str]]
    block_min: Callable[[int, int], str]
    last_at_or_before: Callable[[int, int, str], int]
    latest: Callable[[str], int | None] | None = None
    """Optional: the last position <= head recorded at or before a moment (0 if none),
    read from a time index; None when it cannot tell cheaply (the block walk runs)."""


def position_at(moment: str, log: TimeReader, blocks: TimeBlocks) -> int:
    """The last unflagged position recorded at or before `moment` (0 if none).

    `moment` is in the stored time format. While some full block's minimum is not
    known yet, a store with a time index names the last position recorded by then
    (`log.latest`); else, or when that one is flagged, this
    scans back a block at a time, skipping each full block whose minimum time is after
    `moment`; a candidate is checked against its window and passed over when flagged.
    """
    head = log.head
    size = blocks.size
    last = head
    cold = blocks.known() < head // size  # a walk would read some blocks' events
    found = log.latest(moment) if log.latest is not None and cold else None
    if found is not None:  # the index named the candidate: no walk over the blocks
        if found == 0 or skew_at(found, head, log.times) is None:
            return found
        last = found - 1
    while last >= 1:
        block = (last - 1) // size
        first = block * size + 1
        whole = last == first + size - 1
        if whole and blocks.minimum(block, log.block_min) > moment:
            last = first - 1
            continue
        position = log.last_at_or_before(first, last, moment)
        if position == 0:
            last = first - 1
        elif skew_at(position, head, log.times) is None:
            return position
        else:
            last = position - 1
    return 0


# -- as a flag row (audit_flags) ---------------------------------------------------------

SKEW_FLAG: Final = "clock_skew"
"""The `flag` of a clock-skew row in a domain's flags projection."""


def skew_flag_row(skew: ClockSkew) -> tuple[str, dict[str, Any]]:
    """(row key, row) for a flags projection keyed `<position, 10 digits>:<flag>:<subject>`.

    Raised when the skew is decided (W events after the skewed one), under the skewed
    event's own position; the row holds facts, `describe_skew_row` words them.
    """
    key = f"{skew.position:010d}:{SKEW_FLAG}:"
    return key, {
        "position": skew.position,
        "at": skew.recorded_at,
        "flag": SKEW_FLAG,
        "direction": skew.direction,
        "median": skew.median,
    }


def describe_skew_row(row: Mapping[str, Any]) -> str:
    """The words for a `skew_flag_row` row (the Detail column)."""
    return (
        f"recorded {row.get('direction', '')} of the events around it "
        f"(about {str(row.get('median', ''))[:19].replace('T', ' ')})"
    )
