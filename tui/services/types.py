"""The values the app's services return and its widgets show (no Textual here)."""

from __future__ import annotations

import bisect
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from domain.clock_skew import ClockSkew
from domain.envelope import RecordedEvent
from domain.timeline import LineageStep
from tui.services.frames import Frame, FrameSource, RowChanges, RowDiff, Rows, StateDiff

if TYPE_CHECKING:
    # What the services ask of the store: its roles (domain.ports), never an adapter.
    from domain.ports import EventStore as AppStore

REFUSALS = "__refusals__"
"""The pseudo-projection under which frames carry the refusals recorded up to them."""


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
    breaks: tuple[int, ...] = ()
    """Buckets standing for a long idle stretch, folded into one column (drawn as a
    break; `tui.services.time_axis`)."""

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
    summary: str = ""
    """What the event did, in the domain's words and number rule (`+1,441.36 EUR to a1`)."""
    readable: Mapping[str, Any] | None = None
    """The payload with its numbers written by the one rule (`"amount": "1,441.36 EUR"`);
    the inspector shows it, and the payload as stored one key (`r`) away."""


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


__all__ = [
    "REFUSALS",
    "AggregateStep",
    "AppStore",
    "ChainState",
    "ChainStatus",
    "EventFilter",
    "Frame",
    "FrameSource",
    "HashStatus",
    "LineageStep",
    "LogIndex",
    "Related",
    "RowChanges",
    "RowDiff",
    "Rows",
    "StateDiff",
    "TimeAxis",
]
