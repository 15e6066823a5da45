"""`ctrl+f`: find text in every projection's rows at the cursor's point in time.

Type an owner, an amount (`1441.36` finds `1,441.36`), a status; the matches list
panel, row, field and the cell as shown. Enter (or a click) on a match closes the
dialog and puts the panel's cursor on that cell. The search itself is
`tui.services.state_search`, run in a worker on the frame's immutable rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import DataTable, Footer, Input, Label, Static

from domain.projection import Projection, Row
from tui.format import position_text, stored_text
from tui.screens.row_enter import SelectsRows, row_enter
from tui.services.state_search import StateMatch, StateSearch, search_state


class FindScreen(SelectsRows, ModalScreen[StateMatch | None]):
    """Search the state shown at `position`; dismisses with the chosen match."""

    BINDINGS = [
        Binding("escape", "cancel", "Close"),
        Binding("down", "to_matches", "Matches"),
        row_enter("Go to match"),
    ]

    class Found(Message):
        def __init__(self, result: StateSearch) -> None:
            super().__init__()
            self.result = result

    def __init__(
        self,
        projections: Sequence[Projection],
        rows: Mapping[str, Mapping[str, Row]],
        position: int,
        query: str = "",
    ) -> None:
        super().__init__()
        self.projections = list(projections)
        self.rows = rows
        self.position = position
        self.query_text = query
        self.result: StateSearch | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="find", classes="sheet"):
            yield Label(f"Find in state at {position_text(self.position)}", classes="dialog-title")
            field = Input(
                value=self.query_text,
                placeholder="an owner, an amount (1441.36), a status…",
                id="find-query",
            )
            field.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
            yield field
            yield Static(
                "Type to search every panel; ↓ or Enter goes to the matches, Enter jumps.",
                id="find-summary",
                classes="dialog-help",
            )
            table: DataTable[Any] = DataTable(id="find-table", cursor_type="row")
            yield table
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#find-table", DataTable)
        table.add_column("Panel", key="panel")
        table.add_column("Row", key="row")
        table.add_column("Field", key="field")
        table.add_column("Value", key="value")
        self.query_one("#find-query", Input).focus()
        if self.query_text:
            self._search(self.query_text)

    @on(Input.Changed, "#find-query")
    def _typed(self, event: Input.Changed) -> None:
        self._search(event.value)

    @work(thread=True, exclusive=True, exit_on_error=False, group="find")
    def _search(self, query: str) -> None:
        self.post_message(self.Found(search_state(self.projections, self.rows, query)))

    @on(Found)
    def _found(self, message: Found) -> None:
        result = message.result
        if result.query != self.query_one("#find-query", Input).value:
            return  # an older search finished after a newer one started
        self.result = result
        table = self.query_one("#find-table", DataTable)
        table.clear()
        for n, match in enumerate(result.matches):
            table.add_row(
                Text(match.projection_title),
                stored_text(match.key, style="bold"),
                Text(match.field_title),
                Text(match.text),  # escaped by the column's format
                key=str(n),
            )
        summary = self.query_one("#find-summary", Static)
        if not result.query.strip():
            summary.update("Type to search every panel.")
        elif result.truncated:
            summary.update(
                f"{result.total:,} matches; the first {len(result.matches):,} are listed. "
                "Type more to narrow them."
            )
        else:
            noun = "match" if result.total == 1 else "matches"
            summary.update(f"{result.total:,} {noun}. ↓ to the list, Enter jumps.")

    @on(Input.Submitted, "#find-query")
    def action_to_matches(self) -> None:
        """Move to the list of matches."""
        if self.result is not None and self.result.matches:
            self.query_one("#find-table", DataTable).focus()

    @on(DataTable.RowSelected, "#find-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if self.result is not None:
            self.dismiss(self.result.matches[int(str(event.row_key.value))])

    def action_cancel(self) -> None:
        self.dismiss(None)
