"""`enter` on a cell: the events that changed that field, value before → after.

Each line names the position, time, actor and command; Enter jumps to its event. From
the diff view the blame is limited to the events between marks A and B.
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Label, LoadingIndicator, Static

from tui.format import markup_safe, position_text
from tui.services.blame import BlameLine, blame_lines, column_of
from tui.session import Session


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
    ) -> None:
        super().__init__()
        self.session = session
        self.projection = session.domain.projection(projection)
        self.column = column_of(self.projection, field)
        self.key = key
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
            yield Label(
                f"Blame  {markup_safe(self.projection.title)} · "
                f"{markup_safe(self.projection.key_title)} {markup_safe(self.key)} · "
                f"[b]{markup_safe(self.column.title)}[/b]{window}",
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
        # The change first: a narrow terminal still shows before → after.
        for title, key in (
            ("Pos", "pos"),
            ("Before", "before"),
            ("", "arrow"),
            ("After", "after"),
            ("Actor", "actor"),
            ("Command", "command"),
            ("Time", "time"),
        ):
            table.add_column(title, key=key)
        current = 0
        numeric = self.column.numeric
        for i, line in enumerate(self.lines):
            style = "dim" if line.position > self.cursor else ""
            if line.position <= self.cursor:
                current = i
            # Every part is escaped already (`tui.services.blame`); Text is never markup.
            table.add_row(
                Text(position_text(line.position), style=style, justify="right"),
                Text(line.before, style=f"red {style}", justify="right" if numeric else "left"),
                Text("→", style=style),
                Text(line.after, style=f"green {style}", justify="right" if numeric else "left"),
                Text(line.actor, style=style),
                Text(line.command or line.event_type, style=style),
                Text(line.time, style=style),
                key=str(line.position),
            )
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
