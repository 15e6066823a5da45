"""A seek's tail folded by the store, from the columns the folds read.

A seek restores the nearest snapshot at or before P and folds the events after it up
to P: at most one cadence (1,023 events at the default). Built as full
`RecordedEvent`s (every column read and converted, both JSON texts decoded per event)
that tail costs about as much as the rest of the seek. A store that can hand over
narrow rows folds it faster with the projector's loop (`store.replay.fold_rows`):
only the columns the domain's folds declare (`DomainDescription.event_reads`),
identical JSON texts decoded once, upcasts only where a fold reads their effect.
The composition root injects such a fold (`store.timeline_tail.lean_tail`); without
one, the timeline folds full events (`domain.timeline.replay.fold`).

The timeline still checks the event under the snapshot (its hash) before the tail is
folded, and uses this only for a tail that passes no snapshot grid point, so that
saving snapshots stays with `Timeline.advance`.
"""

from __future__ import annotations

from typing import Protocol

from domain.projection import StateMap


class TailFold(Protocol):
    """Folds the events after `after` up to `to` into `states`, in place, as the
    timeline's own loop would (the same states; a failure is the same
    `domain.fold_failure.ProjectionFailed`)."""

    def __call__(self, states: StateMap, after: int, to: int) -> None:
        """Fold events `after` < position <= `to` into `states`."""
        ...
