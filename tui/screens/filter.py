"""`/`: filter the log and stepping by stream, type, actor and payload text."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Footer, Input, Label, Static

from domain.text import escape
from tui.services.types import EventFilter

FIELDS = (
    ("stream", "Stream", "account-a1, or a glob: account-a*"),
    ("type", "Type", "MoneyDeposited, or Transfer*"),
    ("actor", "Actor", "who issued the command"),
    ("text", "Text", "any text in the payload or metadata"),
)


class FilterScreen(ModalScreen[EventFilter | None]):
    """Dismisses with the new filter (empty to clear), or None when cancelled."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, current: EventFilter, event_types: Sequence[str] = ()) -> None:
        super().__init__()
        self.current = current
        self.event_types = list(event_types)

    def compose(self) -> ComposeResult:
        blink = bool(getattr(self.app, "cursor_blink", True))
        with Vertical(id="dialog", classes="dialog"):
            yield Label("Filter events", classes="dialog-title")
            yield Static(
                "Applies to the log and to stepping with ←/→. Empty fields match anything.",
                classes="dialog-help",
            )
            for name, label, hint in FIELDS:
                with Horizontal(classes="field"):
                    yield Label(label, classes="field-label")
                    suggester = (
                        SuggestFromList([escape(t) for t in self.event_types], case_sensitive=False)
                        if name == "type" and self.event_types
                        else None
                    )
                    field = Input(
                        value=getattr(self.current, name),
                        placeholder=hint,
                        id=f"filter-{name}",
                        compact=True,
                        suggester=suggester,
                    )
                    field.cursor_blink = blink
                    yield field
            with Horizontal(classes="buttons"):
                yield Button("Apply", id="apply", variant="primary", compact=True)
                yield Button("Clear", id="clear", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        # The dialog's own keys, not the main screen's behind it.
        yield Footer()

    def _filter(self) -> EventFilter:
        values = {
            name: self.query_one(f"#filter-{name}", Input).value.strip() for name, *_ in FIELDS
        }
        return EventFilter(**values)

    @on(Input.Submitted)
    @on(Button.Pressed, "#apply")
    def _apply(self) -> None:
        self.dismiss(self._filter())

    @on(Button.Pressed, "#clear")
    def _clear(self) -> None:
        self.dismiss(EventFilter())

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
