"""`enter` on a row: the events that changed it, with command, actor and field changes."""

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

from domain.projection import Projection, Row
from domain.text import escape
from tui.format import (
    SHORT_TIMES_BELOW,
    markup_safe,
    position_text,
    stored_text,
    table_time_text,
)
from tui.screens.diff import cell_text
from tui.services.types import LineageStep
from tui.session import Session
from tui.widgets.column_fit import cut_words, row_name

WIDE = SHORT_TIMES_BELOW


def cut_text(text: Text, width: int) -> Text:
    """`text` cut between words to `width` cells with "…" (`tui.widgets.column_fit.cut_words`),
    keeping its styles."""
    plain = text.plain
    shown = cut_words(plain, width)
    if shown == plain:
        return text
    kept = shown.removesuffix("…")
    return Text.assemble(text[: len(kept)], "…")


def change_text(projection: Projection, step: LineageStep) -> Text:
    """`Balance 10.00 EUR → 22.50 EUR; Version 3 → 4`: what one event did to the row."""
    if step.before is None:
        return Text("row created", style="green")
    if step.after is None:
        return Text("row removed", style="red")
    titles = {c.name: c.title for c in projection.columns}
    text = Text()
    for i, field in enumerate(step.fields):
        if i:
            text.append("; ")
        text.append(escape(titles.get(field, field)), style="bold")
        text.append(f" {cell_text(projection, field, step.before)} → ")
        text.append(cell_text(projection, field, step.after))
    return text


class LineageScreen(ModalScreen[int | None]):
    """Where a read-model row came from. Enter jumps to the chosen event."""

    # enter is a priority binding: the focused table binds enter too (hidden), and the
    # footer must say what enter does here.
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("enter", "jump", "Go to event", priority=True),
    ]

    class Loaded(Message):
        def __init__(self, steps: list[LineageStep] | None, error: str = "") -> None:
            super().__init__()
            self.steps = steps
            self.error = error

    def __init__(
        self, session: Session, projection: str, key: str, cursor: int, row: Row | None = None
    ) -> None:
        super().__init__()
        self.session = session
        self.projection = session.domain.projection(projection)
        self.key = key
        self.row = row
        self.cursor = cursor
        self.steps: list[LineageStep] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="lineage", classes="sheet"):
            name = row_name(self.projection.key_title, self.projection.columns, self.key, self.row)
            yield Label(
                Text(f"Lineage  {escape(self.projection.title)} · {name}"),
                classes="dialog-title",
            )
            yield Static("", id="lineage-summary", classes="dialog-help")
            yield LoadingIndicator()
        yield Footer()

    def on_mount(self) -> None:
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        try:
            steps = self.session.queries.lineage(self.projection.name, self.key)
        except Exception as exc:
            self.post_message(self.Loaded(None, str(exc)))
            return
        self.post_message(self.Loaded(steps))

    @on(Loaded)
    async def _loaded(self, message: Loaded) -> None:
        await self.query_one(LoadingIndicator).remove()
        summary = self.query_one("#lineage-summary", Static)
        if message.steps is None:
            summary.update(f"[$error]Could not trace the row: {markup_safe(message.error)}[/]")
            return
        self.steps = message.steps
        later = sum(1 for s in self.steps if s.event.position > self.cursor)
        count = len(self.steps)
        text = f"[b]{count:,}[/b] {'event' if count == 1 else 'events'} changed this row"
        if later:
            text += f"; {later:,} of them after the cursor ({position_text(self.cursor)}, dimmed)"
        summary.update(text + ". Enter jumps to an event.")
        table: DataTable[Any] = DataTable(id="lineage-table", cursor_type="row")
        await self.query_one("#lineage").mount(table)
        # What changed comes right after where and when, cut between words to the room
        # left (an amount whole or not at all); the event, command and actor follow.
        # The sheet's width: the table was just mounted and has no size yet.
        width = self.query_one("#lineage").content_region.width
        narrow = 0 < width < WIDE
        pos_width = max(len(position_text(s.event.position)) for s in self.steps) if count else 3
        room = width - (pos_width + 2) - ((14 if narrow else 19) + 2) - 2 if width else 0
        table.add_column("Pos", key="pos")
        table.add_column("Time", key="time")
        table.add_column("Change", key="change")
        table.add_column("Event", key="event")
        table.add_column("Command", key="command")
        table.add_column("Actor", key="actor")
        current = 0
        for i, step in enumerate(self.steps):
            event = step.event
            style = "dim" if event.position > self.cursor else ""
            if event.position <= self.cursor:
                current = i
            when = table_time_text(event.recorded_at, width)
            change = change_text(self.projection, step)
            if room > 0:
                change = cut_text(change, room)
            table.add_row(
                Text(position_text(event.position), style=style, justify="right"),
                Text(when, style=style),
                change,
                stored_text(event.type, style=style),
                stored_text(str(event.metadata.get("command_type", "")), style=style),
                stored_text(event.actor, style=style),
                key=str(event.position),
            )
        table.move_cursor(row=current)
        table.focus()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(int(str(event.row_key.value)))

    def action_jump(self) -> None:
        """Close and move the time cursor to the selected event."""
        table = self.query("#lineage-table")
        if table:
            dt = self.query_one("#lineage-table", DataTable)
            if self.steps:
                self.dismiss(self.steps[dt.cursor_row].event.position)

    def action_close(self) -> None:
        self.dismiss(None)
