"""Starting autoplay in the original timing, compressed (the palette's entries)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from domain.errors import DomainError
from tui.controllers.workers import in_thread
from tui.services.timed_play import PlaySpan, plan_play

if TYPE_CHECKING:
    from tui.screens.main import MainScreen


def play_timed(screen: MainScreen, span: PlaySpan, length: float) -> None:
    """Play `span` ("day": the cursor's UTC day; "rest": from the cursor to the end) in
    `length` seconds, following the original timing; the schedule is read in a worker."""
    screen.autoplay.pause()
    at = screen.target

    def plan() -> None:
        try:
            schedule = plan_play(screen.session.queries, at, span, length)
        except DomainError as exc:
            screen.app.call_from_thread(screen.notify, str(exc), severity="warning")
            return
        screen.app.call_from_thread(screen.autoplay.play_schedule, schedule)

    in_thread(screen, plan, group="timed-play", exclusive=True)
