"""The event log's roles: `EventWriter` appends, `EventReader` reads.

Every store (in memory, SQLite) implements both fully; `tests/integration/contracts`
holds one contract suite per role, run against each store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from typing import Any, Protocol

from domain.envelope import (
    AppendResult,
    Head,
    Metadata,
    PendingEvent,
    RecordedEvent,
    Refusal,
    StreamAppend,
    StreamSummary,
)
from domain.ports.audit import ImportWrites

RecordedItem = tuple[RecordedEvent, dict[str, Any] | None] | Refusal
"""What `EventWriter.load_recorded` loads: an event with its command's payload (given on
the command's first event, else None), or a refused command at its place."""


class EventWriter(Protocol):
    """Appends to the log: commands one at a time, demo data in bulk.

    Positions run 1..head with no gaps, in commit order. Versions run 1..n per stream.
    """

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        """Append to one or more streams in one transaction.

        Each stream's `expected_version` must equal its current version, else
        `ConcurrencyConflict` and nothing is written. A `metadata.command_id` seen
        before returns the earlier result with `duplicate=True` and appends nothing.
        """
        ...

    def find_command(self, command_id: str) -> AppendResult | None:
        """The result an earlier command with this id recorded, if any."""
        ...

    def exclusive_appends(self) -> AbstractContextManager[None]:
        """A block in which no other writer appends: the store's append lock, held.

        Reads inside see the current state, so a decision made inside on what it reads
        cannot be overtaken: an append inside meets no conflict. What is appended or
        refused inside is committed when the block ends (the bus decides here again
        after a conflict: progress, whatever the contention). Re-entrant on its thread;
        keep it short, every other writer waits for it.
        """
        ...

    def append_bulk(self, events: Iterable[PendingEvent | Refusal], *, batch: int = 10_000) -> Head:
        """Load many decided events (demo data) in one transaction; returns the new head.

        Versions must continue each stream, else InvalidInput and nothing is written.
        A `Refusal` among them is kept at the head as of its place in the sequence.
        """
        ...

    def import_events(
        self,
        events: Iterable[RecordedEvent],
        validate: Callable[[RecordedEvent], None] | None = None,
    ) -> Head:
        """Import recorded events all-or-nothing, keeping their positions and hashes.

        Each must continue the chain exactly; any failure raises `EventRejected` and
        leaves the store as it was. `validate` may refuse an event (InvalidInput).
        """
        ...

    def load_recorded(
        self,
        items: Iterable[RecordedItem],
        finish: Callable[[ImportWrites, Head], None],
    ) -> Head:
        """Load an exported history all-or-nothing: events keep their positions and
        hashes, refusals are kept at the head as of their place; returns the new head.

        Each event must continue the chain exactly (else `EventRejected` naming its
        index). Last, in the same transaction, `finish` gets the records writer
        (`ImportWrites`) and the new head; whatever it raises leaves the store as it was.
        """
        ...


class EventReader(Protocol):
    """Reads the log: per stream, in global order, by time, filtered, in pages."""

    def head(self) -> Head:
        """The last position and its hash (0 and the genesis hash when empty)."""
        ...

    def data_version(self) -> int:
        """A change token: a number that moves when another writer commits.

        Cheap to poll; a reader compares it with the last value it saw.
        """
        ...

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it has no events)."""
        ...

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events with after_version < version <= to_version, in order."""
        ...

    def read_all(
        self, *, after: int = 0, to: int | None = None, limit: int | None = None
    ) -> list[RecordedEvent]:
        """Events with after < position <= to, in order, at most `limit` of them."""
        ...

    def iter_all(self, *, after: int = 0, to: int | None = None) -> Iterable[RecordedEvent]:
        """Like `read_all` but streamed, for replays and export."""
        ...

    def position_at(self, timestamp: str) -> int:
        """The last position at or before `timestamp` not flagged as clock skew (0: none)."""
        ...

    def streams(
        self, prefix: str = "", *, after: str = "", limit: int = 100
    ) -> list[StreamSummary]:
        """Streams whose id starts with `prefix` (and sorts after `after`), by id."""
        ...

    def count_events(
        self, *, stream: str | None = None, type: str | None = None, actor: str | None = None
    ) -> int:
        """How many events match the exact filters (all of them without filters)."""
        ...

    def events_page(
        self,
        *,
        after: int = 0,
        before: int | None = None,
        limit: int = 100,
        stream: str | None = None,
        type: str | None = None,
        actor: str | None = None,
        descending: bool = False,
    ) -> list[RecordedEvent]:
        """One page of events with after < position < before that match the exact filters
        (`descending`: the newest first)."""
        ...

    def positions(
        self,
        *,
        stream: str | None = None,
        type: str | None = None,
        actor: str | None = None,
        text: str | None = None,
        after: int = 0,
        to: int | None = None,
        limit: int | None = None,
    ) -> list[int]:
        """Positions in after < position <= to of the events that match, ascending.

        `stream`, `type`, `actor`: exact values or GLOB patterns; `text`: a
        case-insensitive (ASCII) substring of the data or metadata JSON (see
        `store.filters`). At most `limit` positions (all when None).
        """
        ...

    def events_at(self, positions: Sequence[int]) -> list[RecordedEvent]:
        """The events at `positions`, ascending, each once (missing positions left out)."""
        ...
