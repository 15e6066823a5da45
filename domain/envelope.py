"""What the store records around an event, and what it hands back.

`RecordedEvent` is a slotted dataclass, not a pydantic model: replay and scrubbing
read millions of them, and what is stored was validated when it was written.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:
    from domain.store_records import Bookmark as Bookmark
    from domain.store_records import PendingEvent as PendingEvent
    from domain.store_records import StreamSummary as StreamSummary

GENESIS_HASH = "0" * 64
"""The `prev_hash` of position 1."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended to one stream."""

    type: str
    data: dict[str, Any]
    schema_version: int = 1
    event_id: str = ""
    """Filled in by the bus from its id source when empty."""


@dataclass(frozen=True, slots=True)
class StreamAppend:
    """Events for one stream, with the version the writer last saw (0: a new stream)."""

    stream_id: str
    stream_type: str
    expected_version: int
    events: tuple[NewEvent, ...]


@dataclass(frozen=True, slots=True)
class Metadata:
    """Who and what caused an append; stored with every event it writes."""

    actor: str
    command_id: str
    command_type: str
    correlation_id: str = ""
    causation_id: str = ""
    command: dict[str, Any] = field(default_factory=dict)
    """The command's own payload, kept once per command (lineage shows it)."""

    def event_metadata(self) -> dict[str, str]:
        """The metadata stored on each event (the payload lives in the commands table)."""
        return {
            "actor": self.actor,
            "command_id": self.command_id,
            "command_type": self.command_type,
            "correlation_id": self.correlation_id or self.command_id,
            "causation_id": self.causation_id or self.command_id,
        }


@dataclass(slots=True)
class RecordedEvent:
    """An event as stored: its global position, stream version and place in the hash chain.

    Treat it as read-only. It is deliberately not a frozen dataclass: a frozen
    dataclass assigns each field through `object.__setattr__` (~3 µs for these 12,
    more than decoding the event's JSON), and replays build millions of them.
    """

    position: int
    event_id: str
    stream_id: str
    stream_type: str
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    recorded_at: str
    """UTC, ISO 8601 with microseconds and a `Z`: `2026-11-26T17:11:02.123456Z`."""
    prev_hash: str
    hash: str

    @property
    def actor(self) -> str:
        """Who issued the command that recorded this event."""
        return str(self.metadata.get("actor", ""))

    def to_json_dict(self) -> dict[str, Any]:
        """The event as one JSON object (the export and `log --json` line format)."""
        return {
            "position": self.position,
            "event_id": self.event_id,
            "stream_id": self.stream_id,
            "stream_type": self.stream_type,
            "version": self.version,
            "type": self.type,
            "schema_version": self.schema_version,
            "data": self.data,
            "metadata": self.metadata,
            "recorded_at": self.recorded_at,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True, slots=True)
class Head:
    """The last position and its hash: what an auditor keeps as an anchor."""

    position: int
    hash: str

    def to_json_dict(self) -> dict[str, Any]:
        return {"position": self.position, "hash": self.hash}


@dataclass(frozen=True, slots=True)
class AppendResult:
    """What an append (or a command) recorded."""

    command_id: str
    positions: tuple[int, ...]
    events: tuple[RecordedEvent, ...]
    duplicate: bool = False
    """True when the command id was seen before and nothing new was appended."""

    @property
    def last_position(self) -> int:
        return self.positions[-1] if self.positions else 0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "command_id": self.command_id,
            "duplicate": self.duplicate,
            "positions": list(self.positions),
            "events": [e.to_json_dict() for e in self.events],
        }


@dataclass(frozen=True, slots=True)
class Refusal:
    """A command a rule refused: kept for the audit, never appended as an event."""

    recorded_at: str
    actor: str
    command_id: str
    command_type: str
    command: dict[str, Any]
    reason: str
    code: str
    at_position: int = 0
    """The head position when it was refused (places it on the timeline)."""
    id: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "recorded_at": self.recorded_at,
            "at_position": self.at_position,
            "actor": self.actor,
            "command_id": self.command_id,
            "command_type": self.command_type,
            "command": self.command,
            "reason": self.reason,
            "code": self.code,
        }


class RefusalMark(NamedTuple):
    """Where and by whom a refusal sits on the timeline, without its command.

    What counting refusals at a position needs (the per-actor tallies, the refusal
    panel's count): reading these skips decoding every refused command, which at
    10M events (65,779 refusals) took most of the app's first paint.
    """

    id: int
    at_position: int
    actor: str
    recorded_at: str


_ELSEWHERE = frozenset({"Bookmark", "PendingEvent", "StreamSummary"})
"""Records of the bulk path, listings and bookmarks, in `domain.store_records`: imported
on first use (PEP 562), as an append (`exec`) builds none of them and each dataclass costs
a one-shot command about 0.7 ms to define (start-up, issue 14)."""


def __getattr__(name: str) -> Any:
    if name not in _ELSEWHERE:
        raise AttributeError(f"module 'domain.envelope' has no attribute {name!r}")
    return getattr(importlib.import_module("domain.store_records"), name)
