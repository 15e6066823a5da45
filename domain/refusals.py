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
from itertools import accumulate, islice, pairwise
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from domain.envelope import Refusal, RefusalMark
from domain.projection import ProjectionState

if TYPE_CHECKING:
    from domain.ports import EventStore


@dataclass(frozen=True, slots=True)
class RefusalTally:
    """One actor's refused commands up to a position: how many, first and last time."""

    count: int
    first_at: str
    last_at: str


def _place(pair: tuple[int, str]) -> int:
    return pair[0]


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
    refusals with ids above the last one seen (refusal ids only grow), as
    `RefusalMark`s: no refused command is decoded. A tally is a bisect per actor, so
    overlaying refusals costs microseconds per read.
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

    def add(self, refusals: Iterable[Refusal | RefusalMark]) -> None:
        """Index refusals, given oldest first (ids ascending)."""
        with self._lock:
            self._add(refusals)

    def _add(self, refusals: Iterable[Refusal | RefusalMark]) -> None:
        fresh: dict[str, tuple[list[int], list[str]]] = {}
        last_id, added = self._last_id, 0
        for refusal in refusals:
            found = fresh.get(refusal.actor)
            if found is None:
                found = fresh[refusal.actor] = ([], [])
            found[0].append(refusal.at_position)
            found[1].append(refusal.recorded_at)
            if refusal.id > last_id:
                last_id = refusal.id
            added += 1
        for actor, (positions, times) in fresh.items():
            self._extend(actor, positions, times)
        self._last_id = last_id
        self.count += added

    def _extend(self, actor: str, positions: list[int], times: list[str]) -> None:
        """Append one actor's new refusals (oldest first), with first and last seen."""
        kept_positions = self._positions.setdefault(actor, [])
        kept_times = self._times.setdefault(actor, [])
        first = self._first.setdefault(actor, [])
        last = self._last.setdefault(actor, [])
        if all(a <= b for a, b in pairwise(kept_positions[-1:] + positions)):
            kept_positions.extend(positions)
            kept_times.extend(times)
            # `initial` carries on the running min / max; islice drops its echo.
            start_first, start_last = (first[-1], last[-1]) if first else (times[0], times[0])
            first.extend(islice(accumulate(times, min, initial=start_first), 1, None))
            last.extend(islice(accumulate(times, max, initial=start_last), 1, None))
            return
        # at_position is the head when refused, so it never decreases with the id; only
        # an odd import gets here, and rebuilding one actor is fine (a stable sort keeps
        # equal positions in id order).
        pairs = sorted(zip(kept_positions + positions, kept_times + times, strict=True), key=_place)
        self._positions[actor] = [position for position, _ in pairs]
        self._times[actor] = every = [moment for _, moment in pairs]
        self._first[actor] = list(accumulate(every, min))
        self._last[actor] = list(accumulate(every, max))

    def refresh(self, store: EventStore) -> bool:
        """Read the refusals recorded since the last refresh; True when there were any."""
        with self._lock:
            fresh = store.refusal_marks(after_id=self._last_id)
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
