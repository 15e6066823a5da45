"""Frame scheduling: the panels at the cursor, built in one worker at a time.

The time cursor moves at once on a key press; the replay that follows runs in one
exclusive worker, always aimed at the latest target, so a held key never queues
stale work. Live, frames are built at most `LIVE_FRAME_SECONDS` apart.
"""

from __future__ import annotations

import gc
import time
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.timer import Timer

from tui.controllers.cursor import TimeCursor
from tui.controllers.workers import in_thread
from tui.services.frames import Frame
from tui.widgets.event_log import EventLog
from tui.widgets.inspector import EventInspector
from tui.widgets.projection_panels import ProjectionPanels
from tui.widgets.scrubber import TimelineScrubber
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

SLOW_FRAME_SECONDS = 0.25
"""A replay taking longer than this says so in the header."""
PREPARE_STEPS_SECONDS = 0.3
"""How long the cursor rests after a jump before the stepping cursor is moved there."""
REST_SECONDS = 1.0
"""After this long without a new frame, the heap is tidied (see `settle_heap`)."""
CURSOR_SECONDS = 0.06
"""How long the header, scrubber and log wait for a step's frame before they move alone."""
LIVE_FRAME_SECONDS = 0.05
"""Live panels are rebuilt at most this often (~20 times a second) while events arrive."""


class FrameBuilt(Message):
    """A worker built the panels' frame."""

    def __init__(self, frame: Frame) -> None:
        super().__init__()
        self.frame = frame


class FrameFailed(Message):
    """A worker could not build the frame (shown, never fatal)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class FrameScheduler:
    """Moves the time cursor and keeps the panels, header, scrubber and log after it."""

    def __init__(self, screen: MainScreen, cursor: TimeCursor) -> None:
        self.screen = screen
        self.cursor = cursor
        self.frame: Frame | None = None
        """The frame the panels show (it may trail the cursor while a replay runs)."""
        self.building = False
        self._wanted = 0
        self._started_for = 0
        self._live_started = 0.0
        self._log_behind = False
        """The log still shows the cursor before a jump (it follows with the panels)."""
        self._live_timer: Timer | None = None
        self._slow_timer: Timer | None = None
        self._cursor_timer: Timer | None = None
        self._prepare_timer: Timer | None = None
        self._rest_timer: Timer | None = None

    def go(self, position: int, *, live: bool = False) -> None:
        """Move the time cursor to `position` (or follow the head when `live`)."""
        move = self.cursor.move(position, live=live)
        # The log follows a jump with the panels, its rows read meanwhile: scrolling it
        # first would draw a screen of placeholders, then the rows, then the panels.
        self._log_behind = self._log_behind or (move.jump and not live)
        if move.jump:
            self.screen.query_one(EventLog).prefetch(move.position)
        frame = self.frame
        if live and move.was_live and frame is not None and frame.source == "read_models":
            self.show_cursor()
            return  # live panels follow the projector's checkpoint, not the head
        if self.building:
            self.show_cursor()  # a replay is running: show the move at once
        elif self._cursor_timer is None:
            # A step's frame is usually back within a few ms: header, scrubber, log and
            # panels are then drawn in one paint, not two.
            self._cursor_timer = self.screen.set_timer(CURSOR_SECONDS, self.show_cursor)
        self.request()

    def show_cursor(self) -> None:
        """Draw the time cursor where it is: header, scrubber and the log's selection."""
        if self._cursor_timer is not None:
            self._cursor_timer.stop()
            self._cursor_timer = None
        screen, position, live = self.screen, self.cursor.target, self.cursor.live
        screen.query_one(StatusBar).update_view(live=live, position=position, head=self.cursor.head)
        screen.query_one(TimelineScrubber).update_view(position=position, live=live)
        if not self._log_behind:
            screen.query_one(EventLog).select(position)

    def request(self) -> None:
        """Ask for the panels at the cursor (or live); builds run one at a time."""
        self._wanted += 1
        if not self.building:
            self._start()

    def _start(self) -> None:
        live = self.cursor.live
        if live:
            wait = LIVE_FRAME_SECONDS - (time.monotonic() - self._live_started)
            if wait > 0:
                if self._live_timer is None:
                    self._live_timer = self.screen.set_timer(wait, self._live_timer_fired)
                return
            self._live_started = time.monotonic()
        self.building = True
        self._started_for = self._wanted
        work = partial(self._build, self.cursor.target, live)
        in_thread(self.screen, work, group="frame", exclusive=True)
        if self._slow_timer is None:
            self._slow_timer = self.screen.set_timer(SLOW_FRAME_SECONDS, self._frame_is_slow)

    def _live_timer_fired(self) -> None:
        self._live_timer = None
        if not self.building and self._wanted != self._started_for:
            self._start()

    def _frame_is_slow(self) -> None:
        self._slow_timer = None
        if self.building:
            self.screen.query_one(StatusBar).update_view(replaying=True)

    def _build(self, position: int, live: bool) -> None:
        """In a worker thread: the frame at `position`, or the live read models."""
        screen, session = self.screen, self.screen.session
        try:
            frame = session.frames.live_frame() if live else session.frames.frame_at(position)
        except Exception as exc:  # shown, never fatal: the next move tries again
            where = "the present" if live else f"#{position:,}"
            screen.post_message(FrameFailed(f"could not show {where}: {exc}"))
            at = self.cursor.head if live else position  # the inspector still flags it
            screen.app.call_from_thread(
                screen.query_one(EventInspector).show, at, session.queries.event(at)
            )
            return
        screen.post_message(FrameBuilt(frame))

    def built(self, frame: Frame, *, follow: bool) -> None:
        """Show `frame` (from `FrameBuilt`); `follow` scrolls the panels to its rows."""
        self.building = False
        if self._slow_timer is not None:
            self._slow_timer.stop()
            self._slow_timer = None
        screen, cursor = self.screen, self.cursor
        if cursor.live and cursor.saw_head(frame.position):
            cursor.target = frame.position  # shown before the log's index came
        self.frame = frame
        screen.query_one(ProjectionPanels).show_frame(frame, follow=follow)
        screen.query_one(EventInspector).show(frame.position, frame.event)
        if self._log_behind and frame.position == cursor.target:
            self._log_behind = False
        self.show_cursor()
        screen.query_one(EventLog).mark_span(frame.since, frame.position)
        when = frame.event.recorded_at if frame.event is not None else ""
        screen.query_one(StatusBar).update_view(
            time=when, replaying=not cursor.live and frame.position != cursor.target
        )
        screen.query_one(TimelineScrubber).update_view(cursor_time=when)
        if self._wanted != self._started_for:
            self._start()
        elif not cursor.live and frame.position == cursor.target:
            self._prepare_steps_later()
        if self._rest_timer is not None:
            self._rest_timer.stop()
        self._rest_timer = screen.set_timer(REST_SECONDS, self._at_rest)

    def failed(self, error: str) -> None:
        """A build failed (from `FrameFailed`): say so, and show the cursor anyway."""
        self.building = False
        self._log_behind = False
        self.show_cursor()
        self.screen.notify(error, severity="error", timeout=6)

    def _prepare_steps_later(self) -> None:
        """After a jump, move the stepping cursor there once the user rests, so the next
        ←/→ is a step; a drag or a held PgDn moves on first, and skips it."""
        if self._prepare_timer is not None:
            self._prepare_timer.stop()
        self._prepare_timer = self.screen.set_timer(PREPARE_STEPS_SECONDS, self._prepare_steps)

    def _prepare_steps(self) -> None:
        self._prepare_timer = None
        frame, cursor = self.frame, self.cursor
        resting = not self.building and not cursor.live
        if resting and frame is not None and frame.position == cursor.target:
            work = partial(self._run_prepare_steps, cursor.target)
            in_thread(self.screen, work, group="frame", exclusive=True)

    def _run_prepare_steps(self, position: int) -> None:
        session = self.screen.session
        if not session.frames.steps_ready(position):
            session.frames.prepare_steps(position)

    def _at_rest(self) -> None:
        """Nothing moved for a while: tidy the heap now rather than in the next move."""
        self._rest_timer = None
        settle_heap(collect=True)


def settle_heap(collect: bool = False) -> None:
    """Exempt what the app holds now from the cyclic collector's later passes.

    After the first frame (a decoded snapshot, the projector's state, the widgets) the
    heap holds hundreds of thousands of long-lived objects, and each full collection
    walked them all: pauses of 100-250 ms in the middle of scrubbing at 1M events.
    Frozen objects are still freed by reference counting when dropped. With `collect`
    (when the user rests), garbage cycles are collected first, so none is kept.
    """
    if collect:
        gc.collect()
    gc.freeze()
