"""A question with a few answers (e.g. return to live before a command)."""

from __future__ import annotations

from collections.abc import Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Footer, Label, Static


class ConfirmScreen(ModalScreen[str | None]):
    """Dismisses with the id of the chosen answer, or None on escape."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str,
        question: str,
        answers: Sequence[tuple[str, str, str]],
        *,
        focus: str | None = None,
    ) -> None:
        """`answers` are (id, label, button variant); the first has the focus, or the one
        called `focus` (`"cancel"` for a destructive question: Enter then does nothing)."""
        super().__init__()
        self.focus_answer = focus
        self.title_text = title
        self.question = question
        self.answers = list(answers)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Static(self.question, classes="dialog-help")
            with Horizontal(classes="buttons"):
                for answer, label, variant in self.answers:
                    yield Button(label, id=f"answer-{answer}", variant=variant, compact=True)  # type: ignore[arg-type]
                yield Button("Cancel", id="answer-cancel", compact=True)
        # The dialog's own keys, not the main screen's behind it.
        yield Footer()

    def on_mount(self) -> None:
        if not self._focus_answer():
            # Pushed from another dialog's callback, the buttons may not be there yet.
            self.call_after_refresh(self._focus_answer)

    def _focus_answer(self) -> bool:
        """Focus the chosen answer (else the first); False when no button is there yet."""
        buttons = list(self.query(Button))
        wanted = f"answer-{self.focus_answer}"
        chosen = next((b for b in buttons if b.id == wanted), buttons[0] if buttons else None)
        if chosen is None:
            return False
        chosen.focus()
        return True

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        answer = (event.button.id or "").removeprefix("answer-")
        self.dismiss(None if answer == "cancel" else answer)

    def action_cancel(self) -> None:
        self.dismiss(None)
