"""Queries and view models: the log, one event's links, the time axis, diffs, lineage and
aggregate history, as the app's panels and screens show them.

Diffs, lineage and aggregate history are the timeline's (`domain.timeline`); here they
are only adapted into what a screen draws.
"""

from __future__ import annotations

import threading
from array import array
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from domain.clock import format_time, parse_time
from domain.clock_skew import skew_of_event
from domain.description import DomainDescription
from domain.envelope import Head, RecordedEvent
from domain.errors import InvalidInput, StoreError
from domain.timeline import BlameEntry, LineageStep, Timeline, field_blame
from tui.services.calls import InFlight, blocking
from tui.services.event_context import EventReading, state_dict
from tui.services.frames import StateDiff, state_diff
from tui.services.time_axis import folded_axis
from tui.services.types import AggregateStep, EventFilter, HashStatus, LogIndex, Related, TimeAxis

if TYPE_CHECKING:
    from tui.services.types import AppStore

SPARSE_PAGE = 4
"""A log page whose positions spread over more than this many events per row is read
position by position (`events_at`) rather than as one range."""


class Queries:
    """Read-only questions about the history. Blocking; call from workers.

    `lock` guards the timeline's caches, shared with the frames service.
    """

    def __init__(
        self,
        store: AppStore,
        domain: DomainDescription,
        timeline: Timeline,
        lock: threading.Lock,
        calls: InFlight,
    ) -> None:
        self.store = store
        self.domain = domain
        self.timeline = timeline
        self.calls = calls
        self._lock = lock
        self.reading = EventReading(timeline, domain)

    @blocking
    def head(self) -> Head:
        """The store's last position and hash."""
        return self.store.head()

    @blocking
    def change_token(self) -> int:
        """A number that moves when another connection commits (cheap to poll)."""
        return self.store.data_version()

    def summary(self, event: RecordedEvent, before: Mapping[str, Any] | None = None) -> str:
        """The domain's one-line summary of `event`, in its context (`EventReading`:
        an overdraft change in its account's currency). Blocking for such an event
        unless `before`, its aggregate's state just before it, is given."""
        return self.reading.summary(event, before)

    @blocking
    def log_index(self, event_filter: EventFilter, previous: LogIndex | None = None) -> LogIndex:
        """The log's rows for `event_filter`, reusing `previous` and reading only what is new.

        The store finds the matching positions in SQL (`positions`): indexes serve exact
        stream, type and actor values; patterns and text are matched by SQLite's scan.
        """
        head = self.store.head().position
        if not event_filter:
            return LogIndex(head=head)
        if previous is not None and previous.filter == event_filter and previous.positions:
            positions = array("q", previous.positions)
            after = previous.head
        else:
            positions, after = array("q"), 0
        if after < head:
            positions.extend(
                self.store.positions(
                    stream=event_filter.stream or None,
                    type=event_filter.type or None,
                    actor=event_filter.actor or None,
                    text=event_filter.text or None,
                    after=after,
                    to=head,
                )
            )
        return LogIndex(head=head, filter=event_filter, positions=positions)

    @blocking
    def log_page(self, index: LogIndex, start: int, count: int) -> list[RecordedEvent]:
        """The events on rows `start .. start + count - 1` of the log."""
        end = min(len(index), start + count)
        if start >= end:
            return []
        if index.positions is None:
            return self.store.read_all(after=start, to=end)
        wanted = index.positions[start:end]
        first, last = wanted[0], wanted[-1]
        if last - first < SPARSE_PAGE * len(wanted):  # dense: one range read beats lookups
            keep = set(wanted)
            return [e for e in self.store.read_all(after=first - 1, to=last) if e.position in keep]
        return self.store.events_at(wanted)

    @blocking
    def event(self, position: int) -> RecordedEvent | None:
        """The event at `position` (None for 0 or past the head)."""
        if position <= 0:
            return None
        events = self.store.read_all(after=position - 1, to=position)
        return events[0] if events else None

    @blocking
    def related(self, event: RecordedEvent) -> Related:
        """The events linked to `event` by command, correlation and causation."""
        meta = event.metadata
        command_id = str(meta.get("command_id", ""))
        same = tuple(self.store.positions_by_command(command_id)) if command_id else ()
        same = same or (event.position,)
        cause = None
        causation = str(meta.get("causation_id", ""))
        if causation and causation != command_id:
            earlier = self.store.positions_by_command(causation)
            if earlier:
                cause = earlier[0]
        correlated: tuple[int, ...] = ()
        correlation = str(meta.get("correlation_id", ""))
        if correlation:
            shared = self.store.positions_by_correlation(correlation)
            correlated = tuple(p for p in shared if p not in same)
        return Related(
            same_command=same,
            correlated=correlated,
            cause=cause,
            summary=self.summary(event),
            readable=self.reading.readable_payload(event),
        )

    @blocking
    def hash_status(self, event: RecordedEvent) -> HashStatus:
        """Whether `event` links to the event before it, and whether its hash recomputes."""
        if event.position == 1:
            linked = event.prev_hash == "0" * 64
        else:
            before = self.event(event.position - 1)
            linked = before is not None and before.hash == event.prev_hash
        try:
            verified: bool | None = self.store.verify_event(event)
            detail = ""
        except StoreError as exc:  # a keyed chain opened without its key
            verified, detail = None, str(exc)
        return HashStatus(linked, verified, detail, skew_of_event(self.store, event.position))

    @blocking
    def time_axis(self, buckets: int) -> TimeAxis:
        """Event density over time for the scrubber, cut into `buckets` columns."""
        head = self.store.head().position
        buckets = max(1, buckets)
        if head == 0:
            return TimeAxis(first="", last="", boundaries=(0,) * (buckets + 1), by_time=False)
        first_event = self.store.read_all(after=0, limit=1)[0]
        last_event = self.store.read_all(after=head - 1, to=head)[0]
        start = parse_time(first_event.recorded_at)
        end = parse_time(last_event.recorded_at)
        span = end - start
        if span.total_seconds() <= 0:
            bounds = [round(head * i / buckets) for i in range(buckets + 1)]
            return TimeAxis(first_event.recorded_at, last_event.recorded_at, tuple(bounds), False)
        # The first event belongs to bucket 0, whose start time it defines.
        folded = folded_axis(start, end, head, buckets, self._position_at, self._time_of)
        return TimeAxis(
            first_event.recorded_at, last_event.recorded_at, folded.boundaries, breaks=folded.breaks
        )

    def _position_at(self, moment: str) -> int:
        """The store's `position_at`, for one of the axis's many probes: each stops the
        build once the app is closing (at 10M events a build takes seconds)."""
        self.calls.stop_if_closing()
        return self.store.position_at(moment)

    def _time_of(self, position: int) -> str:
        """When the event at `position` was recorded ("" past the head)."""
        self.calls.stop_if_closing()
        found = self.store.read_all(after=position - 1, to=position)
        return found[0].recorded_at if found else ""

    @blocking
    def resolve_target(self, text: str, current: int) -> int:
        """A position from what a person typed: `1234`, `#1234`, `+50`, `-50` or an ISO time.

        Raises InvalidInput with a message fit to show under the input.
        """
        raw = text.strip().replace(",", "").replace("_", "")
        head = self.store.head().position
        if not raw:
            raise InvalidInput("type a position (1234, +50, -50) or a time (2026-03-01T14:02)")
        if raw[0] in "+-" and raw[1:].isdigit():
            return max(0, min(head, current + int(raw)))
        digits = raw.removeprefix("#")
        if digits.isdigit():
            position = int(digits)
            if position > head:
                raise InvalidInput(f"#{position} is past the last event (#{head})")
            return position
        try:
            moment = parse_time(raw)
        except (ValueError, OverflowError) as exc:  # OverflowError: before year 1 in UTC
            raise InvalidInput(f"{exc}; or a position such as 1234") from None
        return self.store.position_at(format_time(moment))

    @blocking
    def readable_command(self, fields: Mapping[str, Any], at_position: int) -> dict[str, Any]:
        """A refused command's fields read by the one rule (`EventReading.readable_command`)."""
        return self.reading.readable_command(fields, at_position)

    @blocking
    def streams(self, prefix: str = "", limit: int = 10_000) -> list[str]:
        """Stream ids (for the aggregate history picker and the palette), by id."""
        found: list[str] = []
        after = ""
        while len(found) < limit:
            batch = self.store.streams(prefix, after=after, limit=min(1000, limit - len(found)))
            found.extend(s.stream_id for s in batch)
            if len(batch) < 1000:
                break
            after = found[-1]
        return found

    @blocking
    def diff(self, a: int, b: int) -> StateDiff:
        """Field-level differences of every projection between positions `a` and `b`."""
        with self._lock:
            return state_diff(self.timeline.diff(a, b))

    @blocking
    def lineage(
        self, projection_name: str, key: str, *, to: int | None = None
    ) -> list[LineageStep]:
        """The events that changed row `key` of a projection, with the row before and after."""
        return self.timeline.lineage_steps(projection_name, key, to=to, guard=self._lock)

    @blocking
    def blame(
        self, projection_name: str, key: str, field: str, *, since: int = 0, to: int | None = None
    ) -> list[BlameEntry]:
        """The events in `since` < position <= `to` that changed `field` of row `key`."""
        return field_blame(
            self.timeline, projection_name, key, field, since=since, to=to, guard=self._lock
        )

    @blocking
    def aggregate_history(self, stream_id: str) -> list[AggregateStep]:
        """Every event of `stream_id` with the aggregate's state after it."""
        history = self.timeline.aggregate_history(self.domain.model, stream_id)
        return [
            AggregateStep(event=at.event, state=state_dict(at.state)) for at in history if at.event
        ]
