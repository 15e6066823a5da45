"""What the projector's parts share: its read-model store (the `ProjectionStore` role
of its event store), transactions, the lease, and its checkpoint.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Self

from domain.errors import DomainError
from domain.fold_failure import ProjectionFailed
from domain.model import EventCatalog
from domain.ports import EventStore, FoldRow, ReadModelStore, ReadModelTables
from domain.ports.projections import Checkpoint, SelectsFoldFields
from domain.projection import EVENT_FIELDS, EventReads, Projection, StateMap
from domain.refusals import RefusalIndex
from store.lease import Lease

_WRITE_CHUNK = 20_000
"""Rows per transaction when a rebuild fills its `new` tables (keeps the write lock
short, so commands are never held up long)."""


class ProjectorBase:
    """The state of one projector, and its connections, transactions and lease."""

    store: EventStore
    models: ReadModelStore
    projections: tuple[Projection, ...]
    catalog: EventCatalog
    name: str
    batch: int
    fingerprint: str
    definitions: dict[str, str]
    lease: Lease
    _clock: Callable[[], float]
    _by_name: dict[str, Projection]
    _closed: bool
    _fold_lock: threading.RLock
    _committed: threading.Condition
    _states: StateMap | None
    _position: int
    _aux_written: dict[str, dict[str, bytes]]
    _error: str | None
    _error_position: int | None
    _rebuilding: bool
    _refusals: RefusalIndex
    _refusals_lock: threading.Lock
    event_reads: Mapping[str, EventReads]
    reads: EventReads

    @property
    def owner_id(self) -> str:
        """Who this projector is in the lease table (`host:pid:random` by default)."""
        return self.lease.owner

    def _committed_at(self, position: int) -> None:
        self._position = position
        self._error = self._error_position = None
        self._notify()

    @contextlib.contextmanager
    def _transaction(self, action: str, *, write: bool) -> Iterator[ReadModelTables]:
        """One transaction on the read models (storage errors become StoreError)."""
        with self.models.transaction(action, write=write) as tables:
            yield tables

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[ReadModelTables]:
        """A write transaction that first renews our lease (LeaseLost if it is gone)."""
        with self._transaction(action, write=True) as tables:
            self.lease.renew(tables)
            yield tables

    def close(self) -> None:
        """Give up the lease (if held) and close every thread's connection."""
        if self._closed:
            return
        with contextlib.suppress(DomainError):
            self.release()
        self._closed = True
        self.models.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _hold_lease(self) -> bool:
        """Take or renew the lease when due; True when this projector may write."""
        if self.models.read_only:
            return False
        was_held = self.lease.held
        held = self.lease.hold()
        if held and not was_held:
            # Whoever wrote before us may have moved the tables on: reload first.
            self._states = None
        return held

    def _lost_lease(self) -> None:
        self.lease.lost()
        self._states = None

    def release(self) -> None:
        """Give the lease up now (on a clean stop), so another projector need not wait."""
        with self._fold_lock:
            self._states = None
            self.lease.release()

    def _selected(self, reads: EventReads) -> frozenset[str] | None:
        """The fields the store reads for folds that read `reads` (None: whole rows,
        when they read everything or the store cannot leave fields out)."""
        if reads.fields != EVENT_FIELDS and isinstance(self.models, SelectsFoldFields):
            return reads.fields
        return None

    def _rows(self, after: int, limit: int, selected: frozenset[str] | None) -> list[FoldRow]:
        """The next events to fold, read with only `selected` (`_selected`)."""
        models = self.models
        if selected is not None and isinstance(models, SelectsFoldFields):
            return models.fold_rows_reading(after, limit, selected)
        return models.fold_rows(after, limit)

    def _checkpoint_row(self) -> Checkpoint | None:
        with self._transaction("read the projector checkpoint", write=False) as tables:
            return tables.checkpoint(self.name)

    def _head(self) -> int:
        return self.models.head()

    def _notify(self) -> None:
        with self._committed:
            self._committed.notify_all()

    def _failed(self, error: ProjectionFailed) -> None:
        self._error, self._error_position = str(error), error.position
        self._notify()
