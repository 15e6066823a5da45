"""The app's hooks into its projector: a delay a trainer can set, and the changed rows.

`ProjectorDelay` holds the in-app projector back (`--projector-delay MS`, or the
palette while the app runs), so a room sees a command accepted, the header's
"catching up", the panels' "updating…", and then the read models arriving. It holds
only the fold: what is recorded never waits. Setting 0 wakes a hold at once.

`ChangeJournal` keeps, per folded batch, which rows of which projection changed (the
projector knows), so a live frame compares only those rows with the frame before.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from domain.errors import InvalidInput
from store.projector.hooks import FollowHooks

MAX_DELAY_MS = 60_000
"""The longest hold: a minute is plenty to show, and far less than a forgotten setting costs."""
JOURNAL_BATCHES = 256
"""How many recent batches the journal remembers (older gaps compare every row)."""


def checked_delay(ms: int) -> int:
    """`ms` if it is a delay the projector can hold (0..MAX_DELAY_MS), else InvalidInput."""
    if not 0 <= ms <= MAX_DELAY_MS:
        raise InvalidInput(
            f"projector delay must be 0 to {MAX_DELAY_MS} ms, not {ms}; e.g. --projector-delay 3000"
        )
    return ms


class ProjectorDelay:
    """How long the projector waits after seeing new events before it folds them."""

    def __init__(self, ms: int = 0, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._ms = checked_delay(ms)
        self._clock = clock
        self._changed = threading.Condition()
        self.holding = False
        """True while the projector waits here (tests and the flow view read it)."""

    @property
    def ms(self) -> int:
        """The delay now, in milliseconds (0: none)."""
        return self._ms

    def set(self, ms: int) -> None:
        """Use `ms` from now on; a hold in progress re-measures (0 ends it at once)."""
        with self._changed:
            self._ms = checked_delay(ms)
            self._changed.notify_all()

    def wake(self) -> None:
        """End a hold in progress early (the app is closing)."""
        with self._changed:
            self._changed.notify_all()

    def hold(self, stop: threading.Event) -> None:
        """Wait the delay (from now), unless it changes to less or `stop` is set."""
        with self._changed:
            start = self._clock()
            self.holding = True
            try:
                while not stop.is_set():
                    remaining = start + self._ms / 1000 - self._clock()
                    if remaining <= 0:
                        return
                    self._changed.wait(remaining)
            finally:
                self.holding = False


class ChangeJournal:
    """Rows each recent batch changed, by projection; safe to use from any thread."""

    def __init__(self, batches: int = JOURNAL_BATCHES) -> None:
        self._batches: deque[tuple[int, int, dict[str, frozenset[str]]]] = deque(maxlen=batches)
        self._lock = threading.Lock()

    def add(self, first: int, last: int, changed: Mapping[str, set[str]]) -> None:
        """Events `first`..`last` changed these rows."""
        frozen = {name: frozenset(keys) for name, keys in changed.items()}
        with self._lock:
            self._batches.append((first, last, frozen))

    def between(self, since: int, to: int) -> dict[str, set[str]] | None:
        """Every row changed by the events after `since` up to `to`, by projection; None
        when the journal cannot say (a gap: another projector, a rebuild, too long ago;
        or no move at all, where only a full comparison sees a rebuild in place)."""
        if to <= since:
            return None
        with self._lock:
            batches = [b for b in self._batches if b[1] > since and b[0] <= to]
        expected = since + 1
        found: dict[str, set[str]] = {}
        for first, last, changed in batches:
            if first != expected or last > to:
                return None
            for name, keys in changed.items():
                found.setdefault(name, set()).update(keys)
            expected = last + 1
        return found if expected == to + 1 else None


class ReadSideHooks(FollowHooks):
    """The delay and the journal, as the projector's `follow` calls them."""

    def __init__(self, delay: ProjectorDelay, journal: ChangeJournal) -> None:
        self.delay = delay
        self.journal = journal
        self._started = False

    def hold(self, stop: threading.Event) -> None:
        if self._started:
            self.delay.hold(stop)
        self._started = True  # the first look (start-up) is never held: only new events

    def batch_folded(self, first: int, last: int, changed: Mapping[str, set[str]]) -> None:
        self.journal.add(first, last, changed)
