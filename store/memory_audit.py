"""The in-memory store's records for export and import: the `AuditRecords` reads an
export needs, `load_recorded`, and `ImportWrites` buffered until the load commits.

A mixin of `store.memory.InMemoryEventStore`, over its fields (one lock around all).
"""

from __future__ import annotations

import threading
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import orjson

from domain.envelope import Bookmark, Head, Refusal, RefusalMark
from domain.ports import CommandRecord, ImportRecord, ImportWrites, RecordedItem
from store.hashchain import ChainExtender, ChainRow, CommandRow, canonical_json, recording

AfterLoad = Callable[[Head, list[CommandRow]], Callable[[], None]]
"""Called with the new head and the load's commands before it commits; returns what
to apply when it does (see `InMemoryEventStore._load`)."""


def _first(row: CommandRow) -> int:
    return int(str(row[5]))


def _at(refusal: Refusal) -> int:
    return refusal.at_position


def _command_record(row: CommandRow) -> CommandRecord:
    command_id, command_type, payload, actor, recorded_at, first, last = row
    return CommandRecord(
        str(command_id),
        str(command_type),
        None if payload is None else orjson.loads(str(payload)),
        str(actor),
        str(recorded_at),
        int(str(first)),
        int(str(last)),
    )


class MemoryTransferRecords:
    """The in-memory store's audit records: refusals, and what export and import need."""

    _lock: threading.RLock
    _commands: dict[str, CommandRow]
    _refusals: list[Refusal]
    _bookmarks: dict[str, Bookmark]
    _imports: list[ImportRecord]
    _load: Callable[..., Head]

    _by_first: tuple[int, list[int], list[CommandRow]] = (-1, [], [])
    """The commands that recorded events, by first position (for a count of commands)."""

    def refusals(
        self, *, to_position: int | None = None, limit: int | None = None
    ) -> list[Refusal]:
        """Refusals recorded while the head was at or before `to_position`, newest first."""
        with self._lock:
            found = [
                replace(r, command=dict(r.command))
                for r in reversed(self._refusals)
                if to_position is None or r.at_position <= to_position
            ]
        return found if limit is None else found[: max(0, limit)]

    def refusal_marks(self, *, after_id: int = 0) -> list[RefusalMark]:
        """Every refusal with an id above `after_id`, as a `RefusalMark`, by id ascending."""
        with self._lock:
            kept = [r for r in self._refusals if r.id > after_id]
        return [RefusalMark(r.id, r.at_position, r.actor, r.recorded_at) for r in kept]

    def refusal_count(self, *, to_position: int | None = None) -> int:
        """How many refusals were recorded while the head was at or before `to_position`."""
        return len(self.refusals(to_position=to_position))

    def commands_between(self, first: int, last: int) -> list[CommandRecord]:
        """The commands whose first event is at a position in first..last, by that position.

        Found by bisection in an index rebuilt when commands were added since, so an
        export reading chunk after chunk does not scan every command each time.
        """
        with self._lock:
            count, firsts, rows = self._by_first
            if count != len(self._commands):
                rows = sorted((c for c in self._commands.values() if c[5]), key=_first)
                firsts = [_first(c) for c in rows]
                self._by_first = (len(self._commands), firsts, rows)
            chosen = rows[bisect_left(firsts, max(first, 1)) : bisect_right(firsts, last)]
        return [_command_record(row) for row in chosen]

    def command_rows(self, first: int, last: int) -> list[tuple[Any, ...]]:
        """The commands rows whose first position is in first..last, by that position then
        id; in memory they carry no HMAC (None)."""
        with self._lock:
            rows = [c for c in self._commands.values() if first <= c[5] <= last]
        return [(*row, None) for row in sorted(rows, key=lambda c: (c[5], c[0]))]

    def empty_commands(self) -> list[CommandRecord]:
        """The commands that recorded no event (positions 0..0), by time, then id."""
        with self._lock:
            rows = [c for c in self._commands.values() if not c[5]]
        return [_command_record(row) for row in sorted(rows, key=lambda c: (str(c[4]), c[0]))]

    def refusals_between(self, first: int, last: int) -> list[Refusal]:
        """Refusals recorded while the head was at first..last, oldest first."""
        with self._lock:
            # Kept in the order recorded, so by position too: the head only grows.
            refusals = self._refusals
            start = bisect_left(refusals, first, key=_at)
            found = refusals[start : bisect_right(refusals, last, lo=start, key=_at)]
        return [replace(r, command=dict(r.command)) for r in found]

    def imports(self) -> list[ImportRecord]:
        """Every import record, oldest first."""
        with self._lock:
            return list(self._imports)

    def load_recorded(
        self,
        items: Iterable[RecordedItem],
        finish: Callable[[ImportWrites, Head], None],
    ) -> Head:
        """Load an exported history all-or-nothing, then its records through `finish`
        (see `domain.ports.EventWriter.load_recorded`)."""

        def records(head: Head, commands: list[CommandRow]) -> Callable[[], None]:
            writes = _BufferedWrites(self, {str(c[0]) for c in commands})
            finish(writes, head)
            return writes.apply

        to_row: Callable[[ChainExtender, Any], ChainRow] = recording
        return self._load(items, to_row, refusals=True, after=records)


class _BufferedWrites:
    """`ImportWrites` kept aside until the load commits (nothing lands if it fails)."""

    def __init__(self, store: MemoryTransferRecords, loaded: set[str]) -> None:
        self._store = store
        self._loaded = loaded
        self._commands: dict[str, CommandRow] = {}
        self._bookmarks: dict[str, Bookmark] = {}
        self._imports: list[ImportRecord] = []

    def command_exists(self, command_id: str) -> bool:
        """True when a command with this id is recorded (by this load too)."""
        return (
            command_id in self._store._commands
            or command_id in self._loaded
            or command_id in self._commands
        )

    def add_empty_command(self, command: CommandRecord) -> None:
        """Record a command that recorded no event."""
        payload = None if command.payload is None else canonical_json(command.payload)
        self._commands[command.command_id] = (
            command.command_id,
            command.command_type,
            payload,
            command.actor,
            command.recorded_at,
            0,
            0,
        )

    def bookmark_exists(self, name: str) -> bool:
        """True when a bookmark called `name` exists (set by this load too)."""
        return name in self._store._bookmarks or name in self._bookmarks

    def add_bookmark(self, bookmark: Bookmark) -> None:
        """Keep `bookmark` as it is."""
        self._bookmarks[bookmark.name] = bookmark

    def last_import_id(self) -> int:
        """The id of the newest import record (0 when there is none)."""
        return len(self._store._imports) + len(self._imports)

    def add_import(self, record: ImportRecord) -> ImportRecord:
        """Append an import record with the next id; returns it with that id."""
        kept = replace(record, id=self.last_import_id() + 1)
        self._imports.append(kept)
        return kept

    def apply(self) -> None:
        """Keep what was written (the load commits)."""
        store = self._store
        store._commands.update(self._commands)
        store._bookmarks.update(self._bookmarks)
        store._imports.extend(self._imports)
