"""Enter on a refusal: the refused command whole, and where in history it was refused."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Footer, Label, Static

from domain.text import escape
from tui.format import position_text, stored_text, time_text
from tui.widgets.inspector import actor_text


def refusal_table(refusal: Mapping[str, Any], readable: Mapping[str, Any] | None = None) -> Table:
    """Who, when, the command and its fields, the full reason and the position, as a
    two-column grid (every stored string escaped, in `Text`, never markup). `readable`:
    the command's fields as the one rule reads them (`Queries.readable_command`)."""
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    at = int(refusal.get("at_position") or 0)
    grid.add_row("Command", stored_text(str(refusal.get("command_type", "")), style="bold"))
    grid.add_row("Who", actor_text(str(refusal.get("actor", ""))))
    when = str(refusal.get("recorded_at", ""))
    grid.add_row("When", Text(time_text(when, micros=True) + (" UTC" if when else "")))
    where = "before the first event" if at == 0 else position_text(at)
    grid.add_row(
        "Refused at",
        Text.assemble((where, "bold"), ("  the head then; no event was recorded", "dim")),
    )
    grid.add_row("Code", stored_text(str(refusal.get("code", ""))))
    grid.add_row("Reason", stored_text(str(refusal.get("reason", ""))))
    command = refusal.get("command")
    fields = command if isinstance(command, Mapping) else {}
    fields = readable if readable is not None else fields
    grid.add_row("Fields", Text("none", style="dim") if not fields else "")
    for name, value in fields.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        grid.add_row(Text(f"  {escape(str(name))}", style=""), stored_text(shown))
    grid.add_row("Command id", stored_text(str(refusal.get("command_id", "")), style="dim"))
    return grid


class RefusalScreen(ModalScreen[int | None]):
    """One refusal in full. `g` (or Enter) goes to the position it was refused at."""

    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("g,enter", "go", "Go to where it was refused"),
    ]
    AUTO_FOCUS = "#refusal-body"
    """Focused when the screen shows (by Textual, which finds nothing to focus, without
    raising, if the app closes as the dialog opens)."""

    def __init__(
        self, refusal: Mapping[str, Any], readable: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__()
        self.refusal = dict(refusal)
        self.readable = readable

    @property
    def at_position(self) -> int:
        return int(self.refusal.get("at_position") or 0)

    def compose(self) -> ComposeResult:
        with Vertical(id="refusal", classes="dialog"):
            yield Label("Refused command", classes="dialog-title")
            with VerticalScroll(id="refusal-body"):
                yield Static(refusal_table(self.refusal, self.readable), id="refusal-detail")
        yield Footer()

    def action_go(self) -> None:
        """Close and move the time cursor to where the command was refused."""
        self.dismiss(self.at_position)

    def action_close(self) -> None:
        self.dismiss(None)
