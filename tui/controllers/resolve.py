"""A typed position or time (`g`, the palette), resolved off the UI thread."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker

from domain.errors import DomainError
from tui.controllers.workers import in_thread

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


class Jump(Message):
    """Move the cursor to `position` (posted by workers that resolved a target)."""

    def __init__(self, position: int) -> None:
        super().__init__()
        self.position = position


def resolve_in_worker(screen: MainScreen, text: str) -> None:
    """Resolve `text` against the cursor in a worker; post `Jump`, or notify why not."""
    in_thread(screen, partial(_resolve, screen, text), group="resolve")


def _resolve(screen: MainScreen, text: str) -> None:
    try:
        position = screen.session.queries.resolve_target(text, screen.target)
    except DomainError as exc:
        screen.app.call_from_thread(screen.notify, str(exc), severity="error", timeout=6)
        return
    if not get_current_worker().is_cancelled:
        screen.post_message(Jump(position))
