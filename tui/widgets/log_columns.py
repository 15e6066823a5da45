"""The event log's column widths, from facts that do not change as the reader moves.

The widths depend on the terminal's width, the number of digits of the head, the
longest event type the domain's catalog declares and the first page of the log read,
never on the pages read after it: a table whose columns widened as older pages arrived
would jump sideways under the reader's eyes. Stream ids and actors have no bound the app
knows without reading the whole history, so their columns fit the first page read
(within their cap for the width), which holds the ids the reader sees first; a longer
value read later (a type the catalog does not declare too) is cut with an ellipsis.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from domain.envelope import RecordedEvent
from domain.text import escape
from tui.format import position_text


class LogColumns(NamedTuple):
    """Widths of the log's position, time, stream, type and actor columns (0: hidden)."""

    position: int
    time: int
    stream: int
    type: int
    actor: int


def longest_type(type_names: Iterable[str]) -> int | None:
    """The width of the longest of `type_names` as the log shows it (None if none)."""
    return max((len(escape(name)) for name in type_names), default=None)


def first_page_widths(events: Sequence[RecordedEvent]) -> tuple[int, int]:
    """The widest stream id and actor of `events` as the log shows them (escaped)."""
    return (
        max(len(escape(e.stream_id)) for e in events),
        max(len(escape(e.actor)) for e in events),
    )


def log_columns(
    width: int, head: int, widest_type: int | None, fitted: tuple[int, int] | None = None
) -> LogColumns:
    """The columns for a log `width` cells wide over positions up to `head`.

    `widest_type` is the longest declared event type (`longest_type`); None gives the
    type column its cap. `fitted` (`first_page_widths`) narrows the stream and actor
    columns to the first page read; None leaves them at their cap. Each column is at
    least as wide as its title.
    """
    position = max(4, len(position_text(max(head, 1))))
    time = 19 if width >= 150 else 14 if width >= 72 else 0
    stream = 28 if width >= 130 else 18
    # Under 100 cells the payload is left about ten: 16 keeps every common type whole
    # (`TransferReceived`) and leaves an amount room (`+20,420 …`).
    type_cap = 24 if width >= 130 else 18 if width >= 100 else 16
    type_width = type_cap if widest_type is None else min(widest_type, type_cap)
    actor = 16 if width >= 130 else 12 if width >= 100 else 8
    if fitted is not None:
        stream, actor = min(stream, max(6, fitted[0])), min(actor, max(5, fitted[1]))
    return LogColumns(position, time, stream, max(4, type_width), actor)
