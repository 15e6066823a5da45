"""The AuditRecords role: what is kept beside the events to explain them.

Refused commands, the command payloads and the links between events (command,
correlation), bookmarks (annotations, not audit facts: mutable, not chained), and the
import records (who brought which positions in, from which file). An export reads
them all through this role (`store.transfer.export`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from domain.envelope import Bookmark, Refusal, RefusalMark
from domain.text import escape


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """A recorded command: its type, payload and the positions of its events."""

    command_id: str
    command_type: str
    payload: dict[str, Any] | None
    """None when unknown (commands rebuilt by an import of an export without payloads)."""
    actor: str
    recorded_at: str
    first_position: int = 0
    """0 (and `last_position` 0) for a command that recorded no event."""
    last_position: int = 0


@dataclass(frozen=True, slots=True)
class ImportRecord:
    """One import: who brought positions first..last in, from which file, when."""

    id: int
    actor: str
    imported_at: str
    sha256: str
    source: str
    first_position: int
    last_position: int
    events: int
    restored_by: int | None = None
    """The import that restored this record from an export (None: made here)."""

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "actor": self.actor,
            "imported_at": self.imported_at,
            "sha256": self.sha256,
            "source": self.source,
            "first_position": self.first_position,
            "last_position": self.last_position,
            "events": self.events,
            "restored_by": self.restored_by,
        }

    def describe(self) -> str:
        """One line for `verify` and the inspector; store text escaped."""
        span = f"#{self.first_position}-#{self.last_position}" if self.events else "no events"
        line = (
            f"{span} from sha256 {escape(self.sha256[:12])}… by {escape(self.actor)} "
            f"at {escape(self.imported_at)}"
        )
        if self.source:
            line += f" ({escape(self.source)})"
        if self.restored_by is not None:
            line += f", restored by import {self.restored_by}"
        return line


class ImportWrites(Protocol):
    """The records an import writes after its events, inside the same transaction.

    Handed to the `finish` callback of `EventWriter.load_recorded`: what it reads sees
    the events and records written so far in that transaction; an exception it raises
    undoes the whole load.
    """

    def command_exists(self, command_id: str) -> bool:
        """True when a command with this id is recorded (by this load too)."""
        ...

    def add_empty_command(self, command: CommandRecord) -> None:
        """Record a command that recorded no event (its positions are ignored: 0..0)."""
        ...

    def bookmark_exists(self, name: str) -> bool:
        """True when a bookmark called `name` exists (set by this load too)."""
        ...

    def add_bookmark(self, bookmark: Bookmark) -> None:
        """Keep `bookmark` as it is (name, position, actor, time), checked by the caller."""
        ...

    def last_import_id(self) -> int:
        """The id of the newest import record (0 when there is none)."""
        ...

    def add_import(self, record: ImportRecord) -> ImportRecord:
        """Append an import record; it gets the next id (`record.id` is ignored).

        Returns the record with its id. Ids run 1, 2, 3... with no gaps.
        """
        ...


class AuditRecords(Protocol):
    """Refusals, command payloads, correlations and bookmarks."""

    def record_refusal(self, refusal: Refusal) -> Refusal:
        """Keep a refused command for the audit; returns it with its id and position."""
        ...

    def refusals(
        self, *, to_position: int | None = None, limit: int | None = None
    ) -> list[Refusal]:
        """Refusals recorded while the head was at or before `to_position`, newest first."""
        ...

    def refusal_marks(self, *, after_id: int = 0) -> list[RefusalMark]:
        """Every refusal with an id above `after_id`, as a `RefusalMark`, by id ascending."""
        ...

    def refusal_count(self, *, to_position: int | None = None) -> int:
        """How many refusals were recorded while the head was at or before `to_position`."""
        ...

    def command_payload(self, command_id: str) -> tuple[str, dict[str, object]] | None:
        """The (command type, payload) recorded for this command id, if any."""
        ...

    def positions_by_command(self, command_id: str) -> list[int]:
        """Positions of the events recorded by command `command_id`, ascending."""
        ...

    def positions_by_correlation(self, correlation_id: str, *, limit: int = 1000) -> list[int]:
        """Positions of the events whose metadata carries `correlation_id`, ascending
        (at most `limit`, the first ones)."""
        ...

    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark, by position (then name)."""
        ...

    def set_bookmark(self, name: str, position: int, *, actor: str) -> Bookmark:
        """Keep `position` (0..head) under `name`; re-using a name moves that bookmark.

        Raises InvalidInput for a bad name or position, StoreError when read-only.
        """
        ...

    def delete_bookmark(self, name: str) -> bool:
        """Delete the bookmark called `name`; False when there was none."""
        ...

    def commands_between(self, first: int, last: int) -> list[CommandRecord]:
        """The commands whose first event is at a position in first..last, by that position
        (never those that recorded no event: see `empty_commands`)."""
        ...

    def empty_commands(self) -> list[CommandRecord]:
        """The commands that recorded no event (positions 0..0), by time, then id."""
        ...

    def command_rows(self, first: int, last: int) -> list[tuple[Any, ...]]:
        """The commands rows as stored, whose first position is in first..last, by that
        position then id (`command_rows(0, 0)`: those that recorded no event): command
        id, type, payload text (None if unknown), actor, recorded_at, first and last
        position, and the HMAC (None without a key, or in memory, where nothing is
        kept outside the process). What `verify --deep` recomputes the HMACs from."""
        ...

    def refusals_between(self, first: int, last: int) -> list[Refusal]:
        """Refusals recorded while the head was at first..last, oldest first (by that
        position, then in the order they were recorded)."""
        ...

    def imports(self) -> list[ImportRecord]:
        """Every import record, oldest first (empty for a store that never imported)."""
        ...
