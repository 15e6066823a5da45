"""Field blame: the events that changed one field of one projection row.

Blame is lineage narrowed to a field: the row's lineage (`domain.timeline.lineage`,
the one fold that traces a row) keeps each event with the row before and after it,
and blame keeps those whose change includes the field, with the field's value before
and after. So a blame entry sits exactly where the field's value differs between the
state before the event and the state after it (refused commands are not events and
never appear, as in lineage).
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.envelope import RecordedEvent
from domain.projection import Row
from domain.timeline.lineage import LineageStep

if TYPE_CHECKING:
    from domain.timeline.seek import Timeline


@dataclass(frozen=True)
class BlameEntry:
    """One event that changed the field, with the field's value before and after it.

    `before` / `after` are None when the row (or the field) did not exist then.
    """

    event: RecordedEvent
    before: Any
    after: Any
    before_row: Row | None
    """The whole row before the event (None: the event created it); formatters need it
    (money is shown in the row's currency)."""
    after_row: Row | None
    """The whole row after the event (None: the event removed it)."""

    @property
    def row_created(self) -> bool:
        """The event created the row (there was no row before it)."""
        return self.before_row is None

    @property
    def row_removed(self) -> bool:
        """The event removed the row (there is no row after it)."""
        return self.after_row is None


def blame_of_steps(steps: Iterable[LineageStep], field: str, *, since: int = 0) -> list[BlameEntry]:
    """The lineage `steps` that changed `field`, after position `since`, oldest first."""
    return [
        BlameEntry(
            step.event,
            None if step.before is None else step.before.get(field),
            None if step.after is None else step.after.get(field),
            step.before,
            step.after,
        )
        for step in steps
        if step.event.position > since and field in step.fields
    ]


def field_blame(
    timeline: Timeline,
    projection_name: str,
    row_key: str,
    field: str,
    *,
    since: int = 0,
    to: int | None = None,
    guard: AbstractContextManager[object] | None = None,
) -> list[BlameEntry]:
    """The events in `since` < position <= `to` (the head) that changed `field` of row
    `row_key`, oldest first, each with the value before and after.

    `guard` is held as `Timeline.lineage_steps` holds it. Unknown projections raise
    `InvalidInput`; a field no row ever had simply has no blame.
    """
    steps = timeline.lineage_steps(projection_name, row_key, to=to, guard=guard)
    return blame_of_steps(steps, field, since=since)
