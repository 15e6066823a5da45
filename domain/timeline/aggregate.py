"""Aggregate history: one stream folded by its aggregate type, event by event.

The one implementation behind `Timeline.aggregate_at` (the CLI's `aggregate`) and
the app's aggregate history screen. Events are decoded (and upcast) by the domain's
catalog and evolved by the aggregate, exactly as the command handlers see them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from domain.envelope import RecordedEvent
from domain.errors import InvalidInput
from domain.model import DomainModel
from domain.ports import EventStore


@dataclass(frozen=True)
class AggregateAt:
    """One aggregate as its stream's events left it at some version."""

    stream_id: str
    version: int
    """The version folded to (0: no event yet)."""
    position: int
    """The global position of the last event folded (0: none)."""
    recorded_at: str
    state: Any
    event: RecordedEvent | None = None
    """The last event folded (None: none)."""


def aggregate_history(
    store: EventStore,
    model: DomainModel,
    stream_id: str,
    version: int | None = None,
    *,
    position: int | None = None,
) -> list[AggregateAt]:
    """The aggregate before any event, then after each event of `stream_id`, up to
    `version` (the latest: None) and not past global `position`."""
    if version is not None and version < 0:
        raise InvalidInput(f"version must be 0 or more, got {version}")
    events = store.read_stream(stream_id, to_version=version)
    if position is not None:
        events = [e for e in events if e.position <= position]
    aggregate = (
        model.aggregate_for(events[0].stream_type)
        if events
        else _aggregate_by_prefix(model, stream_id)
    )
    state = aggregate.initial()
    history = [AggregateAt(stream_id, 0, 0, "", state)]
    for recorded in events:
        event = model.catalog.decode(recorded.type, recorded.schema_version, recorded.data)
        state = aggregate.evolve(state, event)
        history.append(
            AggregateAt(
                stream_id,
                recorded.version,
                recorded.position,
                recorded.recorded_at,
                state,
                recorded,
            )
        )
    return history


def _aggregate_by_prefix(model: DomainModel, stream_id: str) -> Any:
    for aggregate in model.aggregates:
        if stream_id.startswith(f"{aggregate.stream_type}-"):
            return aggregate
    raise InvalidInput(f"no aggregate of {model.name} has streams named like {stream_id!r}")
