"""The app's facade over the workspace, the timeline and the projector.

Every blocking call the app makes goes through a `Session`, and the app makes those
calls from worker threads only. The session knows no Textual. It holds the one piece
of mutable state the app's workers share (the timeline's working state behind a
lock), so two workers never replay at once.

Time travel goes through `domain.timeline.Timeline` (snapshots plus replay) and one
`Cursor` on it, which steps cheaply and reports the rows each move changed. The
composition root may hand in a timeline with persisted snapshots; otherwise the
session builds one whose snapshots live in memory.
"""

from __future__ import annotations

import bisect
import fnmatch
import threading
from array import array
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import orjson

from domain.clock import format_time, parse_time
from domain.description import DomainDescription
from domain.envelope import AppendResult, Head, RecordedEvent, Refusal
from domain.errors import InvalidInput
from domain.messages import Command
from domain.projection import Projection, Row, StateMap
from domain.timeline import Cursor, Timeline
from store.hashchain import canonical_row, chain_hash, chain_row
from tui.frames import Frame, RowChanges, Rows, StateDiff, changed_fields, compare_rows, diff_rows

if TYPE_CHECKING:
    from tui.bootstrap import Workspace

REFUSALS = "__refusals__"
"""The pseudo-projection under which frames carry the refusals recorded up to them."""
REFUSAL_ROWS = 500
"""How many of the latest refusals a frame carries."""

PAGE_SCAN = 5_000
"""Events per page when collecting the positions an exact filter matches."""


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class EventFilter:
    """Which events the log shows and stepping visits.

    `stream`, `type` and `actor` match exactly, or as a glob when they hold `*` or `?`
    (`account-a*`, `Transfer*`). `text` is a case-insensitive substring of the payload.
    """

    stream: str = ""
    type: str = ""
    actor: str = ""
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.stream or self.type or self.actor or self.text)

    def matches(self, event: RecordedEvent) -> bool:
        """True when `event` passes every part of the filter."""
        return (
            _field_matches(self.stream, event.stream_id)
            and _field_matches(self.type, event.type)
            and _field_matches(self.actor, event.actor)
            and (not self.text or self.text.lower() in orjson.dumps(event.data).decode().lower())
        )

    @property
    def exact(self) -> bool:
        """True when an index can serve the filter: exact fields and no text."""
        fields = (self.stream, self.type, self.actor)
        return not self.text and not any("*" in v or "?" in v for v in fields)

    def describe(self) -> str:
        """A short label for the header and the log's title (`type=Transfer* actor=ann`)."""
        parts = [
            f"{name}={value}"
            for name, value in (
                ("stream", self.stream),
                ("type", self.type),
                ("actor", self.actor),
                ("text", self.text),
            )
            if value
        ]
        return " ".join(parts)


def _field_matches(pattern: str, value: str) -> bool:
    if not pattern:
        return True
    if "*" in pattern or "?" in pattern:
        return fnmatch.fnmatchcase(value, pattern)
    return value == pattern


@dataclass(frozen=True)
class LogIndex:
    """Row index <-> position for the event log and for stepping.

    Without a filter, row `i` is position `i + 1` (positions have no gaps) and nothing
    is stored. With one, the matching positions are kept in a compact int array.
    """

    head: int
    filter: EventFilter = field(default_factory=EventFilter)
    positions: array[int] | None = None

    def __len__(self) -> int:
        return self.head if self.positions is None else len(self.positions)

    def position_of(self, index: int) -> int:
        """The position shown on row `index`."""
        return index + 1 if self.positions is None else self.positions[index]

    def index_at_or_before(self, position: int) -> int:
        """The last row whose position is <= `position` (-1 when there is none)."""
        if self.positions is None:
            return min(position, self.head) - 1
        return bisect.bisect_right(self.positions, position) - 1

    def contains(self, position: int) -> bool:
        """True when the event at `position` is one of the log's rows."""
        if self.positions is None:
            return 1 <= position <= self.head
        i = bisect.bisect_left(self.positions, position)
        return i < len(self.positions) and self.positions[i] == position

    def step(self, position: int, delta: int) -> int:
        """The position `delta` rows away from `position`, clamped to the rows.

        Without a filter, moving back from position 1 reaches 0 (before any event).
        """
        if self.positions is None:
            return max(0, min(self.head, position + delta))
        if not self.positions:
            return position
        index = self.index_at_or_before(position)
        if delta < 0 and (index < 0 or self.positions[index] != position):
            index += 1  # between two rows: one step back is the row before
        target = max(0, min(len(self.positions) - 1, index + delta))
        return self.positions[target]

    def first(self) -> int:
        """Where Home goes: before everything, or the first matching event."""
        if self.positions is None:
            return 0
        return self.positions[0] if self.positions else 0

    def last(self) -> int:
        """Where End goes: the head, or the last matching event."""
        if self.positions is None:
            return self.head
        return self.positions[-1] if self.positions else self.head


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class TimeAxis:
    """The scrubber's axis: time from `first` to `last`, cut into equal buckets.

    `boundaries[i]` is the last position recorded before bucket `i` starts, so bucket
    `i` holds positions `boundaries[i] + 1 .. boundaries[i + 1]`.
    """

    first: str
    last: str
    boundaries: tuple[int, ...]
    by_time: bool = True
    """False when every event has the same time, and buckets split positions instead."""

    @property
    def counts(self) -> list[int]:
        """Events per bucket."""
        b = self.boundaries
        return [b[i + 1] - b[i] for i in range(len(b) - 1)]

    @property
    def head(self) -> int:
        return self.boundaries[-1] if self.boundaries else 0

    def bucket_of(self, position: int) -> int:
        """The bucket holding `position` (bucket 0 for position 0)."""
        if len(self.boundaries) < 2 or position <= 0:
            return 0
        index = bisect.bisect_left(self.boundaries, position) - 1
        return max(0, min(len(self.boundaries) - 2, index))

    def position_in(self, bucket: int) -> int:
        """Where a click on `bucket` goes: its last event (or the one before it)."""
        if not self.boundaries:
            return 0
        bucket = max(0, min(len(self.boundaries) - 2, bucket))
        return self.boundaries[bucket + 1]


@dataclass(frozen=True)
class Related:
    """Events linked to one event through its metadata."""

    same_command: tuple[int, ...] = ()
    """Positions recorded by the same command (the event's own included)."""
    correlated: tuple[int, ...] = ()
    """Positions sharing its correlation id, from other commands."""
    cause: int | None = None
    """The first position recorded by the command named in `causation_id`, if another."""


@dataclass(frozen=True)
class HashStatus:
    """What the inspector says about one event's place in the chain."""

    linked: bool | None
    """True when `prev_hash` equals the hash of the event before (None: not checked)."""
    verified: bool | None = None
    """True when the store recomputed the hash and it matches (None: not available)."""
    detail: str = ""


ChainState = Literal["unknown", "checking", "ok", "broken"]


@dataclass(frozen=True)
class ChainStatus:
    """The header's chain indicator."""

    state: ChainState
    detail: str = ""
    position: int = 0


@dataclass(frozen=True)
class LineageStep:
    """One event that changed a projection row, with the row before and after it."""

    event: RecordedEvent
    before: Row | None
    after: Row | None
    fields: tuple[str, ...]


@dataclass(frozen=True)
class AggregateStep:
    """One event of a stream with the aggregate state after it."""

    event: RecordedEvent
    state: dict[str, Any]


@dataclass(frozen=True)
class Bookmark:
    """A named position, kept with the database when the store can keep it."""

    name: str
    position: int


# --------------------------------------------------------------------------- timeline


class TimelinePort(Protocol):
    """What the session needs from a timeline: one moving cursor and independent states."""

    def seek(self, position: int) -> tuple[StateMap, dict[str, set[str]] | None]:
        """Move the cursor to `position`: (its states, the keys that changed if known).

        The states stay the timeline's (read-only); callers copy what they keep.
        """
        ...

    def state_at(self, position: int) -> StateMap:
        """Every projection at `position`, as the caller's own copy."""
        ...

    def events(self, *, after: int = 0, to: int | None = None) -> Iterable[RecordedEvent]:
        """Events in (after, to], upcast to their current schema."""
        ...

    def upcast(self, event: RecordedEvent) -> RecordedEvent:
        """`event` lifted to the current schema of its type."""
        ...


class CursorTimeline:
    """`domain.timeline.Timeline` seen through one `Cursor` that moves cheaply.

    A step reports exactly the rows it changed; a move that had to look for new events
    or refusals first compares every row instead. Not thread-safe: the session locks.
    """

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._cursor: Cursor | None = None

    def seek(self, position: int) -> tuple[StateMap, dict[str, set[str]] | None]:
        cursor = self._cursor
        if cursor is None:
            self._cursor = cursor = self.timeline.cursor(position)
            return cursor.states, None
        refreshed = position >= cursor.head
        if refreshed:
            cursor.refresh()  # new events or refusals (live): rows may change unreported
        move = cursor.seek(position)
        if refreshed:
            return cursor.states, None
        return cursor.states, {name: set(keys) for name, keys in move.changed.items()}

    def state_at(self, position: int) -> StateMap:
        return self.timeline.state_at(position)

    def events(self, *, after: int = 0, to: int | None = None) -> Iterable[RecordedEvent]:
        return self.timeline.events(after=after, to=to)

    def upcast(self, event: RecordedEvent) -> RecordedEvent:
        return self.timeline.upcast(event)


# --------------------------------------------------------------------------- session


class Session:
    """Everything the app asks of the database and the domain. Blocking; call from workers."""

    def __init__(self, workspace: Workspace, *, timeline: TimelinePort | None = None) -> None:
        self.workspace = workspace
        self.store = workspace.store
        self.domain: DomainDescription = workspace.domain
        self.projections: list[Projection] = list(workspace.domain.projections)
        if timeline is None:
            timeline = CursorTimeline(
                Timeline(self.store, self.projections, workspace.domain.model.catalog)
            )
        self._timeline = timeline
        self._lock = threading.Lock()
        self._last: Frame | None = None
        self._bookmarks: dict[str, int] = {}

    # -- identity

    @property
    def db_name(self) -> str:
        """The database file's name, as the header shows it."""
        return self.workspace.db_path.name

    @property
    def read_only(self) -> bool:
        return self.workspace.read_only

    @property
    def actor(self) -> str:
        return self.workspace.actor

    @property
    def commands(self) -> Sequence[type[Command]]:
        """The domain's commands, in menu order."""
        return self.domain.model.commands

    # -- the log

    def head(self) -> Head:
        """The store's last position and hash."""
        return self.store.head()

    def change_token(self) -> int:
        """A number that moves when another connection commits (cheap to poll).

        Falls back to the head position for stores without `data_version`.
        """
        version = getattr(self.store, "data_version", None)
        if version is not None:
            return int(version())
        return self.store.head().position

    def summary(self, event: RecordedEvent) -> str:
        """The domain's one-line summary of `event`."""
        return self.domain.summary(event)

    def log_index(self, event_filter: EventFilter, previous: LogIndex | None = None) -> LogIndex:
        """The log's rows for `event_filter`, reusing `previous` and reading only what is new."""
        head = self.store.head().position
        if not event_filter:
            return LogIndex(head=head)
        if previous is not None and previous.filter == event_filter and previous.positions:
            positions = array("q", previous.positions)
            after = previous.head
        else:
            positions, after = array("q"), 0
        if after < head:
            positions.extend(self._matching_positions(event_filter, after, head))
        return LogIndex(head=head, filter=event_filter, positions=positions)

    def _matching_positions(self, event_filter: EventFilter, after: int, to: int) -> Iterable[int]:
        """Positions in (after, to] passing the filter: by index when exact, else by scan."""
        exact = not event_filter.text and not any(
            "*" in v or "?" in v
            for v in (event_filter.stream, event_filter.type, event_filter.actor)
        )
        page = getattr(self.store, "events_page", None)
        if exact and page is not None:
            return self._paged_positions(page, event_filter, after, to)
        return (
            e.position for e in self.store.iter_all(after=after, to=to) if event_filter.matches(e)
        )

    @staticmethod
    def _paged_positions(
        page: Any, event_filter: EventFilter, after: int, to: int
    ) -> Iterable[int]:
        while True:
            events = page(
                after=after,
                before=to + 1,
                limit=PAGE_SCAN,
                stream=event_filter.stream or None,
                type=event_filter.type or None,
                actor=event_filter.actor or None,
            )
            for event in events:
                yield event.position
            if len(events) < PAGE_SCAN:
                return
            after = events[-1].position

    def log_page(self, index: LogIndex, start: int, count: int) -> list[RecordedEvent]:
        """The events on rows `start .. start + count - 1` of the log."""
        end = min(len(index), start + count)
        if start >= end:
            return []
        if index.positions is None:
            return self.store.read_all(after=start, to=end)
        wanted = index.positions[start:end]
        first, last = wanted[0], wanted[-1]
        if last - first < 4 * len(wanted):  # dense: one range read beats many lookups
            keep = set(wanted)
            return [e for e in self.store.read_all(after=first - 1, to=last) if e.position in keep]
        return [e for p in wanted for e in self.store.read_all(after=p - 1, to=p)]

    def event(self, position: int) -> RecordedEvent | None:
        """The event at `position` (None for 0 or past the head)."""
        if position <= 0:
            return None
        events = self.store.read_all(after=position - 1, to=position)
        return events[0] if events else None

    def related(self, event: RecordedEvent) -> Related:
        """The events linked to `event` by command, correlation and causation."""
        meta = event.metadata
        command_id = str(meta.get("command_id", ""))
        same = self.store.find_command(command_id) if command_id else None
        same_positions = same.positions if same is not None else (event.position,)
        cause = None
        causation = str(meta.get("causation_id", ""))
        if causation and causation != command_id:
            earlier = self.store.find_command(causation)
            if earlier is not None and earlier.positions:
                cause = earlier.positions[0]
        correlated: tuple[int, ...] = ()
        correlation = str(meta.get("correlation_id", ""))
        by_correlation = getattr(self.store, "positions_by_correlation", None)
        if correlation and by_correlation is not None:
            correlated = tuple(p for p in by_correlation(correlation) if p not in same_positions)
        return Related(same_command=tuple(same_positions), correlated=correlated, cause=cause)

    def hash_status(self, event: RecordedEvent) -> HashStatus:
        """Whether `event` links to the event before it (and verifies, if the store can say)."""
        if event.position == 1:
            linked = event.prev_hash == "0" * 64
        else:
            before = self.event(event.position - 1)
            linked = before is not None and before.hash == event.prev_hash
        verified: bool | None = None
        if not getattr(self.store, "keyed", True):
            # An unkeyed chain can be recomputed here; a keyed one needs the store's key.
            row = canonical_row(chain_row(event))
            verified = chain_hash(event.prev_hash, row, None) == event.hash
        return HashStatus(linked=linked, verified=verified)

    # -- time

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
        bounds = [0]
        for i in range(1, buckets):
            moment = format_time(start + span * i / buckets)
            bounds.append(max(bounds[-1], self.store.position_at(moment)))
        bounds.append(head)
        # The first event belongs to bucket 0, whose start time it defines.
        return TimeAxis(first_event.recorded_at, last_event.recorded_at, tuple(bounds))

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
        except ValueError as exc:
            raise InvalidInput(f"{exc}; or a position such as 1234") from None
        return self.store.position_at(format_time(moment))

    # -- state

    def frame_at(self, position: int) -> Frame:
        """Every projection at `position`, with what changed since the last frame built."""
        with self._lock:
            states, touched = self._timeline.seek(position)
            last = self._last
            rows: dict[str, Rows] = {}
            changes: dict[str, RowChanges] = {}
            for projection in self.projections:
                name = projection.name
                live = states[name].rows
                before = last.rows.get(name) if last is not None else None
                if before is None:
                    rows[name] = {k: dict(v) for k, v in live.items()}
                    continue
                keys = touched.get(name, set()) if touched is not None else None
                if keys is not None:
                    if not keys:
                        rows[name] = dict(before)
                        continue
                    fresh = dict(before)
                    for key in keys:
                        if key in live:
                            fresh[key] = dict(live[key])
                        else:
                            fresh.pop(key, None)
                    rows[name] = fresh
                else:
                    rows[name] = {k: dict(v) for k, v in live.items()}
                found = compare_rows(before, rows[name], keys)
                if found:
                    changes[name] = found
            refused = {
                str(r.id): r.to_json_dict()
                for r in self.store.refusals(to_position=position, limit=REFUSAL_ROWS)
            }
            rows[REFUSALS] = refused
            if last is not None and REFUSALS in last.rows:
                found = compare_rows(last.rows[REFUSALS], refused)
                if found:
                    changes[REFUSALS] = found
            frame = Frame(
                position=position,
                event=self.event(position),
                rows=rows,
                changes=changes,
                since=last.position if last is not None else None,
            )
            self._last = frame
            return frame

    def diff(self, a: int, b: int) -> StateDiff:
        """Field-level differences of every projection between positions `a` and `b`."""
        with self._lock:
            before = self._timeline.state_at(a)
            after = self._timeline.state_at(b)
        result = {
            p.name: diff_rows(before[p.name].rows, after[p.name].rows) for p in self.projections
        }
        return StateDiff(a=a, b=b, rows=result)

    def lineage(
        self, projection_name: str, key: str, *, to: int | None = None
    ) -> list[LineageStep]:
        """The events that changed row `key` of a projection, with the row before and after.

        Like the timeline's lineage, it reads only the streams (or the time span) the
        projection says can touch the row, and replays everything only otherwise.
        """
        projection = self.domain.projection(projection_name)
        head = self.store.head().position if to is None else to
        streams = projection.lineage_streams(key)
        state = projection.initial()
        events: Iterable[RecordedEvent]
        if streams is not None:
            found = [e for s in streams for e in self.store.read_stream(s) if e.position <= head]
            found.sort(key=lambda e: e.position)
            events = (self._timeline.upcast(e) for e in found)
        else:
            span = getattr(projection, "lineage_span", None)
            window = span(key) if callable(span) else None
            start, end = 0, head
            if window is not None:
                start = self._last_before(window[0]) if window[0] else 0
                end = min(head, self._last_before(window[1])) if window[1] else head
                with self._lock:
                    state = self._timeline.state_at(start)[projection.name]
            events = self._timeline.events(after=start, to=end) if end > start else ()
        steps: list[LineageStep] = []
        previous = state.rows.get(key)
        previous = dict(previous) if previous is not None else None
        for event in events:
            if key in projection.apply(state, event):
                row = state.rows.get(key)
                after = dict(row) if row is not None else None
                fields = changed_fields(previous or {}, after or {})
                steps.append(LineageStep(event=event, before=previous, after=after, fields=fields))
                previous = after
        return steps

    def _last_before(self, timestamp: str) -> int:
        """The last position recorded strictly before `timestamp`."""
        moment = parse_time(timestamp) - timedelta(microseconds=1)
        return self.store.position_at(format_time(moment))

    def streams(self, prefix: str = "", limit: int = 10_000) -> list[str]:
        """Stream ids (for the aggregate history picker and the palette), by id."""
        listing = getattr(self.store, "streams", None)
        if listing is None:
            seen: dict[str, None] = {}
            for event in self.store.iter_all():
                seen.setdefault(event.stream_id, None)
            return sorted(s for s in seen if s.startswith(prefix))[:limit]
        found: list[str] = []
        after = ""
        while len(found) < limit:
            batch = listing(prefix, after=after, limit=min(1000, limit - len(found)))
            found.extend(s.stream_id for s in batch)
            if len(batch) < 1000:
                break
            after = found[-1]
        return found

    def aggregate_history(self, stream_id: str) -> list[AggregateStep]:
        """Every event of `stream_id` with the aggregate's state after it."""
        events = self.store.read_stream(stream_id)
        if not events:
            raise InvalidInput(f"no stream {stream_id!r}")
        model = self.domain.model
        aggregate = model.aggregate_for(events[0].stream_type)
        state = aggregate.initial()
        steps = []
        for recorded in events:
            event = model.catalog.decode(recorded.type, recorded.schema_version, recorded.data)
            state = aggregate.evolve(state, event)
            steps.append(AggregateStep(event=recorded, state=_as_dict(state)))
        return steps

    def refusals(self, to_position: int | None, limit: int = 500) -> list[Refusal]:
        """Refused commands up to `to_position` (all when None), newest first."""
        return self.store.refusals(to_position=to_position, limit=limit)

    # -- commands

    def execute(self, type_name: str, fields: Mapping[str, Any]) -> AppendResult:
        """Run a command as the workspace's actor. Raises the domain's errors."""
        return self.workspace.bus.execute_fields(type_name, dict(fields), actor=self.actor)

    # -- bookmarks

    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark, by position."""
        listing = getattr(self.store, "bookmarks", None)
        if listing is not None:
            return sorted(
                (Bookmark(b.name, b.position) for b in listing()), key=lambda b: b.position
            )
        return sorted(
            (Bookmark(n, p) for n, p in self._bookmarks.items()), key=lambda b: b.position
        )

    def add_bookmark(self, name: str, position: int) -> Bookmark:
        """Keep `position` under `name` (replacing a bookmark of that name)."""
        name = name.strip()
        if not name:
            raise InvalidInput("a bookmark needs a name")
        if len(name) > 60:
            raise InvalidInput("bookmark names are at most 60 characters")
        saver = getattr(self.store, "set_bookmark", None)
        if saver is not None and not self.read_only:
            saver(name, position, actor=self.actor)
        else:
            self._bookmarks[name] = position
        return Bookmark(name, position)

    def remove_bookmark(self, name: str) -> None:
        """Forget the bookmark called `name`."""
        remover = getattr(self.store, "delete_bookmark", None)
        if remover is not None and not self.read_only:
            remover(name)
        self._bookmarks.pop(name, None)

    # -- health

    def chain_status(self) -> ChainStatus:
        """Verify the hash chain (may take a while on a large store)."""
        verify = getattr(self.store, "verify", None)
        if verify is None:
            return ChainStatus("unknown", "this store cannot verify")
        report = verify()
        ok = bool(getattr(report, "ok", False))
        bad = int(getattr(report, "first_bad_position", 0) or 0)
        detail = str(getattr(report, "message", "") or "")
        return ChainStatus("ok" if ok else "broken", detail, bad)

    def lag(self, shown: int) -> int:
        """How far the read side shown is behind the head."""
        return max(0, self.store.head().position - shown)


def _as_dict(state: Any) -> dict[str, Any]:
    """An aggregate state as plain data, whatever its shape."""
    if is_dataclass(state) and not isinstance(state, type):
        return asdict(state)
    dump = getattr(state, "model_dump", None)
    if dump is not None:
        result: dict[str, Any] = dump(mode="json")
        return result
    if isinstance(state, Mapping):
        return dict(state)
    return {"state": repr(state)}
