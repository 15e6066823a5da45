"""The rows of aggregate history: each event, what it did, and the state after it.

State fields are written by the domain's field descriptions (`DomainDescription.field`),
so a balance reads `1,441.36` here exactly as in the panels, never as raw minor units.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from domain.description import DomainDescription
from domain.envelope import RecordedEvent
from tui.format import position_text, short_time_text, stored_text
from tui.services.types import AggregateStep

CHANGED = "bold yellow"
"""How a field that the row's event changed is drawn."""


def state_cells(
    domain: DomainDescription, fields: Sequence[str], state: dict[str, Any]
) -> list[str]:
    """The state's `fields`, each formatted by its description (escaped)."""
    return [domain.field(name).format(state) for name in fields]


def fill_history(
    table: DataTable[Any],
    steps: Sequence[AggregateStep],
    domain: DomainDescription,
    summarize: Callable[[RecordedEvent], str],
) -> None:
    """Fill `table` (cleared) with one row per step, keyed by the event's position."""
    fields = list(steps[0].state) if steps else []
    table.add_column("Ver", key="version")
    table.add_column("Pos", key="pos")
    table.add_column("Time", key="time")
    table.add_column("Event", key="event")
    table.add_column("What", key="what")
    table.add_column("Actor", key="actor")
    for name in fields:
        table.add_column(domain.field(name).title, key=f"s-{name}")
    previous: dict[str, Any] = {}
    for step in steps:
        event = step.event
        cells: list[Any] = [
            str(event.version),
            Text(position_text(event.position), justify="right"),
            Text(short_time_text(event.recorded_at)),
            stored_text(event.type),
            stored_text(summarize(event)),
            stored_text(event.actor),
        ]
        for name, text in zip(fields, state_cells(domain, fields, step.state), strict=True):
            changed = previous.get(name) != step.state.get(name)
            numeric = domain.field(name).numeric
            cells.append(
                Text(text, style=CHANGED if changed else "", justify="right" if numeric else "left")
            )
        previous = step.state
        table.add_row(*cells, key=str(event.position))
