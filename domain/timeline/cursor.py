"""Stepping: a cursor that moves one event at a time in microseconds, either way.

See `domain.timeline` for how the window and its journal of row images work.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from domain.envelope import RecordedEvent
from domain.errors import InvalidInput
from domain.projection import Row, StateMap
from domain.timeline.diff import changed_keys
from domain.timeline.replay import fold, gc_paused

if TYPE_CHECKING:
    from domain.timeline.seek import Timeline

WINDOW = 4096
"""The most events a cursor journals before dropping the oldest half."""

SEEK_JOURNAL = 64
"""How many events before its target a jump journals, so the first steps back are free."""

READ_AHEAD = 32
"""Events a cursor reads beyond the one it needs when it steps forward."""

BACK_JOURNAL = 512
"""How many events a window rebuilt by stepping back past its start journals."""

_MISSING: Any = object()

Entry = tuple[str, str, Row | None, Row | None]
"""A journaled row change: (projection name, row key, row before, row after)."""


@dataclass(frozen=True)
class Move:
    """Where a cursor moved, and which rows differ from where it was."""

    position: int
    previous: int
    event: RecordedEvent | None
    """The event at `position` (None at 0)."""
    changed: dict[str, frozenset[str]]
    """Per projection with any, the keys of rows that differ from `previous`."""


class Cursor:
    """A position on the timeline that moves cheaply, keeping its state as it goes.

    `states` are every projection's rows at `position`, refusals overlaid. Moves
    return which rows changed, for highlighting. Not thread-safe: one cursor per
    worker.
    """

    def __init__(
        self,
        timeline: Timeline,
        position: int,
        *,
        window: int = WINDOW,
        seek_journal: int = SEEK_JOURNAL,
    ) -> None:
        if window < 2 or seek_journal < 1:
            raise InvalidInput("a cursor needs window >= 2 and seek_journal >= 1")
        self.timeline = timeline
        self.window = window
        """The most events journaled before the oldest half is dropped."""
        self.seek_journal = seek_journal
        """How many events before its target a jump journals."""
        self._back_journal = max(seek_journal, min(BACK_JOURNAL, window // 2))
        self._names = [p.name for p in timeline.projections]
        self._merging = {p.name for p in timeline._merging}
        self._head = timeline.head()
        self._work: StateMap = {}
        self._view: StateMap = {}
        self._base: dict[str, dict[str, Row]] = {}
        self._latest: dict[str, dict[str, Row | None]] = {}
        self._journal: list[list[Entry]] = []
        self._events: list[RecordedEvent] = []
        self._ahead: list[RecordedEvent] = []
        self._lo = self._front = self._q = 0
        self._edge_event: RecordedEvent | None = None
        with gc_paused():
            self._build(timeline._clamp(position, self._head), self.seek_journal)
        self._view = timeline.present(self._work, self._q)

    # -- what it shows --------------------------------------------------------------------

    @property
    def position(self) -> int:
        """Where the cursor is."""
        return self._q

    @property
    def head(self) -> int:
        """The head as last seen by the cursor (`refresh()` looks again)."""
        return self._head

    @property
    def states(self) -> StateMap:
        """Every projection's state at `position` (rows exact; treat as read-only)."""
        return self._view

    @property
    def event(self) -> RecordedEvent | None:
        """The event at `position` (None at 0)."""
        return self._event_at(self._q)

    def refresh(self) -> int:
        """Look for new events and refusals; returns the head."""
        self._head = self.timeline.head()
        self.timeline.refresh()
        self._view = self.timeline.present(self._work, self._q, refresh=False)
        return self._head

    # -- moving ---------------------------------------------------------------------------

    def step(self, delta: int = 1) -> Move:
        """Move `delta` events (negative: back), stopping at 0 and at the head."""
        return self.seek(self._q + delta)

    def seek(self, position: int) -> Move:
        """Move to `position` (clamped to 0..head), by the cheapest route."""
        with gc_paused():
            return self._seek(position)

    def _seek(self, position: int) -> Move:
        if position < 0:
            position = 0
        if position > self._head:
            self._head = self.timeline.head()
        target = min(position, self._head)
        previous = self._q
        if target == previous:
            return Move(target, previous, self._event_at(target), {})
        # Merged rows are rebuilt on every move, so compare those in full, from copies.
        merged_before = {
            n: {k: dict(r) for k, r in self._view[n].rows.items()} for n in self._merging
        }
        if self._lo <= target <= self._front:
            touched = self._walk(target)
        elif target > self._front and target - self._front <= self.timeline.cadence:
            touched = self._walk(self._front)
            touched = self._extend(target, touched)
        else:
            old_rows = {n: self._work[n].rows for n in self._names}
            backwards = target < self._lo
            self._build(target, self._back_journal if backwards else self.seek_journal)
            self._view = self.timeline.present(self._work, target, refresh=False)
            jumped = {
                n: changed_keys(merged_before.get(n, old_rows[n]), self._view[n].rows)
                for n in self._names
            }
            return Move(
                target, previous, self._event_at(target), {n: k for n, k in jumped.items() if k}
            )
        self._view = self.timeline.present(self._work, target, refresh=False)
        changed: dict[str, set[str]] = {}
        for (name, key), before in touched.items():
            if name in self._merging:
                continue
            if before != self._work[name].rows.get(key):
                changed.setdefault(name, set()).add(key)
        for name in self._merging:
            keys = changed_keys(merged_before[name], self._view[name].rows)
            if keys:
                changed[name] = set(keys)
        return Move(
            target,
            previous,
            self._event_at(target),
            {n: frozenset(k) for n, k in changed.items()},
        )

    # -- the window -----------------------------------------------------------------------

    def _build(self, target: int, journal: int) -> None:
        """A fresh window of `journal` events ending at `target`, from the nearest snapshot.

        A jump journals `seek_journal` events (cheap; enough for the first steps
        back); stepping back out of a window journals more, as more steps back are
        likely, so such rebuilds stay rare.
        """
        timeline = self.timeline
        lo = max(0, target - journal)
        states = timeline.fold_to(lo)
        self._work = states
        # The rows at `lo`, as the "before" of each row's first change in the window.
        self._base = {n: {k: dict(r) for k, r in states[n].rows.items()} for n in self._names}
        self._latest = {n: {} for n in self._names}
        self._journal = []
        self._events = []
        self._ahead = []
        self._edge_event = None
        self._lo = self._front = self._q = lo
        self._extend(target, None)

    def _extend(
        self, target: int, touched: dict[tuple[str, str], Row | None] | None
    ) -> dict[tuple[str, str], Row | None]:
        """Fold events past the window's end up to `target`, journaling what changed.

        `touched` (unless None) collects each changed row's value before this move.
        """
        timeline = self.timeline
        work = self._work
        names = self._names
        states = [work[name] for name in names]
        base, latest = self._base, self._latest
        cadence = timeline.cadence
        saving = timeline.save_snapshots and timeline._trusted
        folding = fold(self._fetch(target), timeline._upcast, timeline.projections, states)
        for event, changed in folding:
            entries: list[Entry] = []
            for name, state, keys in zip(names, states, changed, strict=True):
                if not keys:
                    continue
                rows = state.rows
                seen = latest[name]
                for key in keys:
                    pre = seen.get(key, _MISSING)
                    if pre is _MISSING:
                        pre = base[name].get(key)
                    row = rows.get(key)
                    post = None if row is None else dict(row)
                    seen[key] = post
                    entries.append((name, key, pre, post))
                    if touched is not None and (name, key) not in touched:
                        touched[(name, key)] = pre
            self._journal.append(entries)
            self._events.append(event)
            self._front = self._q = event.position
            if (
                saving
                and event.position % cadence == 0
                and not timeline._has_snapshot(event.position)
            ):
                timeline._save(work, event)
        if len(self._journal) > self.window:
            self._slide(len(self._journal) - self.window // 2)
        return touched if touched is not None else {}

    def _fetch(self, target: int) -> Iterator[RecordedEvent]:
        """The events after the window's end up to `target`, read ahead in chunks."""
        position = self._front
        while position < target:
            if not self._ahead:
                # Read a little ahead (up to the head known), so holding -> costs one
                # query per READ_AHEAD steps.
                stop = max(target, min(self._head, position + READ_AHEAD))
                self._ahead = self.timeline.store.read_all(after=position, to=stop)
                self._ahead.reverse()
                if not self._ahead:
                    return
            event = self._ahead.pop()
            position = event.position
            yield event

    def _walk(self, target: int) -> dict[tuple[str, str], Row | None]:
        """Move inside the window by writing journaled rows back; returns rows touched
        with their values before the move."""
        work, journal, lo = self._work, self._journal, self._lo
        touched: dict[tuple[str, str], Row | None] = {}
        q = self._q
        if target > q:
            for index in range(q - lo, target - lo):
                for name, key, pre, post in journal[index]:
                    rows = work[name].rows
                    if post is None:
                        rows.pop(key, None)
                    else:
                        rows[key] = dict(post)
                    if (name, key) not in touched:
                        touched[(name, key)] = pre
        else:
            for index in range(q - lo - 1, target - lo - 1, -1):
                for name, key, pre, post in reversed(journal[index]):
                    rows = work[name].rows
                    if pre is None:
                        rows.pop(key, None)
                    else:
                        rows[key] = dict(pre)
                    if (name, key) not in touched:
                        touched[(name, key)] = post
        self._q = target
        return touched

    def _slide(self, drop: int) -> None:
        """Forget the oldest `drop` journaled events.

        The base needs no update: a row changed in the window has its latest image
        in `_latest`, which is where the next change's "before" is looked up first.
        """
        drop = min(drop, self._q - self._lo)
        if drop <= 0:
            return
        self._edge_event = self._events[drop - 1]
        del self._journal[:drop]
        del self._events[:drop]
        self._lo += drop

    def _event_at(self, position: int) -> RecordedEvent | None:
        if position <= 0:
            return None
        lo = self._lo
        if lo < position <= self._front:
            return self._events[position - lo - 1]
        if position == lo and self._edge_event is not None and self._edge_event.position == lo:
            return self._edge_event
        found = self.timeline.store.read_all(after=position - 1, to=position)
        event = self.timeline.upcast(found[0]) if found else None
        if position == lo:
            self._edge_event = event
        return event
