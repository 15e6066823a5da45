"""Real time for `eventscope simulate`: waits that Ctrl+C cuts short.

The domain's simulation never sleeps or handles signals; it is handed `pace(seconds)`,
`monotonic()` and `stop()`. `CtrlCStops` provides them: while it is active, SIGINT
sets a flag instead of raising KeyboardInterrupt, so the command being sent completes,
the current wait ends at once, and the run returns the stats so far.
"""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType, TracebackType
from typing import Any


class CtrlCStops:
    """A context in which Ctrl+C (SIGINT) asks a paced run to stop."""

    monotonic = staticmethod(time.monotonic)

    def __init__(self) -> None:
        self._stopped = threading.Event()
        self._previous: Any = None

    def __enter__(self) -> CtrlCStops:
        self._previous = signal.signal(signal.SIGINT, self._on_sigint)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        signal.signal(signal.SIGINT, self._previous)

    def _on_sigint(self, signum: int, frame: FrameType | None) -> None:
        self._stopped.set()

    def pace(self, seconds: float) -> None:
        """Wait `seconds`, or less if Ctrl+C comes first."""
        self._stopped.wait(seconds)

    def stopped(self) -> bool:
        """True once Ctrl+C was pressed."""
        return self._stopped.is_set()
