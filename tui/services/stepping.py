"""Frames and stepping: every projection at a position, with what changed since the last.

The past comes from the workspace's `domain.timeline.Timeline` and one `Cursor` on it,
which steps cheaply and reports the rows each move changed. The present, when the
database is writable, is the persisted read models the projector keeps current
(`tui.read_side`): `live_frame()` reads them at their checkpoint. Read-only, there is
no projector, and the present is the timeline's state at the head.

`position` (the last frame built) is where the app is: the one place that says so.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from typing import Literal

from domain.envelope import Refusal
from domain.projection import Projection, StateMap
from domain.timeline import Cursor, Timeline
from tui.read_side import ReadSide
from tui.services.calls import InFlight, blocking
from tui.services.frames import Frame, FrameSource, RowChanges, Rows, compare_rows
from tui.services.live_changes import live_changes
from tui.services.queries import Queries
from tui.services.types import REFUSALS

REFUSAL_ROWS = 500
"""How many of the latest refusals a frame carries."""
KEEP_CURSOR_ROWS = 20_000
"""A cursor a jump left behind is kept (a jump back near it is then a step) only while
its states hold at most this many rows (the 1M-event demo: ~7,000; 10M: ~67,000)."""
NEAR = 128
"""Moves up to this many events go through the stepping cursor; longer ones (jumps,
PgUp/PgDn) show `state_at` first, which skips the cursor's journaling, and move the
cursor there afterwards (`prepare_steps`)."""


def is_step(before: int, after: int) -> bool:
    """True when moving from `before` to `after` is a step (replay the few events in
    between) rather than a jump (rebuild from the nearest snapshot): the one rule, used
    by the frames here and by the app's time cursor."""
    return abs(after - before) <= NEAR


class CursorTimeline:
    """`domain.timeline.Timeline` seen through one `Cursor` that moves cheaply.

    A step reports exactly the rows it changed; a move that had to look for new events
    or refusals first compares every row instead. Not thread-safe: the session locks.
    """

    def __init__(self, timeline: Timeline) -> None:
        self.timeline = timeline
        self._cursor: Cursor | None = None

    def near(self, position: int) -> bool:
        cursor = self._cursor
        return cursor is not None and is_step(cursor.position, position)

    def seek(self, position: int) -> tuple[StateMap, dict[str, set[str]] | None]:
        cursor = self._cursor
        if cursor is None:
            self._cursor = cursor = self.timeline.cursor(position)
            return cursor.states, None
        refreshed = position >= cursor.head
        if refreshed:
            cursor.refresh()  # new events or refusals (live): rows may change unreported
        move = cursor.seek(position)
        if refreshed:
            return cursor.states, None
        return cursor.states, {name: set(keys) for name, keys in move.changed.items()}

    def state_at(self, position: int) -> StateMap:
        return self.timeline.state_at(position)

    def left_behind(self) -> None:
        """A jump moved away from the cursor: drop it when its states are big.

        A cursor holds a whole state and a copy of it (the base of its window); kept,
        it makes a jump back near it a step. Past `KEEP_CURSOR_ROWS` rows that costs
        more memory than the jump back saves time (at 10M events ~110 MB): the next
        `seek` builds a cursor where it is needed.
        """
        cursor = self._cursor
        if cursor is not None:
            rows = sum(len(state.rows) for state in cursor.states.values())
            if rows > KEEP_CURSOR_ROWS:
                self._cursor = None


class RefusalRows:
    """The refusal panel's rows at any position, from the timeline's `refusals_at`.

    The same rows object comes back until a move crosses a refusal, so frames compare
    them by identity. Not thread-safe: the session locks.
    """

    def __init__(self, timeline: Timeline) -> None:
        self._timeline = timeline
        self._last: tuple[tuple[Refusal, ...], Rows] = ((), {})
        self.limit = REFUSAL_ROWS
        """How many of the latest refusals frames carry; `more` raises it on demand."""

    def rows_at(self, position: int) -> Rows:
        """The latest `limit` refusals recorded while the head was <= `position`."""
        found = self._timeline.refusals_at(position, self.limit)
        if found is not self._last[0]:
            self._last = (found, {str(r.id): r.to_json_dict() for r in found})
        return self._last[1]

    def load(self) -> None:
        """Read every refusal into memory (once; then only new ones are read)."""
        self._timeline.refusal_log.load()

    def total_at(self, position: int) -> int:
        """How many refusals were recorded while the head was <= `position`."""
        return self._timeline.refusal_log.count_at(position)

    def more(self) -> None:
        """Carry `REFUSAL_ROWS` more (older) refusals in the next frames."""
        self.limit += REFUSAL_ROWS


class Frames:
    """Builds the frames the panels show, one at a time (the timeline's state is shared
    behind `lock`, so two workers never replay at once). Blocking; call from workers."""

    def __init__(
        self,
        timeline: Timeline,
        projections: Sequence[Projection],
        queries: Queries,
        read_side: ReadSide | None,
        lock: threading.Lock,
        calls: InFlight,
    ) -> None:
        self.projections = list(projections)
        self.read_side = read_side
        self.calls = calls
        self.store = queries.store
        self._queries = queries
        self._timeline = CursorTimeline(timeline)
        self._refusals = RefusalRows(timeline)
        self._lock = lock
        self._last: Frame | None = None
        self._cursor_frame: Frame | None = None

    @property
    def position(self) -> int | None:
        """The position of the last frame built (None before the first)."""
        last = self._last
        return last.position if last is not None else None

    @blocking
    def frame_at(self, position: int) -> Frame:
        """Every projection at `position` (from the timeline), with what changed since the
        last frame built.

        A step moves the cursor, which reports the rows it changed; a jump reads the
        state at `position` (a snapshot plus the events after it) and leaves the cursor
        where it was (or drops a big one), for `prepare_steps` to bring over when there
        is time.
        """
        with self._lock:
            self._refusals.load()
            last = self._last
            step = last is not None and is_step(last.position, position)
            if not (step or self._timeline.near(position)):
                # Free what the jump leaves behind (the frame copied from the cursor,
                # a big cursor) before `state_at` builds another whole state: at 10M
                # events each is ~55 MB. `prepare_steps` builds a cursor here.
                self._timeline.left_behind()
                self._cursor_frame = None
                return self._frame(position, self._timeline.state_at(position), None, "jump")
            states, touched = self._timeline.seek(position)
            if self._last is None or self._last is not self._cursor_frame:
                touched = None  # the cursor's changes are relative to its last frame only
            frame = self._frame(position, states, touched, "timeline")
            self._cursor_frame = frame
            return frame

    @blocking
    def warm_up(self) -> None:
        """Read what moving through the past needs (every refusal), in the background."""
        with self._lock:
            self._refusals.load()

    @blocking
    def more_refusals(self) -> None:
        """Let frames carry older refusals too: the panel asked for them (no silent cap)."""
        with self._lock:
            self._refusals.more()

    @blocking
    def steps_ready(self, position: int) -> bool:
        """True when a step from `position` will be cheap (the cursor is there)."""
        with self._lock:
            return self._timeline.near(position)

    @blocking
    def prepare_steps(self, position: int) -> None:
        """Move the stepping cursor to `position` (after a jump), so the next step is cheap."""
        with self._lock:
            if self._timeline.near(position):
                return
            self._timeline.seek(position)
            last = self._last
            if last is not None and last.position == position:
                # The jump's frame holds the same state as the cursor now does, so the
                # cursor's next changes apply to it.
                self._cursor_frame = last

    @blocking
    def live_frame(self) -> Frame:
        """The present as the panels show it when live: the read models at their checkpoint.

        Without a projector (read-only), or while the read models cannot be used (none
        yet, or written by other projection definitions and being rebuilt), the
        timeline's state at the head instead, so live panels are never wrongly empty.
        """
        read_side = self.read_side
        if read_side is None:
            return self.frame_at(self.store.head().position)
        models = read_side.read_models()
        if models.stale or (models.position == 0 and self.store.head().position > 0):
            return self.frame_at(self.store.head().position)
        with self._lock:
            touched = live_changes(self._last, models.position, read_side.changes, self.projections)
            return self._frame(models.position, models.states, touched, "read_models")

    def _frame(
        self,
        position: int,
        states: StateMap,
        touched: Mapping[str, set[str] | None] | None,
        source: FrameSource | Literal["jump"],
    ) -> Frame:
        """A frame of `states` at `position`, compared with the last frame built.

        `touched` names the rows that can differ from the last frame (None: compare all;
        a projection named with None: compare all of its rows).
        The cursor's states are its working copy, so their rows are copied; a jump's
        states and the read models are freshly built and kept as they are.
        """
        copy = source == "timeline"
        source = "timeline" if source == "jump" else source
        last = self._last
        rows: dict[str, Rows] = {}
        changes: dict[str, RowChanges] = {}
        for projection in self.projections:
            name = projection.name
            live = states[name].rows
            before = last.rows.get(name) if last is not None else None
            if before is None:
                rows[name] = {k: dict(v) for k, v in live.items()} if copy else dict(live)
                continue
            keys = touched.get(name, set()) if touched is not None else None
            if keys is not None:
                if not keys:
                    rows[name] = dict(before)
                    continue
                fresh = dict(before)
                for key in keys:
                    if key in live:
                        fresh[key] = dict(live[key])
                    else:
                        fresh.pop(key, None)
                rows[name] = fresh
            else:
                rows[name] = {k: dict(v) for k, v in live.items()} if copy else dict(live)
            found = compare_rows(before, rows[name], keys)
            if found:
                changes[name] = found
        refused = self._refusals.rows_at(position)
        rows[REFUSALS] = refused
        if last is not None and last.rows.get(REFUSALS, refused) is not refused:
            found = compare_rows(last.rows[REFUSALS], refused)
            if found:
                changes[REFUSALS] = found
        since = last.position if last is not None else None
        if last is not None and last.position == position and not changes:
            # Shown again unchanged (another commit woke the panels): keep what the
            # move here lit, rather than clear it.
            changes, since = dict(last.changes), last.since
        frame = Frame(
            position=position,
            event=self._queries.event(position),
            rows=rows,
            changes=changes,
            since=since,
            source=source,
            refusals_total=self._refusals.total_at(position),
        )
        self._last = frame
        return frame
