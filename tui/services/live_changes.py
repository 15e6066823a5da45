"""Which rows a live frame must compare: what the projector folded since the last frame.

The projector knows which rows each batch changed (`ChangeJournal`); a live frame
following a live frame then compares only those, not every row of every projection.
"""

from __future__ import annotations

from collections.abc import Sequence

from domain.projection import Projection
from domain.refusals import MergesRefusals
from tui.services.frames import Frame
from tui.services.read_side_hooks import ChangeJournal


def live_changes(
    last: Frame | None, position: int, journal: ChangeJournal, projections: Sequence[Projection]
) -> dict[str, set[str] | None] | None:
    """The rows that can differ between `last` and the read models at `position`.

    None (compare everything) unless `last` came from the read models and the journal
    covers every batch between. A projection that shows refusals is compared whole
    (None): a refusal changes its rows without any batch.
    """
    if last is None or last.source != "read_models":
        return None
    folded = journal.between(last.position, position)
    if folded is None:
        return None
    return {
        p.name: None if isinstance(p, MergesRefusals) else folded.get(p.name, set())
        for p in projections
    }
