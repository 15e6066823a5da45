"""The Refusals tab's actions: open one refusal whole, and load older ones on demand."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from tui.controllers.workers import in_thread
from tui.services.types import REFUSALS

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


def open_refusal(screen: MainScreen, key: str) -> None:
    """Open the refusal `key` of the shown frame in its detail screen (g jumps there)."""
    from tui.screens.refusal import RefusalScreen

    frame = screen.frame
    row = frame.rows.get(REFUSALS, {}).get(key) if frame is not None else None
    if row is None:
        return
    command = row.get("command")
    fields = command if isinstance(command, Mapping) else {}
    at = int(row.get("at_position") or 0)

    def read() -> None:
        try:  # the money with its currency; a failed read shows the fields as typed
            readable = screen.session.queries.readable_command(fields, at)
        except Exception:
            readable = None
        screen.app.call_from_thread(lambda: screen.open_jumper(RefusalScreen(row, readable)))

    in_thread(screen, read, group="refusal")


def load_older_refusals(screen: MainScreen) -> None:
    """Let frames carry older refusals, then show the frame at the cursor again."""

    def more() -> None:
        screen.session.frames.more_refusals()
        screen.app.call_from_thread(screen.frames.request)

    in_thread(screen, more, group="refusals")
