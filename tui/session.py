"""The app's facade over the workspace, the timeline and the projector.

Every blocking call the app makes goes through a `Session`, and the app makes those
calls from worker threads only. The session knows no Textual. It holds the one piece
of mutable state the app's workers share (the timeline's working state behind a
lock), so two workers never replay at once.

Two sources feed the panels. The past goes through the workspace's
`domain.timeline.Timeline` (snapshots persisted in the database, plus replay) and one
`Cursor` on it, which steps cheaply and reports the rows each move changed. The
present, when the database is writable, is the persisted read models that the
session's own projector keeps current (`tui.read_side`): `live_frame()` reads them at
their checkpoint. Read-only, there is no projector, and the present is the timeline's
state at the head.
"""

from __future__ import annotations

import bisect
import functools
import json
import shutil
import subprocess
import sys
import threading
from array import array
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, is_dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from domain.clock import format_time, parse_time
from domain.clock_skew import ClockSkew, skew_of_event
from domain.description import DomainDescription
from domain.envelope import AppendResult, Bookmark, Head, RecordedEvent, Refusal
from domain.errors import InvalidInput, StoreError
from domain.messages import Command
from domain.projection import Projection, StateMap
from domain.timeline import Cursor, LineageStep, Timeline
from store import bookmarks as bookmark_rules
from tui.frames import (
    Frame,
    FrameSource,
    RowChanges,
    Rows,
    StateDiff,
    compare_rows,
    state_diff,
)
from tui.read_side import ReadSide, StatusListener

if TYPE_CHECKING:
    from tui.bootstrap import Workspace

REFUSALS = "__refusals__"
"""The pseudo-projection under which frames carry the refusals recorded up to them."""
REFUSAL_ROWS = 500
"""How many of the latest refusals a frame carries."""
CHAIN_CHILD_EVENTS = 100_000
"""Above this many events the chain is verified by a child process (`eventscope verify`):
a walk of 1M events is ~8 s of Python, which in this process would hold the GIL the
panels need. Below it, verifying here is quicker than starting a process."""
NEAR = 128
"""Moves up to this many events go through the stepping cursor; longer ones (jumps,
PgUp/PgDn) show `state_at` first, which skips the cursor's journaling, and move the
cursor there afterwards (`prepare_steps`)."""
CLOSE_SECONDS = 5.0
"""How long closing waits for database calls still running in worker threads."""
SPARSE_PAGE = 4
"""A log page whose positions spread over more than this many events per row is read
position by position (`events_at`) rather than as one range."""


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True)
class EventFilter:
    """Which events the log shows and stepping visits.

    `stream`, `type` and `actor` match exactly, or as SQLite GLOB patterns when they
    hold `*`, `?` or `[` (`account-a*`, `Transfer*`, case-sensitive). `text` is a
    case-insensitive (ASCII) substring of the event's data or metadata JSON. The store
    applies the filter in SQL (`store.filters`); nothing is scanned in Python.
    """

    stream: str = ""
    type: str = ""
    actor: str = ""
    text: str = ""

    def __bool__(self) -> bool:
        return bool(self.stream or self.type or self.actor or self.text)

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
    clock_skew: ClockSkew | None = None  # when its time is flagged (`domain.clock_skew`)


ChainState = Literal["unknown", "checking", "ok", "broken"]


@dataclass(frozen=True)
class ChainStatus:
    """The header's chain indicator."""

    state: ChainState
    detail: str = ""
    position: int = 0


@dataclass(frozen=True)
class AggregateStep:
    """One event of a stream with the aggregate state after it."""

    event: RecordedEvent
    state: dict[str, Any]


# --------------------------------------------------------------------------- timeline


class CursorTimeline:
    """`domain.timeline.Timeline` seen through one `Cursor` that moves cheaply.

    A step reports exactly the rows it changed; a move that had to look for new events
    or refusals first compares every row instead. Not thread-safe: the session locks.
    """

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._cursor: Cursor | None = None

    def near(self, position: int) -> bool:
        cursor = self._cursor
        return cursor is not None and abs(position - cursor.position) <= NEAR

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


# --------------------------------------------------------------------------- refusals


class RefusalRows:
    """The refusal panel's rows at any position, from the timeline's `refusals_at`.

    The same rows object comes back until a move crosses a refusal, so frames compare
    them by identity. Not thread-safe: the session locks.
    """

    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline
        self._last: tuple[tuple[Refusal, ...], Rows] = ((), {})

    def rows_at(self, position: int) -> Rows:
        """The latest `REFUSAL_ROWS` refusals recorded while the head was <= `position`."""
        found = self._timeline.refusals_at(position, REFUSAL_ROWS)
        if found is not self._last[0]:
            self._last = (found, {str(r.id): r.to_json_dict() for r in found})
        return self._last[1]

    def load(self) -> None:
        """Read every refusal into memory (once; then only new ones are read)."""
        self._timeline.refusal_log.load()


# --------------------------------------------------------------------------- session

_Method = TypeVar("_Method", bound=Callable[..., Any])


class InFlight:
    """Counts the session's blocking calls in progress, so closing can wait for them.

    Worker threads outlive the widgets that started them; closing the store under a
    query still running in one of them could crash the process.
    """

    def __init__(self) -> None:
        self._count = 0
        self._closed = False
        self._idle = threading.Condition()

    def __enter__(self) -> None:
        with self._idle:
            if self._closed:
                raise StoreError("the app is closing")
            self._count += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._idle:
            self._count -= 1
            if not self._count:
                self._idle.notify_all()

    def close(self, timeout: float) -> bool:
        """Refuse new calls and wait for those running; False if some still run."""
        with self._idle:
            self._closed = True
            return self._idle.wait_for(lambda: not self._count, timeout)


def _blocking(method: _Method) -> _Method:
    """Mark a session method that reads or writes the database (tracked by `InFlight`)."""

    @functools.wraps(method)
    def tracked(self: Session, *args: Any, **kwargs: Any) -> Any:
        with self._calls:
            return method(self, *args, **kwargs)

    return tracked  # type: ignore[return-value]


class Session:
    """Everything the app asks of the database and the domain. Blocking; call from workers."""

    def __init__(
        self,
        workspace: Workspace,
        *,
        project: bool = True,
    ) -> None:
        """With `project` (and a writable database) the session runs a projector while
        the app is open."""
        self.workspace = workspace
        self.store = workspace.store
        self.domain: DomainDescription = workspace.domain
        self.projections: list[Projection] = list(workspace.domain.projections)
        self._timeline = CursorTimeline(workspace.timeline)
        self.read_side: ReadSide | None = (
            ReadSide(workspace.projector()) if project and not workspace.read_only else None
        )
        self._lock = threading.Lock()
        self._last: Frame | None = None
        self._cursor_frame: Frame | None = None
        self._refusals = RefusalRows(workspace.timeline)
        self.chain_child_events = CHAIN_CHILD_EVENTS
        self._checker: subprocess.Popen[str] | None = None
        self._checker_lock = threading.Lock()
        self._calls = InFlight()
        self._closed = False
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

    @_blocking
    def head(self) -> Head:
        """The store's last position and hash."""
        return self.store.head()

    @_blocking
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

    @_blocking
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

    @_blocking
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

    @_blocking
    def event(self, position: int) -> RecordedEvent | None:
        """The event at `position` (None for 0 or past the head)."""
        if position <= 0:
            return None
        events = self.store.read_all(after=position - 1, to=position)
        return events[0] if events else None

    @_blocking
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
        return Related(same_command=same, correlated=correlated, cause=cause)

    @_blocking
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

    # -- time

    @_blocking
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

    @_blocking
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

    # -- state

    @_blocking
    def frame_at(self, position: int) -> Frame:
        """Every projection at `position` (from the timeline), with what changed since the
        last frame built.

        A step moves the cursor, which reports the rows it changed; a jump reads the
        state at `position` (a snapshot plus the events after it) and leaves the cursor
        where it was, for `prepare_steps` to bring over when there is time.
        """
        with self._lock:
            self._refusals.load()
            last = self._last
            step = last is not None and abs(position - last.position) <= NEAR
            if not (step or self._timeline.near(position)):
                return self._frame(position, self._timeline.state_at(position), None, "jump")
            states, touched = self._timeline.seek(position)
            if self._last is None or self._last is not self._cursor_frame:
                touched = None  # the cursor's changes are relative to its last frame only
            frame = self._frame(position, states, touched, "timeline")
            self._cursor_frame = frame
            return frame

    @_blocking
    def warm_up(self) -> None:
        """Read what moving through the past needs (every refusal), in the background."""
        with self._lock:
            self._refusals.load()

    @_blocking
    def steps_ready(self, position: int) -> bool:
        """True when a step from `position` will be cheap (the cursor is there)."""
        with self._lock:
            return self._timeline.near(position)

    @_blocking
    def prepare_steps(self, position: int) -> None:
        """Move the stepping cursor to `position` (after a jump), so the next step is cheap."""
        with self._lock:
            if self._timeline.near(position):
                return
            self._timeline.seek(position)
            last = self._last
            if last is not None and last.position == position:
                # The jump's frame holds the same state as the cursor now does, so the
                # cursor's next changes apply to it.
                self._cursor_frame = last

    @_blocking
    def live_frame(self) -> Frame:
        """The present as the panels show it when live: the read models at their checkpoint.

        Without a projector (read-only), or while the read models cannot be used (none
        yet, or written by other projection definitions and being rebuilt), the
        timeline's state at the head instead, so live panels are never wrongly empty.
        """
        read_side = self.read_side
        if read_side is None:
            return self.frame_at(self.store.head().position)
        models = read_side.read_models()
        if models.stale or (models.position == 0 and self.store.head().position > 0):
            return self.frame_at(self.store.head().position)
        with self._lock:
            return self._frame(models.position, models.states, None, "read_models")

    def _frame(
        self,
        position: int,
        states: StateMap,
        touched: Mapping[str, set[str]] | None,
        source: FrameSource | Literal["jump"],
    ) -> Frame:
        """A frame of `states` at `position`, compared with the last frame built.

        `touched` names the rows that can differ from the last frame (None: compare all).
        The cursor's states are its working copy, so their rows are copied; a jump's
        states and the read models are freshly built and kept as they are.
        """
        copy = source == "timeline"
        source = "timeline" if source == "jump" else source
        last = self._last
        rows: dict[str, Rows] = {}
        changes: dict[str, RowChanges] = {}
        for projection in self.projections:
            name = projection.name
            live = states[name].rows
            before = last.rows.get(name) if last is not None else None
            if before is None:
                rows[name] = {k: dict(v) for k, v in live.items()} if copy else dict(live)
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
                rows[name] = {k: dict(v) for k, v in live.items()} if copy else dict(live)
            found = compare_rows(before, rows[name], keys)
            if found:
                changes[name] = found
        refused = self._refusals.rows_at(position)
        rows[REFUSALS] = refused
        if last is not None and last.rows.get(REFUSALS, refused) is not refused:
            found = compare_rows(last.rows[REFUSALS], refused)
            if found:
                changes[REFUSALS] = found
        since = last.position if last is not None else None
        if last is not None and last.position == position and not changes:
            # Shown again unchanged (another commit woke the panels): keep what the
            # move here lit, rather than clear it.
            changes, since = dict(last.changes), last.since
        frame = Frame(
            position=position,
            event=self.event(position),
            rows=rows,
            changes=changes,
            since=since,
            source=source,
        )
        self._last = frame
        return frame

    @_blocking
    def diff(self, a: int, b: int) -> StateDiff:
        """Field-level differences of every projection between positions `a` and `b`."""
        with self._lock:
            return state_diff(self._timeline.timeline.diff(a, b))

    @_blocking
    def lineage(
        self, projection_name: str, key: str, *, to: int | None = None
    ) -> list[LineageStep]:
        """The events that changed row `key` of a projection, with the row before and after."""
        with self._lock:
            return self._timeline.timeline.lineage_steps(projection_name, key, to=to)

    @_blocking
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

    @_blocking
    def aggregate_history(self, stream_id: str) -> list[AggregateStep]:
        """Every event of `stream_id` with the aggregate's state after it."""
        history = self._timeline.timeline.aggregate_history(self.domain.model, stream_id)
        return [
            AggregateStep(event=at.event, state=_as_dict(at.state)) for at in history if at.event
        ]

    # -- commands

    @_blocking
    def execute(self, type_name: str, fields: Mapping[str, Any]) -> AppendResult:
        """Run a command as the workspace's actor. Raises the domain's errors."""
        return self.workspace.bus.execute_fields(type_name, dict(fields), actor=self.actor)

    # -- bookmarks

    @_blocking
    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark (the database's, and this session's own when read-only), by position."""
        kept = {b.name: b for b in self.store.bookmarks()}
        for name, position in self._bookmarks.items():
            kept[name] = Bookmark(name, position, self.actor)
        return sorted(kept.values(), key=lambda b: (b.position, b.name))

    @_blocking
    def add_bookmark(self, name: str, position: int) -> Bookmark:
        """Keep `position` under `name` (moving a bookmark of that name).

        Kept in the database, so it survives reopening; read-only, for this session only.
        """
        name = name.strip()
        if self.read_only:
            name = bookmark_rules.check_name(name)
            self._bookmarks[name] = position
            return Bookmark(name, position, self.actor)
        return self.store.set_bookmark(name, position, actor=self.actor)

    @_blocking
    def remove_bookmark(self, name: str) -> None:
        """Forget the bookmark called `name`."""
        if name in self._bookmarks:
            del self._bookmarks[name]
        elif not self.read_only:
            self.store.delete_bookmark(name)

    # -- health

    @_blocking
    def chain_status(self) -> ChainStatus:
        """Verify the hash chain (seconds on a large store; in a child process there)."""
        if self.store.head().position > self.chain_child_events:
            status = self._chain_status_in_child()
            if status is not None:
                return status
        try:
            report = self.store.verify()
        except StoreError as exc:  # a keyed chain opened without its key
            return ChainStatus("unknown", str(exc))
        if report.ok:
            return ChainStatus("ok", report.message)
        return ChainStatus("broken", report.message, report.first_bad_position or 0)

    def _chain_status_in_child(self) -> ChainStatus | None:
        """`eventscope --read-only verify --json` in a child process, at low priority.

        The child finds the key where this process did, in the environment. None when
        it could not say (say, a key given with `--key-file`): verify here instead.
        """
        import tui

        command = [
            sys.executable,
            "-m",
            "tui",
            "--db",
            str(self.workspace.db_path.resolve()),
            "--domain",
            self.domain.name,
            "--read-only",
            "verify",
            "--json",
        ]
        nice = shutil.which("nice")
        if nice is not None:
            command = [nice, "-n", "10", *command]
        with self._checker_lock:
            if self._closed:
                return ChainStatus("unknown", "the app is closing")
            self._checker = checker = subprocess.Popen(
                command,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                text=True,
                cwd=str(Path(tui.__file__).resolve().parents[1]),
            )
        out, _ = checker.communicate()
        if self._closed:
            return ChainStatus("unknown", "the app closed before the check ended")
        if checker.returncode not in (0, 1):
            return None
        try:
            report = json.loads(out)
        except ValueError:
            return None
        if report.get("ok"):
            return ChainStatus("ok", f"{report.get('checked', 0):,} events verified")
        bad = int(report.get("first_bad_position") or 0)
        detail = f"chain broken at position {bad}: {report.get('problem', '')}"
        return ChainStatus("broken", detail, bad)

    # -- the read side

    def start_read_side(self, on_status: StatusListener) -> None:
        """Start the projector's thread (writable databases only); `on_status` hears it."""
        if self.read_side is not None:
            self.read_side.start(on_status)

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Stop the projector (giving its lease up), any chain check still running, and
        wait for the calls still running in worker threads (up to `timeout` seconds).

        The workspace stays open: whoever opened it closes it, after this.
        """
        with self._checker_lock:
            self._closed = True
            checker = self._checker
        if checker is not None and checker.poll() is None:
            checker.kill()
            checker.wait()
        if self.read_side is not None:
            self.read_side.stop()
        self._calls.close(timeout)


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
