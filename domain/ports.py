"""The port the domain needs from storage. `store/` implements it (SQLite, in memory)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from domain.envelope import AppendResult, Head, Metadata, RecordedEvent, Refusal, StreamAppend


class EventStore(Protocol):
    """An append-only, gap-free, hash-chained log of events in streams.

    Positions run 1..head with no gaps, in commit order. Versions run 1..n per stream.
    """

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        """Append to one or more streams in one transaction.

        Each stream's `expected_version` must equal its current version, else
        `ConcurrencyConflict` and nothing is written. A `metadata.command_id` seen
        before returns the earlier result with `duplicate=True` and appends nothing.
        """
        ...

    def find_command(self, command_id: str) -> AppendResult | None:
        """The result an earlier command with this id recorded, if any."""
        ...

    def command_payload(self, command_id: str) -> tuple[str, dict[str, object]] | None:
        """The (command type, payload) recorded for this command id, if any."""
        ...

    def stream_version(self, stream_id: str) -> int:
        """The stream's current version (0 when it has no events)."""
        ...

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, to_version: int | None = None
    ) -> list[RecordedEvent]:
        """The stream's events with after_version < version <= to_version, in order."""
        ...

    def read_all(
        self, *, after: int = 0, to: int | None = None, limit: int | None = None
    ) -> list[RecordedEvent]:
        """Events with after < position <= to, in order, at most `limit` of them."""
        ...

    def iter_all(self, *, after: int = 0, to: int | None = None) -> Iterable[RecordedEvent]:
        """Like `read_all` but streamed, for replays and export."""
        ...

    def head(self) -> Head:
        """The last position and its hash (0 and the genesis hash when empty)."""
        ...

    def position_at(self, timestamp: str) -> int:
        """The last position at or before `timestamp` not flagged as clock skew (0: none)."""
        ...

    def record_refusal(self, refusal: Refusal) -> Refusal:
        """Keep a refused command for the audit; returns it with its id and position."""
        ...

    def refusals(
        self, *, to_position: int | None = None, limit: int | None = None
    ) -> list[Refusal]:
        """Refusals recorded while the head was at or before `to_position`, newest first."""
        ...


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


@dataclass(frozen=True, slots=True)
class KeptCheckpoint:
    """A checkpoint the store issued: the tree size and root it names, and its note text."""

    size: int
    root: bytes
    text: str
    """The whole checkpoint note (signed or not), as handed out."""
    issued_at: str


class ProofStore(Protocol):
    """The Merkle tree over the events (RFC 9162) and the checkpoints issued for it.

    Leaf i is the event at position i + 1. There is no `append` here on purpose: the
    tree grows inside each `EventStore` append, bulk load and import, in the same
    transaction as the events, so it can never disagree with them. Every read costs
    O(log n) stored nodes. A size past the head raises `InvalidInput`.
    """

    def tree_size(self) -> int:
        """How many leaves the tree has (the head position)."""
        ...

    def root(self, size: int) -> bytes:
        """MTH(D[0:size]): the root hash of the tree of the first `size` events."""
        ...

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 PATH(index, D[0:size]): sibling hashes from the leaf's up to the root's."""
        ...

    def consistency_path(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 PROOF(old_size, D[0:new_size]) (empty when old_size is 0 or equal)."""
        ...

    def keep_checkpoint(self, checkpoint: KeptCheckpoint) -> None:
        """Keep an issued checkpoint (append-only)."""
        ...

    def checkpoints(self, *, last: int | None = None) -> list[KeptCheckpoint]:
        """The checkpoints issued so far (only the `last` N when given), oldest first."""
        ...
