"""The SnapshotStore role: where the timeline keeps projection snapshots."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The encoded state of a set of projections right after the event at `position`."""

    key: str
    """Names the projection definitions (and encoding) it was built with; a change in
    any of them gives a new key, so stale snapshots are never read."""
    position: int
    event_hash: str
    """The hash of the event at `position`: a snapshot is only used on a history
    whose event at `position` still has this hash."""
    encoding: str
    blob: bytes
    """The manifest: which chunks (stored beside it, by digest) make up the states."""


class SnapshotStore(Protocol):
    """Where the timeline keeps projection snapshots (SQLite beside the events, or memory).

    A snapshot is a manifest naming content-addressed chunks, which are shared between
    snapshots of the same key (see `domain.snapshots`). Snapshots are a cache: losing
    one costs a longer replay, never a wrong answer.
    """

    def save(self, snapshot: Snapshot, chunks: Mapping[str, bytes]) -> None:
        """Keep `snapshot` (replacing one at its key and position) and, in the same
        transaction, those of `chunks` (stored bytes by digest) not kept yet."""
        ...

    def latest(self, key: str, at_or_before: int) -> Snapshot | None:
        """The snapshot of `key` with the greatest position <= `at_or_before`, if any."""
        ...

    def chunks(self, key: str, digests: Sequence[str]) -> dict[str, bytes]:
        """The stored chunks of `key` among `digests` (missing ones are left out)."""
        ...

    def known_chunks(self, key: str, digests: Iterable[str]) -> set[str]:
        """Which of `digests` are already stored for `key`."""
        ...

    def positions(self, key: str) -> list[int]:
        """The positions of the snapshots kept for `key`, ascending."""
        ...

    def size(self, key: str | None = None) -> int:
        """Bytes of the manifests and chunks kept for `key` (for every key when None)."""
        ...

    def discard(self, *, keep: str | None = None) -> int:
        """Delete the snapshots and chunks of every key but `keep` (of all keys when
        None); returns how many snapshots were deleted."""
        ...
