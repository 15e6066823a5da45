"""The main screen: panels, log, inspector and scrubber around one time cursor.

The screen composes the widgets, binds the keys and routes messages: widgets and
workers post messages up, and the screen hands each to the controller that owns it
(`tui/controllers`): the time cursor, frame scheduling, the live watch, the scrubber's
axis, autoplay, A/B marks, bookmarks and the background checks.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen

from domain.envelope import AppendResult, Bookmark, RecordedEvent
from tui.controllers.autoplay import Autoplay
from tui.controllers.axis import AxisBuilt, ScrubberAxis
from tui.controllers.bookmarks import Bookmarks, BookmarksLoaded
from tui.controllers.checks import ChainChecked, IntegrityChecks
from tui.controllers.commands import CommandFlow
from tui.controllers.cursor import TimeCursor
from tui.controllers.find import FindInState
from tui.controllers.frames import FrameBuilt, FrameFailed, FrameScheduler, settle_heap
from tui.controllers.live import HeadMoved, IndexBuilt, LiveWatch, ReadSideChanged
from tui.controllers.marks import Marks
from tui.controllers.proofs import ProofSaver
from tui.controllers.refusals import load_older_refusals, open_refusal
from tui.controllers.resolve import Jump, resolve_in_worker
from tui.controllers.workers import in_thread
from tui.format import position_text
from tui.proof_status import hash_status_with_checkpoint
from tui.provenance import provenance
from tui.services.frames import Frame
from tui.services.types import REFUSALS, EventFilter, HashStatus, Related
from tui.session import Session
from tui.widgets.cell_table import CellTable
from tui.widgets.event_log import EventLog
from tui.widgets.inspector import EventInspector
from tui.widgets.key_footer import KeyFooter
from tui.widgets.projection_panels import ProjectionPanels
from tui.widgets.projection_table import ProjectionTable
from tui.widgets.refusal_panel import RefusalTable
from tui.widgets.scrubber import TimelineScrubber
from tui.widgets.status_bar import StatusBar

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
        # One key, two labels: the footer says what space does now (check_action).
        Binding("space", "play", "Play"),
        Binding("space", "pause", "Pause"),
        Binding("plus,equals_sign", "speed(1)", "Play faster", show=False),
        Binding("minus", "speed(-1)", "Play slower", show=False),
        Binding("m", "mark", "Mark A/B"),
        Binding("slash", "filter", "Filter"),
        Binding("b", "bookmark", "Bookmark this position", show=False),
        Binding("p", "save_proof", "Save the proof of this event", show=False),
        Binding("f", "flow", "CQRS flow of the latest command", show=False),
        Binding("c", "command", "Command"),
        Binding("ctrl+f", "find", "Find in state", show=False),
        # Read-only: `c` leaves the footer, and pressing it says why (see check_action).
        Binding("c", "command_unavailable", "Command (read-only: unavailable)", show=False),
        Binding("a", "aggregate", "Aggregate history of a stream", show=False),
        Binding("left_square_bracket", "tab(-1)", "Previous panel", show=False),
        Binding("right_square_bracket", "tab(1)", "Next panel", show=False),
        *(Binding(str(n), f"select_tab({n - 1})", f"Panel {n}", show=False) for n in range(1, 10)),
        Binding("i", "toggle_inspector", "Show or hide the inspector", show=False),
        Binding(
            "r",
            "raw_payload",
            "Inspector: the payload as stored (exact minor units) or readable",
            show=False,
        ),
        Binding("escape", "clear_marks", "Clear marks", show=False),
    ]

    NARROW = 110
    """Below this width the inspector takes the log's place when shown (`i`)."""

    COMPACT = 140
    """Below this width the inspector starts hidden (`i` shows it), so the panels have room."""

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
        self.time_cursor = TimeCursor()
        self.frames = FrameScheduler(self, self.time_cursor)
        self.live_watch = LiveWatch(self, self.time_cursor)
        self.axis = ScrubberAxis(self, self.time_cursor)
        self.autoplay = Autoplay(self, lambda: self.live_watch.index)
        self.mark_pair = Marks()
        self.saved = Bookmarks(self)
        self.checks = IntegrityChecks(self)
        self.proofs = ProofSaver(self)
        self.commands = CommandFlow(self)
        self.finder = FindInState(self)
        self._background_started = False

    # -- what the controllers hold, read by the palette, other screens and tests

    @property
    def target(self) -> int:
        """The position the user asked for (the panels follow as soon as they can)."""
        return self.time_cursor.target

    @property
    def head(self) -> int:
        """The store's head as last seen."""
        return self.time_cursor.head

    @property
    def live(self) -> bool:
        """True while the cursor follows the head."""
        return self.time_cursor.live

    @property
    def frame(self) -> Frame | None:
        """The frame the panels show."""
        return self.frames.frame

    @property
    def bookmarks(self) -> list[Bookmark]:
        """The bookmarks, as last loaded."""
        return self.saved.bookmarks

    # -- layout

    def compose(self) -> ComposeResult:
        session = self.session
        yield StatusBar(id="status")
        with Horizontal(id="body"):
            with Vertical(id="left"):
                yield ProjectionPanels(session.projections, id="panels")
                yield EventLog(
                    session.queries.log_page,
                    session.queries.summary,
                    type_names=session.domain.model.catalog.types,
                    id="log",
                )
            origin = partial(provenance, session.domain, session.store)
            yield EventInspector(self._look_up_event, id="inspector", provenance=origin)
        yield TimelineScrubber(id="scrubber")
        yield KeyFooter(compact=True)

    def _look_up_event(self, event: RecordedEvent) -> tuple[Related, HashStatus]:
        return self.session.queries.related(event), hash_status_with_checkpoint(self.session, event)

    def on_resize(self) -> None:
        narrow = self.size.width < self.NARROW
        self.set_class(narrow, "-narrow")
        self.set_class(not narrow and self.size.width < self.COMPACT, "-compact")

    def action_toggle_inspector(self) -> None:
        """Show or hide the inspector (when narrow, it takes the log's place)."""
        self.toggle_class("-inspector-toggled")

    def action_raw_payload(self) -> None:
        """Show the inspected payload as stored, or with readable numbers again."""
        self.query_one("#inspector", EventInspector).toggle_raw()

    def on_mount(self) -> None:
        self.show_status(
            db_name=self.session.db_name, read_only=self.session.read_only, actor=self.session.actor
        )
        self.query_one("#log", EventLog).border_title = "Events"
        self.query_one("#inspector", EventInspector).border_title = "Inspector"
        self.live_watch.build_index(None, True)
        if self._first_frame is not None:
            self.post_message(FrameBuilt(self._first_frame))
            self._first_frame = None
        else:
            self.frames.request()  # live: the read models need no head to be known first
        self.saved.load()
        if self.verify:
            self.checks.announce()
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
        in_thread(self, self.session.frames.warm_up, group="warm-up")
        self.live_watch.start(follow_writers=self.follow_writers)
        if self.verify:
            self.checks.start()
        self.axis.enabled = True
        self.axis.maybe_refresh()

    def on_unmount(self) -> None:
        self.checks.close()
        self.session.close()

    def show_status(self, **view: Any) -> None:
        """Update the header (`StatusBar.update_view`'s fields)."""
        self.query_one(StatusBar).update_view(**view)
        if "playing" in view:
            self.refresh_bindings()  # the footer's space: Play or Pause

    def go(self, position: int, *, live: bool = False) -> None:
        """Move the time cursor to `position` (or follow the head when `live`)."""
        self.frames.go(position, live=live)

    def move_to(self, position: int, *, live: bool = False) -> None:
        """Go to `position` as the user asked: autoplay, if on, pauses."""
        self.autoplay.pause()
        self.go(position, live=live)

    # -- messages, each handed to its controller

    @on(FrameBuilt)
    def _frame_built(self, message: FrameBuilt) -> None:
        if self.frames.frame is None:
            self.call_after_refresh(settle_heap)
            self.call_after_refresh(self._start_background)
        self.frames.built(message.frame, follow=not self.live or self.autoplay.playing)
        self.live_watch.frame_shown(message.frame.position)

    @on(FrameFailed)
    def _frame_failed(self, message: FrameFailed) -> None:
        self._start_background()
        self.frames.failed(message.error)

    @on(ReadSideChanged)
    def _read_side_changed(self, message: ReadSideChanged) -> None:
        if self.live_watch.read_side_changed(message.status):
            self.call_after_refresh(settle_heap)  # the projector has loaded its state

    @on(IndexBuilt)
    def _index_built(self, message: IndexBuilt) -> None:
        self.live_watch.index_built(message)

    @on(HeadMoved)
    def _head_moved(self, message: HeadMoved) -> None:
        self.live_watch.head_moved(message)

    @on(AxisBuilt)
    def _axis_built(self, message: AxisBuilt) -> None:
        self.axis.built(message.axis)

    @on(TimelineScrubber.Resized)
    def _scrubber_resized(self, message: TimelineScrubber.Resized) -> None:
        self.axis.resized(message.buckets)

    @on(ChainChecked)
    def _chain_checked(self, message: ChainChecked) -> None:
        self.checks.chain_checked(message.status)

    @on(BookmarksLoaded)
    def _bookmarks_loaded(self, message: BookmarksLoaded) -> None:
        self.saved.loaded(message.bookmarks)

    @on(TimelineScrubber.Scrubbed)
    @on(EventLog.EventClicked)
    @on(Jump)
    def _go_to_position(
        self, message: TimelineScrubber.Scrubbed | EventLog.EventClicked | Jump
    ) -> None:
        self.move_to(message.position)

    @on(EventLog.Navigate)
    def _log_navigate(self, message: EventLog.Navigate) -> None:
        self.action_step(message.delta)

    @on(ProjectionTable.RowChosen)
    def _row_chosen(self, message: ProjectionTable.RowChosen) -> None:
        if message.projection == REFUSALS:
            return open_refusal(self, message.key)
        from tui.screens.lineage import LineageScreen

        lineage = LineageScreen(
            self.session, message.projection, message.key, self.target, message.row
        )
        self.open_jumper(lineage)

    @on(RefusalTable.OlderWanted)
    def _older_refusals(self) -> None:
        load_older_refusals(self)

    @on(CellTable.CellChosen)
    def _cell_chosen(self, message: CellTable.CellChosen) -> None:
        from tui.screens.blame import BlameScreen

        blame = BlameScreen(
            self.session,
            message.projection,
            message.key,
            message.field,
            self.target,
            row=message.row,
        )
        self.open_jumper(blame)

    def open_jumper(self, dialog: ModalScreen[int | None]) -> None:
        """Pause and open `dialog`; the position it returns (if any) is where to go."""
        self.autoplay.pause()
        self.app.push_screen(dialog, lambda at: None if at is None else self.go(at))

    # -- actions: moving

    def action_step(self, delta: int) -> None:
        """Move the cursor `delta` events (through the filter, when one is set)."""
        self.move_to(self.live_watch.index.step(self.target, delta))

    def action_first(self) -> None:
        """Jump to the start of history (or the first event passing the filter)."""
        self.move_to(self.live_watch.index.first())

    def action_last(self) -> None:
        """Jump to the last event (or the last one passing the filter)."""
        self.move_to(self.live_watch.index.last())

    def action_live(self) -> None:
        """Follow the head again."""
        self.move_to(self.head, live=True)

    def action_jump(self, position: int) -> None:
        """Jump to `position` (the inspector's links run this)."""
        self.move_to(int(position))

    def go_to_text(self, text: str) -> None:
        """Resolve a typed position or time in a worker, then go there."""
        resolve_in_worker(self, text)

    def action_goto(self) -> None:
        """Ask for a position or a time, then go there."""
        from tui.screens.goto import GotoScreen

        self.open_jumper(GotoScreen(self.session, self.target))

    # -- actions: autoplay, marks, bookmarks, filter

    def action_play(self) -> None:
        """Play history forward like a video, or pause."""
        self.autoplay.toggle()

    def action_pause(self) -> None:
        """Pause autoplay (space while playing)."""
        self.autoplay.toggle()

    def action_speed(self, direction: int) -> None:
        """Play faster or slower (1 to 1000 events a second)."""
        self.autoplay.change_speed(direction)

    def action_mark(self) -> None:
        """Mark A, then B; the second mark opens the diff between them."""
        pair = self.mark_pair.mark(self.target)
        if pair is None:
            self.notify(
                f"A = {position_text(self.target)}; move and press m again to diff", timeout=3
            )
        else:
            from tui.screens.diff import DiffScreen

            self.open_jumper(DiffScreen(self.session, *pair))
        self._show_marks()

    def action_clear_marks(self) -> None:
        """Forget marks A and B."""
        if self.mark_pair.clear():
            self._show_marks()

    def _show_marks(self) -> None:
        self.show_status(marks=self.mark_pair.shown())
        self.query_one(TimelineScrubber).update_view(marks=self.mark_pair.marks)

    def action_bookmark(self) -> None:
        """Name the cursor's position and keep it."""
        from tui.screens.bookmark import BookmarkScreen

        self.app.push_screen(BookmarkScreen(self.session, self.target), self.saved.added)

    def action_save_proof(self) -> None:
        """Save the inclusion proof of the event under the cursor (a JSON bundle)."""
        self.proofs.save(self.target)

    def forget_bookmark(self, name: str) -> None:
        """Delete the bookmark called `name` (the palette offers this)."""
        self.saved.forget(name)

    def action_filter(self) -> None:
        """Choose which events the log shows and stepping visits."""
        from tui.screens.filter import FilterScreen

        self.app.push_screen(FilterScreen(self.live_watch.filter), self.apply_filter)

    def apply_filter(self, event_filter: EventFilter | None) -> None:
        """Use `event_filter` for the log and for stepping."""
        if event_filter is not None:
            self.live_watch.set_filter(event_filter)

    # -- actions: commands and history

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "command":
            return not self.session.read_only
        if action == "command_unavailable":
            return self.session.read_only
        if action in ("play", "pause"):
            return self.autoplay.playing == (action == "pause")
        return True

    def action_command_unavailable(self) -> None:
        """`c` on a read-only database: say why no command can run."""
        self.commands.unavailable()

    def action_command(self) -> None:
        """Open a command form (asking first when the cursor is in the past)."""
        self.commands.open()

    def run_command_result(self, result: AppendResult | None) -> None:
        """Say what a command recorded (the palette's forms return here)."""
        self.commands.finished(result)

    def action_aggregate(self) -> None:
        """Show one stream's events with the aggregate's state after each."""
        frame = self.frame
        self.open_stream(frame.event.stream_id if frame and frame.event else "")

    def open_stream(self, stream_id: str) -> None:
        """Show the history of `stream_id` (the command palette uses this)."""
        from tui.screens.aggregate import AggregateScreen

        self.open_jumper(AggregateScreen(self.session, stream_id))

    def action_flow(self) -> None:
        """Show the CQRS flow of the latest command (in the past: the cursor's event's)."""
        from tui.screens.flow import FlowScreen

        self.app.push_screen(FlowScreen(self))

    def action_find(self) -> None:
        """Find text in every panel's rows at the cursor's point in time."""
        self.finder.open()

    def action_tab(self, delta: int) -> None:
        """Show the next or previous projection tab."""
        self.query_one(ProjectionPanels).cycle_tab(delta)

    def action_select_tab(self, index: int) -> None:
        """Show projection tab `index` (0-based)."""
        self.query_one(ProjectionPanels).select_tab(index)
