"""`b`: name the cursor's position; bookmarks show on the scrubber and in the palette."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Input, Label, Static

from domain.envelope import Bookmark
from domain.errors import DomainError
from tui.format import position_text
from tui.session import Session


class BookmarkScreen(ModalScreen[Bookmark | None]):
    """Asks for a name, keeps the bookmark through the session."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    class Saved(Message):
        def __init__(self, bookmark: Bookmark | None, error: str = "") -> None:
            super().__init__()
            self.bookmark = bookmark
            self.error = error

    def __init__(self, session: Session, position: int) -> None:
        super().__init__()
        self.session = session
        self.position = position

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(f"Bookmark {position_text(self.position)}", classes="dialog-title")
            field = Input(placeholder="a name, e.g. before the audit", id="bookmark-name")
            field.cursor_blink = bool(getattr(self.app, "cursor_blink", True))
            yield field
            yield Static("", id="bookmark-error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save", id="save", variant="primary", compact=True)
                yield Button("Cancel", id="cancel", compact=True)
        # The dialog's own keys, not the main screen's behind it.
        yield Footer()

    @on(Input.Submitted)
    @on(Button.Pressed, "#save")
    def _save(self) -> None:
        self._keep(self.query_one(Input).value)

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _keep(self, name: str) -> None:
        try:
            bookmark = self.session.marks.add_bookmark(name, self.position)
        except DomainError as exc:
            self.post_message(self.Saved(None, str(exc)))
            return
        self.post_message(self.Saved(bookmark))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        if message.bookmark is None:
            self.query_one("#bookmark-error", Static).update(Text(message.error))
        else:
            self.dismiss(message.bookmark)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
