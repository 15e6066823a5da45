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
    """The latest refusals as of any position: their places in memory, rows on demand.

    Only each refusal's place, (at_position, id), is kept, read once as `RefusalMark`s
    and topped up; the `limit` refusals a frame shows are read from the store when a
    move crosses a refusal (the same tuple comes back until one does: callers may
    compare results by identity). Decoded, every refusal of the 10M-event demo
    (65,779) took most of the app's first paint and tens of MB. A refusal recorded
    later than the places were read has an `at_position` at or past the head of that
    time, so only points at or past it need to look for new ones. Not thread-safe:
    callers lock.
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._keys: list[tuple[int, int]] = []
        """Every refusal's (at_position, id), ascending."""
        self._max_id = 0
        self._read_at = -1
        """The head when the places were last brought up to date (-1: never read)."""
        self._last: tuple[int, int, tuple[Refusal, ...]] | None = None

    def latest(self, position: int, limit: int) -> tuple[Refusal, ...]:
        """The latest `limit` refusals with `at_position <= position`, newest first.

        Until `load()` has read the places, every new position asks the store (the
        first frame should not wait for every refusal).
        """
        key = -position - 1 if self._read_at < 0 else self.count_at(position)
        last = self._last
        if last is not None and last[:2] == (key, limit):
            return last[2]
        found = tuple(self._store.refusals(to_position=position, limit=limit))
        self._last = (key, limit, found)
        return found

    def count_at(self, position: int) -> int:
        """How many refusals have `at_position <= position` (until `load()`, the store
        counts them: the first frame should not wait for every refusal's place)."""
        if self._read_at < 0:
            return self._store.refusal_count(to_position=position)
        if position >= self._read_at:
            self._catch_up()
        return bisect.bisect_right(self._keys, (position, float("inf")))

    def load(self) -> None:
        """Read every refusal's place (once; then only new ones are read)."""
        if self._read_at < 0:
            self._catch_up()

    def _catch_up(self) -> None:
        head = self._store.head().position
        fresh = [(m.at_position, m.id) for m in self._store.refusal_marks(after_id=self._max_id)]
        if fresh:
            if len(fresh) < 64:
                for key in fresh:
                    bisect.insort(self._keys, key)
            else:
                self._keys.extend(fresh)
                self._keys.sort()
            self._max_id = max(self._max_id, max(key[1] for key in fresh))
            self._last = None
        self._read_at = head
