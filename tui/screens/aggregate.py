"""`a`: one stream's events, each with the aggregate's state after it."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import DataTable, Footer, Input, Label, Static

from domain.text import escape
from tui.format import markup_safe
from tui.screens.row_enter import SelectsRows, row_enter
from tui.services.types import AggregateStep
from tui.session import Session
from tui.widgets.aggregate_rows import fill_history


class AggregateScreen(SelectsRows, ModalScreen[int | None]):
    """Pick a stream; see its events and the state after each. Enter jumps there."""

    BINDINGS = [Binding("escape", "close", "Close"), row_enter("Go to event")]

    class Loaded(Message):
        def __init__(self, stream: str, steps: list[AggregateStep] | None, error: str = ""):
            super().__init__()
            self.stream = stream
            self.steps = steps
            self.error = error

    class StreamsListed(Message):
        def __init__(self, streams: list[str]) -> None:
            super().__init__()
            self.streams = streams

    def __init__(self, session: Session, stream: str = "") -> None:
        super().__init__()
        self.session = session
        self.stream = stream
        self.steps: list[AggregateStep] = []

    def compose(self) -> ComposeResult:
        with Vertical(id="aggregate", classes="sheet"):
            yield Label("Aggregate history", classes="dialog-title")
            # Shown escaped: the stream id came from the store (the first load uses it raw).
            field = Input(
                value=escape(self.stream), placeholder="stream id", id="stream", compact=True
            )
            field.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
            yield field
            yield Static("", id="aggregate-summary", classes="dialog-help")
            yield DataTable(id="aggregate-table", cursor_type="row", zebra_stripes=True)
        yield Footer()

    def on_mount(self) -> None:
        self._list_streams()
        if self.stream:
            self._load(self.stream)

    @work(thread=True, group="streams", exit_on_error=False)
    def _list_streams(self) -> None:
        self.post_message(self.StreamsListed(self.session.queries.streams()))

    @on(StreamsListed)
    def _streams_listed(self, message: StreamsListed) -> None:
        streams = [escape(stream) for stream in message.streams]
        self.query_one("#stream", Input).suggester = SuggestFromList(streams)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._load(event.value.strip())

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self, stream: str) -> None:
        try:
            steps = self.session.queries.aggregate_history(stream)
        except Exception as exc:
            self.post_message(self.Loaded(stream, None, str(exc)))
            return
        self.post_message(self.Loaded(stream, steps))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        summary = self.query_one("#aggregate-summary", Static)
        table = self.query_one(DataTable)
        table.clear(columns=True)
        if message.steps is None:
            summary.update(f"[$error]{markup_safe(message.error)}[/]")
            return
        self.stream = message.stream
        self.steps = message.steps
        self.query_one(".dialog-title", Label).update(
            Text.assemble("Aggregate history  ", (escape(message.stream), "bold"))
        )
        fixed = fill_history(
            table,
            self.steps,
            self.session.domain,
            self.session.queries.summary,
            table.scrollable_content_region.width,
        )
        summary.update(
            Text.assemble(
                (f"{len(self.steps):,} events", "bold"),
                f" · {fixed}" if fixed else "",
                "\nChanged fields are highlighted. Enter jumps to the event.",
            )
        )
        table.move_cursor(row=len(self.steps) - 1)
        table.focus()

    @on(DataTable.RowSelected)
    def _selected(self, event: DataTable.RowSelected) -> None:
        self.dismiss(int(str(event.row_key.value)))

    def action_close(self) -> None:
        self.dismiss(None)
