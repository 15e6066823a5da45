"""The deep check of the `commands` table (idempotency records) against the events.

A commands row says "command X recorded the events at first..last"; the bus returns
it, unchecked until now, as the result of any later command with id X. So every row
must claim exactly the positions of the events carrying its id, and every command id
in the events' metadata needs its row. Events of one command are adjacent and rows are
ordered by their first position, so one merge of the two position-ordered streams
checks it with no memory beyond the current command.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from typing import Any

from domain.envelope import GENESIS_HASH
from domain.text import escape
from store.derived_macs import DerivedMacs, same

_ROWS = (
    "SELECT command_id, command_type, payload, actor, recorded_at, first_position, "
    "last_position, mac FROM commands WHERE first_position > 0 "
    "ORDER BY first_position, command_id"
)
_EMPTY_ROWS = (
    "SELECT command_id, command_type, payload, actor, recorded_at, first_position, "
    "last_position, mac FROM commands WHERE first_position = 0"
)
_ONE = "SELECT first_position, last_position FROM commands WHERE command_id = ?"


class CommandRowMismatch(Exception):
    """A commands row that does not match the events (or its HMAC)."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}..#{last}"


class CommandRows:
    """Fed the events in position order (`feed`), then `finish`; raises on a mismatch."""

    def __init__(self, conn: sqlite3.Connection, macs: DerivedMacs | None) -> None:
        self.conn = conn
        self.macs = macs
        self.checked = 0
        self._rows: Iterator[Any] = iter(conn.execute(_ROWS))
        self._next: Any = next(self._rows, None)
        # The command whose events are being read: [id, first, last, hash of last].
        self._open: list[Any] | None = None

    def feed(self, rows: Sequence[Sequence[Any]]) -> None:
        """Take event rows: (position, ..., hash at 11, command id at 12)."""
        for row in rows:
            command_id = row[12]
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
        """After the last event: no row may be left over, and rows of commands that
        recorded no events must verify (with a key)."""
        if self._open is not None:
            self._close(self._open)
            self._open = None
        if self._next is not None:
            row = self._next
            raise CommandRowMismatch(self._unclaimed(row), int(row[5]))
        for row in self.conn.execute(_EMPTY_ROWS):
            self._check_mac(row, GENESIS_HASH)
            self.checked += 1

    def _close(self, group: list[Any]) -> None:
        command_id, first, last, last_hash = group
        row = self._next
        if row is not None and (row[0], row[5], row[6]) == (command_id, first, last):
            self._check_mac(row, last_hash)
            self.checked += 1
            self._next = next(self._rows, None)
            return
        recorded = self.conn.execute(_ONE, (command_id,)).fetchone()
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
        assert row is not None  # the row of this command exists, so the stream has one
        raise CommandRowMismatch(self._unclaimed(row), int(row[5]))

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
