"""`g`: go to a position (`1234`, `#1234`, `+50`, `-50`) or an ISO time."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Static

from domain.errors import DomainError
from tui.format import position_text
from tui.session import Session


class GotoScreen(ModalScreen[int | None]):
    """A one-line prompt; bad input is explained under it and the prompt stays open."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    class Resolved(Message):
        def __init__(self, position: int | None, error: str = "") -> None:
            super().__init__()
            self.position = position
            self.error = error

    def __init__(self, session: Session, current: int) -> None:
        super().__init__()
        self.session = session
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label("Go to", classes="dialog-title")
            yield Static(
                f"A position ([b]1234[/b], [b]#1234[/b]), a step from "
                f"{position_text(self.current)} ([b]+50[/b], [b]-50[/b]) "
                "or a UTC time ([b]2026-03-01[/b], [b]2026-03-01T14:02[/b]).",
                classes="dialog-help",
            )
            field = Input(placeholder="position or time", id="goto-input")
            field.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
            yield field
            yield Static("", id="goto-error", classes="error")
        # The dialog's own keys, not the main screen's behind it.
        yield Footer()

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        self._resolve(event.value)

    @on(Input.Changed)
    def _changed(self) -> None:
        self.query_one("#goto-error", Static).update("")

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _resolve(self, text: str) -> None:
        try:
            position = self.session.queries.resolve_target(text, self.current)
        except DomainError as exc:
            self.post_message(self.Resolved(None, str(exc)))
            return
        self.post_message(self.Resolved(position))

    @on(Resolved)
    def _resolved(self, message: Resolved) -> None:
        if message.position is None:
            # A DomainError's message is escaped already; Text keeps `[` from being markup.
            self.query_one("#goto-error", Static).update(Text(message.error))
            self.query_one(Input).add_class("-invalid")
        else:
            self.dismiss(message.position)

    def action_cancel(self) -> None:
        self.dismiss(None)
