"""Why a fold of events into projection states stopped, said the same way everywhere.

The projector (`store.replay`), `state`, `diff` and the app's timeline all fold stored
events; an event a projection cannot apply (bad stored data, a projection bug) stops
the fold at that position with this one-line error, never a traceback.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.envelope import RecordedEvent
from domain.errors import DomainError
from domain.projection import Projection


class ProjectionFailed(DomainError):
    """A projection (or reading an event for it) raised: folding stopped there.

    The read model stays at the event before `position`; nothing after it is folded
    until the projection is fixed (its definition changes, so a rebuild follows) or
    the cause goes away.
    """

    code = "projection_failed"
    exit_code = 1

    def __init__(
        self, position: int, event_type: str, projection: str | None, cause: BaseException
    ) -> None:
        reason = f"{type(cause).__name__}: {cause}"
        if projection is None:
            what = f"reading event #{position} ({event_type}) failed"
        else:
            what = f"projection {projection} failed on event #{position} ({event_type})"
        super().__init__(f"{what}: {reason}; the read model stops at #{position - 1}")
        self.position = position
        self.event_type = event_type
        self.projection = projection


def fold_failed(
    event: RecordedEvent,
    projections: Sequence[Projection],
    pairs: Sequence[tuple[Any, Any]],
    apply: Any,
    cause: BaseException,
) -> ProjectionFailed:
    """The error for a fold that raised on `event`: in projection `apply` (one of `pairs`,
    in the order of `projections`), or while upcasting it before any projection ran."""
    names = [p.name for p, (fn, _) in zip(projections, pairs, strict=False) if fn is apply]
    return ProjectionFailed(event.position, event.type, names[0] if names else None, cause)
