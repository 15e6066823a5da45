"""The AuditRecords role: what is kept beside the events to explain them.

Refused commands, the command payloads and the links between events (command,
correlation), and bookmarks (annotations, not audit facts: mutable, not chained).
"""

from __future__ import annotations

from typing import Protocol

from domain.envelope import Bookmark, Refusal


class AuditRecords(Protocol):
    """Refusals, command payloads, correlations and bookmarks."""

    def record_refusal(self, refusal: Refusal) -> Refusal:
        """Keep a refused command for the audit; returns it with its id and position."""
        ...

    def refusals(
        self, *, to_position: int | None = None, limit: int | None = None
    ) -> list[Refusal]:
        """Refusals recorded while the head was at or before `to_position`, newest first."""
        ...

    def command_payload(self, command_id: str) -> tuple[str, dict[str, object]] | None:
        """The (command type, payload) recorded for this command id, if any."""
        ...

    def positions_by_command(self, command_id: str) -> list[int]:
        """Positions of the events recorded by command `command_id`, ascending."""
        ...

    def positions_by_correlation(self, correlation_id: str, *, limit: int = 1000) -> list[int]:
        """Positions of the events whose metadata carries `correlation_id`, ascending
        (at most `limit`, the first ones)."""
        ...

    def bookmarks(self) -> list[Bookmark]:
        """Every bookmark, by position (then name)."""
        ...

    def set_bookmark(self, name: str, position: int, *, actor: str) -> Bookmark:
        """Keep `position` (0..head) under `name`; re-using a name moves that bookmark.

        Raises InvalidInput for a bad name or position, StoreError when read-only.
        """
        ...

    def delete_bookmark(self, name: str) -> bool:
        """Delete the bookmark called `name`; False when there was none."""
        ...
