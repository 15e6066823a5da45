"""Reports that pile up while the UI is busy collapse into the newest (toolong's rule)."""

from __future__ import annotations

from store.projector import ProjectorStatus
from tui.controllers.axis import AxisBuilt
from tui.controllers.live import HeadMoved, ReadSideChanged
from tui.services.types import TimeAxis


def _status(checkpoint: int, error: str | None = None) -> ProjectorStatus:
    return ProjectorStatus("read", checkpoint, 10, "leader", None, None, error=error)


def test_a_newer_projector_status_replaces_a_pending_one() -> None:
    assert ReadSideChanged(_status(3)).can_replace(ReadSideChanged(_status(4)))


def test_a_status_with_another_error_is_never_dropped() -> None:
    # The error is notified once when it first shows: that report must not be skipped.
    assert not ReadSideChanged(_status(3)).can_replace(ReadSideChanged(_status(3, "boom")))
    assert not ReadSideChanged(_status(3, "boom")).can_replace(ReadSideChanged(_status(4)))


def test_only_the_newest_axis_is_drawn() -> None:
    axis = TimeAxis(first="", last="", boundaries=(0,))
    assert AxisBuilt(axis).can_replace(AxisBuilt(axis))
    assert not AxisBuilt(axis).can_replace(HeadMoved(3))
