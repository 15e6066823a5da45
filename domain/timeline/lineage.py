"""Lineage: the events that changed one projection row, each with the row before and after.

The one implementation behind `eventscope lineage` and the app's lineage panel. It reads
only the streams `lineage_streams` names when the projection knows them, only the time
span `lineage_span` names when it offers one (`domain.projection.SpansLineage`), and
otherwise replays the projection alone over the whole history. Refused commands are not
events, so they are never part of a lineage.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from domain.clock import format_time, parse_time
from domain.envelope import RecordedEvent
from domain.projection import Projection, ProjectionState, Row, SpansLineage
from domain.timeline.replay import Progress, fold, gc_paused

if TYPE_CHECKING:
    from domain.timeline.seek import Timeline


@dataclass(frozen=True)
class LineageStep:
    """One event that changed a projection row, with the row before and after it."""

    event: RecordedEvent
    before: Row | None
    after: Row | None
    fields: tuple[str, ...]
    """The fields whose values differ, in the row's field order."""


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> tuple[str, ...]:
    """The fields whose values differ between two versions of a row, in row order."""
    names = list(after)
    names.extend(name for name in before if name not in after)
    return tuple(name for name in names if before.get(name) != after.get(name))


def lineage_steps(
    timeline: Timeline,
    projection: Projection,
    row_key: str,
    head: int,
    progress: Progress | None = None,
    guard: AbstractContextManager[object] | None = None,
) -> list[LineageStep]:
    """The events up to `head` that changed row `row_key` of `projection`, oldest first.

    `guard` is held while the state at the span's start is read (see `Timeline.lineage_steps`).
    """
    streams = projection.lineage_streams(row_key)
    if streams is not None:
        return _of_streams(timeline, projection, row_key, streams, head)
    window = projection.lineage_span(row_key) if isinstance(projection, SpansLineage) else None
    if window is not None:
        # The row changes only at window[0] <= recorded_at < window[1].
        start = _last_before(timeline, window[0]) if window[0] else 0
        end = min(head, _last_before(timeline, window[1])) if window[1] else head
        if end <= start:
            return []
        with guard if guard is not None else nullcontext():
            state = timeline.state_at(start, refusals=False)[projection.name]
        return _scan(timeline, projection, state, row_key, start, end, progress)
    return _scan(timeline, projection, projection.initial(), row_key, 0, head, progress)


def _last_before(timeline: Timeline, timestamp: str) -> int:
    """The last position recorded strictly before `timestamp`."""
    moment = parse_time(timestamp)
    # position_at is "at or before"; stored times have microseconds, so one
    # microsecond earlier makes it "before".
    return timeline.store.position_at(format_time(moment - timedelta(microseconds=1)))


def _of_streams(
    timeline: Timeline,
    projection: Projection,
    row_key: str,
    streams: Sequence[str],
    head: int,
) -> list[LineageStep]:
    store = timeline.store
    events = [e for s in streams for e in store.read_stream(s) if e.position <= head]
    events.sort(key=lambda e: e.position)
    return _steps(timeline, projection, projection.initial(), row_key, events)


def _scan(
    timeline: Timeline,
    projection: Projection,
    state: ProjectionState,
    row_key: str,
    start: int,
    end: int,
    progress: Progress | None,
) -> list[LineageStep]:
    tick = max(1, (end - start) // 100)
    next_tick = start + tick

    def events() -> Iterable[RecordedEvent]:
        nonlocal next_tick
        for event in timeline.store.iter_all(after=start, to=end):
            yield event
            if progress is not None and event.position >= next_tick:
                progress(event.position - start, end - start)
                next_tick += tick

    with gc_paused():
        return _steps(timeline, projection, state, row_key, events())


def _steps(
    timeline: Timeline,
    projection: Projection,
    state: ProjectionState,
    row_key: str,
    events: Iterable[RecordedEvent],
) -> list[LineageStep]:
    """Fold `events` into `state`, keeping each event that changed `row_key`."""
    steps: list[LineageStep] = []
    row = state.rows.get(row_key)
    previous = dict(row) if row is not None else None
    for event, (keys,) in fold(events, timeline._upcast, (projection,), (state,)):
        if row_key in keys:
            row = state.rows.get(row_key)
            after = dict(row) if row is not None else None
            fields = changed_fields(previous or {}, after or {})
            steps.append(LineageStep(event, previous, after, fields))
            previous = after
    return steps
