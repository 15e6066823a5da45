"""The app's read side: a projector following the store in a background thread.

While the app is open (and not read-only) it keeps the persisted read models current
itself, so the live panels never depend on another process running `eventscope
project --follow`. When such a process already holds the projector's lease, ours is
a follower: it only watches, and takes over if the other one stops.

The thread calls `Projector.follow` with a stop event; `stop()` sets it, waits for the
thread, and closes the projector (which gives the lease up at once, so another
projector need not wait for it to lapse). Everything here is Textual-free: the app
hears about progress through the `on_status` callback, from the projector's thread.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import replace

from domain.errors import DomainError
from store.projector import Projector, ProjectorStatus, ReadModels
from tui.services.read_side_hooks import ChangeJournal, ProjectorDelay, ReadSideHooks

StatusListener = Callable[[ProjectorStatus], None]
"""Called from the projector's thread whenever its status changes."""

POLL_SECONDS = 0.05
"""How often the projector looks at SQLite's `data_version` for new commits."""
STOP_SECONDS = 5.0
"""How long `stop()` waits for a batch in progress to commit."""


class ReadSide:
    """One projector, following in its own thread from `start()` until `stop()`."""

    def __init__(
        self, projector: Projector, *, poll_seconds: float = POLL_SECONDS, delay_ms: int = 0
    ) -> None:
        self.projector = projector
        self.poll_seconds = poll_seconds
        self.delay = ProjectorDelay(delay_ms)
        """How long the projector waits before folding new events (`--projector-delay`)."""
        self.changes = ChangeJournal()
        """The rows each folded batch changed (live frames compare only those)."""
        projector.hooks = ReadSideHooks(self.delay, self.changes)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._listener: StatusListener | None = None
        self._last: ProjectorStatus | None = None
        self._closed = False

    def start(self, on_status: StatusListener | None = None) -> None:
        """Start following in a daemon thread; `on_status` hears every change."""
        if self._thread is not None or self._closed:
            return
        self._listener = on_status
        self._thread = threading.Thread(
            target=self._follow, name="eventscope-projector", daemon=True
        )
        self._thread.start()

    def _follow(self) -> None:
        try:
            self.projector.follow(self.poll_seconds, self._stop, on_status=self._report)
        except Exception as exc:
            # Reported, never lost (a thread's traceback would land in the middle of
            # the terminal the app draws on). `follow` reported a projection failure
            # before raising; anything else (the file vanished, the disk is full) is
            # reported here. Either way the projector stops, and the header says so.
            status = self._safe_status()
            if status is None or not status.error:
                base = (
                    status
                    or self._last
                    or ProjectorStatus(
                        name=self.projector.name,
                        checkpoint=0,
                        head=0,
                        role="follower",
                        lease_owner=None,
                        lease_expires_at=None,
                    )
                )
                status = replace(base, error=str(exc) or type(exc).__name__)
            self._report(status)

    def _report(self, status: ProjectorStatus) -> None:
        self._last = status
        if self._listener is not None and not self._stop.is_set():
            self._listener(status)

    def _safe_status(self) -> ProjectorStatus | None:
        try:
            return self.projector.status()
        except DomainError:
            return None

    def status(self) -> ProjectorStatus:
        """The projector's status, read now (any thread)."""
        return self.projector.status()

    def read_models(self) -> ReadModels:
        """Every projection's persisted rows, refusals overlaid, at one checkpoint."""
        return self.projector.read_models()

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until the read models reflect `position` (False on timeout or failure)."""
        return self.projector.wait_for(position, timeout)

    def halt(self) -> None:
        """Ask the projector's thread to stop following (it ends its batch); `stop`
        then waits for it."""
        self._stop.set()
        self.delay.wake()

    def stop(self, timeout: float = STOP_SECONDS, *, close: bool = True) -> None:
        """Stop following, wait for the thread, release the lease and close.

        With `close` False (a call of another thread may still be reading the read
        models through its own connection) only the lease is given up: closing every
        thread's connection under a running query can crash the process.
        """
        if self._closed:
            return
        self._closed = True
        self.halt()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)
        if thread is None or not thread.is_alive():
            with contextlib.suppress(DomainError):
                if close:
                    self.projector.close()
                else:
                    self.projector.release()
        # A thread still inside a long batch is a daemon: it ends with the process,
        # and its lease lapses on its own.
