"""Upcasters lift an event stored at an old `schema_version` to the current model.

Register one function per (type, from_version); reading chains them until the data
is at the event class's current `schema_version`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from domain.errors import InvalidInput

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UpcasterRegistry:
    """Upcasters by (event type, from version)."""

    def __init__(self) -> None:
        self._upcasters: dict[tuple[str, int], Upcaster] = {}

    def register(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Decorator: `fn(data) -> data` lifting `event_type` from `from_version` by one."""

        def add(fn: Upcaster) -> Upcaster:
            key = (event_type, from_version)
            if key in self._upcasters:
                raise ValueError(
                    f"an upcaster for {event_type} v{from_version} is already registered"
                )
            self._upcasters[key] = fn
            return fn

        return add

    def upcast(
        self, event_type: str, version: int, target: int, data: dict[str, Any]
    ) -> dict[str, Any]:
        """Return `data` lifted from `version` to `target`."""
        if version > target:
            raise InvalidInput(
                f"{event_type} is stored at schema version {version}, newer than this eventscope "
                f"knows ({target}); upgrade eventscope"
            )
        while version < target:
            step = self._upcasters.get((event_type, version))
            if step is None:
                raise InvalidInput(f"no upcaster for {event_type} from schema version {version}")
            data = step(data)
            version += 1
        return data
