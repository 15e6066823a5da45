"""In-flight tracking: the blocking calls still running, so closing can wait for them."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from domain.errors import StoreError

CLOSE_SECONDS = 5.0
"""How long closing waits for database calls still running in worker threads."""


_Method = TypeVar("_Method", bound=Callable[..., Any])


class InFlight:
    """Counts the session's blocking calls in progress, so closing can wait for them.

    Worker threads outlive the widgets that started them; closing the store under a
    query still running in one of them could crash the process.
    """

    def __init__(self) -> None:
        self._count = 0
        self._closed = False
        self._idle = threading.Condition()

    def __enter__(self) -> None:
        with self._idle:
            if self._closed:
                raise StoreError("the app is closing")
            self._count += 1

    def __exit__(self, *exc_info: object) -> None:
        with self._idle:
            self._count -= 1
            if not self._count:
                self._idle.notify_all()

    def stop_if_closing(self) -> None:
        """Raise StoreError once closing began: a long call (many queries) checks this
        between its queries, so quitting never waits for the rest of it."""
        if self._closed:
            raise StoreError("the app is closing")

    def close(self, timeout: float) -> bool:
        """Refuse new calls and wait for those running; False if some still run."""
        with self._idle:
            self._closed = True
            return self._idle.wait_for(lambda: not self._count, timeout)


class Tracked(Protocol):
    """A service whose blocking calls `calls` counts."""

    calls: InFlight


def blocking(method: _Method) -> _Method:
    """Mark a service method that reads or writes the database (tracked by `InFlight`)."""

    @functools.wraps(method)
    def tracked(self: Tracked, *args: Any, **kwargs: Any) -> Any:
        with self.calls:
            return method(self, *args, **kwargs)

    return tracked  # type: ignore[return-value]
