"""Marks A and B: every projection's rows added, removed and changed field by field."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.markup import escape as escape_markup
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import (
    DataTable,
    Footer,
    Label,
    LoadingIndicator,
    Static,
    TabbedContent,
    TabPane,
)

from domain.projection import Column, Projection, Row
from tui.format import markup_safe, position_text, stored_text, time_text, value_text
from tui.screens.row_enter import SelectsRows, row_enter
from tui.services.frames import RowDiff, StateDiff
from tui.session import Session

MAX_ROWS = 5_000
"""Rows shown per projection; a diff bigger than that says how many it left out."""


def cell_text(projection: Projection, field: str, row: Mapping[str, Any] | None) -> str:
    """A field of `row` as its column formats it (raw when no column shows it)."""
    if row is None:
        return ""
    for column in projection.columns:
        if column.name == field:
            return column.format(row)
    return value_text(row.get(field))


def row_summary(columns: list[Column], row: Mapping[str, Any]) -> str:
    """`Owner=Ann Balance=12.00 EUR …`: a whole row on one line."""
    return "  ".join(f"{c.title}={c.format(row)}" for c in columns if c.format(row))
    # (cells are escaped by `Column.format`; callers wrap the line in `Text`, never markup)


class DiffScreen(SelectsRows, ModalScreen[int | None]):
    """The field-level difference between two positions, one tab per projection."""

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("a", "go('a')", "Go to A"),
        Binding("b", "go('b')", "Go to B"),
        row_enter("Blame of the field"),
    ]

    class Computed(Message):
        def __init__(
            self, diff: StateDiff | None, times: tuple[str, str] = ("", ""), error: str = ""
        ) -> None:
            super().__init__()
            self.diff = diff
            self.times = times
            self.error = error

    def __init__(self, session: Session, a: int, b: int) -> None:
        super().__init__()
        self.session = session
        self.a = a
        self.b = b
        self.changed_cells: dict[str, tuple[str, str, str]] = {}
        self.changed_rows: dict[str, Row | None] = {}
        """Diff table row key -> (projection, row key, field) of a changed field's line."""

    def compose(self) -> ComposeResult:
        with Vertical(id="diff", classes="sheet"):
            yield Label(
                f"Diff  A {position_text(self.a)}  →  B {position_text(self.b)}",
                classes="dialog-title",
            )
            yield Static("", id="diff-summary", classes="dialog-help")
            yield LoadingIndicator()
        yield Footer()

    def on_mount(self) -> None:
        self._compute()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _compute(self) -> None:
        try:
            diff = self.session.queries.diff(self.a, self.b)
            times = tuple(
                e.recorded_at if e is not None else ""
                for e in (self.session.queries.event(self.a), self.session.queries.event(self.b))
            )
        except Exception as exc:
            self.post_message(self.Computed(None, error=str(exc)))
            return
        self.post_message(self.Computed(diff, (times[0], times[1])))

    @on(Computed)
    async def _computed(self, message: Computed) -> None:
        await self.query_one(LoadingIndicator).remove()
        summary = self.query_one("#diff-summary", Static)
        diff = message.diff
        if diff is None:
            summary.update(f"[$error]Could not compute the diff: {markup_safe(message.error)}[/]")
            return
        # Stored times, escaped by `time_text`; their `[` must not open markup either.
        a_time, b_time = (escape_markup(time_text(t)) or "start" for t in message.times)
        counts = ", ".join(f"{p.title}: {len(diff.rows[p.name])}" for p in self.session.projections)
        summary.update(f"A {a_time}  →  B {b_time}\n[b]{diff.total:,}[/b] rows differ ({counts})")
        tabs = TabbedContent(id="diff-tabs")
        await self.query_one("#diff").mount(tabs)
        for projection in self.session.projections:
            rows = diff.rows[projection.name]
            table: DataTable[Any] = DataTable(
                id=f"diff-{projection.name}", cursor_type="row", zebra_stripes=True
            )
            pane = TabPane(f"{projection.title} {len(rows)}", table, id=f"dpane-{projection.name}")
            await tabs.add_pane(pane)
            self._fill(table, projection, rows)
        first = next((p for p in self.session.projections if diff.rows[p.name]), None)
        if first is not None:
            tabs.active = f"dpane-{first.name}"
            self.query_one(f"#diff-{first.name}", DataTable).focus()

    def _fill(self, table: DataTable[Any], projection: Projection, rows: list[RowDiff]) -> None:
        table.add_column(projection.key_title.capitalize(), key="key")
        table.add_column("", key="kind")
        table.add_column("Field", key="field")
        table.add_column("A", key="a")
        table.add_column("B", key="b")
        columns = list(projection.columns)
        titles = {c.name: c.title for c in columns}
        if not rows:
            table.add_row(Text("no differences", style="dim"), "", "", "", "")
            return
        for diff in rows[:MAX_ROWS]:
            key = stored_text(diff.key, style="bold")
            if diff.kind == "added" and diff.after is not None:
                after_row = Text(row_summary(columns, diff.after))
                table.add_row(key, Text("+ added", style="green"), "", "", after_row)
            elif diff.kind == "removed" and diff.before is not None:
                before_row = Text(row_summary(columns, diff.before))
                table.add_row(key, Text("- removed", style="red"), "", before_row, "")
            else:
                for i, field in enumerate(diff.fields):
                    before = cell_text(projection, field, diff.before)
                    after = cell_text(projection, field, diff.after)
                    line = f"{projection.name}:{len(self.changed_cells)}"
                    self.changed_cells[line] = (projection.name, diff.key, field)
                    self.changed_rows[line] = diff.after or diff.before
                    table.add_row(
                        key if i == 0 else "",
                        Text("~ changed", style="yellow") if i == 0 else "",
                        stored_text(titles.get(field, field)),
                        Text(before, style="red"),
                        Text(after, style="green"),
                        key=line,
                    )
        if len(rows) > MAX_ROWS:
            table.add_row(
                Text(f"… {len(rows) - MAX_ROWS:,} more rows", style="dim"), "", "", "", ""
            )

    @on(DataTable.RowSelected)
    def _blame_field(self, event: DataTable.RowSelected) -> None:
        """Enter on a changed field: the events between A and B that changed it."""
        cell = self.changed_cells.get(str(event.row_key.value))
        if cell is None or cell[2] not in {
            c.name for c in self.session.domain.projection(cell[0]).columns
        }:
            return
        from tui.screens.blame import BlameScreen

        low, high = sorted((self.a, self.b))
        row = self.changed_rows.get(str(event.row_key.value))
        blame = BlameScreen(self.session, *cell, self.b, since=low, to=high, row=row)
        self.app.push_screen(blame, self._jumped)

    def _jumped(self, position: int | None) -> None:
        if position is not None:
            self.dismiss(position)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_go(self, which: str) -> None:
        """Close the diff and move the cursor to mark A or B."""
        self.dismiss(self.a if which == "a" else self.b)
