"""`enter` on a cell: the events that changed that field, value before → after.

Each line names the position, time, actor and command; Enter jumps to its event. From
the diff view the blame is limited to the events between marks A and B.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import JustifyMethod
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, LoadingIndicator, Static

from domain.projection import Row
from domain.text import escape
from tui.format import markup_safe, position_text, table_time_text
from tui.services.blame import BlameLine, blame_lines, column_of
from tui.session import Session
from tui.widgets.column_fit import MIN_TEXT, cut, fit_columns, row_name

COLUMNS = (
    ("Pos", "pos"),
    ("Before", "before"),
    ("", "arrow"),
    ("After", "after"),
    ("Actor", "actor"),
    ("Command", "command"),
    ("Time", "time"),
)
"""The change first: a narrow terminal still shows before → after."""
_RANKS = (9, 9, 9, 9, 1, 2, 5)
"""Who and which command give way first (cut, then hidden), then the time; the
position and the change are never cut."""
_CUTTABLE = (4, 5)


def line_cells(line: BlameLine, width: int) -> tuple[str, ...]:
    """A blame line's cells, in `COLUMNS` order; times short in a narrow table."""
    return (
        position_text(line.position),
        line.before,
        "→",
        line.after,
        line.actor,
        line.command or line.event_type,
        table_time_text(line.recorded_at, width),
    )


def fit_blame(cells: Sequence[Sequence[str]], width: int) -> list[tuple[int, int]]:
    """(column index, width) of the columns drawn in a sheet `width` cells wide (0: not
    known, all whole), by the tables' one rule (`fit_columns`); room is kept for the
    vertical scrollbar and each cell's padding."""
    widths = [
        max([cell_len(title), *(cell_len(row[i]) for row in cells)])
        for i, (title, _) in enumerate(COLUMNS)
    ]
    if width <= 0:
        return list(enumerate(widths))
    floors = [min(w, MIN_TEXT) if i in _CUTTABLE else w for i, w in enumerate(widths)]
    return fit_columns(widths, floors, _RANKS, width - SCROLLBAR - 1)


SCROLLBAR = 2


class BlameScreen(ModalScreen[int | None]):
    """Who changed one field of one row, and when. Enter jumps to the chosen event."""

    # enter is a priority binding: the focused table binds enter too (hidden), and the
    # footer must say what enter does here.
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("enter", "jump", "Go to event", priority=True),
    ]

    class Loaded(Message):
        def __init__(self, lines: list[BlameLine] | None, error: str = "") -> None:
            super().__init__()
            self.lines = lines
            self.error = error

    def __init__(
        self,
        session: Session,
        projection: str,
        key: str,
        field: str,
        cursor: int,
        *,
        since: int = 0,
        to: int | None = None,
        row: Row | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self.projection = session.domain.projection(projection)
        self.column = column_of(self.projection, field)
        self.key = key
        self.row = row
        self.cursor = cursor
        self.since = since
        self.to = to
        self.lines: list[BlameLine] = []

    def compose(self) -> ComposeResult:
        window = ""
        if self.since or self.to is not None:
            end = position_text(self.to) if self.to is not None else "head"
            window = f"  ·  A {position_text(self.since)} → B {end}"
        with Vertical(id="blame", classes="sheet"):
            name = row_name(self.projection.key_title, self.projection.columns, self.key, self.row)
            yield Label(
                Text.assemble(
                    f"Blame  {escape(self.projection.title)} · {name} · ",
                    (escape(self.column.title), "bold"),
                    window,
                ),
                classes="dialog-title",
            )
            yield Static("", id="blame-summary", classes="dialog-help")
            yield LoadingIndicator()
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        name, field = self.projection.name, self.column.name
        try:
            entries = self.session.queries.blame(
                name, self.key, field, since=self.since, to=self.to
            )
        except Exception as exc:
            self.post_message(self.Loaded(None, str(exc)))
            return
        self.post_message(self.Loaded(blame_lines(self.projection, field, entries)))

    @on(Loaded)
    async def _loaded(self, message: Loaded) -> None:
        await self.query_one(LoadingIndicator).remove()
        summary = self.query_one("#blame-summary", Static)
        if message.lines is None:
            summary.update(f"[$error]Could not blame the field: {markup_safe(message.error)}[/]")
            return
        self.lines = message.lines
        later = sum(1 for line in self.lines if line.position > self.cursor)
        count = len(self.lines)
        text = f"[b]{count:,}[/b] {'event' if count == 1 else 'events'} changed this field"
        if later:
            text += f"; {later:,} of them after the cursor ({position_text(self.cursor)}, dimmed)"
        summary.update(text + (". Enter jumps to an event." if self.lines else "."))
        if not self.lines:
            return
        table: DataTable[Any] = DataTable(id="blame-table", cursor_type="row")
        await self.query_one("#blame").mount(table)
        # The sheet's width (the table was just mounted and has no size yet), as lineage.
        width = self.query_one("#blame").content_region.width
        cells = [line_cells(line, width) for line in self.lines]
        fitted = fit_blame(cells, width)
        for index, _ in fitted:
            table.add_column(COLUMNS[index][0], key=COLUMNS[index][1])
        current = 0
        numeric = self.column.numeric
        for i, (line, texts) in enumerate(zip(self.lines, cells, strict=True)):
            style = "dim" if line.position > self.cursor else ""
            if line.position <= self.cursor:
                current = i
            # Every part is escaped already (`tui.services.blame`); Text is never markup.
            drawn = []
            for index, cut_to in fitted:
                text = cut(texts[index], cut_to, None)
                colour = {1: "red", 3: "green"}.get(index, "")
                right = index == 0 or (numeric and index in (1, 3))
                justify: JustifyMethod = "right" if right else "left"
                drawn.append(Text(text, style=f"{colour} {style}".strip(), justify=justify))
            table.add_row(*drawn, key=str(line.position))
        table.move_cursor(row=current)
        table.focus()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(int(str(event.row_key.value)))

    def action_jump(self) -> None:
        """Close and move the time cursor to the selected event."""
        tables = self.query("#blame-table")
        if tables and self.lines:
            table = self.query_one("#blame-table", DataTable)
            self.dismiss(self.lines[table.cursor_row].position)

    def action_close(self) -> None:
        self.dismiss(None)
