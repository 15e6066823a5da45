"""A typed position or time (`g`, the palette), resolved off the UI thread."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker

from domain.errors import DomainError

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


class Jump(Message):
    """Move the cursor to `position` (posted by workers that resolved a target)."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position


def resolve_in_worker(screen: MainScreen, text: str) -> None:
    """Resolve `text` against the cursor in a worker; post `Jump`, or notify why not."""
    screen.run_worker(
        partial(_resolve, screen, text), thread=True, group="resolve", exit_on_error=False
    )


def _resolve(screen: MainScreen, text: str) -> None:
    try:
        position = screen.session.resolve_target(text, screen.target)
    except DomainError as exc:
        screen.app.call_from_thread(screen.notify, str(exc), severity="error", timeout=6)
        return
    if not get_current_worker().is_cancelled:
        screen.post_message(Jump(position))
