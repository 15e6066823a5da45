"""The rows of aggregate history: each event, what it did, and the state after it.

State fields are written by the domain's field descriptions (`DomainDescription.field`),
so a balance reads `1,441.36` here exactly as in the panels, never as raw minor units.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.widgets import DataTable

from domain.description import DomainDescription
from domain.envelope import RecordedEvent
from domain.text import escape
from tui.format import position_text, short_time_text, stored_text
from tui.services.types import AggregateStep
from tui.widgets.column_fit import cut_words

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
    summarize: Callable[[RecordedEvent, Mapping[str, Any]], str],
    width: int = 0,
) -> str:
    """Fill `table` (cleared) with one row per step, keyed by the event's position.

    Fields that never change over the history (the account, its owner and currency)
    are not columns: they come back as one line (`Owner Ann · Currency EUR`), so the
    columns left have room and a number is never cut at the table's edge. The event's
    summary ("What") comes last and, given the table's `width`, is cut between words to
    fit it (`171.25 …`, never `171.25 EU`).
    """
    names = list(steps[0].state) if steps else []
    constant = [n for n in names if len(steps) > 1 and _same_throughout(steps, n)]
    fields = [n for n in names if n not in constant]
    titles = ["Ver", "Pos", "Time", *(domain.field(n).title for n in fields), "Event"]
    rows: list[list[Any]] = []
    whats: list[str] = []
    previous: dict[str, Any] = {}
    for step in steps:
        event = step.event
        cells: list[Any] = [
            str(event.version),
            Text(position_text(event.position), justify="right"),
            Text(short_time_text(event.recorded_at)),
        ]
        for name, text in zip(fields, state_cells(domain, fields, step.state), strict=True):
            changed = previous.get(name) != step.state.get(name)
            numeric = domain.field(name).numeric
            cells.append(
                Text(text, style=CHANGED if changed else "", justify="right" if numeric else "left")
            )
        # The state before the event reads it in its context (an overdraft change in
        # the account's currency) without folding the stream again.
        whats.append(escape(summarize(event, previous)))
        previous = step.state
        cells.append(stored_text(event.type))
        rows.append(cells)
    room = 0
    if width:
        widths = [len(t) for t in titles]
        for cells in rows:
            widths = [
                max(w, Text(c).cell_len if isinstance(c, str) else c.cell_len)
                for w, c in zip(widths, cells, strict=True)
            ]
        # DataTable pads each cell with one space on either side.
        room = width - sum(w + 2 for w in widths) - 2
    table.add_column("Ver", key="version")
    table.add_column("Pos", key="pos")
    table.add_column("Time", key="time")
    # The state first: at 80 columns it must not be cut at the table's edge.
    for name in fields:
        table.add_column(domain.field(name).title, key=f"s-{name}")
    table.add_column("Event", key="event")
    table.add_column("What", key="what")
    table.add_column("Actor", key="actor")
    for cells, what, step in zip(rows, whats, steps, strict=True):
        shown = cut_words(what, max(room, 1)) if width else what
        actor = stored_text(step.event.actor)
        table.add_row(*cells, Text(shown), actor, key=str(step.event.position))
    last = steps[-1].state if steps else {}
    shown_fixed = [(domain.field(n).title, domain.field(n).format(last)) for n in constant]
    return " · ".join(f"{title} {text}" for title, text in shown_fixed if text)


def _same_throughout(steps: Sequence[AggregateStep], name: str) -> bool:
    first = steps[0].state.get(name)
    return all(step.state.get(name) == first for step in steps)
