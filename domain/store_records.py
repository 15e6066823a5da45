"""What the store takes from the bulk path and hands to listings and bookmarks.

Beside the append's envelope (`domain.envelope`, which re-exports these names): an
append builds none of them, so a one-shot `exec` does not define them (start-up, issue 14).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class PendingEvent:
    """A fully decided event for the bulk path (demo data): version and time are given.

    The store assigns the position and the hashes; it still enforces
    UNIQUE(stream_id, version) and the stored form of `recorded_at` (which may go back:
    see `domain.clock_skew`).

    Treat it as read-only. Like `RecordedEvent` it is not a frozen dataclass: a frozen
    one sets each field through `object.__setattr__`, and demos and an import's replay
    build one per event (an import's client loop: about 3% of its instructions).
    """

    event_id: str
    stream_id: str
    stream_type: str
    version: int
    type: str
    data: dict[str, Any]
    metadata: dict[str, Any]
    """The per-event metadata: actor, command_id, command_type, correlation_id, causation_id."""
    recorded_at: str
    schema_version: int = 1
    command: dict[str, Any] | None = None
    """The command payload, on the first event of each command (kept in the commands table)."""


@dataclass(frozen=True, slots=True)
class StreamSummary:
    """A stream as lists and filters show it: its id, type and current version."""

    stream_id: str
    stream_type: str
    version: int


@dataclass(frozen=True, slots=True)
class Bookmark:
    """A named position on the timeline, kept with the database.

    An annotation, not an audit fact: bookmarks can be moved and deleted, and they
    are not part of the hash chain.
    """

    name: str
    position: int
    """0 (before the first event) up to the head when it was set."""
    actor: str = ""
    """Who set it."""
    created_at: str = ""
    """When it was last set (UTC, the stored time format)."""

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "position": self.position,
            "actor": self.actor,
            "created_at": self.created_at,
        }
