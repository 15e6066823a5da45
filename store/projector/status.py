"""What a projector reports: its status, its busy error, and the read models it gives."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.clock import SystemClock
from domain.errors import StoreError
from domain.projection import StateMap

Role = Literal["leader", "follower", "reader"]
Progress = Callable[[int, int], None]
"""`progress(position, target)`: folded up to `position` of `target` events."""


class ProjectorBusy(StoreError):
    """Another projector holds the lease, so this one may not write."""


@dataclass(frozen=True)
class ProjectorStatus:
    """Where the read model stands, as the app's header and `eventscope project` show it."""

    name: str
    checkpoint: int
    """The position the persisted tables reflect."""
    head: int
    role: Role
    """`leader` writes; `follower` waits for the lease; `reader` is read-only."""
    lease_owner: str | None
    lease_expires_at: float | None
    error: str | None = None
    """The last failure (a projection that raised, or a store error while following)."""
    error_position: int | None = None
    rebuild_needed: bool = False
    """The tables were written by other projection definitions."""
    rebuilding: bool = False

    @property
    def lag(self) -> int:
        """How many events the read model is behind the head."""
        return max(0, self.head - self.checkpoint)

    def describe(self) -> str:
        """One line for a terminal: `#1,200 of 1,500 · 300 behind · leader`."""
        parts = [f"#{self.checkpoint:,} of {self.head:,}"]
        parts.append(f"{self.lag:,} behind" if self.lag else "up to date")
        if self.rebuilding:
            parts.append("rebuilding")
        elif self.rebuild_needed:
            parts.append("rebuild needed")
        parts.append(self.role if self.role != "follower" else f"follower of {self.lease_owner}")
        if self.error:
            parts.append(f"error: {self.error}")
        return " · ".join(parts)

    def to_json_dict(self) -> dict[str, Any]:
        """The status as JSON data (`eventscope project --json`), lag included."""
        return {
            "name": self.name,
            "checkpoint": self.checkpoint,
            "head": self.head,
            "lag": self.lag,
            "role": self.role,
            "lease_owner": self.lease_owner,
            "lease_expires_at": self.lease_expires_at,
            "error": self.error,
            "error_position": self.error_position,
            "rebuild_needed": self.rebuild_needed,
            "rebuilding": self.rebuilding,
        }


@dataclass(frozen=True)
class ReadModels:
    """Persisted states read together: all at the same `position`."""

    position: int
    states: StateMap
    stale: frozenset[str] = field(default_factory=frozenset)
    """Projections whose tables another definition wrote (shown empty until rebuilt)."""


def default_owner_id() -> str:
    """`host:pid:random`, unique per projector instance."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


def _now() -> str:
    return SystemClock().now()
