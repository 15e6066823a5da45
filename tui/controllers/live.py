"""The live watch: following other writers, the log's index, and the read side.

A thread polls the store's change token and reports the head when it moves; the
log's index is then extended in a worker. Live, the panels show the read models
and move when the projector reports a new checkpoint (not when the head moves: the
events are not in the read models yet); the header says how far behind they are.
"""

from __future__ import annotations

import time
from functools import partial
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import get_current_worker

from store.projector import ProjectorStatus
from tui.controllers.cursor import TimeCursor
from tui.controllers.workers import in_thread
from tui.format import position_text
from tui.services.types import EventFilter, LogIndex
from tui.widgets.event_log import EventLog
from tui.widgets.projection_panels import ProjectionPanels
from tui.widgets.status_bar import StatusBar

if TYPE_CHECKING:
    from tui.screens.main import MainScreen

POLL_SECONDS = 0.05
"""How often the watcher asks the store for its head (at most ~20 redraws a second)."""


class IndexBuilt(Message):
    """The log's index (the positions stepping visits) for a filter."""

    def __init__(self, index: LogIndex, jump: bool) -> None:
        super().__init__()
        self.index = index
        self.jump = jump


class HeadMoved(Message):
    """The store changed (another writer, or a refusal); `head` is its head now."""

    def __init__(self, head: int, first: bool = False) -> None:
        super().__init__()
        self.head = head
        self.first = first
        """The watcher's first look: nothing has changed yet."""


class ReadSideChanged(Message):
    """The projector's checkpoint, head, role or error changed."""

    def __init__(self, status: ProjectorStatus) -> None:
        super().__init__()
        self.status = status

    def can_replace(self, message: Message) -> bool:
        # A newer status with the same error says all this one did (toolong's collapsing).
        return isinstance(message, ReadSideChanged) and message.status.error == self.status.error


class LiveWatch:
    """Keeps the head, the log's index and the read side's status up to date."""

    def __init__(self, screen: MainScreen, cursor: TimeCursor) -> None:
        self.screen = screen
        self.cursor = cursor
        self.filter = EventFilter()
        self.index = LogIndex(head=0)
        self.read_status: ProjectorStatus | None = None
        """The projector's last reported status (None: none reported, or read-only)."""
        self.awaiting: int | None = None
        """The last position of a command run here, until live panels show it."""

    def start(self, *, follow_writers: bool) -> None:
        """Start the projector's reports and (with `follow_writers`) the head watch."""
        screen = self.screen
        screen.session.start_read_side(self._reported)
        if follow_writers:
            in_thread(screen, self._watch_head, group="watch")

    def _reported(self, status: ProjectorStatus) -> None:
        """Called from the projector's thread."""
        self.screen.post_message(ReadSideChanged(status))

    # -- the log's index

    def build_index(self, previous: LogIndex | None, jump: bool) -> None:
        """Rebuild the index for the current filter (extending `previous` when given)."""
        screen = self.screen
        work = partial(self._build_index, self.filter, previous, jump)
        in_thread(screen, work, group="index", exclusive=True)

    def _build_index(
        self, event_filter: EventFilter, previous: LogIndex | None, jump: bool
    ) -> None:
        index = self.screen.session.queries.log_index(event_filter, previous)
        if not get_current_worker().is_cancelled:
            self.screen.post_message(IndexBuilt(index, jump))

    def set_filter(self, event_filter: EventFilter) -> None:
        """Use `event_filter` for the log and stepping (and say so in the header)."""
        if event_filter == self.filter:
            return
        self.filter = event_filter
        described = event_filter.describe()
        self.screen.query_one(StatusBar).update_view(filter=described)
        log = self.screen.query_one(EventLog)
        log.border_title = f"Events · {described}" if event_filter else "Events"
        self.build_index(None, True)

    def index_built(self, message: IndexBuilt) -> None:
        """Use a new index (from `IndexBuilt`), unless the filter changed meanwhile."""
        index = message.index
        if index.filter != self.filter:
            return
        screen, cursor = self.screen, self.cursor
        self.index = index
        cursor.saw_head(index.head)
        screen.query_one(EventLog).set_index(index)
        screen.query_one(StatusBar).update_view(head=cursor.head)
        screen.axis.maybe_refresh()
        if cursor.live:
            screen.go(cursor.head, live=True)
        elif message.jump:
            screen.go(cursor.target)

    # -- the head

    def _watch_head(self) -> None:
        """Poll the store's change token every POLL_SECONDS; report the head when it moves.

        The token (SQLite's data_version) costs no table read, so polling is cheap; a
        change may be a refusal only, which moves no head but changes the refusals.
        """
        worker, session = get_current_worker(), self.screen.session
        token = None
        while not worker.is_cancelled:
            try:
                current = session.queries.change_token()
                if current != token:
                    first, token = token is None, current
                    self.screen.post_message(HeadMoved(session.queries.head().position, first))
            except Exception:  # a busy or locked database: try again next tick
                pass
            time.sleep(POLL_SECONDS)

    def head_moved(self, message: HeadMoved) -> None:
        """The store changed: extend the index, or (live) show new audit rows."""
        cursor, frames = self.cursor, self.screen.frames
        if message.head == cursor.head and self.index.head == message.head:
            if cursor.live and frames.frame is not None and not message.first:
                frames.request()  # e.g. a refusal: same head, new audit rows
            return
        cursor.saw_head(message.head)
        self.screen.query_one(StatusBar).update_view(head=cursor.head)
        self.show_read_side()
        self.build_index(self.index, False)

    def recorded(self, last: int) -> None:
        """A command run here appended up to `last`: wait (live) for the panels to show it."""
        self.cursor.saw_head(last)
        if self.cursor.live:
            self.awaiting = last
        self.show_read_side()
        self.build_index(self.index, False)

    # -- the read side

    def read_side_changed(self, status: ProjectorStatus) -> bool:
        """Note the projector's `status`; True when it is the first report."""
        screen, before = self.screen, self.read_status
        self.read_status = status
        if status.error and (before is None or before.error != status.error):
            screen.notify(status.error, title="The read side stopped", severity="error", timeout=15)
        if (
            self.awaiting is not None
            and status.error_position is not None
            and status.error_position <= self.awaiting
        ):
            self.awaiting = None  # it will not get there: the header shows why
        frame = screen.frames.frame
        if self.cursor.live and (
            frame is None or frame.source != "read_models" or frame.position != status.checkpoint
        ):
            screen.frames.request()
        self.show_read_side()
        return before is None

    def frame_shown(self, position: int) -> None:
        """The panels show `position`: a command awaited there (live) has arrived."""
        if self.awaiting is not None and self.cursor.live and position >= self.awaiting:
            self.awaiting = None
        self.show_read_side()

    def show_read_side(self) -> None:
        """The header's lag, error and `updating…`, and the panels' subtitle."""
        screen, status, head = self.screen, self.read_status, self.cursor.head
        if status is not None:
            lag = max(0, head - status.checkpoint)
            error = status.error or ""
            note = "rebuilding read models" if status.rebuilding else ""
        else:
            frame = screen.frames.frame
            lag = max(0, head - frame.position) if self.cursor.live and frame is not None else 0
            error = note = ""
        screen.query_one(StatusBar).update_view(
            lag=lag, updating_to=self.awaiting, read_error=error, read_note=note
        )
        updating = f"updating… → {position_text(self.awaiting)}" if self.awaiting else ""
        panels = screen.query_one(ProjectionPanels)
        if str(panels.border_subtitle or "") != updating:
            panels.border_subtitle = updating
