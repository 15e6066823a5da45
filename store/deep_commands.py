"""The deep check of the `commands` records (idempotency records) against the events.

A commands row says "command X recorded the events at first..last"; the bus returns
it, unchecked until now, as the result of any later command with id X. So every row
must claim exactly the positions of the events carrying its id, and every command id
in the events' metadata needs its row. Events of one command are adjacent and rows are
ordered by their first position, so one merge of the two position-ordered streams
checks it, reading the rows a batch of events at a time.

Written against the store roles (AuditRecords for the rows, EventWriter's
`find_command` for a row's result and, with a key, its HMAC), so every store is checked
the same way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

from domain.ports import EventStore
from domain.ports.audit import CommandRecord
from domain.text import escape
from store.derived_macs import DerivedDataForged

_BEYOND = 1 << 62
"""A position past any head: `commands_between(head + 1, _BEYOND)` is every later row."""


class CommandRowMismatch(Exception):
    """A commands row that does not match the events (or its HMAC)."""

    def __init__(self, message: str, position: int | None) -> None:
        super().__init__(message)
        self.message = message
        self.position = position


def _span(first: int, last: int) -> str:
    return f"#{first}" if first == last else f"#{first}..#{last}"


class CommandRows:
    """Fed the events in position order up to `head` (`feed`), then `finish`; raises
    CommandRowMismatch on a mismatch. `keyed`: each row's HMAC is checked too, through
    the store's own check at use (`find_command`)."""

    def __init__(self, store: EventStore, head: int, *, keyed: bool) -> None:
        self.store = store
        self.head = head
        self.keyed = keyed
        self.checked = 0
        self._rows: deque[CommandRecord] = deque()
        # The command whose events are being read: [id, first, last].
        self._open: list[Any] | None = None

    def feed(self, rows: Sequence[Sequence[Any]], command_ids: Sequence[object]) -> None:
        """Take event rows (position first) and the command id each carries."""
        if not rows:
            return
        self._rows.extend(self.store.commands_between(rows[0][0], rows[-1][0]))
        for row, command_id in zip(rows, command_ids, strict=True):
            current = self._open
            if current is not None and command_id == current[0] and row[0] == current[2] + 1:
                current[2] = row[0]
                continue
            if current is not None:
                self._close(current)
                self._open = None
            if isinstance(command_id, str) and command_id:
                self._open = [command_id, row[0], row[0]]

    def finish(self) -> None:
        """After the last event: no row may be left over (a row claiming positions past
        the head must be of a command appended meanwhile), and rows of commands that
        recorded no events must verify (with a key)."""
        if self._open is not None:
            self._close(self._open)
            self._open = None
        if self._rows:
            raise CommandRowMismatch(self._unclaimed(self._rows[0]), self._rows[0].first_position)
        for later in self.store.commands_between(self.head + 1, _BEYOND):
            claimed = list(range(later.first_position, later.last_position + 1))
            if self.store.positions_by_command(later.command_id) != claimed:
                raise CommandRowMismatch(self._unclaimed(later), later.first_position)
        for empty in self.store.empty_commands():
            self._check_mac(empty)
            self.checked += 1

    def _close(self, group: list[Any]) -> None:
        command_id, first, last = group
        row = self._rows[0] if self._rows else None
        if row is not None and (row.command_id, row.first_position, row.last_position) == (
            command_id,
            first,
            last,
        ):
            self._check_mac(row)
            self.checked += 1
            self._rows.popleft()
            return
        try:
            result = self.store.find_command(command_id)
        except DerivedDataForged:  # a row, whose events do not check out
            result, claimed = None, None
            exists = True
        else:
            exists = result is not None
            positions = result.positions if result is not None else ()
            claimed = (positions[0], positions[-1]) if positions else None
        if not exists:
            raise CommandRowMismatch(
                f"the events {_span(first, last)} of command id {escape(command_id)} have "
                "no commands row",
                first,
            )
        if claimed is not None and claimed != (first, last):
            raise CommandRowMismatch(
                f"the commands row of command id {escape(command_id)} claims "
                f"{_span(*claimed)}, but its events are at {_span(first, last)}",
                first,
            )
        if row is None:
            raise CommandRowMismatch(
                f"the commands row of command id {escape(command_id)} does not claim its "
                f"events at {_span(first, last)}",
                first,
            )
        raise CommandRowMismatch(self._unclaimed(row), row.first_position)

    def _unclaimed(self, row: CommandRecord) -> str:
        return (
            f"the commands row of command id {escape(row.command_id)} claims "
            f"{_span(row.first_position, row.last_position)}, but no event there carries "
            "that id"
        )

    def _check_mac(self, row: CommandRecord) -> None:
        """With a key: the store's check at use, which verifies the row's HMAC."""
        if not self.keyed:
            return
        try:
            self.store.find_command(row.command_id)
        except DerivedDataForged:
            raise CommandRowMismatch(
                f"the commands row of command id {escape(row.command_id)} does not match its HMAC",
                row.first_position or None,
            ) from None
