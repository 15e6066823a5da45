"""The one replay loop: read events, upcast those stored at an older schema, fold them.

Every fold of stored events into projections goes through `fold` (seeking, stepping
and lineage alike), so an upcast is never forgotten and a failing projection always
reports which event and which projection (`domain.fold_failure`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from typing import Any

from domain.envelope import RecordedEvent
from domain.fold_failure import fold_failed
from domain.model import EventCatalog
from domain.projection import Projection, ProjectionState

Progress = Callable[[int, int], None]
"""`progress(done, total)`, called now and then during long replays."""

Keys = Any
"""What a projection's `apply` returns: the keys of the rows it changed."""


_pause: Callable[[], AbstractContextManager[None]] = nullcontext


def pause_collector_with(factory: Callable[[], AbstractContextManager[None]]) -> None:
    """Set what a decode or replay runs inside (the composition root passes
    `store.collector.collector_paused`; the domain itself switches nothing)."""
    global _pause
    _pause = factory


def gc_paused() -> AbstractContextManager[None]:
    """The context a decode or replay runs in: by default nothing; see `pause_collector_with`."""
    return _pause()


class HistoryChanged(Exception):
    """The event under a snapshot is not the one it was taken after."""


class Upcaster:
    """Lifts events stored at an older schema version to their type's current one."""

    def __init__(self, catalog: EventCatalog | None) -> None:
        self.catalog = catalog
        self.current: dict[str, int] = (
            {name: model.schema_version for name, model in catalog.types.items()}
            if catalog is not None
            else {}
        )

    def __call__(self, event: RecordedEvent) -> RecordedEvent:
        """`event` with its data lifted to the current schema version of its type."""
        if self.catalog is None or event.type not in self.current:
            return event
        target = self.current[event.type]
        if event.schema_version == target:
            return event
        data = self.catalog.upcast(event.type, event.schema_version, dict(event.data))
        return replace(event, data=data, schema_version=target)

    def each(self, events: Iterable[RecordedEvent]) -> Iterator[RecordedEvent]:
        """`events`, each upcast when stored at an older schema version."""
        current = self.current
        for event in events:
            if event.schema_version != current.get(event.type, event.schema_version):
                event = self(event)
            yield event


def fold(
    events: Iterable[RecordedEvent],
    upcast: Upcaster,
    projections: Sequence[Projection],
    states: Sequence[ProjectionState],
) -> Iterator[tuple[RecordedEvent, list[Keys]]]:
    """Upcast each event and fold it into `states` (one per projection, in place).

    Yields each event (upcast) with, per projection, the keys of the rows it changed.
    A projection that raises (bad stored data or a bug) becomes one `ProjectionFailed`
    naming the event and the projection.
    """
    pairs = [(p.apply, state) for p, state in zip(projections, states, strict=True)]
    current = upcast.current
    for event in events:
        apply: Any = None
        changed: list[Keys] = []
        try:
            if event.schema_version != current.get(event.type, event.schema_version):
                event = upcast(event)
            for apply, state in pairs:
                changed.append(apply(state, event))
        except Exception as exc:  # bad stored data or a projection bug: one line, no trace
            raise fold_failed(event, projections, pairs, apply, exc) from exc
        yield event, changed
