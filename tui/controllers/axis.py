"""The scrubber's density axis: recomputed when the head moves, at most every few seconds."""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.timer import Timer

from tui.controllers.cursor import TimeCursor
from tui.controllers.workers import in_thread
from tui.services.types import TimeAxis
from tui.widgets.scrubber import TimelineScrubber

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

AXIS_REFRESH_SECONDS = 2.0
"""The density axis is recomputed at most this often while events arrive."""


class AxisBuilt(Message):
    """A worker computed the scrubber's axis (None: it failed; the old one stays)."""

    def __init__(self, axis: TimeAxis | None) -> None:
        super().__init__()
        self.axis = axis

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, AxisBuilt)


class ScrubberAxis:
    """Keeps the scrubber's axis in step with the head and the scrubber's width.

    One build at a time: a build reads a time per column (hundreds of queries, seconds
    on a loaded PostgreSQL server), so a new one started every few seconds while events
    arrive would supersede each before it lands, and a resized scrubber would keep the
    old, cut axis for as long as the traffic lasts. A request during a build waits for
    it to land, then the newest head and width are built.
    """

    def __init__(self, screen: MainScreen, cursor: TimeCursor) -> None:
        self.screen = screen
        self.cursor = cursor
        self.enabled = False
        """Set once the first frame is drawn (the axis reads a time per column)."""
        self._width = 0
        self._at = 0.0
        self._head = -1
        self._built_width = 0
        self._building = False
        self._wanted = False
        """A refresh was asked for during a build: run it when the build lands."""
        self._timer: Timer | None = None

    def resized(self, buckets: int) -> None:
        """The scrubber now has `buckets` columns: recompute at once (or right after the
        build under way)."""
        self._width = buckets
        self._at = 0.0
        self.maybe_refresh()

    def maybe_refresh(self) -> None:
        """Recompute when the head or the width moved, unless the last run was too recent
        (then later) or still running (then when it lands)."""
        if not self._width or not self.enabled:
            return
        if self._building:
            self._wanted = True
            return
        if self._head == self.cursor.head and self._built_width == self._width:
            return
        now = time.monotonic()
        if self._at and now - self._at < AXIS_REFRESH_SECONDS:
            if self._timer is None:
                self._timer = self.screen.set_timer(
                    AXIS_REFRESH_SECONDS, self._timer_fired, name="axis"
                )
            return
        self._at = now
        self._head = self.cursor.head
        self._built_width = self._width
        self._building = True
        in_thread(self.screen, partial(self._build, self._width), group="axis")

    def _timer_fired(self) -> None:
        self._timer = None
        self.maybe_refresh()

    def _build(self, buckets: int) -> None:
        axis: TimeAxis | None = None
        try:
            axis = self.screen.session.queries.time_axis(buckets)
        finally:  # landed or failed, the next request may run
            self.screen.post_message(AxisBuilt(axis))

    def built(self, axis: TimeAxis | None) -> None:
        """Show `axis` (from `AxisBuilt`), then build what was asked for meanwhile."""
        self._building = False
        if axis is not None:
            self.screen.query_one(TimelineScrubber).update_view(axis=axis)
        if self._wanted:
            self._wanted = False
            self.maybe_refresh()
