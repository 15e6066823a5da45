"""What an app may add to a following projector, without the projector knowing the app.

`hold` runs when `follow` sees new commits, before it folds them: a trainer's
`--projector-delay` waits there, so the read models visibly lag the events (what is
recorded never waits). `batch_folded` hears, after each committed batch, which rows of
which projection the batch changed: the app's live panels then compare only those rows.
Both run on the projector's thread.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping


class FollowHooks:
    """No hold, no listener: the projector's defaults. Subclass to add either."""

    def hold(self, stop: threading.Event) -> None:
        """Called before folding new commits; return to fold them (or when `stop` is set)."""

    def batch_folded(self, first: int, last: int, changed: Mapping[str, set[str]]) -> None:
        """Events `first`..`last` are committed; `changed` names each projection's changed
        row keys (an empty set: none of its rows changed)."""
