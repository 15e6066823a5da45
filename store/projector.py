"""The projector: keeps the persisted read models (`store.read_models`) up to date.

It folds events into every projection of a domain with the projections' own `apply`
(the one definition of each read model), holding the fold state in memory between
batches, and after each batch writes the rows that changed, the changed aux parts
and the checkpoint in one transaction, so the tables always show the state at the
checkpoint exactly. On start it loads that state back from the tables, so a restart
resumes where the last commit left off.

Only one projector writes a read model at a time: the holder of the lease row in
`projector_lease`. It renews the lease in every batch transaction (and between
batches when idle); the lease lapses `lease_seconds` after its holder stops
renewing, and then another projector takes over. A write first checks, under the
write lock, that the lease is still its own, so two projectors never both write.
Projectors without the lease only read.

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
from dataclasses import dataclass, field, fields, make_dataclass
from typing import Any, Literal

import orjson

from domain.clock import SystemClock
from domain.envelope import RecordedEvent
from domain.errors import DomainError, InvalidInput, StoreError
from domain.model import EventCatalog
from domain.projection import Projection, ProjectionState, Row, StateMap, initial_states
from domain.refusals import MergesRefusals, RefusalIndex
from store import read_models as rm
from store.sqlite import SqliteEventStore

Role = Literal["leader", "follower", "reader"]
Progress = Callable[[int, int], None]
"""`progress(position, target)`: folded up to `position` of `target` events."""

_EVENTS = (
    "SELECT position, event_id, stream_id, stream_type, version, type, schema_version, "
    "data, metadata, recorded_at, prev_hash, hash FROM events "
    "WHERE position > ? ORDER BY position LIMIT ?"
)
_HEAD = "SELECT position FROM events ORDER BY position DESC LIMIT 1"
_LEASE = "SELECT owner, expires_at FROM projector_lease WHERE name = ?"
_WRITE_CHUNK = 20_000
"""Rows per transaction when a rebuild fills its `__new` tables (keeps the write lock
short, so commands are never held up long)."""


class ProjectionFailed(DomainError):
    """A projection (or reading an event for it) raised: the projector stopped there.

    The read model stays at the event before `position`; nothing after it is folded
    until the projection is fixed (its definition changes, so a rebuild follows) or
    the cause goes away.
    """

    code = "projection_failed"
    exit_code = 1

    def __init__(
        self, position: int, event_type: str, projection: str | None, cause: BaseException
    ) -> None:
        reason = f"{type(cause).__name__}: {cause}"
        if projection is None:
            what = f"reading event #{position} ({event_type}) failed"
        else:
            what = f"projection {projection} failed on event #{position} ({event_type})"
        super().__init__(f"{what}: {reason}; the read model stops at #{position - 1}")
        self.position = position
        self.event_type = event_type
        self.projection = projection


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


class _Failure(Exception):
    """Internal: where a fold failed (the index of the row in its batch, and why)."""

    def __init__(self, index: int, error: ProjectionFailed) -> None:
        super().__init__(str(error))
        self.index = index
        self.error = error


class _LeaseLost(Exception):
    """Internal: another projector holds the lease now; roll back and step down."""


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
        self.owner_id = owner_id or default_owner_id()
        self.lease_seconds = lease_seconds
        self.batch = batch
        self._clock = clock
        self.fingerprint, self.definitions = rm.fingerprint(self.projections)
        self._by_name = {p.name: p for p in self.projections}
        # Upcasting is needed only when a stored version differs from the current one;
        # one dict lookup per event decides it.
        self._versions = {t: model.schema_version for t, model in catalog.types.items()}

        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self._fold_lock = threading.RLock()
        self._committed = threading.Condition()

        # The fold state at `_position`, equal to the tables while we lead; None means
        # "load it from the tables first" (at start, after an error, after losing the lease).
        self._states: StateMap | None = None
        self._position = 0
        self._aux_written: dict[str, dict[str, bytes]] = {}

        self._leader = False
        self._lease_expires = 0.0
        self._holder: str | None = None
        self._holder_expires = 0.0
        self._error: str | None = None
        self._error_position: int | None = None
        self._rebuilding = False

        self._refusals = RefusalIndex()
        self._refusals_lock = threading.Lock()

    # -- connections -------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and not self._closed:
            return conn
        if self._closed:
            raise StoreError(f"the projector for {self.store.path} is closed")
        mode = "ro" if self.store.read_only else "rw"
        try:
            conn = sqlite3.connect(
                f"{self.store.path.resolve().as_uri()}?mode={mode}",
                uri=True,
                timeout=self.store.busy_timeout_ms / 1000,
                isolation_level=None,  # we issue BEGIN / COMMIT ourselves
                check_same_thread=False,  # only so close() can close every thread's
            )
            if not self.store.read_only:
                conn.execute("PRAGMA synchronous = NORMAL")
        except sqlite3.Error as exc:
            raise self.store._error(exc, "open the read models") from None
        self._local.conn = conn
        with self._connections_lock:
            self._connections.append(conn)
        return conn

    @contextlib.contextmanager
    def _transaction(self, action: str, *, write: bool) -> Iterator[sqlite3.Connection]:
        """One transaction on this thread's connection; SQLite errors become StoreError."""
        conn = self._conn()
        try:
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

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self._conn().execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self.store._error(exc, "read") from None

    def close(self) -> None:
        """Give up the lease (if held) and close every thread's connection."""
        with contextlib.suppress(DomainError):
            self.release()
        self._closed = True
        with self._connections_lock:
            connections, self._connections = self._connections, []
        for conn in connections:
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def __enter__(self) -> Projector:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the lease ---------------------------------------------------------------------

    @property
    def is_leader(self) -> bool:
        """True while this projector holds the lease (as far as it last saw)."""
        return self._leader

    def _hold_lease(self) -> bool:
        """Take or renew the lease when due; True when this projector may write."""
        if self.store.read_only:
            return False
        now = self._clock()
        if self._leader:
            if now < self._lease_expires - self.lease_seconds / 2:
                return True
            try:
                with self._transaction("renew the projector lease", write=True) as conn:
                    self._renew(conn, now)
            except _LeaseLost:
                self._step_down()
                return False
            return True
        if now < self._holder_expires:
            return False  # someone else's lease is still running; no need to ask
        return self._take_lease()

    def _take_lease(self) -> bool:
        conn = self._conn()
        try:
            row = conn.execute(_LEASE, (self.name,)).fetchone()
        except sqlite3.Error as exc:
            raise self.store._error(exc, "read the projector lease") from None
        if row is not None and row[0] != self.owner_id and row[1] > self._clock():
            self._holder, self._holder_expires = row[0], row[1]
            return False
        with self._transaction("take the projector lease", write=True) as conn:
            # Again under the write lock: another projector may have just taken it.
            row = conn.execute(_LEASE, (self.name,)).fetchone()
            now = self._clock()
            if row is not None and row[0] != self.owner_id and row[1] > now:
                self._holder, self._holder_expires = row[0], row[1]
                return False
            expires = now + self.lease_seconds
            conn.execute(
                "INSERT INTO projector_lease (name, owner, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET owner = excluded.owner, "
                "expires_at = excluded.expires_at",
                (self.name, self.owner_id, expires),
            )
        self._leader = True
        self._lease_expires = expires
        self._holder, self._holder_expires = self.owner_id, expires
        # Whoever wrote before us may have moved the tables on: reload before folding.
        self._states = None
        return True

    def _renew(self, conn: sqlite3.Connection, now: float) -> None:
        """Extend our lease inside the current write transaction, or raise _LeaseLost.

        An expired lease nobody took is still ours to renew: no one else wrote.
        """
        expires = now + self.lease_seconds
        cursor = conn.execute(
            "UPDATE projector_lease SET expires_at = ? WHERE name = ? AND owner = ?",
            (expires, self.name, self.owner_id),
        )
        if cursor.rowcount != 1:
            raise _LeaseLost
        self._lease_expires = expires
        self._holder_expires = expires

    def _step_down(self) -> None:
        self._leader = False
        self._states = None
        self._holder_expires = 0.0  # look at the lease row again on the next attempt

    def release(self) -> None:
        """Give the lease up now (on a clean stop), so another projector need not wait."""
        if not self._leader or self._closed:
            return
        self._leader = False
        self._states = None
        with self._transaction("release the projector lease", write=True) as conn:
            conn.execute(
                "DELETE FROM projector_lease WHERE name = ? AND owner = ?",
                (self.name, self.owner_id),
            )

    # -- folding -----------------------------------------------------------------------

    def _fold(
        self, rows: Sequence[Sequence[Any]], states: StateMap, changed: dict[str, set[str]] | None
    ) -> None:
        """Fold event rows into `states`; with `changed`, collect the row keys touched.

        The hot loop of catch-up and rebuild: events are built straight from the rows
        (see `_event_class`), `data` and `metadata` decoded with orjson (what is stored
        was validated when written), and consecutive identical texts (the metadata of
        one command's events, the two halves of a transfer) decoded once and shared:
        projections never mutate events. Raises `_Failure` naming the row and projection.
        """
        loads = orjson.loads
        versions_get = self._versions.get
        upcast = self.catalog.upcast
        twin, swap = _EVENT_CLASS, _EVENT_CLASS is not RecordedEvent
        recorded = RecordedEvent
        pairs = [(p.name, p.apply, states[p.name]) for p in self.projections]
        tracked = (
            [(name, apply, state, changed[name]) for name, apply, state in pairs]
            if changed is not None
            else None
        )
        last_data_text = last_meta_text = None
        data: Any = None
        metadata: Any = None
        event: Any = None
        name: str | None = None
        row: Sequence[Any] = ()
        try:
            for row in rows:
                data_text = row[7]
                if data_text != last_data_text:
                    data = loads(data_text)
                    last_data_text = data_text
                kind = row[5]
                schema_version = row[6]
                if versions_get(kind, schema_version) != schema_version:
                    data = upcast(kind, schema_version, data)
                    last_data_text = None  # the upcast copy is not the stored text
                meta_text = row[8]
                if meta_text != last_meta_text:
                    metadata = loads(meta_text)
                    last_meta_text = meta_text
                event = twin(
                    row[0], row[1], row[2], row[3], row[4], kind, schema_version,
                    data, metadata, row[9], row[10], row[11],
                )  # fmt: skip
                if swap:
                    event.__class__ = recorded
                if tracked is None:
                    for name, apply, state in pairs:  # noqa: B007 (`name` names a failure)
                        apply(state, event)
                else:
                    for name, apply, state, keys in tracked:  # noqa: B007 (as above)
                        touched = apply(state, event)
                        if touched:
                            keys.update(touched)
        except Exception as exc:
            # Decoding (or upcasting) failed when `event` is still the previous row's.
            decoded = event is not None and event.position == row[0]
            failure = ProjectionFailed(row[0], row[5], name if decoded else None, exc)
            index = next(i for i, r in enumerate(rows) if r is row)
            raise _Failure(index, failure) from exc

    def _load_state(self, conn: sqlite3.Connection, position: int) -> None:
        """Take the persisted state as the in-memory fold state (inside a transaction)."""
        states: StateMap = {}
        written: dict[str, dict[str, bytes]] = {}
        tables = rm.existing_tables(conn)
        for projection in self.projections:
            if rm.rows_table(projection.name) in tables:
                states[projection.name], written[projection.name] = rm.read_state(conn, projection)
            else:
                states[projection.name], written[projection.name] = projection.initial(), {}
        self._states, self._aux_written, self._position = states, written, position

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
        rm.write_checkpoint(conn, self.name, position, self.fingerprint, self.definitions, _now())

    def _prepare(self, progress: Progress | None) -> None:
        """Make the in-memory state match the tables, rebuilding when they are unusable."""
        if self._states is not None:
            return
        checkpoint = self._checkpoint_row()
        if checkpoint is None or checkpoint.fingerprint != self.fingerprint:
            # No read model yet (a rebuild is the fastest way to make one), or one
            # that other definitions wrote: never fold new events over it.
            self._rebuild_locked(progress)
            return
        with self._transaction("load the read models", write=False) as conn:
            checkpoint = rm.read_checkpoint(conn, self.name)
            if checkpoint is None or checkpoint.fingerprint != self.fingerprint:
                return  # changed under us; the next call starts over
            self._load_state(conn, checkpoint.position)

    def _checkpoint_row(self) -> rm.Checkpoint | None:
        try:
            return rm.read_checkpoint(self._conn(), self.name)
        except sqlite3.Error as exc:
            raise self.store._error(exc, "read the projector checkpoint") from None

    def catch_up(
        self, *, progress: Progress | None = None, stop: threading.Event | None = None
    ) -> ProjectorStatus:
        """Fold every event after the checkpoint into the tables, one batch per transaction.

        Returns at once with `role="follower"` when another projector holds the lease.
        Raises `ProjectionFailed` when a projection raises: the events before the
        failing one are committed, the error is recorded for `status()`.
        `progress(position, head)` is called after each batch; `stop` ends the
        catch-up between batches.
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
                except _LeaseLost:
                    self._step_down()
                except BaseException:
                    # Interrupted or failed mid-batch: memory may be ahead of the tables.
                    self._states = None
                    raise
        return self.status()

    def _catch_up_batch(self, progress: Progress | None) -> bool:
        """Fold and commit one batch; False when there was nothing to fold."""
        assert self._states is not None
        rows = self._read(_EVENTS, (self._position, self.batch))
        if not rows:
            return False
        states = self._states
        changed: dict[str, set[str]] = {p.name: set() for p in self.projections}
        try:
            self._fold(rows, states, changed)
        except _Failure as failure:
            self._commit_before_failure(rows, failure)
            raise failure.error from failure.__cause__
        position = rows[-1][0]
        with self._transaction("write the read models", write=True) as conn:
            self._renew(conn, self._clock())
            self._check_position(conn)
            self._write_batch(conn, states, changed, position)
        self._position = position
        self._error = self._error_position = None
        self._notify()
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
            raise _LeaseLost

    def _commit_before_failure(self, rows: Sequence[Sequence[Any]], failure: _Failure) -> None:
        """Commit the events before the failing one and record the failure.

        The failing event may have reached some projections already, so the batch is
        folded again from the tables' state up to the event before it.
        """
        error = failure.error
        self._states = None
        with self._transaction("record a projection failure", write=True) as conn:
            self._renew(conn, self._clock())
            checkpoint = rm.read_checkpoint(conn, self.name)
            assert checkpoint is not None
            self._load_state(conn, checkpoint.position)
            assert self._states is not None
            good = rows[: failure.index]
            if good:
                changed: dict[str, set[str]] = {p.name: set() for p in self.projections}
                self._fold(good, self._states, changed)
                self._write_batch(conn, self._states, changed, good[-1][0])
                self._position = good[-1][0]
            rm.record_failure(conn, self.name, str(error), error.position, _now())
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
                    f"projector {self._holder} is writing the read models of {self.store.path} "
                    "(its lease runs until it stops); stop it, or let it rebuild"
                )
            try:
                self._rebuild_locked(progress)
            except _LeaseLost:
                self._step_down()
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
        finally:
            self._rebuilding = False

    def _fold_all(self, states: StateMap, progress: Progress | None) -> int:
        """Fold every event into `states` (renewing the lease as it goes); the last position."""
        position = 0
        while True:
            rows = self._read(_EVENTS, (position, self.batch))
            if not rows:
                return position
            try:
                self._fold(rows, states, None)
            except _Failure as failure:
                error = failure.error
                self._record_failure(error)
                raise error from failure.__cause__
            position = rows[-1][0]
            if self._clock() >= self._lease_expires - self.lease_seconds / 2:
                with self._transaction("renew the projector lease", write=True) as conn:
                    self._renew(conn, self._clock())
            if progress is not None:
                progress(position, self._head())

    def _record_failure(self, error: ProjectionFailed) -> None:
        with self._transaction("record a projection failure", write=True) as conn:
            self._renew(conn, self._clock())
            rm.record_failure(conn, self.name, str(error), error.position, _now())
        self._error, self._error_position = str(error), error.position
        self._notify()

    def _fill_new_tables(self, states: StateMap) -> None:
        """Write the rebuilt states into `__new` tables, a chunk per transaction."""
        with self._transaction("create the rebuilt tables", write=True) as conn:
            self._renew(conn, self._clock())
            for projection in self.projections:
                rm.create_tables(conn, projection.name, new=True)
        for projection in self.projections:
            state = states[projection.name]
            table = rm.rows_table(projection.name, new=True)
            encode = rm.encode_row
            items = sorted(state.rows.items())  # key order fills the b-tree fastest
            for start in range(0, len(items), _WRITE_CHUNK):
                chunk = items[start : start + _WRITE_CHUNK]
                with self._transaction("write the rebuilt tables", write=True) as conn:
                    self._renew(conn, self._clock())
                    rm.upsert_rows(conn, table, ((k, encode(r)) for k, r in chunk))

    def _swap(self, states: StateMap, position: int) -> None:
        """Swap the `__new` tables in, with aux and checkpoint, in one transaction."""
        written: dict[str, dict[str, bytes]] = {}
        with self._transaction("swap in the rebuilt read models", write=True) as conn:
            self._renew(conn, self._clock())
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
            if old is not None:
                for gone in set(old.definitions) - set(self.definitions):
                    with contextlib.suppress(InvalidInput):
                        rm.check_projection_name(gone)
                        rm.drop_tables(conn, gone)  # a projection this domain no longer has
            rm.write_checkpoint(
                conn, self.name, position, self.fingerprint, self.definitions, _now()
            )
        self._states, self._aux_written, self._position = states, written, position
        self._error = self._error_position = None
        self._notify()

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
        lapses. `on_status` hears every change of checkpoint, head, role or error.
        Returns when `stop` is set; raises `ProjectionFailed` (after reporting it).
        The lease is released on the way out, so another projector takes over at once.
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
                version = self._data_version()
                moved = version != seen_version
                seen_version = version
                was_leader = self._leader
                try:
                    with self._fold_lock:
                        leading = self._hold_lease()
                        if leading and (moved or not was_leader or self._states is None):
                            self.catch_up(progress=report, stop=stop)
                except ProjectionFailed:
                    report()
                    raise
                except StoreError as exc:
                    # Locked for longer than the busy timeout, a disk hiccup: keep
                    # following, and show it meanwhile.
                    self._error, self._error_position = str(exc), None
                if moved or self._leader != was_leader:
                    report()
                stop.wait(poll_interval)
        finally:
            with contextlib.suppress(DomainError):
                self.release()

    def _data_version(self) -> int:
        return int(self._read("PRAGMA data_version")[0][0])

    # -- waiting and status ------------------------------------------------------------

    def _notify(self) -> None:
        with self._committed:
            self._committed.notify_all()

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

    def _head(self) -> int:
        rows = self._read(_HEAD)
        return int(rows[0][0]) if rows else 0

    def status(self) -> ProjectorStatus:
        """Checkpoint, head, lag, role, lease holder and the last error, read now."""
        with self._transaction("read the projector status", write=False) as conn:
            checkpoint = rm.read_checkpoint(conn, self.name)
            head_row = conn.execute(_HEAD).fetchone()
            try:
                lease = conn.execute(_LEASE, (self.name,)).fetchone()
            except sqlite3.OperationalError:
                lease = None  # a read-only file from before the projector's migration
        now = self._clock()
        owner = lease[0] if lease is not None and lease[1] > now else None
        expires = lease[1] if owner is not None else None
        role: Role
        if self.store.read_only:
            role = "reader"
        else:
            role = "leader" if self._leader and owner == self.owner_id else "follower"
        error, error_position = self._error, self._error_position
        if checkpoint is not None and checkpoint.error is not None:
            error, error_position = checkpoint.error, checkpoint.error_position
        return ProjectorStatus(
            name=self.name,
            checkpoint=checkpoint.position if checkpoint is not None else 0,
            head=int(head_row[0]) if head_row else 0,
            role=role,
            lease_owner=owner,
            lease_expires_at=expires,
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
                current = (
                    checkpoint is not None
                    and checkpoint.definitions.get(projection.name)
                    == self.definitions[projection.name]
                )
                if current and rm.rows_table(projection.name) in tables:
                    states[projection.name] = rm.read_state(conn, projection)[0]
                else:
                    if checkpoint is not None:
                        stale.add(projection.name)
                    states[projection.name] = projection.initial()
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


def _event_class() -> Any:
    """What `_fold` builds events with: RecordedEvent itself, or a mutable twin.

    RecordedEvent is a frozen dataclass, and a frozen dataclass's `__init__` assigns
    each field through `object.__setattr__`: about 3 µs for its 12 fields, more than
    decoding the event's JSON, which would make construction the largest cost of a
    rebuild. A non-frozen slotted twin with the very same slots is built in ~0.4 µs,
    and CPython lets an instance switch `__class__` between classes with identical
    slot layouts, so the fold still receives genuine (and from then on frozen)
    RecordedEvent objects. Checked once here; anything unexpected falls back.
    """
    if not RecordedEvent.__dataclass_params__.frozen:  # type: ignore[attr-defined]
        return RecordedEvent
    names = [f.name for f in fields(RecordedEvent)]
    twin: Any = make_dataclass("_MutableRecordedEvent", names, slots=True)
    try:
        probe = twin(*range(len(names)))
        probe.__class__ = RecordedEvent
        if probe != RecordedEvent(*range(len(names))):
            return RecordedEvent
    except TypeError:
        return RecordedEvent
    return twin


_EVENT_CLASS = _event_class()
