"""Field blame as the app and the CLI show it: the engine's entries, formatted (no Textual).

The entries come from `domain.timeline.blame` (lineage narrowed to one field); here
they become lines of text: position, time, actor, command and the value before → after,
each value formatted by the projection's own column (money in the row's currency).
Every text is escaped (`domain.text.escape`), ready to print or to put in a Rich `Text`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain.errors import InvalidInput
from domain.projection import Column, Projection
from domain.text import escape
from domain.timeline import BlameEntry

NO_VALUE = "—"
"""What a value reads as when the row (or the field) did not exist."""


@dataclass(frozen=True)
class BlameLine:
    """One change of the field, as text (every part escaped)."""

    position: int
    time: str
    actor: str
    command: str
    event_type: str
    before: str
    after: str
    recorded_at: str = ""
    """The event's stored time, raw (`time` is it drawn whole)."""


def column_of(projection: Projection, field: str) -> Column:
    """The column called `field` (its name, or its title in any case), else InvalidInput."""
    for column in projection.columns:
        if field in (column.name,) or field.casefold() == column.title.casefold():
            return column
    known = ", ".join(c.name for c in projection.columns)
    raise InvalidInput(f"unknown field {field!r} of {projection.name}; its fields are: {known}")


def field_text(column: Column | None, field: str, row: Mapping[str, Any] | None) -> str:
    """The field of `row` as its column shows it (escaped), or a dash when there is none."""
    if row is None or row.get(field) is None:
        return NO_VALUE
    if column is None:
        return escape(str(row[field]))
    return column.format(row) or NO_VALUE


def blame_lines(
    projection: Projection, field: str, entries: Sequence[BlameEntry]
) -> list[BlameLine]:
    """The entries of a blame of `field`, oldest first, as text."""
    column = next((c for c in projection.columns if c.name == field), None)
    return [
        BlameLine(
            position=e.event.position,
            time=escape(e.event.recorded_at.replace("T", " ")[:19]),
            actor=escape(e.event.actor),
            command=escape(str(e.event.metadata.get("command_type", "") or "")),
            event_type=escape(e.event.type),
            before=field_text(column, field, e.before_row),
            after=field_text(column, field, e.after_row),
            recorded_at=e.event.recorded_at,
        )
        for e in entries
    ]
