"""The projector: keeps the persisted read models (`store.read_models`) up to date.

It folds events into every projection of a domain with the projections' own `apply`
(the one definition of each read model), holding the fold state in memory between
batches, and after each batch writes the rows that changed, the changed aux parts
and the checkpoint in one transaction, so the tables always show the state at the
checkpoint exactly. On start it loads that state back from the tables, so a restart
resumes where the last commit left off.

Only one projector writes a read model at a time: the holder of its lease
(`store.lease`), renewed in every batch transaction and lapsing `lease_seconds`
after its holder stops renewing, when another projector takes over. Projectors
without the lease only read. The folding itself is `store.replay.fold_rows`.

A rebuild folds from zero in memory, writes fresh `__new` tables while the live ones
stay readable, then swaps them in with the checkpoint in one transaction. A changed
projection definition (see `read_models.fingerprint`) triggers one instead of
folding new events over rows an older definition wrote.

The projector reads and writes only through its store's `ProjectionStore` role
(`domain.ports.projections`): each store keeps the tables its own way (SQLite:
`store.sqlite.read_models`; in memory: `store.memory_read_models`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from domain.errors import DomainError, InvalidInput, StoreError
from domain.fold_failure import ProjectionFailed
from domain.model import EventCatalog
from domain.ports import EventStore, FoldRow, LeaseRow, ReadModelTables
from domain.projection import EventReads, Projection, StateMap, combined_reads
from domain.refusals import RefusalIndex
from store import read_models as rm
from store.lease import Lease, LeaseLost
from store.projector.hooks import FollowHooks
from store.projector.rebuild import Rebuilding
from store.projector.status import (
    Progress,
    ProjectorStatus,
    _now,
    default_owner_id,
)
from store.replay import FoldFailure, fold_rows


class Projector(Rebuilding):
    """Folds the events of `store` into persisted read models for `projections`.

    `catalog` upcasts events stored at an old schema version before any projection
    sees them. `name` names this read model (one per domain is usual). `clock` gives
    seconds since the epoch for the lease, so tests can move time; `batch` is how many
    events one transaction covers. `reads` says what each projection (by name) reads
    of an event (`DomainDescription.event_reads`): folds read no more from the store
    (`store.replay.fold_rows`); a projection not named reads everything.

    Thread use: one thread at a time folds (`catch_up`, `follow`, `rebuild` share a
    lock); `status`, `wait_for` and the readers may be called from any thread."""

    hooks: FollowHooks = FollowHooks()
    """What an app adds to `follow`: a hold before folding, a listener per batch."""

    def __init__(
        self,
        store: EventStore,
        projections: Sequence[Projection],
        catalog: EventCatalog,
        *,
        name: str = "main",
        owner_id: str | None = None,
        lease_seconds: float = 10.0,
        batch: int = 5000,
        clock: Callable[[], float] = time.time,
        reads: Mapping[str, EventReads] | None = None,
    ) -> None:
        if batch < 1:
            raise InvalidInput("batch must be >= 1")
        if lease_seconds <= 0:
            raise InvalidInput("lease_seconds must be > 0")
        names = [p.name for p in projections]
        for projection_name in names:
            rm.check_projection_name(projection_name)
        if len(set(names)) != len(names):
            raise InvalidInput("two projections have the same name")
        self.store = store
        self.projections = tuple(projections)
        self.catalog = catalog
        self.name = name
        self.batch = batch
        self._clock = clock
        self.fingerprint, self.definitions = rm.fingerprint(self.projections)
        self._by_name = {p.name: p for p in self.projections}
        self.event_reads = dict(reads or {})
        self.reads = combined_reads(self.projections, self.event_reads)

        self.models = store.read_models()
        self._selected_fields = self._selected(self.reads)
        self._closed = False
        self._fold_lock = threading.RLock()
        self._committed = threading.Condition()
        self.lease = Lease(
            name,
            owner_id or default_owner_id(),
            lease_seconds,
            clock,
            lambda action: self._transaction(action, write=True),
            self._read_lease,
        )

        # The fold state at `_position`, equal to the tables while we hold the lease;
        # None means "load it from the tables first" (at start, after an error or an
        # interruption, after losing the lease).
        self._states: StateMap | None = None
        self._position = 0
        self._aux_written: dict[str, dict[str, bytes]] = {}
        self._error: str | None = None
        self._error_position: int | None = None
        self._rebuilding = False

        self._refusals = RefusalIndex(threading.RLock)
        self._refusals_lock = threading.Lock()

    def catch_up(
        self, *, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> ProjectorStatus:
        """Fold every event after the checkpoint into the tables, one batch per transaction.

        Returns at once with `role="follower"` when another projector holds the lease.
        On a database without read models yet (or with ones other projection
        definitions wrote) it rebuilds instead. Raises `ProjectionFailed` when a
        projection raises: the events before the failing one are committed and the
        error is recorded for `status()`. `progress(position, head)` is called after
        each batch; `stop` ends the catch-up between batches.
        """
        if self.models.read_only:
            raise StoreError(f"{self.models.location} is open read-only: cannot project")
        with self._fold_lock:
            if self._hold_lease():
                try:
                    self._prepare(progress)
                    while self._states is not None and not (stop and stop.is_set()):
                        if not self._catch_up_batch(progress):
                            break
                except LeaseLost:
                    self._lost_lease()
                except BaseException:
                    # Failed or interrupted mid-batch: memory may be ahead of the tables.
                    self._states = None
                    raise
        return self.status()

    def _prepare(self, progress: Progress | None) -> None:
        """Make the in-memory state match the tables, rebuilding when they are unusable."""
        if self._states is not None:
            return
        with self._transaction("look for an unfinished rebuild", write=False) as tables:
            leftovers = tables.rebuild_leftovers()
        if leftovers:  # a rebuild killed before its swap
            with self._write("drop an unfinished rebuild") as tables:
                tables.drop_rebuild_leftovers()
        checkpoint = self._checkpoint_row()
        if checkpoint is None or checkpoint.fingerprint != self.fingerprint:
            # No read model yet (a rebuild is the fastest way to make one), or one
            # that other definitions wrote: never fold new events over it.
            self._rebuild_locked(progress)
            return
        with self._transaction("load the read models", write=False) as tables:
            self._load_state(tables)

    def _read_lease(self, name: str) -> LeaseRow | None:
        with self._transaction("read the projector lease", write=False) as tables:
            return tables.lease(name)

    def _load_state(self, tables: ReadModelTables) -> None:
        """Take the persisted state as the in-memory fold state (inside a transaction).

        Leaves it unloaded when the tables are not ours to continue (the next
        catch-up then starts over from what it finds).
        """
        checkpoint = tables.checkpoint(self.name)
        if checkpoint is None or checkpoint.fingerprint != self.fingerprint:
            return
        tables.check_checkpoint(self.name, checkpoint.position, self.fingerprint)
        states: StateMap = {}
        written: dict[str, dict[str, bytes]] = {}
        present = tables.tables()
        for projection in self.projections:
            if projection.name in present:
                states[projection.name], written[projection.name] = rm.read_state(
                    tables, projection
                )
            else:
                states[projection.name], written[projection.name] = projection.initial(), {}
        self._states, self._aux_written = states, written
        self._position = checkpoint.position

    def _catch_up_batch(self, progress: Progress | None) -> bool:
        """Fold and commit one batch; False when there was nothing to fold."""
        assert self._states is not None
        selected = self._selected_fields
        rows = self._rows(self._position, self.batch, selected)
        if not rows:
            return False
        states = self._states
        changed: dict[str, set[str]] = {p.name: set() for p in self.projections}
        try:
            fold_rows(rows, self.projections, states, self.catalog, changed, self.reads, selected)
        except FoldFailure as failure:
            self._commit_before_failure(rows, failure)
            raise failure.error from failure.__cause__
        position = rows[-1][0]
        with self._write("write the read models") as tables:
            self._check_position(tables)
            self._write_batch(tables, states, changed, position)
        self._committed_at(position)
        if progress is not None:
            progress(position, self._head())
        self.hooks.batch_folded(rows[0][0], position, changed)
        return True

    def _check_position(self, tables: ReadModelTables) -> None:
        """The tables must be where our memory says (else someone else wrote: reload)."""
        checkpoint = tables.checkpoint(self.name)
        if (
            checkpoint is None
            or checkpoint.position != self._position
            or checkpoint.fingerprint != self.fingerprint
        ):
            raise LeaseLost

    def _write_batch(
        self,
        tables: ReadModelTables,
        states: StateMap,
        changed: dict[str, set[str]],
        position: int,
    ) -> None:
        """Rows and aux parts that changed, and the checkpoint (inside the transaction)."""
        for projection in self.projections:
            name = projection.name
            state = states[name]
            keys = changed[name]
            if keys:
                rows = state.rows
                present = [k for k in keys if k in rows]
                tables.put_rows(name, ((k, rm.encode_row(rows[k])) for k in present))
                if len(present) != len(keys):
                    tables.delete_rows(name, (k for k in keys if k not in rows))
            written = self._aux_written.setdefault(name, {})
            parts, removed = rm.changed_aux(state.aux, written)
            if parts:
                tables.put_aux(name, ((p, blob.decode()) for p, blob in parts.items()))
                written.update(parts)
            if removed:
                tables.delete_aux(name, removed)
                for part in removed:
                    del written[part]
        tables.write_checkpoint(self.name, position, self.fingerprint, self.definitions, _now())

    def _commit_before_failure(self, rows: Sequence[FoldRow], failure: FoldFailure) -> None:
        """Commit the events before the failing one and record the failure.

        The failing event may have reached some projections already, so the batch is
        folded again from the tables' state up to the event before it.
        """
        error = failure.error
        self._states = None
        with self._write("record a projection failure") as tables:
            self._load_state(tables)
            good = rows[: failure.index]
            if good and self._states is not None:
                changed: dict[str, set[str]] = {p.name: set() for p in self.projections}
                try:
                    fold_rows(
                        good, self.projections, self._states, self.catalog, changed,
                        self.reads, self._selected_fields,
                    )  # fmt: skip
                except FoldFailure as again:  # a projection that is not deterministic
                    raise again.error from again.__cause__
                self._write_batch(tables, self._states, changed, good[-1][0])
                self._position = good[-1][0]
            tables.record_failure(self.name, str(error), error.position, _now())
        self._failed(error)

    def follow(
        self,
        poll_interval: float = 0.1,
        stop: threading.Event | None = None,
        *,
        on_status: Callable[[ProjectorStatus], None] | None = None,
    ) -> None:
        """Keep the read models current until `stop` is set (or Ctrl-C).

        Polls the store's change token (`data_version`) every `poll_interval` seconds,
        which moves when any writer (this process's store included) commits, and
        catches up only then. Renews the lease while leading; takes it over when the leader's
        lapses; on a read-only store it only watches. `on_status` hears every change
        of checkpoint, head, role or error. Returns when `stop` is set; raises
        `ProjectionFailed` (after reporting it). The lease is released on the way
        out, so another projector takes over at once.
        """
        stop = stop or threading.Event()
        seen_version: int | None = None
        last: ProjectorStatus | None = None
        failing = False
        """The last round failed on the store (not on a projection): the error shown is
        cleared once a round succeeds."""

        def report(_: int = 0, __: int = 0) -> None:
            nonlocal last
            if on_status is not None:
                try:
                    current = self.status()
                except StoreError:  # the store does not answer: say so with what we know
                    if last is None:
                        return
                    current = replace(last, error=self._error)
                if current != last:
                    last = current
                    on_status(current)

        try:
            while not stop.is_set():
                was_leader = self.lease.held
                moved = False
                try:
                    version = self.models.data_version()
                    moved = version != seen_version
                    seen_version = version
                    if moved:
                        self.hooks.hold(stop)
                    with self._fold_lock:
                        if self._hold_lease() and (moved or not was_leader or self._states is None):
                            self.catch_up(progress=report, stop=stop)
                    if failing:
                        failing, moved = False, True
                        self._error = self._error_position = None
                except ProjectionFailed:
                    report()
                    raise
                except StoreError as exc:
                    # Locked beyond the busy timeout, a disk hiccup, a connection the
                    # server ended (reopened on the next round): keep following, show
                    # it meanwhile, and catch up once the store answers again.
                    self._error, self._error_position = str(exc), None
                    seen_version, failing = None, True
                if moved or self.lease.held != was_leader or self._error:
                    report()
                stop.wait(poll_interval)
        finally:
            with contextlib.suppress(DomainError):
                self.release()
