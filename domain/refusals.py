"""Refused commands on the read side: counted per actor, merged in at read time.

A refusal is not an event, so no fold ever sees one: it sits in the store's refusals
table with `at_position`, the head when it was refused. A projection that shows
refusals (the ledger's `actor_activity`) folds events as usual and implements
`merge_refusals`, which overlays per-actor tallies onto a *copy* of its state when
the state is read. The overlay is exact for any position P, since the refusals to
count are those with `at_position <= P`, and it keeps the fold itself pure, so
snapshots, diffs and lineage never depend on the refusals table.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from domain.envelope import Refusal
from domain.projection import ProjectionState

if TYPE_CHECKING:
    from domain.ports import EventStore


@dataclass(frozen=True, slots=True)
class RefusalTally:
    """One actor's refused commands up to a position: how many, first and last time."""

    count: int
    first_at: str
    last_at: str


@runtime_checkable
class MergesRefusals(Protocol):
    """A projection that shows refused commands next to what its events say."""

    def merge_refusals(
        self, state: ProjectionState, tallies: Mapping[str, RefusalTally]
    ) -> ProjectionState:
        """`state` with `tallies` (by actor) overlaid; `state` itself is left untouched."""
        ...


class RefusalIndex:
    """Every refusal's (at_position, recorded_at) by actor, for tallies at any position.

    Loaded once from the store and topped up by `refresh()`, which reads only the
    refusals newer than the last one seen (refusal ids only grow). A tally is a
    bisect per actor, so overlaying refusals costs microseconds per read.
    """

    def __init__(self, lock: Callable[[], AbstractContextManager[Any]] = nullcontext) -> None:
        # Per actor: at_positions ascending, and the running min / max of recorded_at
        # over that order (first and last seen), so a tally needs no scan.
        self._positions: dict[str, list[int]] = {}
        self._times: dict[str, list[str]] = {}
        self._first: dict[str, list[str]] = {}
        self._last: dict[str, list[str]] = {}
        self._last_id = 0
        self.count = 0
        """How many refusals are indexed."""
        # Several worker threads may refresh and read one index: its owner then passes
        # a real (reentrant) lock.
        self._lock = lock()

    def add(self, refusals: Iterable[Refusal]) -> None:
        """Index refusals, given oldest first (ids ascending)."""
        with self._lock:
            self._add(refusals)

    def _add(self, refusals: Iterable[Refusal]) -> None:
        for refusal in refusals:
            actor, at, when = refusal.actor, refusal.at_position, refusal.recorded_at
            positions = self._positions.setdefault(actor, [])
            times = self._times.setdefault(actor, [])
            first = self._first.setdefault(actor, [])
            last = self._last.setdefault(actor, [])
            if positions and at < positions[-1]:
                # at_position is the head when refused, so it never decreases with the
                # id; only an odd import gets here, and rebuilding one actor is fine.
                self._insert(actor, at, when)
            else:
                positions.append(at)
                times.append(when)
                first.append(min(first[-1], when) if first else when)
                last.append(max(last[-1], when) if last else when)
            self._last_id = max(self._last_id, refusal.id)
            self.count += 1

    def _insert(self, actor: str, at: int, when: str) -> None:
        pairs = list(zip(self._positions[actor], self._times[actor], strict=True))
        pairs.append((at, when))
        pairs.sort(key=lambda pair: pair[0])
        positions: list[int] = []
        times: list[str] = []
        first: list[str] = []
        last: list[str] = []
        for position, moment in pairs:
            positions.append(position)
            times.append(moment)
            first.append(min(first[-1], moment) if first else moment)
            last.append(max(last[-1], moment) if last else moment)
        self._positions[actor], self._times[actor] = positions, times
        self._first[actor], self._last[actor] = first, last

    def refresh(self, store: EventStore) -> bool:
        """Read the refusals recorded since the last refresh; True when there were any."""
        with self._lock:
            # Newest first: one row answers "anything new?", then read in growing pages.
            limit = 1
            while True:
                newest = store.refusals(limit=limit)
                if len(newest) < limit or newest[-1].id <= self._last_id:
                    break
                limit = 64 if limit == 1 else limit * 4
            fresh = [r for r in reversed(newest) if r.id > self._last_id]
            self._add(fresh)
            return bool(fresh)

    def tallies(self, position: int) -> dict[str, RefusalTally]:
        """Per actor, the refusals with `at_position <= position` (actors with none omitted)."""
        result: dict[str, RefusalTally] = {}
        with self._lock:
            for actor, positions in self._positions.items():
                count = bisect_right(positions, position)
                if count:
                    result[actor] = RefusalTally(
                        count, self._first[actor][count - 1], self._last[actor][count - 1]
                    )
        return result
