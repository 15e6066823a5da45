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

The projector reads and writes through its own per-thread connections to the store's
file, with `synchronous=NORMAL`: read models can always be rebuilt from the events,
and WAL keeps rows and checkpoint consistent after a crash (a lost last batch just
gets folded again).
"""

from __future__ import annotations

import contextlib
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from domain.clock import SystemClock
from domain.errors import DomainError, InvalidInput, StoreError
from domain.fold_failure import ProjectionFailed
from domain.model import EventCatalog
from domain.projection import Projection, ProjectionState, Row, StateMap, initial_states
from domain.refusals import MergesRefusals, RefusalIndex
from store import read_models as rm
from store.connection import connect
from store.derived_macs import check_checkpoint
from store.lease import Lease, LeaseLost, read_lease
from store.replay import SELECT_EVENTS, FoldFailure, fold_rows
from store.sqlite import SqliteEventStore
from store.sqlite_connections import ThreadConnections

__all__ = [
    "ProjectionFailed",
    "Projector",
    "ProjectorBusy",
    "ProjectorStatus",
    "ReadModels",
    "default_owner_id",
]

Role = Literal["leader", "follower", "reader"]
Progress = Callable[[int, int], None]
"""`progress(position, target)`: folded up to `position` of `target` events."""

_HEAD = "SELECT position FROM events ORDER BY position DESC LIMIT 1"
_WRITE_CHUNK = 20_000
"""Rows per transaction when a rebuild fills its `__new` tables (keeps the write lock
short, so commands are never held up long)."""


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


class Projector:
    """Folds the events of `store` into persisted read models for `projections`.

    `catalog` upcasts events stored at an old schema version before any projection
    sees them. `name` names this read model (one per domain is usual). `clock` gives
    seconds since the epoch for the lease, so tests can move time; `batch` is how many
    events one transaction covers.

    Thread use: one thread at a time folds (`catch_up`, `follow`, `rebuild` share a
    lock); `status`, `wait_for` and the readers may be called from any thread.
    """

    def __init__(
        self,
        store: SqliteEventStore,
        projections: Sequence[Projection],
        catalog: EventCatalog,
        *,
        name: str = "main",
        owner_id: str | None = None,
        lease_seconds: float = 10.0,
        batch: int = 5000,
        clock: Callable[[], float] = time.time,
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

        self._threads = ThreadConnections(
            self._connect, lambda: StoreError(f"the projector for {store.path} is closed")
        )
        self._closed = False
        self._fold_lock = threading.RLock()
        self._committed = threading.Condition()
        self.lease = Lease(
            name,
            owner_id or default_owner_id(),
            lease_seconds,
            clock,
            lambda action: self._transaction(action, write=True),
            self._read,
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

    @property
    def owner_id(self) -> str:
        """Who this projector is in the lease table (`host:pid:random` by default)."""
        return self.lease.owner

    # -- connections -------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        """This thread's connection (closed when the thread ends: `sqlite_connections`)."""
        return self._threads.get()

    def _connect(self) -> sqlite3.Connection:
        mode = "ro" if self.store.read_only else "rw"
        try:
            conn = connect(self.store.path, mode, self.store.busy_timeout_ms)
            if not self.store.read_only:
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise self.store._error(exc, "open the read models") from None
        return conn

    @contextlib.contextmanager
    def _transaction(self, action: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection; SQLite errors become StoreError.

        A write first takes its turn among the store's writers of this process (FIFO).
        """
        conn = self._conn()
        turn = self.store._writers.turn() if write else contextlib.nullcontext()
        try:
            with turn:
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
                try:
                    yield conn
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as exc:
            raise self.store._error(exc, action) from None

    @contextlib.contextmanager
    def _write(self, action: str) -> Iterator[sqlite3.Connection]:
        """A write transaction that first renews our lease (LeaseLost if it is gone)."""
        with self._transaction(action, write=True) as conn:
            self.lease.renew(conn)
            yield conn

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self.store._error(exc, "read") from None

    def close(self) -> None:
        """Give up the lease (if held) and close every thread's connection."""
        if self._closed:
            return
        with contextlib.suppress(DomainError):
            self.release()
        self._closed = True
        self._threads.close_all()

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the lease ---------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """True while this projector holds the lease (as far as it last saw)."""
        return self.lease.held

    def _hold_lease(self) -> bool:
        """Take or renew the lease when due; True when this projector may write."""
        if self.store.read_only:
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

    # -- catching up -------------------------------------------------------------------

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
        if self.store.read_only:
            raise StoreError(f"{self.store.path} is open read-only: cannot project")
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
        if rm.rebuild_leftovers(self._conn()):  # a rebuild killed before its swap
            with self._write("drop an unfinished rebuild") as conn:
                rm.drop_rebuild_leftovers(conn)
        checkpoint = self._checkpoint_row()
        if checkpoint is None or checkpoint.fingerprint != self.fingerprint:
            # No read model yet (a rebuild is the fastest way to make one), or one
            # that other definitions wrote: never fold new events over it.
            self._rebuild_locked(progress)
            return
        with self._transaction("load the read models", write=False) as conn:
            self._load_state(conn)

    def _load_state(self, conn: sqlite3.Connection) -> None:
        """Take the persisted state as the in-memory fold state (inside a transaction).

        Leaves it unloaded when the tables are not ours to continue (the next
        catch-up then starts over from what it finds).
        """
        checkpoint = rm.read_checkpoint(conn, self.name)
        if checkpoint is None or checkpoint.fingerprint != self.fingerprint:
            return
        check_checkpoint(conn, self.store.macs, self.name, checkpoint.position, self.fingerprint)
        states: StateMap = {}
        written: dict[str, dict[str, bytes]] = {}
        tables = rm.existing_tables(conn)
        for projection in self.projections:
            if rm.rows_table(projection.name) in tables:
                states[projection.name], written[projection.name] = rm.read_state(conn, projection)
            else:
                states[projection.name], written[projection.name] = projection.initial(), {}
        self._states, self._aux_written = states, written
        self._position = checkpoint.position

    def _catch_up_batch(self, progress: Progress | None) -> bool:
        """Fold and commit one batch; False when there was nothing to fold."""
        assert self._states is not None
        rows = self._read(SELECT_EVENTS, (self._position, self.batch))
        if not rows:
            return False
        states = self._states
        changed: dict[str, set[str]] = {p.name: set() for p in self.projections}
        try:
            fold_rows(rows, self.projections, states, self.catalog, changed)
        except FoldFailure as failure:
            self._commit_before_failure(rows, failure)
            raise failure.error from failure.__cause__
        position = rows[-1][0]
        with self._write("write the read models") as conn:
            self._check_position(conn)
            self._write_batch(conn, states, changed, position)
        self._committed_at(position)
        if progress is not None:
            progress(position, self._head())
        return True

    def _check_position(self, conn: sqlite3.Connection) -> None:
        """The tables must be where our memory says (else someone else wrote: reload)."""
        checkpoint = rm.read_checkpoint(conn, self.name)
        if (
            checkpoint is None
            or checkpoint.position != self._position
            or checkpoint.fingerprint != self.fingerprint
        ):
            raise LeaseLost

    def _write_batch(
        self,
        conn: sqlite3.Connection,
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
                table = rm.rows_table(name)
                present = [k for k in keys if k in rows]
                rm.upsert_rows(conn, table, ((k, rm.encode_row(rows[k])) for k in present))
                if len(present) != len(keys):
                    rm.delete_rows(conn, table, (k for k in keys if k not in rows))
            written = self._aux_written.setdefault(name, {})
            parts, removed = rm.changed_aux(state.aux, written)
            if parts:
                table = rm.aux_table(name)
                rm.upsert_aux(conn, table, ((p, blob.decode()) for p, blob in parts.items()))
                written.update(parts)
            if removed:
                rm.delete_aux(conn, rm.aux_table(name), removed)
                for part in removed:
                    del written[part]
        rm.write_checkpoint(
            conn, self.name, position, self.fingerprint, self.definitions, _now(), self.store.macs
        )

    def _committed_at(self, position: int) -> None:
        self._position = position
        self._error = self._error_position = None
        self._notify()

    def _commit_before_failure(self, rows: Sequence[Sequence[Any]], failure: FoldFailure) -> None:
        """Commit the events before the failing one and record the failure.

        The failing event may have reached some projections already, so the batch is
        folded again from the tables' state up to the event before it.
        """
        error = failure.error
        self._states = None
        with self._write("record a projection failure") as conn:
            self._load_state(conn)
            good = rows[: failure.index]
            if good and self._states is not None:
                changed: dict[str, set[str]] = {p.name: set() for p in self.projections}
                try:
                    fold_rows(good, self.projections, self._states, self.catalog, changed)
                except FoldFailure as again:  # a projection that is not deterministic
                    raise again.error from again.__cause__
                self._write_batch(conn, self._states, changed, good[-1][0])
                self._position = good[-1][0]
            rm.record_failure(conn, self.name, str(error), error.position, _now())
        self._failed(error)

    def _failed(self, error: ProjectionFailed) -> None:
        self._error, self._error_position = str(error), error.position
        self._notify()

    # -- rebuilding --------------------------------------------------------------------

    def rebuild(self, progress: Progress | None = None) -> ProjectorStatus:
        """Fold all events from zero into fresh tables, then swap them in at once.

        The live tables stay readable (and unchanged) until the swap, one short
        transaction that also moves the checkpoint. Raises `ProjectorBusy` when
        another projector holds the lease, `ProjectionFailed` when a projection
        raises (the live tables are left as they were). `progress(position, head)`
        is called after every batch.
        """
        if self.store.read_only:
            raise StoreError(f"{self.store.path} is open read-only: cannot rebuild")
        with self._fold_lock:
            if not self._hold_lease():
                raise ProjectorBusy(
                    f"projector {self.lease.holder} is writing the read models of "
                    f"{self.store.path}; stop it first (or let it rebuild)"
                )
            try:
                self._rebuild_locked(progress)
            except LeaseLost:
                self._lost_lease()
                raise ProjectorBusy(
                    "another projector took the lease during the rebuild; nothing was swapped"
                ) from None
            except BaseException:
                self._states = None
                raise
        return self.status()

    def _rebuild_locked(self, progress: Progress | None) -> None:
        self._rebuilding = True
        try:
            states = initial_states(self.projections)
            position = self._fold_all(states, progress)
            self._fill_new_tables(states)
            self._swap(states, position)
        except LeaseLost:
            raise  # the `__new` tables may be the new lease holder's now
        except BaseException:
            with (  # if even this fails, the next projector to prepare drops them
                contextlib.suppress(DomainError, sqlite3.Error),
                self._write("drop the unfinished rebuild") as conn,
            ):
                rm.drop_rebuild_leftovers(conn)
            raise
        finally:
            self._rebuilding = False

    def _fold_all(self, states: StateMap, progress: Progress | None) -> int:
        """Fold every event into `states` (renewing the lease as it goes); the last position."""
        position = 0
        while True:
            rows = self._read(SELECT_EVENTS, (position, self.batch))
            if not rows:
                return position
            try:
                fold_rows(rows, self.projections, states, self.catalog)
            except FoldFailure as failure:
                error = failure.error
                with self._write("record a projection failure") as conn:
                    rm.record_failure(conn, self.name, str(error), error.position, _now())
                self._failed(error)
                raise error from failure.__cause__
            position = rows[-1][0]
            self.lease.renew_if_due()
            if progress is not None:
                progress(position, self._head())

    def _fill_new_tables(self, states: StateMap) -> None:
        """Write the rebuilt states into `__new` tables, a chunk per transaction."""
        with self._write("create the rebuilt tables") as conn:
            for projection in self.projections:
                rm.create_tables(conn, projection.name, new=True)
        encode = rm.encode_row
        for projection in self.projections:
            table = rm.rows_table(projection.name, new=True)
            items = sorted(states[projection.name].rows.items())  # key order fills fastest
            for start in range(0, len(items), _WRITE_CHUNK):
                chunk = items[start : start + _WRITE_CHUNK]
                with self._write("write the rebuilt tables") as conn:
                    rm.upsert_rows(conn, table, ((k, encode(r)) for k, r in chunk))

    def _swap(self, states: StateMap, position: int) -> None:
        """Swap the `__new` tables in, with aux and checkpoint, in one transaction."""
        written: dict[str, dict[str, bytes]] = {}
        with self._write("swap in the rebuilt read models") as conn:
            old = rm.read_checkpoint(conn, self.name)
            for projection in self.projections:
                name = projection.name
                parts, _ = rm.changed_aux(states[name].aux, {})
                rm.upsert_aux(
                    conn,
                    rm.aux_table(name, new=True),
                    ((p, blob.decode()) for p, blob in parts.items()),
                )
                written[name] = parts
                rm.swap_in(conn, name)
            for gone in set(old.definitions if old else ()) - set(self.definitions):
                with contextlib.suppress(InvalidInput):
                    rm.check_projection_name(gone)
                    rm.drop_tables(conn, gone)  # a projection this domain no longer has
            rm.write_checkpoint(
                conn,
                self.name,
                position,
                self.fingerprint,
                self.definitions,
                _now(),
                self.store.macs,
            )
        self._states, self._aux_written = states, written
        self._committed_at(position)

    # -- following ---------------------------------------------------------------------

    def follow(
        self,
        poll_interval: float = 0.1,
        stop: threading.Event | None = None,
        *,
        on_status: Callable[[ProjectorStatus], None] | None = None,
    ) -> None:
        """Keep the read models current until `stop` is set (or Ctrl-C).

        Polls `PRAGMA data_version` every `poll_interval` seconds, which changes when
        another connection (this process's store included) commits, and catches up
        only then. Renews the lease while leading; takes it over when the leader's
        lapses; on a read-only store it only watches. `on_status` hears every change
        of checkpoint, head, role or error. Returns when `stop` is set; raises
        `ProjectionFailed` (after reporting it). The lease is released on the way
        out, so another projector takes over at once.
        """
        stop = stop or threading.Event()
        seen_version: int | None = None
        last: ProjectorStatus | None = None

        def report(_: int = 0, __: int = 0) -> None:
            nonlocal last
            if on_status is not None:
                current = self.status()
                if current != last:
                    last = current
                    on_status(current)

        try:
            while not stop.is_set():
                version = int(self._read("PRAGMA data_version")[0][0])
                moved = version != seen_version
                seen_version = version
                was_leader = self.lease.held
                try:
                    with self._fold_lock:
                        if self._hold_lease() and (moved or not was_leader or self._states is None):
                            self.catch_up(progress=report, stop=stop)
                except ProjectionFailed:
                    report()
                    raise
                except StoreError as exc:
                    # Locked beyond the busy timeout, a disk hiccup: keep following,
                    # and show it meanwhile.
                    self._error, self._error_position = str(exc), None
                if moved or self.lease.held != was_leader or self._error:
                    report()
                stop.wait(poll_interval)
        finally:
            with contextlib.suppress(DomainError):
                self.release()

    # -- waiting and status ------------------------------------------------------------

    def _notify(self) -> None:
        with self._committed:
            self._committed.notify_all()

    def _checkpoint_row(self) -> rm.Checkpoint | None:
        try:
            return rm.read_checkpoint(self._conn(), self.name)
        except sqlite3.Error as exc:
            raise self.store._error(exc, "read the projector checkpoint") from None

    def _head(self) -> int:
        rows = self._read(_HEAD)
        return int(rows[0][0]) if rows else 0

    def checkpoint(self) -> int:
        """The position the persisted read models reflect (0 before the first write)."""
        row = self._checkpoint_row()
        return row.position if row is not None else 0

    def wait_for(self, position: int, timeout: float) -> bool:
        """Wait until the read models reflect `position`; False on timeout or failure.

        Works whoever projects (this thread, another, another process): it polls the
        checkpoint row, and wakes early on this process's own commits. Returns False
        at once when the projector is stopped by a failure at or before `position`.
        """
        deadline = time.monotonic() + timeout
        while True:
            row = self._checkpoint_row()
            if row is not None:
                if row.position >= position:
                    return True
                if row.error_position is not None and row.error_position <= position:
                    return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            with self._committed:
                self._committed.wait(min(remaining, 0.02))

    def status(self) -> ProjectorStatus:
        """Checkpoint, head, lag, role, lease holder and the last error, read now."""
        with self._transaction("read the projector status", write=False) as conn:
            checkpoint = rm.read_checkpoint(conn, self.name)
            head_row = conn.execute(_HEAD).fetchone()
            lease = read_lease(conn, self.name)
        now = self._clock()
        owner = lease[0] if lease is not None and lease[1] > now else None
        role: Role
        if self.store.read_only:
            role = "reader"
        else:
            role = "leader" if self.lease.held and owner == self.owner_id else "follower"
        error, error_position = self._error, self._error_position
        if checkpoint is not None and checkpoint.error is not None:
            error, error_position = checkpoint.error, checkpoint.error_position
        return ProjectorStatus(
            name=self.name,
            checkpoint=checkpoint.position if checkpoint is not None else 0,
            head=int(head_row[0]) if head_row else 0,
            role=role,
            lease_owner=owner,
            lease_expires_at=lease[1] if lease is not None and owner is not None else None,
            error=error,
            error_position=error_position,
            rebuild_needed=(
                checkpoint is not None and checkpoint.fingerprint not in ("", self.fingerprint)
            ),
            rebuilding=self._rebuilding,
        )

    # -- reading -----------------------------------------------------------------------

    def projection(self, name: str) -> Projection:
        """The projection called `name`; unknown names list the known ones."""
        try:
            return self._by_name[name]
        except KeyError:
            known = ", ".join(self._by_name)
            raise InvalidInput(f"unknown projection {name!r}; known projections: {known}") from None

    def read_models(
        self, names: Sequence[str] | None = None, *, refusals: bool = True
    ) -> ReadModels:
        """The persisted states of `names` (all by default), read in one transaction.

        With `refusals`, a projection that shows refused commands (`MergesRefusals`)
        gets the refusals recorded up to the checkpoint overlaid, as panels show it;
        without, the states are exactly what the folds wrote.
        """
        projections = [self.projection(n) for n in (names or list(self._by_name))]
        states: StateMap = {}
        stale: set[str] = set()
        with self._transaction("read the read models", write=False) as conn:
            checkpoint = rm.read_checkpoint(conn, self.name)
            tables = rm.existing_tables(conn)
            for projection in projections:
                name = projection.name
                current = checkpoint is not None and (
                    checkpoint.definitions.get(name) == self.definitions[name]
                )
                if current and rm.rows_table(name) in tables:
                    states[name] = rm.read_state(conn, projection)[0]
                else:
                    if checkpoint is not None and checkpoint.fingerprint:
                        stale.add(name)
                    states[name] = projection.initial()
        position = checkpoint.position if checkpoint is not None else 0
        if refusals:
            states = self._with_refusals(states, position)
        return ReadModels(position, states, frozenset(stale))

    def read_model(self, projection_name: str, *, refusals: bool = True) -> ProjectionState:
        """The persisted state of one projection (see `read_models`)."""
        return self.read_models([projection_name], refusals=refusals).states[projection_name]

    def rows(
        self,
        projection_name: str,
        *,
        after: str | None = None,
        limit: int | None = None,
        keys: Sequence[str] | None = None,
    ) -> dict[str, Row]:
        """Persisted rows of one projection in key order: all, a page, or some keys.

        Rows as the fold wrote them (no refusal overlay): for paging large tables
        and for looking rows up by key.
        """
        self.projection(projection_name)
        with self._transaction("read the read models", write=False) as conn:
            if rm.rows_table(projection_name) not in rm.existing_tables(conn):
                return {}
            return rm.read_rows(conn, projection_name, after=after, limit=limit, keys=keys)

    def _with_refusals(self, states: StateMap, position: int) -> StateMap:
        merging = {
            name: projection
            for name, projection in self._by_name.items()
            if name in states and isinstance(projection, MergesRefusals)
        }
        if not merging:
            return states
        with self._refusals_lock:
            self._refusals.refresh(self.store)
            tallies = self._refusals.tallies(position)
        merged = dict(states)
        for name, projection in merging.items():
            assert isinstance(projection, MergesRefusals)
            merged[name] = projection.merge_refusals(states[name], tallies)
        return merged


def _now() -> str:
    return SystemClock().now()
