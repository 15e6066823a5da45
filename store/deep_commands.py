"""The deep check of the `commands` table (idempotency records) against the events.

A commands row says "command X recorded the events at first..last"; the bus returns
it, unchecked until now, as the result of any later command with id X. So every row
must claim exactly the positions of the events carrying its id, and every command id
in the events' metadata needs its row. Events of one command are adjacent and rows are
ordered by their first position, so one merge of the two position-ordered streams
checks it, holding the rows of one window of positions at a time.

Written against the AuditRecords role (`command_rows`, the stored rows with their
HMAC; `find_command` for a row a mismatch names), so every store is checked the same
way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from domain.envelope import GENESIS_HASH
from domain.ports import EventStore
from domain.text import escape
from store.derived_macs import DerivedDataForged, DerivedMacs, same

WINDOW = 100_000
"""Positions whose commands rows are read at once: the table has no index by position,
so each read is a scan; few large windows keep that to a few scans per million events."""
_BEYOND = 1 << 62
"""A position past any head."""


class CommandRowMismatch(Exception):
    """A commands row that does not match the events (or its HMAC)."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}..#{last}"


class CommandRows:
    """Fed the events in position order up to `head` (`feed`), then `finish`; raises on a
    mismatch. `macs`: the chain's key, to check each row's HMAC."""

    def __init__(self, store: EventStore, head: int, macs: DerivedMacs | None) -> None:
        self.store = store
        self.head = head
        self.macs = macs
        self.checked = 0
        self._rows: deque[tuple[Any, ...]] = deque()
        self._read_to = 0
        """Rows whose first position is up to here are read (or consumed)."""
        # The command whose events are being read: [id, first, last, hash of last].
        self._open: list[Any] | None = None

    @property
    def _next(self) -> tuple[Any, ...] | None:
        return self._rows[0] if self._rows else None

    def feed(self, rows: Sequence[Sequence[Any]], command_ids: Sequence[object]) -> None:
        """Take event rows (position at 0, hash at 11) and the command id each carries."""
        if rows and rows[-1][0] > self._read_to:
            first, self._read_to = self._read_to + 1, min(self.head, rows[-1][0] + WINDOW)
            self._rows.extend(self.store.command_rows(first, self._read_to))
        for row, command_id in zip(rows, command_ids, strict=True):
            current = self._open
            if current is not None and command_id == current[0] and row[0] == current[2] + 1:
                current[2], current[3] = row[0], row[11]
                continue
            if current is not None:
                self._close(current)
                self._open = None
            if isinstance(command_id, str) and command_id:
                self._open = [command_id, row[0], row[0], row[11]]

    def finish(self) -> None:
        """After the last event: no row may be left over (one claiming positions past
        the head must be of a command appended meanwhile), and rows of commands that
        recorded no events must verify (with a key)."""
        if self._open is not None:
            self._close(self._open)
            self._open = None
        if self._next is not None:
            row = self._next
            raise CommandRowMismatch(self._unclaimed(row), int(row[5]))
        for row in self.store.command_rows(self.head + 1, _BEYOND):
            claimed = list(range(int(row[5]), int(row[6]) + 1))
            if self.store.positions_by_command(str(row[0])) != claimed:
                raise CommandRowMismatch(self._unclaimed(row), int(row[5]))
        for row in self.store.command_rows(0, 0):
            self._check_mac(row, GENESIS_HASH)
            self.checked += 1

    def _close(self, group: list[Any]) -> None:
        command_id, first, last, last_hash = group
        row = self._next
        if row is not None and (row[0], row[5], row[6]) == (command_id, first, last):
            self._check_mac(row, last_hash)
            self.checked += 1
            self._rows.popleft()
            return
        recorded = self._claimed(command_id, first, last)
        if recorded is None:
            raise CommandRowMismatch(
                f"the events {_span(first, last)} of command id {escape(command_id)} have "
                "no commands row",
                first,
            )
        if (recorded[0], recorded[1]) != (first, last):
            raise CommandRowMismatch(
                f"the commands row of command id {escape(command_id)} claims "
                f"{_span(recorded[0], recorded[1])}, but its events are at {_span(first, last)}",
                first,
            )
        if row is None:  # its row was claimed by events before
            raise CommandRowMismatch(
                f"the events {_span(first, last)} of command id {escape(command_id)} repeat "
                "a command already recorded",
                first,
            )
        raise CommandRowMismatch(self._unclaimed(row), int(row[5]))

    def _claimed(self, command_id: str, first: int, last: int) -> tuple[int, int] | None:
        """The span the row of `command_id` claims; None when there is no such row."""
        try:
            result = self.store.find_command(command_id)
        except DerivedDataForged:  # a row whose claimed events do not check out
            raise CommandRowMismatch(
                f"the commands row of command id {escape(command_id)} does not claim its "
                f"events at {_span(first, last)}",
                first,
            ) from None
        if result is None:
            return None
        positions = result.positions or (0,)
        return positions[0], positions[-1]

    def _unclaimed(self, row: Sequence[Any]) -> str:
        return (
            f"the commands row of command id {escape(str(row[0]))} claims "
            f"{_span(row[5], row[6])}, but no event there carries that id"
        )

    def _check_mac(self, row: Sequence[Any], event_hash: str) -> None:
        if self.macs is not None and not same(row[7], self.macs.command(row, event_hash)):
            raise CommandRowMismatch(
                f"the commands row of command id {escape(str(row[0]))} does not match its HMAC",
                int(row[5]) or None,
            )
