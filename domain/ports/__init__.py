"""The roles the domain needs from storage. `store/` implements every one of them
(in memory and SQLite); each has a contract suite in `tests/integration/contracts`.

- `EventWriter` (events.py): append, command lookup, bulk load, import (of events;
  of an exported history with its records: `load_recorded`, `ImportWrites`).
- `EventReader` (events.py): streams, global order, head, change token, time index,
  filtered positions and pages.
- `AuditRecords` (audit.py): refusals, command payloads, correlations, bookmarks,
  import records; what an export reads besides the events.
- `ChainIntegrity` (chain.py): the hash chain and checking it.
- `SnapshotStore` (snapshots.py): projection snapshots for the timeline.
- `ProofStore` (proofs.py): the Merkle tree over the events and issued checkpoints.
- `ProjectionStore` (projections.py): read models, their checkpoint and lease, written
  in one transaction; what the projector runs on.

`EventStore` is an event store in every role: what a store opened by the
composition root (`tui/bootstrap.py`) is.
"""

from __future__ import annotations

from typing import Protocol

from domain.ports.audit import AuditRecords, CommandRecord, ImportRecord, ImportWrites
from domain.ports.chain import ChainIntegrity, VerifyReport
from domain.ports.events import EventReader, EventWriter, RecordedItem
from domain.ports.projections import (
    Checkpoint,
    FoldRow,
    LeaseRow,
    ProjectionStore,
    ReadModelStore,
    ReadModelTables,
)
from domain.ports.proofs import KeptCheckpoint, ProofStore
from domain.ports.snapshots import Snapshot, SnapshotStore


class EventStore(EventWriter, EventReader, AuditRecords, ChainIntegrity, ProjectionStore, Protocol):
    """An append-only, gap-free, hash-chained log of events in streams, with its audit
    records and read models: every event-store role in one."""

    def close(self) -> None:
        """Release the store's resources (connections, threads); idempotent."""
        ...


__all__ = [
    "AuditRecords",
    "ChainIntegrity",
    "Checkpoint",
    "CommandRecord",
    "EventReader",
    "EventStore",
    "EventWriter",
    "FoldRow",
    "ImportRecord",
    "ImportWrites",
    "KeptCheckpoint",
    "LeaseRow",
    "ProjectionStore",
    "ProofStore",
    "ReadModelStore",
    "ReadModelTables",
    "RecordedItem",
    "Snapshot",
    "SnapshotStore",
    "VerifyReport",
]
