"""Refused commands at a point: those recorded while the head was at or before it.

A refusal is not an event (`domain.refusals`); its `at_position` is the head when it
was refused, so "the refusals at P" are those with `at_position <= P`. Two views:
`overlay` puts per-actor tallies onto the projections that show refusals (the timeline
and the projector both call it), and `RefusalLog` lists the latest refusals at any
point (the app's refusal panel).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping

from domain.envelope import Refusal
from domain.ports import EventStore
from domain.projection import Projection, StateMap
from domain.refusals import MergesRefusals, RefusalTally


def overlay(
    projections: Iterable[Projection], states: StateMap, tallies: Mapping[str, RefusalTally]
) -> StateMap:
    """`states` with `tallies` merged into each projection that shows refusals.

    Only those projections get new state objects; the others are `states`' own.
    """
    shown = dict(states)
    for projection in projections:
        if projection.name in states and isinstance(projection, MergesRefusals):
            shown[projection.name] = projection.merge_refusals(states[projection.name], tallies)
    return shown


class RefusalLog:
    """The latest refusals as of any position, from one list kept in memory.

    Refusals are few next to events (~7,000 in the 1M-event demo), and one recorded
    later than the list was read has an `at_position` at or past the head of that
    time, so only points at or past it need to look for new ones. A lookup is then
    a bisect, and the same tuple comes back until a move crosses a refusal (callers
    may compare results by identity). Not thread-safe: callers lock.
    """

    TOP_UP = 64

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._items: list[Refusal] = []
        """Every refusal, by (at_position, id)."""
        self._max_id = 0
        self._keys: list[tuple[int, int]] = []
        self._read_at = -1
        """The head when the list was last brought up to date (-1: never read)."""
        self._last: tuple[int, int, tuple[Refusal, ...]] | None = None

    def latest(self, position: int, limit: int) -> tuple[Refusal, ...]:
        """The latest `limit` refusals with `at_position <= position`, newest first.

        Until `load()` has read the list, the store answers for just those (the first
        frame should not wait for every refusal).
        """
        if self._read_at < 0:
            key = -position - 1
            last = self._last
            if last is not None and last[:2] == (key, limit):
                return last[2]
            found = tuple(self._store.refusals(to_position=position, limit=limit))
            self._last = (key, limit, found)
            return found
        if position >= self._read_at:
            self._catch_up()
        count = bisect.bisect_right(self._keys, (position, float("inf")))
        last = self._last
        if last is not None and last[:2] == (count, limit):
            return last[2]
        found = tuple(reversed(self._items[max(0, count - limit) : count]))
        self._last = (count, limit, found)
        return found

    def count_at(self, position: int) -> int:
        """How many refusals have `at_position <= position` (reads the list if unread)."""
        if self._read_at < 0 or position >= self._read_at:
            self._catch_up()
        return bisect.bisect_right(self._keys, (position, float("inf")))

    def load(self) -> None:
        """Read every refusal into memory (once; then only new ones are read)."""
        if self._read_at < 0:
            self._catch_up()

    def _catch_up(self) -> None:
        head = self._store.head().position
        if self._read_at < 0:
            self._load()
        else:
            newest = self._store.refusals(limit=self.TOP_UP)
            fresh = [r for r in newest if r.id > self._max_id]
            if len(fresh) == len(newest) == self.TOP_UP:
                self._load()
            elif fresh:
                for refusal in reversed(fresh):
                    key = (refusal.at_position, refusal.id)
                    index = bisect.bisect_right(self._keys, key)
                    self._keys.insert(index, key)
                    self._items.insert(index, refusal)
                self._max_id = max(r.id for r in fresh)
                self._last = None
        self._read_at = head

    def _load(self) -> None:
        items = sorted(self._store.refusals(), key=lambda r: (r.at_position, r.id))
        self._items = items
        self._keys = [(r.at_position, r.id) for r in items]
        self._max_id = max((r.id for r in items), default=0)
        self._last = None
