"""A seek's tail folded from narrow rows: the projector's loop, for the timeline.

`domain.timeline.tail` says why. `LeanTail` reads the events after a snapshot with
only the columns the folds declare (`DomainDescription.event_reads`, combined over
the timeline's projections) and folds them with `store.replay.fold_rows`, the
rebuild's loop, whose read models `tests/integration/test_fused_rebuild.py` holds
identical to a plain replay. `lean_tail` builds one where the store can read narrow
rows (`domain.ports.SelectsFoldFields`: SQLite and PostgreSQL), and gives None
elsewhere (the in-memory store; the timeline then folds full events).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from domain.model import EventCatalog
from domain.ports import EventStore
from domain.ports.projections import SelectsFoldFields
from domain.projection import EventReads, Projection, StateMap, combined_reads
from domain.timeline.tail import TailFold
from store.replay import FoldFailure, fold_rows


class LeanTail:
    """Folds `after` < position <= `to` from narrow rows of `rows` into states."""

    def __init__(
        self,
        rows: SelectsFoldFields,
        projections: Sequence[Projection],
        catalog: EventCatalog,
        reads: EventReads,
    ) -> None:
        self.rows = rows
        self.projections = tuple(projections)
        self.catalog = catalog
        self.reads = reads

    def __call__(self, states: StateMap, after: int, to: int) -> None:
        """Fold the events after `after` up to `to` into `states` (in place)."""
        if to <= after:
            return
        fields = self.reads.fields
        rows = self.rows.fold_rows_reading(after, to - after, fields)
        if rows and rows[-1][0] > to:  # positions are gap-free; never fold past `to`
            rows = [row for row in rows if row[0] <= to]
        try:
            fold_rows(
                rows, self.projections, states, self.catalog, reads=self.reads, selected=fields
            )
        except FoldFailure as failure:
            raise failure.error from failure.__cause__


def lean_tail(
    store: EventStore,
    projections: Sequence[Projection],
    catalog: EventCatalog | None,
    declared: Mapping[str, EventReads],
) -> TailFold | None:
    """A `LeanTail` over `store` for `projections` (their reads as `declared`, by name;
    undeclared ones read everything), or None when `store` cannot read narrow rows or
    there is no catalog to upcast with."""
    if catalog is None or not isinstance(store, SelectsFoldFields):
        return None
    return LeanTail(store, projections, catalog, combined_reads(projections, declared))
