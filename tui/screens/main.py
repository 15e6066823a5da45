"""The main screen: panels, log, inspector and scrubber around one time cursor.

The screen routes: widgets post messages up, the screen asks the session (in thread
workers) and hands results down by calling the widgets' `show`/`update_view`. The
time cursor moves at once on a key press; the replay that follows runs in one
exclusive worker at a time, always aimed at the latest target, so a held key never
queues stale work.

Live, the panels show the read models, and move when the projector reports a new
checkpoint (not when the head moves: the events are not in the read models yet);
the header says how far behind the head they are.
"""

from __future__ import annotations

import gc
import time
from typing import Any

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.worker import get_current_worker

from domain.envelope import AppendResult, Bookmark, RecordedEvent
from domain.errors import DomainError
from store.projector import ProjectorStatus
from tui.derived_check import DerivedCheck, DerivedStatus
from tui.format import position_text
from tui.proof_status import hash_status_with_checkpoint
from tui.provenance import Provenance, provenance
from tui.services.frames import Frame
from tui.session import (
    NEAR,
    REFUSALS,
    ChainStatus,
    EventFilter,
    HashStatus,
    LogIndex,
    Related,
    Session,
    TimeAxis,
)
from tui.widgets.event_log import EventLog
from tui.widgets.inspector import EventInspector
from tui.widgets.key_footer import KeyFooter
from tui.widgets.projection_panels import ProjectionPanels
from tui.widgets.projection_table import ProjectionTable
from tui.widgets.scrubber import TimelineScrubber
from tui.widgets.status_bar import StatusBar

SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
"""Autoplay speeds, in events per second."""
POLL_SECONDS = 0.05
"""How often the watcher asks the store for its head (at most ~20 redraws a second)."""
SLOW_FRAME_SECONDS = 0.25
"""A replay taking longer than this says so in the header."""
AXIS_REFRESH_SECONDS = 2.0
"""The density axis is recomputed at most this often while events arrive."""
PREPARE_STEPS_SECONDS = 0.3
"""How long the cursor rests after a jump before the stepping cursor is moved there."""
REST_SECONDS = 1.0
"""After this long without a new frame, the heap is tidied (see `_settle_heap`)."""
CURSOR_SECONDS = 0.06
"""How long the header, scrubber and log wait for a step's frame before they move alone."""
LIVE_FRAME_SECONDS = 0.05
"""Live panels are rebuilt at most this often (~20 times a second) while events arrive."""

_STEP = Binding.Group("Step", compact=True)


class MainScreen(Screen[None]):
    """Everything at one point in time, and the keys to move through time."""

    BINDINGS = [
        # Help first: a narrow footer cuts from the right, and `?` leads to every other key.
        Binding("question_mark", "app.help", "Help"),
        Binding("left", "step(-1)", "One event back", priority=True, group=_STEP),
        Binding("right", "step(1)", "One event forward", priority=True, group=_STEP),
        Binding("shift+left", "step(-100)", "100 events back", priority=True, show=False),
        Binding("shift+right", "step(100)", "100 events forward", priority=True, show=False),
        Binding("pageup", "step(-1000)", "1000 events back", priority=True, show=False),
        Binding("pagedown", "step(1000)", "1000 events forward", priority=True, show=False),
        Binding("home", "first", "Start of history", priority=True, show=False),
        Binding("end", "last", "Last event", priority=True, show=False),
        Binding("g", "goto", "Go to"),
        Binding("l", "live", "Live"),
        Binding("space", "play", "Play"),
        Binding("plus,equals_sign", "speed(1)", "Play faster", show=False),
        Binding("minus", "speed(-1)", "Play slower", show=False),
        Binding("m", "mark", "Mark A/B"),
        Binding("slash", "filter", "Filter"),
        Binding("b", "bookmark", "Bookmark this position", show=False),
        Binding("c", "command", "Command"),
        # Read-only: `c` leaves the footer, and pressing it says why (see check_action).
        Binding("c", "command_unavailable", "Command (read-only: unavailable)", show=False),
        Binding("a", "aggregate", "Aggregate history of a stream", show=False),
        Binding("left_square_bracket", "tab(-1)", "Previous panel", show=False),
        Binding("right_square_bracket", "tab(1)", "Next panel", show=False),
        *(Binding(str(n), f"select_tab({n - 1})", f"Panel {n}", show=False) for n in range(1, 10)),
        Binding("i", "toggle_inspector", "Show or hide the inspector", show=False),
        Binding("escape", "clear_marks", "Clear marks", show=False),
    ]

    NARROW = 110
    """Below this width the inspector takes the log's place when shown (`i`)."""

    COMPACT = 140
    """Below this width the inspector starts hidden (`i` shows it), so the panels have room."""

    # -- messages from worker threads

    class FrameBuilt(Message):
        def __init__(self, frame: Frame) -> None:
            super().__init__()
            self.frame = frame

    class FrameFailed(Message):
        def __init__(self, error: str) -> None:
            super().__init__()
            self.error = error

    class IndexBuilt(Message):
        def __init__(self, index: LogIndex, jump: bool) -> None:
            super().__init__()
            self.index = index
            self.jump = jump

    class HeadMoved(Message):
        def __init__(self, head: int, first: bool = False) -> None:
            super().__init__()
            self.head = head
            self.first = first
            """The watcher's first look: nothing has changed yet."""

    class AxisBuilt(Message):
        def __init__(self, axis: TimeAxis) -> None:
            super().__init__()
            self.axis = axis

    class ChainChecked(Message):
        def __init__(self, status: ChainStatus) -> None:
            super().__init__()
            self.status = status

    class Jump(Message):
        """Move the cursor to `position` (posted by workers that resolved a target)."""

        def __init__(self, position: int) -> None:
            super().__init__()
            self.position = position

    class BookmarksLoaded(Message):
        def __init__(self, bookmarks: list[Bookmark]) -> None:
            super().__init__()
            self.bookmarks = bookmarks

    class ReadSideChanged(Message):
        """The projector's checkpoint, head, role or error changed."""

        def __init__(self, status: ProjectorStatus) -> None:
            super().__init__()
            self.status = status

    def __init__(
        self,
        session: Session,
        *,
        watch: bool = True,
        verify: bool = True,
        first_frame: Frame | None = None,
    ) -> None:
        super().__init__()
        self.session = session
        self._first_frame = first_frame
        self.follow_writers = watch
        self.verify = verify
        self.live = True
        self.target = 0
        self.head = 0
        self.frame: Frame | None = None
        self.filter = EventFilter()
        self.index = LogIndex(head=0)
        self.marks: dict[str, int] = {}
        self.bookmarks: list[Bookmark] = []
        self.awaiting: int | None = None
        self.playing = False
        self.speed = 10
        self.read_status: ProjectorStatus | None = None
        """The projector's last reported status (None: none reported, or read-only)."""
        self._building = False
        self._frames_wanted = 0
        self._frame_started_for = 0
        self._live_started = 0.0
        self._live_timer: Timer | None = None
        self._log_behind = False
        """The log still shows the cursor before a jump (it follows with the panels)."""
        self._prepare_timer: Timer | None = None
        self._background_started = False
        self._cursor_timer: Timer | None = None
        self._rest_timer: Timer | None = None
        self._axis_width = 0
        self._axis_at = 0.0
        self._axis_head = -1
        self._play_timer: Any = None
        self._chain = ChainStatus("unknown")
        self._play_waits = False
        """Autoplay started from live: at the end it waits for new events."""
        self._derived_check = DerivedCheck(self.session.workspace)
        self._slow_timer: Timer | None = None

    # -- layout

    def compose(self) -> ComposeResult:
        session = self.session
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield ProjectionPanels(session.projections, id="panels")
                yield EventLog(session.log_page, session.summary, id="log")
            yield EventInspector(self._look_up_event, id="inspector", provenance=self._origin)
        yield TimelineScrubber(id="scrubber")
        yield KeyFooter(compact=True)

    def _look_up_event(self, event: RecordedEvent) -> tuple[Related, HashStatus]:
        return self.session.related(event), hash_status_with_checkpoint(self.session, event)

    def _origin(self, event: RecordedEvent) -> Provenance:
        return provenance(self.session.domain, self.session.store, event)

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW
        self.set_class(narrow, "-narrow")
        self.set_class(not narrow and self.size.width < self.COMPACT, "-compact")

    def action_toggle_inspector(self) -> None:
        """Show or hide the inspector (when narrow, it takes the log's place)."""
        self.toggle_class("-inspector-toggled")

    def on_mount(self) -> None:
        self.query_one(StatusBar).update_view(
            db_name=self.session.db_name,
            read_only=self.session.read_only,
            actor=self.session.actor,
        )
        self.query_one("#log", EventLog).border_title = "Events"
        self.query_one("#inspector", EventInspector).border_title = "Inspector"
        self._build_index(self.filter, None, True)
        if self._first_frame is not None:
            self.post_message(self.FrameBuilt(self._first_frame))
            self._first_frame = None
        else:
            self._request_frame()  # live: the read models need no head to be known first
        self._load_bookmarks()
        if self.verify:
            self._chain = ChainStatus("checking")
            self.query_one(StatusBar).update_view(
                chain=self._chain, derived=DerivedStatus("checking")
            )
        table = self.query_one(ProjectionPanels).active_table
        if table is not None:
            table.focus()

    def _start_background(self) -> None:
        """Start what runs behind the panels, once they are first drawn.

        The projector loads its state, the axis reads a time per column and the chain
        check walks every event: started together with the first frame, they would
        make it wait for the CPU.
        """
        if self._background_started:
            return
        self._background_started = True
        self._warm_up()
        self.session.start_read_side(self._read_side_reported)
        if self.follow_writers:
            self._watch_head()
        if self.verify:
            self._check_chain()
        self._maybe_refresh_axis()

    def on_unmount(self) -> None:
        self._derived_check.close()
        self.session.close()

    # -- the time cursor

    @property
    def cursor(self) -> int:
        """The position the user asked for (the panels follow as soon as they can)."""
        return self.target

    def go(self, position: int, *, live: bool = False) -> None:
        """Move the time cursor to `position` (or follow the head when `live`)."""
        position = max(0, min(self.head, position))
        was_live = self.live
        jump = abs(position - self.target) > NEAR
        self.live = live
        self.target = position
        # The log follows a jump with the panels, its rows read meanwhile: scrolling it
        # first would draw a screen of placeholders, then the rows, then the panels.
        self._log_behind = self._log_behind or (jump and not live)
        if jump:
            self.query_one(EventLog).prefetch(position)
        frame = self.frame
        if live and was_live and frame is not None and frame.source == "read_models":
            self._show_cursor()
            return  # live panels follow the projector's checkpoint, not the head
        if self._building:
            self._show_cursor()  # a replay is running: show the move at once
        elif self._cursor_timer is None:
            # A step's frame is usually back within a few ms: header, scrubber, log and
            # panels are then drawn in one paint, not two.
            self._cursor_timer = self.set_timer(CURSOR_SECONDS, self._show_cursor)
        self._request_frame()

    def _show_cursor(self) -> None:
        """Draw the time cursor where it is: header, scrubber and the log's selection."""
        if self._cursor_timer is not None:
            self._cursor_timer.stop()
            self._cursor_timer = None
        position, live = self.target, self.live
        self.query_one(StatusBar).update_view(live=live, position=position, head=self.head)
        self.query_one(TimelineScrubber).update_view(position=position, live=live)
        if not self._log_behind:
            self.query_one(EventLog).select(position)

    def _request_frame(self) -> None:
        """Ask for the panels at the cursor (or live); builds run one at a time."""
        self._frames_wanted += 1
        if not self._building:
            self._start_frame()

    def _start_frame(self) -> None:
        live = self.live
        if live:
            wait = LIVE_FRAME_SECONDS - (time.monotonic() - self._live_started)
            if wait > 0:
                if self._live_timer is None:
                    self._live_timer = self.set_timer(wait, self._live_timer_fired)
                return
            self._live_started = time.monotonic()
        self._building = True
        self._frame_started_for = self._frames_wanted
        self._build_frame(self.target, live)
        if self._slow_timer is None:
            self._slow_timer = self.set_timer(SLOW_FRAME_SECONDS, self._frame_is_slow)

    def _live_timer_fired(self) -> None:
        self._live_timer = None
        if not self._building and self._frames_wanted != self._frame_started_for:
            self._start_frame()

    def _frame_is_slow(self) -> None:
        self._slow_timer = None
        if self._building:
            self.query_one(StatusBar).update_view(replaying=True)

    @work(thread=True, exclusive=True, group="frame", exit_on_error=False)
    def _build_frame(self, position: int, live: bool) -> None:
        try:
            frame = self.session.live_frame() if live else self.session.frame_at(position)
        except Exception as exc:  # shown, never fatal: the next move tries again
            where = "the present" if live else f"#{position:,}"
            self.post_message(self.FrameFailed(f"could not show {where}: {exc}"))
            at = self.head if live else position  # the inspector still shows (and flags) it
            self.app.call_from_thread(
                self.query_one(EventInspector).show, at, self.session.event(at)
            )
            return
        self.post_message(self.FrameBuilt(frame))

    @work(thread=True, group="warm-up", exit_on_error=False)
    def _warm_up(self) -> None:
        self.session.warm_up()

    def _prepare_steps_later(self) -> None:
        """After a jump, move the stepping cursor there once the user rests, so the next
        ←/→ is a step; a drag or a held PgDn moves on first, and skips it."""
        if self._prepare_timer is not None:
            self._prepare_timer.stop()
        self._prepare_timer = self.set_timer(PREPARE_STEPS_SECONDS, self._prepare_steps)

    def _prepare_steps(self) -> None:
        self._prepare_timer = None
        frame = self.frame
        resting = not self._building and not self.live
        if resting and frame is not None and frame.position == self.target:
            self._run_prepare_steps(self.target)

    @work(thread=True, exclusive=True, group="frame", exit_on_error=False)
    def _run_prepare_steps(self, position: int) -> None:
        if not self.session.steps_ready(position):
            self.session.prepare_steps(position)

    @on(FrameBuilt)
    def _frame_built(self, message: FrameBuilt) -> None:
        self._building = False
        if self._slow_timer is not None:
            self._slow_timer.stop()
            self._slow_timer = None
        frame = message.frame
        if self.frame is None:
            self.call_after_refresh(_settle_heap)
            self.call_after_refresh(self._start_background)
        if self.live and frame.position > self.head:
            self.head = self.target = frame.position  # shown before the log's index came
        self.frame = frame
        self.query_one(ProjectionPanels).show_frame(frame, follow=not self.live or self.playing)
        self.query_one(EventInspector).show(frame.position, frame.event)
        log = self.query_one(EventLog)
        if self._log_behind and frame.position == self.target:
            self._log_behind = False
        self._show_cursor()
        log.mark_span(frame.since, frame.position)
        when = frame.event.recorded_at if frame.event is not None else ""
        if self.awaiting is not None and self.live and frame.position >= self.awaiting:
            self.awaiting = None
        self.query_one(StatusBar).update_view(
            time=when, replaying=not self.live and frame.position != self.target
        )
        self._show_read_side()
        self.query_one(TimelineScrubber).update_view(cursor_time=when)
        if self._frames_wanted != self._frame_started_for:
            self._start_frame()
        elif not self.live and frame.position == self.target:
            self._prepare_steps_later()
        if self._rest_timer is not None:
            self._rest_timer.stop()
        self._rest_timer = self.set_timer(REST_SECONDS, self._at_rest)

    def _at_rest(self) -> None:
        """Nothing moved for a while: tidy the heap now rather than in the next move."""
        self._rest_timer = None
        _settle_heap(collect=True)

    @on(FrameFailed)
    def _frame_failed(self, message: FrameFailed) -> None:
        self._building = False
        self._start_background()
        self._log_behind = False
        self._show_cursor()
        self.notify(message.error, severity="error", timeout=6)

    # -- the read side

    def _read_side_reported(self, status: ProjectorStatus) -> None:
        """Called from the projector's thread."""
        self.post_message(self.ReadSideChanged(status))

    @on(ReadSideChanged)
    def _read_side_changed(self, message: ReadSideChanged) -> None:
        status = message.status
        before = self.read_status
        if before is None:
            self.call_after_refresh(_settle_heap)  # the projector has loaded its state
        self.read_status = status
        if status.error and (before is None or before.error != status.error):
            self.notify(status.error, title="The read side stopped", severity="error", timeout=15)
        if (
            self.awaiting is not None
            and status.error_position is not None
            and status.error_position <= self.awaiting
        ):
            self.awaiting = None  # it will not get there: the header shows why
        frame = self.frame
        if self.live and (
            frame is None or frame.source != "read_models" or frame.position != status.checkpoint
        ):
            self._request_frame()
        self._show_read_side()

    def _show_read_side(self) -> None:
        """The header's lag, error and `updating…`, and the panels' subtitle."""
        status = self.read_status
        if status is not None:
            lag = max(0, self.head - status.checkpoint)
            error = status.error or ""
            note = "rebuilding read models" if status.rebuilding else ""
        else:
            frame = self.frame
            lag = max(0, self.head - frame.position) if self.live and frame is not None else 0
            error = note = ""
        self.query_one(StatusBar).update_view(
            lag=lag, updating_to=self.awaiting, read_error=error, read_note=note
        )
        updating = f"updating… → {position_text(self.awaiting)}" if self.awaiting else ""
        panels = self.query_one(ProjectionPanels)
        if str(panels.border_subtitle or "") != updating:
            panels.border_subtitle = updating

    # -- the log's index and the head

    @work(thread=True, exclusive=True, group="index", exit_on_error=False)
    def _build_index(
        self, event_filter: EventFilter, previous: LogIndex | None, jump: bool
    ) -> None:
        index = self.session.log_index(event_filter, previous)
        if not get_current_worker().is_cancelled:
            self.post_message(self.IndexBuilt(index, jump))

    @on(IndexBuilt)
    def _index_built(self, message: IndexBuilt) -> None:
        index = message.index
        if index.filter != self.filter:
            return
        self.index = index
        self.head = max(self.head, index.head)
        self.query_one(EventLog).set_index(index)
        self.query_one(StatusBar).update_view(head=self.head)
        self._maybe_refresh_axis()
        if self.live:
            self.go(self.head, live=True)
        elif message.jump:
            self.go(self.target)

    @work(thread=True, group="watch", exit_on_error=False)
    def _watch_head(self) -> None:
        """Poll the store's change token every POLL_SECONDS; report the head when it moves.

        The token (SQLite's data_version) costs no table read, so polling is cheap; a
        change may be a refusal only, which moves no head but changes the refusals.
        """
        worker = get_current_worker()
        token = None
        while not worker.is_cancelled:
            try:
                current = self.session.change_token()
                if current != token:
                    first, token = token is None, current
                    self.post_message(self.HeadMoved(self.session.head().position, first))
            except Exception:  # a busy or locked database: try again next tick
                pass
            time.sleep(POLL_SECONDS)

    @on(HeadMoved)
    def _head_moved(self, message: HeadMoved) -> None:
        if message.head == self.head and self.index.head == message.head:
            if self.live and self.frame is not None and not message.first:
                self._request_frame()  # e.g. a refusal: same head, new audit rows
            return
        self.head = max(self.head, message.head)
        self.query_one(StatusBar).update_view(head=self.head)
        self._show_read_side()
        self._build_index(self.filter, self.index, False)

    # -- the scrubber's axis

    @on(TimelineScrubber.Resized)
    def _scrubber_resized(self, message: TimelineScrubber.Resized) -> None:
        self._axis_width = message.buckets
        self._axis_at = 0.0
        self._maybe_refresh_axis()

    def _maybe_refresh_axis(self) -> None:
        if not self._axis_width or not self._background_started:
            return
        now = time.monotonic()
        if self._axis_head == self.head and self._axis_at:
            return
        if now - self._axis_at < AXIS_REFRESH_SECONDS and self._axis_at:
            self.set_timer(AXIS_REFRESH_SECONDS, self._maybe_refresh_axis, name="axis")
            return
        self._axis_at = now
        self._axis_head = self.head
        self._build_axis(self._axis_width)

    @work(thread=True, exclusive=True, group="axis", exit_on_error=False)
    def _build_axis(self, buckets: int) -> None:
        axis = self.session.time_axis(buckets)
        if not get_current_worker().is_cancelled:
            self.post_message(self.AxisBuilt(axis))

    @on(AxisBuilt)
    def _axis_built(self, message: AxisBuilt) -> None:
        self.query_one(TimelineScrubber).update_view(axis=message.axis)

    @on(TimelineScrubber.Scrubbed)
    def _scrubbed(self, message: TimelineScrubber.Scrubbed) -> None:
        self._pause()
        self.go(message.position)

    # -- chain and bookmarks

    @work(thread=True, group="chain", exit_on_error=False)
    def _check_chain(self) -> None:
        try:
            status = self.session.chain_status()
        except Exception as exc:
            status = ChainStatus("unknown", str(exc))
        self.post_message(self.ChainChecked(status))
        derived = self._derived_check.run()  # then the derived tables (tui.derived_check)
        self.app.call_from_thread(self.query_one(StatusBar).update_view, derived=derived)

    @on(ChainChecked)
    def _chain_checked(self, message: ChainChecked) -> None:
        self._chain = message.status
        self.query_one(StatusBar).update_view(chain=message.status)
        if message.status.state == "broken":
            self.notify(
                f"The hash chain does not verify: {message.status.detail}",
                title="Chain broken",
                severity="error",
                timeout=10,
            )

    @work(thread=True, group="bookmarks", exit_on_error=False)
    def _load_bookmarks(self) -> None:
        self.post_message(self.BookmarksLoaded(self.session.bookmarks()))

    def forget_bookmark(self, name: str) -> None:
        """Delete the bookmark called `name` (the palette offers this)."""
        self._forget_bookmark(name)

    @work(thread=True, group="bookmarks", exit_on_error=False)
    def _forget_bookmark(self, name: str) -> None:
        try:
            self.session.remove_bookmark(name)
        except DomainError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
            return
        self.post_message(self.BookmarksLoaded(self.session.bookmarks()))

    @on(BookmarksLoaded)
    def _bookmarks_loaded(self, message: BookmarksLoaded) -> None:
        self.bookmarks = message.bookmarks
        self.query_one(TimelineScrubber).update_view(bookmarks=self.bookmarks)

    # -- widget messages

    @on(EventLog.Navigate)
    def _log_navigate(self, message: EventLog.Navigate) -> None:
        self.action_step(message.delta)

    @on(EventLog.EventClicked)
    def _log_clicked(self, message: EventLog.EventClicked) -> None:
        self._pause()
        self.go(message.position)

    @on(ProjectionTable.RowChosen)
    def _row_chosen(self, message: ProjectionTable.RowChosen) -> None:
        if message.projection == REFUSALS:
            return
        from tui.screens.lineage import LineageScreen

        self._pause()
        self.app.push_screen(
            LineageScreen(self.session, message.projection, message.key, self.target),
            self._jump_result,
        )

    def _jump_result(self, position: int | None) -> None:
        if position is not None:
            self.go(position)

    # -- actions: moving

    def action_step(self, delta: int) -> None:
        """Move the cursor `delta` events (through the filter, when one is set)."""
        self._pause()
        self.go(self.index.step(self.target, delta))

    def action_first(self) -> None:
        """Jump to the start of history (or the first event passing the filter)."""
        self._pause()
        self.go(self.index.first())

    def action_last(self) -> None:
        """Jump to the last event (or the last one passing the filter)."""
        self._pause()
        self.go(self.index.last())

    def action_live(self) -> None:
        """Follow the head again."""
        self._pause()
        self.go(self.head, live=True)

    def action_jump(self, position: int) -> None:
        """Jump to `position` (the inspector's links run this)."""
        self._pause()
        self.go(int(position))

    def go_to_text(self, text: str) -> None:
        """Resolve a typed position or time in a worker, then go there."""
        self._resolve_and_go(text)

    @work(thread=True, group="resolve", exit_on_error=False)
    def _resolve_and_go(self, text: str) -> None:
        try:
            position = self.session.resolve_target(text, self.target)
        except DomainError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", timeout=6)
            return
        self.post_message(self.Jump(position))

    @on(Jump)
    def _jump(self, message: Jump) -> None:
        self._pause()
        self.go(message.position)

    def action_goto(self) -> None:
        """Ask for a position or a time, then go there."""
        from tui.screens.goto import GotoScreen

        self._pause()
        self.app.push_screen(GotoScreen(self.session, self.target), self._jump_result)

    # -- actions: marks, bookmarks, filter

    def action_mark(self) -> None:
        """Mark A, then B; the second mark opens the diff between them."""
        if "A" not in self.marks or "B" in self.marks:
            self.marks = {"A": self.target}
            self.notify(
                f"A = {position_text(self.target)}; move and press m again to diff",
                timeout=3,
            )
        else:
            self.marks["B"] = self.target
            self._open_diff(self.marks["A"], self.marks["B"])
        self._show_marks()

    def _open_diff(self, a: int, b: int) -> None:
        from tui.screens.diff import DiffScreen

        self._pause()
        self.app.push_screen(DiffScreen(self.session, a, b), self._jump_result)

    def action_clear_marks(self) -> None:
        """Forget marks A and B."""
        if self.marks:
            self.marks = {}
            self._show_marks()

    def _show_marks(self) -> None:
        marks = tuple(sorted(self.marks.items()))
        self.query_one(StatusBar).update_view(marks=marks)
        self.query_one(TimelineScrubber).update_view(marks=self.marks)

    def action_bookmark(self) -> None:
        """Name the cursor's position and keep it."""
        from tui.screens.bookmark import BookmarkScreen

        self.app.push_screen(BookmarkScreen(self.session, self.target), self._bookmark_saved)

    def _bookmark_saved(self, _: Bookmark | None) -> None:
        self._load_bookmarks()

    def action_filter(self) -> None:
        """Choose which events the log shows and stepping visits."""
        from tui.screens.filter import FilterScreen

        self.app.push_screen(FilterScreen(self.filter), self.apply_filter)

    def apply_filter(self, event_filter: EventFilter | None) -> None:
        """Use `event_filter` for the log and for stepping."""
        if event_filter is None or event_filter == self.filter:
            return
        self.filter = event_filter
        self.query_one(StatusBar).update_view(filter=event_filter.describe())
        log = self.query_one(EventLog)
        log.border_title = f"Events · {event_filter.describe()}" if event_filter else "Events"
        self._build_index(event_filter, None, True)

    # -- actions: commands and history

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command":
            return not self.session.read_only
        if action == "command_unavailable":
            return self.session.read_only
        return True

    def action_command_unavailable(self) -> None:
        """`c` on a read-only database: say why no command can run."""
        self.notify(
            "Commands are unavailable: the database is open read-only (--read-only). "
            "Open it without --read-only to run commands.",
            severity="warning",
        )

    def action_command(self) -> None:
        """Open a command form (asking first when the cursor is in the past)."""
        if self.session.read_only:
            self.notify("The database is open read-only.", severity="warning")
            return
        self._pause()
        if self.live:
            self._open_command_form()
            return
        from tui.screens.confirm import ConfirmScreen

        self.app.push_screen(
            ConfirmScreen(
                "You are looking at the past",
                f"You are at {position_text(self.target)}; commands always apply to the "
                f"present (#{self.head:,}). Return to live first?",
                [("live", "Return to live", "primary"), ("stay", "Stay here", "default")],
            ),
            self._command_confirmed,
        )

    def _command_confirmed(self, choice: str | None) -> None:
        if choice == "live":
            self.action_live()
            self._open_command_form()
        elif choice == "stay":
            self._open_command_form()

    def _open_command_form(self) -> None:
        from tui.screens.command_form import CommandFormScreen

        self.app.push_screen(CommandFormScreen(self.session), self._command_done)

    def _command_done(self, result: AppendResult | None) -> None:
        if result is None:
            return
        if result.duplicate:
            self.notify("Already recorded earlier: nothing new appended.", timeout=4)
            return
        first, last = result.positions[0], result.positions[-1]
        where = position_text(first) if first == last else f"{position_text(first)} to #{last:,}"
        self.notify(f"Recorded {len(result.positions)} event(s) at {where}", timeout=4)
        self.head = max(self.head, last)
        if self.live:
            self.awaiting = last
        self._show_read_side()
        self._build_index(self.filter, self.index, False)

    def action_aggregate(self) -> None:
        """Show one stream's events with the aggregate's state after each."""
        from tui.screens.aggregate import AggregateScreen

        stream = self.frame.event.stream_id if self.frame and self.frame.event else ""
        self._pause()
        self.app.push_screen(AggregateScreen(self.session, stream), self._jump_result)

    def open_stream(self, stream_id: str) -> None:
        """Show the history of `stream_id` (the command palette uses this)."""
        from tui.screens.aggregate import AggregateScreen

        self._pause()
        self.app.push_screen(AggregateScreen(self.session, stream_id), self._jump_result)

    def action_tab(self, delta: int) -> None:
        """Show the next or previous projection tab."""
        self.query_one(ProjectionPanels).cycle_tab(delta)

    def action_select_tab(self, index: int) -> None:
        """Show projection tab `index` (0-based)."""
        self.query_one(ProjectionPanels).select_tab(index)

    # -- autoplay

    def action_play(self) -> None:
        """Play history forward like a video, or pause."""
        if self.playing:
            self._pause()
            return
        # From live, play on from here: new events play as they arrive (a trainer's
        # `simulate` shown at a readable pace). At the end of the past, start over.
        self._play_waits = self.live
        if self.live:
            self.go(self.target)
            self.notify(
                f"Playing from {position_text(self.target)}: new events play as they arrive "
                "(space pauses, l returns to live).",
                timeout=3,
            )
        elif self.target >= self.index.last():
            self.go(self.index.first())
        self.playing = True
        self._schedule_play()
        self.query_one(StatusBar).update_view(playing=True, speed=self.speed)

    def _schedule_play(self) -> None:
        if self._play_timer is not None:
            self._play_timer.stop()
        interval = max(0.05, 1 / self.speed)
        self._play_timer = self.set_interval(interval, self._play_tick, name="autoplay")

    def _play_tick(self) -> None:
        if not self.playing:
            return
        step = max(1, round(self.speed * max(0.05, 1 / self.speed)))
        target = self.index.step(self.target, step)
        if target == self.target:
            if self._play_waits:
                return  # started from live: wait for the next event
            self._pause()
            self.notify("Reached the end of history.", timeout=3)
            return
        self.go(target)

    def _pause(self) -> None:
        if not self.playing:
            return
        self.playing = False
        if self._play_timer is not None:
            self._play_timer.stop()
            self._play_timer = None
        self.query_one(StatusBar).update_view(playing=False)

    def action_speed(self, direction: int) -> None:
        """Play faster or slower (1 to 1000 events a second)."""
        i = min(range(len(SPEEDS)), key=lambda k: abs(SPEEDS[k] - self.speed))
        self.speed = SPEEDS[max(0, min(len(SPEEDS) - 1, i + direction))]
        if self.playing:
            self._schedule_play()
        self.query_one(StatusBar).update_view(speed=self.speed)
        self.notify(f"Autoplay: {self.speed:,} events/s", timeout=1.5)

    # -- helpers for other screens and tests

    def run_command_result(self, result: AppendResult | None) -> None:
        """Treat `result` as if the command form had just returned it."""
        self._command_done(result)

    def describe(self) -> dict[str, Any]:
        """A summary of what is on screen (tests and debugging)."""
        return {
            "live": self.live,
            "target": self.target,
            "head": self.head,
            "shown": self.frame.position if self.frame else None,
            "source": self.frame.source if self.frame else None,
            "read_side": self.read_status.checkpoint if self.read_status else None,
            "filter": self.filter,
            "marks": dict(self.marks),
        }


def _settle_heap(collect: bool = False) -> None:
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
