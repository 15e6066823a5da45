"""The scrubber's density axis: recomputed when the head moves, at most every few seconds."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker

from tui.controllers.cursor import TimeCursor
from tui.controllers.workers import in_thread
from tui.services.types import TimeAxis
from tui.widgets.scrubber import TimelineScrubber

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

AXIS_REFRESH_SECONDS = 2.0
"""The density axis is recomputed at most this often while events arrive."""


class AxisBuilt(Message):
    """A worker computed the scrubber's axis."""

    def __init__(self, axis: TimeAxis) -> None:
        super().__init__()
        self.axis = axis

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AxisBuilt)


class ScrubberAxis:
    """Keeps the scrubber's axis in step with the head and the scrubber's width."""

    def __init__(self, screen: MainScreen, cursor: TimeCursor) -> None:
        self.screen = screen
        self.cursor = cursor
        self.enabled = False
        """Set once the first frame is drawn (the axis reads a time per column)."""
        self._width = 0
        self._at = 0.0
        self._head = -1

    def resized(self, buckets: int) -> None:
        """The scrubber now has `buckets` columns: recompute at once."""
        self._width = buckets
        self._at = 0.0
        self.maybe_refresh()

    def maybe_refresh(self) -> None:
        """Recompute when the head moved, unless the last run was too recent (then later)."""
        if not self._width or not self.enabled:
            return
        now = time.monotonic()
        if self._head == self.cursor.head and self._at:
            return
        if now - self._at < AXIS_REFRESH_SECONDS and self._at:
            self.screen.set_timer(AXIS_REFRESH_SECONDS, self.maybe_refresh, name="axis")
            return
        self._at = now
        self._head = self.cursor.head
        in_thread(self.screen, partial(self._build, self._width), group="axis", exclusive=True)

    def _build(self, buckets: int) -> None:
        axis = self.screen.session.queries.time_axis(buckets)
        if not get_current_worker().is_cancelled:
            self.screen.post_message(AxisBuilt(axis))

    def built(self, axis: TimeAxis) -> None:
        """Show `axis` (from `AxisBuilt`)."""
        self.screen.query_one(TimelineScrubber).update_view(axis=axis)
