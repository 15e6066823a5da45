"""The composition root: the one place that builds stores, buses and timelines.

Everything else (the CLI commands, the app, tests) asks for a `Workspace` here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from domain.bus import CommandBus, checked_actor
from domain.clock import Clock, IdSource, SystemClock, UuidSource
from domain.description import DomainDescription
from domain.errors import InvalidInput
from store.hashchain import load_key
from store.postgres import is_postgres_url
from store.postgres.url import database_name, redacted
from store.sidecars import existing_sidecars, forget_read_only_traces
from store.sqlite import SqliteEventStore
from store.sqlite.schema_check import schema_problem_of_file
from tui.domains import DEFAULT_DOMAIN, load_domain, recorded_domain

if TYPE_CHECKING:
    from domain.ports import EventStore, ProofStore, SnapshotStore
    from domain.timeline import Timeline
    from store.deep_check import DeepReport
    from store.derived_macs import DerivedMacs
    from store.projector import Projector
    from tui.session import Session

# The read side (timeline, snapshots, projector, deep check), the in-memory store and
# the plug-in entry points are imported where they are first used: `exec` needs none
# of them (start-up, issue 14).

DEFAULT_DB = "eventscope.db"


def default_db_path() -> str:
    """`$EVENTSCOPE_DB`, else `./eventscope.db`."""
    return os.environ.get("EVENTSCOPE_DB") or DEFAULT_DB


SQLITE_SCHEME = "sqlite://"
MEMORY = "memory:"
NOT_BUILT_YET: dict[str, str] = {}


def is_memory(db: str | os.PathLike[str] | None) -> bool:
    """True when `--db` names the in-memory store (`memory:`)."""
    return db is not None and os.fspath(db) == MEMORY


def is_fileless(db: str | os.PathLike[str] | None) -> bool:
    """True when `--db` (or `$EVENTSCOPE_DB`) names a store without a file: `memory:`,
    or a PostgreSQL URL."""
    value = os.fspath(db) if db is not None else default_db_path()
    return is_memory(value) or is_postgres_url(value)


def database_path(db: str | os.PathLike[str] | None) -> Path:
    """The SQLite file a `--db` value names: a path, or `sqlite:///path`.

    `None` means the default (`default_db_path`). Other stores are named by URL
    (`postgresql://...`, `memory:`): they have no file, and are refused here with a
    sentence (callers that need a file call this).
    """
    value = os.fspath(db) if db is not None else default_db_path()
    for prefix, reason in NOT_BUILT_YET.items():
        if value.startswith(prefix):
            raise InvalidInput(f"--db {value}: {reason}")
    if value.startswith(MEMORY) or is_postgres_url(value):
        raise InvalidInput(
            f"--db {redacted(value)}: this needs a database file, and this store has none; "
            "give a SQLite file path"
        )
    if value.startswith(SQLITE_SCHEME):
        rest = value[len(SQLITE_SCHEME) :]
        if not rest.startswith("/") or rest == "/":
            raise InvalidInput(f"--db {value}: write sqlite:///relative.db or sqlite:////abs.db")
        value = rest[1:]
    return Path(value)


def default_actor() -> str:
    """The OS user, recorded on every command unless `--actor` says otherwise."""
    import getpass  # here: `exec --actor NAME` needs no user database (start-up)

    try:
        return getpass.getuser()
    except Exception:  # no user database entry (some containers): still record someone
        return os.environ.get("USER") or "unknown"


@dataclass
class Workspace:
    """An open database with its domain: what every command and screen works on.

    `db_path` is the SQLite file, None for a store without one (`memory:`);
    `location` names the store for messages and child processes either way.
    """

    db_path: Path | None
    domain: DomainDescription
    store: EventStore
    actor: str
    read_only: bool = False
    clock: Clock = field(default_factory=SystemClock)
    ids: IdSource = field(default_factory=UuidSource)
    location: str = ""
    _bus: CommandBus | None = None
    _timeline: Timeline | None = None
    _sidecars_before: frozenset[Path] = frozenset()
    _proofs: ProofStore | None = None
    _snapshots: SnapshotStore | None = None
    _closing: Callable[[], None] | None = None
    _in_use: bool = False

    def leave_open(self) -> None:
        """Make `close` leave the connections open: a worker thread still runs a query on
        them (closing a connection under a running query can crash the process); the
        operating system closes them when the process ends."""
        self._in_use = True

    @property
    def name(self) -> str:
        """A short name for titles and checkpoint origins (the file's name, or `memory`)."""
        if is_postgres_url(self.location):
            return database_name(self.location)
        return self.db_path.name if self.db_path is not None else "memory"

    @property
    def file(self) -> Path:
        """The SQLite file, or a clear refusal for a store without one."""
        if self.db_path is None:
            raise InvalidInput(
                f"--db {self.location}: this needs a database file, and this store has none; "
                "give a SQLite file path"
            )
        return self.db_path

    @property
    def bus(self) -> CommandBus:
        """The command bus (refused in read-only mode)."""
        if self.read_only:
            raise InvalidInput("the database is open read-only; reopen without --read-only")
        if self._bus is None:
            self._bus = CommandBus(self.store, self.domain.model, clock=self.clock, ids=self.ids)
        return self._bus

    @property
    def timeline(self) -> Timeline:
        """Time travel over this database, with snapshots kept in the same file."""
        if self._timeline is None:
            from domain.timeline import Timeline
            from domain.timeline.replay import pause_collector_with
            from store.chunk_cache import NearCursorChunks
            from store.collector import collector_paused
            from store.snapshot_format import ZLIB, stored_snapshot_key
            from store.timeline_tail import lean_tail

            snapshots = self._snapshots = self._open_snapshots()
            pause_collector_with(collector_paused)  # the domain switches no gc itself
            self._timeline = Timeline(
                self.store,
                self.domain.projections,
                self.domain.model.catalog,
                snapshots,
                save_snapshots=not self.read_only,
                codec=ZLIB,
                key=stored_snapshot_key(self.domain.projections),
                lock=threading.RLock,
                chunk_cache=NearCursorChunks(lock=threading.RLock),  # bounded: RSS (issue 14)
                tail=lean_tail(  # a seek's tail from narrow rows, where the store has them
                    self.store,
                    self.domain.projections,
                    self.domain.model.catalog,
                    self.domain.event_reads,
                ),
            )
        return self._timeline

    def _open_snapshots(self) -> SnapshotStore:
        from domain.snapshots import InMemorySnapshots
        from store.snapshots import SqliteSnapshotStore

        if isinstance(self.store, SqliteEventStore):
            return SqliteSnapshotStore(
                self.store.path, read_only=self.read_only, macs=self.store.macs
            )
        if is_postgres_url(self.location):
            from store.postgres.snapshots import PostgresSnapshotStore
            from store.postgres.store import PostgresEventStore

            assert isinstance(self.store, PostgresEventStore)
            kept = PostgresSnapshotStore(
                self.store.url, read_only=self.read_only, macs=self.store.macs
            )
            self._closing = kept.close
            return kept
        return InMemorySnapshots()

    @property
    def proofs(self) -> ProofStore:
        """The Merkle tree and issued checkpoints of this database (the ProofStore role)."""
        if self._proofs is None:
            from store.memory import InMemoryEventStore
            from store.proofs.sqlite_log import SqliteProofStore

            if isinstance(self.store, SqliteEventStore):
                self._proofs = SqliteProofStore(self.store.path, read_only=self.read_only)
            elif isinstance(self.store, InMemoryEventStore):
                self._proofs = self.store.proofs
            else:
                raise InvalidInput(f"--db {self.location}: this store keeps no Merkle tree")
        return self._proofs

    def schema_problem(self) -> str | None:
        """What is wrong with the store's schema (triggers, version), None when nothing.

        A store in memory has nothing anyone else could change behind its back."""
        if is_postgres_url(self.location):
            from store.postgres.store import PostgresEventStore

            assert isinstance(self.store, PostgresEventStore)
            return self.store.schema_problem()
        if not isinstance(self.store, SqliteEventStore):
            return None
        return schema_problem_of_file(self.store.path, self.store.busy_timeout_ms)

    def deep_check(self) -> DeepReport:
        """`verify --deep`: replay the events and compare every derived record (blocking).

        On every store: the check reads the store roles, and the snapshots the timeline
        keeps in this store (in memory: those of this process)."""
        from store.deep_check import deep_check

        _ = self.timeline  # opens this store's snapshots
        assert self._snapshots is not None
        return deep_check(
            self.store,
            self._snapshots,
            self.domain.projections,
            self.domain.model.catalog,
            macs=self._derived_macs(),
            schema_problem=self.schema_problem(),
        )

    def child_database(self) -> tuple[list[str], dict[str, str]] | None:
        """How a child process opens this same database: its arguments and environment
        (a PostgreSQL URL, which may hold a password, goes in `EVENTSCOPE_DB`, never on
        a command line every user can read); None for `memory:` (this process only)."""
        if self.db_path is not None:
            return ["--db", str(self.db_path.resolve())], {}
        if is_postgres_url(self.location):
            from store.postgres.store import PostgresEventStore

            assert isinstance(self.store, PostgresEventStore)
            return [], {"EVENTSCOPE_DB": self.store.url}
        return None

    def _derived_macs(self) -> DerivedMacs | None:
        """The MACs of derived records, with the chain's key (memory keeps none)."""
        if isinstance(self.store, SqliteEventStore):
            return self.store.macs
        if is_postgres_url(self.location):
            from store.postgres.store import PostgresEventStore

            assert isinstance(self.store, PostgresEventStore)
            return self.store.macs
        return None

    def projector(self, **options: object) -> Projector:
        """A projector keeping this database's read models (the caller closes it)."""
        from store.projector import Projector

        return Projector(
            self.store,
            self.domain.projections,
            self.domain.model.catalog,
            reads=self.domain.event_reads,
            **options,  # type: ignore[arg-type]
        )

    def release_wal(self) -> None:
        """After writes far larger than normal use, give a SQLite file's `-wal` space back
        if no one needs it now (`SqliteBase.release_wal`); elsewhere nothing to do."""
        if isinstance(self.store, SqliteEventStore):
            self.store.release_wal()

    def close(self) -> None:
        if self._in_use:
            return
        if self._snapshots is not None or self._proofs is not None:
            from store.proofs.sqlite_log import SqliteProofStore
            from store.snapshots import SqliteSnapshotStore

            for part in (self._snapshots, self._proofs):
                if isinstance(part, SqliteSnapshotStore | SqliteProofStore):  # in memory: nothing
                    part.close()
        if self._closing is not None:  # snapshots on PostgreSQL: their own connection
            self._closing()
        self.store.close()
        if self.read_only and self.db_path is not None:  # no -wal/-shm left that was not there
            forget_read_only_traces(self.db_path, self._sidecars_before)


def open_workspace(
    db: str | os.PathLike[str] | None = None,
    *,
    domain: str | None = None,
    actor: str | None = None,
    read_only: bool = False,
    create: bool = False,
    clock: Clock | None = None,
    ids: IdSource | None = None,
    synchronous: str = "FULL",
    key_file: str | None = None,
    busy_timeout_ms: int = 5000,
) -> Workspace:
    """Open (or with `create`, create) the database `db` names (see `database_path`).

    A database records the domain that wrote it. Without `domain` that one is used
    (the ledger for a new database); opening it as another domain is refused.
    """
    actor = checked_actor(actor) if actor is not None else None
    description = load_domain(domain) if domain else None
    clock = clock or SystemClock()
    if is_memory(db):
        return _memory_workspace(description, actor, read_only, clock, ids, key_file)
    if is_fileless(db):  # a PostgreSQL URL, given or in $EVENTSCOPE_DB
        return _postgres_workspace(
            os.fspath(db) if db is not None else default_db_path(),
            description,
            actor,
            read_only,
            create,
            clock,
            ids,
            key_file,
        )
    path = database_path(db)
    sidecars_before = existing_sidecars(path)
    try:
        store = SqliteEventStore.open(
            path,
            key_file=key_file,
            clock=clock,
            read_only=read_only,
            create=create,
            synchronous=synchronous,
            busy_timeout_ms=busy_timeout_ms,
            domain=description.name if description else DEFAULT_DOMAIN,
        )
        try:
            recorded = store.domain
            if description is None:
                description = recorded_domain(path, recorded or DEFAULT_DOMAIN)
            elif recorded and recorded != description.name:
                raise InvalidInput(
                    f"{path} was written by the {recorded} domain, not {description.name}; "
                    f"open it with --domain {recorded}"
                )
        except BaseException:
            store.close()
            raise
    except BaseException:
        if read_only:
            forget_read_only_traces(path, sidecars_before)
        raise
    return Workspace(
        db_path=path,
        domain=description,
        store=store,
        actor=actor or default_actor(),
        read_only=read_only,
        clock=clock,
        ids=ids or UuidSource(),
        location=str(path),
        _sidecars_before=sidecars_before,
    )


def _memory_workspace(
    description: DomainDescription | None,
    actor: str | None,
    read_only: bool,
    clock: Clock,
    ids: IdSource | None,
    key_file: str | None,
) -> Workspace:
    """A workspace on a new, empty in-memory store (it lives as long as this process)."""
    from store.memory import InMemoryEventStore

    if read_only:
        raise InvalidInput("--db memory: starts empty, so --read-only would show nothing")
    return Workspace(
        db_path=None,
        domain=description or load_domain(DEFAULT_DOMAIN),
        store=InMemoryEventStore(clock=clock, key=load_key(key_file)),
        actor=actor or default_actor(),
        clock=clock,
        ids=ids or UuidSource(),
        location=MEMORY,
    )


def _postgres_workspace(
    url: str,
    description: DomainDescription | None,
    actor: str | None,
    read_only: bool,
    create: bool,
    clock: Clock,
    ids: IdSource | None,
    key_file: str | None,
) -> Workspace:
    """A workspace on the PostgreSQL database at `url` (store/postgres)."""
    from store.postgres.opening import open_postgres

    store = open_postgres(
        url,
        clock=clock,
        key_file=key_file,
        read_only=read_only,
        create=create,
        domain=description.name if description else DEFAULT_DOMAIN,
    )
    try:
        recorded = store.domain or DEFAULT_DOMAIN
        if description is None:
            description = recorded_domain(Path(store.where), recorded)
        elif recorded != description.name:
            raise InvalidInput(
                f"{store.where} was written by the {recorded} domain, not {description.name}; "
                f"open it with --domain {recorded}"
            )
    except BaseException:
        store.close()
        raise
    return Workspace(
        db_path=None,
        domain=description,
        store=store,
        actor=actor or default_actor(),
        read_only=read_only,
        clock=clock,
        ids=ids or UuidSource(),
        location=store.where,
        _proofs=store.proofs,
    )


def app_session(workspace: Workspace, *, project: bool = True) -> Session:
    """The app's services over `workspace`: queries, frames, the chain check, bookmarks
    and, with `project` on a writable store, the in-app projector (`ReadSide`)."""
    # Imported here: the CLI's commands open workspaces and need none of the app's.
    from tui.read_side import ReadSide
    from tui.services.bookmarks import Bookmarks
    from tui.services.calls import InFlight
    from tui.services.chain import ChainCheck
    from tui.services.flow import Flows
    from tui.services.queries import Queries
    from tui.services.stepping import Frames
    from tui.session import Session

    read_side = ReadSide(workspace.projector()) if project and not workspace.read_only else None
    calls = InFlight()
    lock = threading.Lock()  # the timeline's state, shared by queries and frames
    store, domain = workspace.store, workspace.domain
    queries = Queries(store, domain, workspace.timeline, lock, calls)
    frames = Frames(workspace.timeline, list(domain.projections), queries, read_side, lock, calls)
    return Session(
        workspace,
        queries=queries,
        frames=frames,
        chain=ChainCheck(store, workspace.db_path, domain.name, calls),
        marks=Bookmarks(store, read_only=workspace.read_only, actor=workspace.actor, calls=calls),
        calls=calls,
        read_side=read_side,
        flows=Flows(store, domain, queries, calls),
    )
