"""The scrubber's time axis with long idle stretches folded into one break column each.

A demo history that ended months ago and one live write since would otherwise squeeze
all of history into the left fifth of the axis, then draw a long empty gap. Instead,
an idle stretch of at least `MIN_GAP` of the span becomes a single break column (drawn
as such), and the columns left are shared among the busy stretches by their length, so
density is drawn where events are. Within a busy stretch the axis is still time.

Pure: the store is reached through `position_at`, so the rule is tested on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from domain.clock import format_time, parse_time

MIN_GAP = 0.05
"""The shortest idle stretch folded into a break, as a share of the whole span."""
FINE = 4
"""How many fine buckets per column are probed to find idle stretches."""
MIN_COLUMNS = 12
"""Narrower axes are not folded: a break would take too much of them."""


@dataclass(frozen=True)
class FoldedAxis:
    """Column boundaries (`TimeAxis.boundaries`) and the columns that are breaks."""

    boundaries: tuple[int, ...]
    breaks: tuple[int, ...] = ()


def folded_axis(
    start: datetime,
    end: datetime,
    head: int,
    columns: int,
    position_at: Callable[[str], int],
    time_of: Callable[[int], str] | None = None,
) -> FoldedAxis:
    """`columns` buckets from `start` (the first event's time) to `end` (the last's).

    `position_at(time)` is the last position recorded at or before `time` (the store's
    `position_at`); `time_of(position)` is when that event was recorded, used to fit
    each busy stretch's columns to its first and last events (without it, a stretch
    keeps the probed bounds). Boundaries never go down, even where clocks were skewed.
    """
    span = end - start
    fine = columns * FINE
    probes = [0]
    for i in range(1, fine):
        probes.append(max(probes[-1], position_at(format_time(start + span * i / fine))))
    probes.append(head)
    gaps = _idle_runs(probes, fine) if columns >= MIN_COLUMNS else []
    if not gaps:
        return FoldedAxis(_columns_between(start, end, 0, head, columns, position_at))
    # Busy stretches between the gaps: (first time, last time, last position before,
    # last position in it).
    stretches: list[tuple[datetime, datetime, int, int]] = []
    at = 0
    for gap_start, gap_end in [*gaps, (fine, fine)]:
        before, last = probes[at], probes[gap_start]
        t0, t1 = start + span * at / fine, start + span * gap_start / fine
        if time_of is not None and last > before:
            t0, t1 = parse_time(time_of(before + 1)), parse_time(time_of(last))
        stretches.append((t0, max(t0, t1), before, last))
        at = gap_end
    durations = [int((t1 - t0).total_seconds() * 1_000_000) for t0, t1, _, _ in stretches]
    shares = _shares(durations, columns - len(gaps))
    bounds = [0]
    breaks: list[int] = []
    for index, ((t0, t1, before, last), count) in enumerate(zip(stretches, shares, strict=True)):
        if index:
            breaks.append(len(bounds) - 1)
            bounds.append(max(bounds[-1], before))
        bounds.extend(_columns_between(t0, t1, before, last, count, position_at)[1:])
    bounds[-1] = head
    return FoldedAxis(tuple(bounds), tuple(breaks))


def _columns_between(
    t0: datetime,
    t1: datetime,
    before: int,
    last: int,
    count: int,
    position_at: Callable[[str], int],
) -> tuple[int, ...]:
    """Boundaries of `count` equal time columns from `t0` to `t1` holding the positions
    `before + 1 .. last`: `before`, then the last position of each column."""
    bounds = [before]
    for j in range(1, count):
        found = position_at(format_time(t0 + (t1 - t0) * j / count))
        bounds.append(min(last, max(bounds[-1], found)))
    bounds.append(last)
    return tuple(bounds)


def _idle_runs(probes: list[int], fine: int) -> list[tuple[int, int]]:
    """Runs of fine buckets with no event, at least `MIN_GAP` of the span long, kept
    only while each busy stretch can still have a column of its own."""
    shortest = max(2, round(fine * MIN_GAP))
    runs: list[tuple[int, int]] = []
    i = 0
    while i < fine:
        if probes[i + 1] == probes[i]:
            j = i
            while j < fine and probes[j + 1] == probes[j]:
                j += 1
            # The first and last fine buckets hold the first and last events: a run
            # there is never idle at an end, so no break opens or closes the axis.
            if j - i >= shortest and i > 0 and j < fine:
                runs.append((i, j))
            i = j
        else:
            i += 1
    # At most a third of the columns become breaks: keep the longest.
    limit = max(0, fine // FINE // 3)
    if len(runs) > limit:
        runs = sorted(sorted(runs, key=lambda r: r[0] - r[1])[:limit])
    return runs


def _shares(lengths: list[int], columns: int) -> list[int]:
    """`columns` split among stretches by `lengths`, each at least one (largest remainder)."""
    if not lengths:
        return []
    total = sum(lengths) or len(lengths)
    lengths = lengths if sum(lengths) else [1] * len(lengths)
    spare = max(0, columns - len(lengths))
    exact = [spare * length / total for length in lengths]
    shares = [1 + int(x) for x in exact]
    left = columns - sum(shares)
    order = sorted(range(len(lengths)), key=lambda k: int(exact[k]) - exact[k])
    for k in order[: max(0, left)]:
        shares[k] += 1
    return shares
