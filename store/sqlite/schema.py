"""The database schema, as numbered migration steps.

`PRAGMA user_version` holds the number of the last step applied (the schema version)
and `PRAGMA application_id` marks the file as eventscope's. sqlite-utils' `Migrations`
records each step by name in `_sqlite_migrations`.

Adding a step (read models, snapshots, bookmarks...): write a function taking a
`sqlite_utils.Database` below the last one, decorated with `@migration(N, "name")`
where N is the last number plus one. Register steps only in this module (or in a
module this one imports), so every process agrees on what schema N means whatever
else it imported. Steps run inside the opener's `BEGIN IMMEDIATE` transaction, so a
step must not run VACUUM or change `journal_mode`.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from store.proofs.sqlite_log import TREE_SCHEMA, build_tree

if TYPE_CHECKING:
    # Imported where migrations run (`apply_migrations`): sqlite-utils is most of the
    # start-up cost of a command, and a store of the latest schema never needs it.
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

APPLICATION_ID = 0x45565343
"""`PRAGMA application_id` of an eventscope database: "EVSC" in ASCII."""

MIGRATION_SET = "eventscope"

MigrationStep = Callable[["Database"], None]


@dataclass(frozen=True)
class SchemaStep:
    """One numbered migration."""

    number: int
    name: str
    apply: MigrationStep

    @property
    def key(self) -> str:
        """The name recorded in `_sqlite_migrations` (`0001_events`)."""
        return f"{self.number:04d}_{self.name}"


_STEPS: list[SchemaStep] = []


def migration(number: int, name: str) -> Callable[[MigrationStep], MigrationStep]:
    """Register schema step `number` (the next in order) named `name`."""

    def register(fn: MigrationStep) -> MigrationStep:
        if number != len(_STEPS) + 1:
            raise ValueError(
                f"schema step {name} is numbered {number}; the next number is {len(_STEPS) + 1}"
            )
        _STEPS.append(SchemaStep(number, name, fn))
        return fn

    return register


def steps() -> tuple[SchemaStep, ...]:
    """All registered steps, in order."""
    return tuple(_STEPS)


def latest_version() -> int:
    """The schema version this eventscope writes."""
    return len(_STEPS)


def read_versions(conn: sqlite3.Connection) -> tuple[int, int]:
    """(application_id, user_version) of the open database."""
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    return int(app_id), int(version)


def table_count(conn: sqlite3.Connection) -> int:
    """How many tables, views, indexes and triggers the file holds."""
    return int(conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0])


def apply_migrations(conn: sqlite3.Connection) -> int:
    """Apply every pending step; returns how many ran.

    Call inside a write transaction (`BEGIN IMMEDIATE`): sqlite-utils then nests
    each step in a savepoint, and the caller's commit makes them all durable at once.
    Raises RuntimeError when the file's recorded steps disagree with this version's.
    """
    from sqlite_utils import Database

    db = Database(conn, execute_plugins=False)
    _, current = read_versions(conn)
    pending = [step for step in _STEPS if step.number > current]
    migrations = _migration_set()
    recorded = [m.name for m in migrations.pending(db)]
    if recorded != [step.key for step in pending]:
        raise RuntimeError(
            f"schema history does not match this eventscope (version {current}, "
            f"pending {', '.join(recorded) or 'none'})"
        )
    migrations.apply(db)
    return len(pending)


def _migration_set() -> Migrations:
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for step in _STEPS:
        migrations(name=step.key)(_versioned(step))
    return migrations


def _versioned(step: SchemaStep) -> Callable[[Database], None]:
    """The step, then the schema number bumped in the same transaction."""

    def run(db: Database) -> None:
        step.apply(db)
        db.execute(f"PRAGMA user_version = {int(step.number)}")
        db.execute(
            "INSERT INTO meta(key, value) VALUES ('schema_version', ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            [str(step.number)],
        )

    run.__name__ = step.key
    return run


def _append_only(table: str) -> list[str]:
    """Triggers that refuse UPDATE and DELETE on `table`.

    With `recursive_triggers` on (the store sets it), INSERT OR REPLACE is refused too,
    because its implicit delete fires the DELETE trigger.
    """
    return [
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, '{table} are append-only: UPDATE is refused'); END",
        f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
        f"SELECT RAISE(ABORT, '{table} are append-only: DELETE is refused'); END",
    ]


@migration(1, "events")
def _events(db: Database) -> None:
    """Events, commands, refusals and meta: the audit trail itself."""
    statements = [
        # position is the rowid, assigned explicitly as head+1 inside the write
        # transaction. The two UNIQUE rules are unique indexes rather than table
        # constraints so a bulk load into an empty store can drop and rebuild them.
        """CREATE TABLE events (
            position INTEGER PRIMARY KEY CHECK (position >= 1),
            event_id TEXT NOT NULL,
            stream_id TEXT NOT NULL,
            stream_type TEXT NOT NULL,
            version INTEGER NOT NULL CHECK (version >= 1),
            type TEXT NOT NULL,
            schema_version INTEGER NOT NULL,
            data TEXT NOT NULL,
            metadata TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        ) STRICT""",
        "CREATE UNIQUE INDEX events_event_id ON events(event_id)",
        "CREATE UNIQUE INDEX events_stream_version ON events(stream_id, version)",
        "CREATE INDEX events_type ON events(type)",
        # An expression index keeps the table exactly the brief's columns; queries
        # must spell the expression the same way to use it.
        "CREATE INDEX events_actor ON events(json_extract(metadata, '$.actor'))",
        "CREATE INDEX events_recorded_at ON events(recorded_at)",
        *_append_only("events"),
        # payload is NULL for commands rebuilt by an import (the export has no payloads).
        # first/last_position are 0 for a command that recorded no events.
        """CREATE TABLE commands (
            command_id TEXT PRIMARY KEY,
            command_type TEXT NOT NULL,
            payload TEXT,
            actor TEXT NOT NULL,
            recorded_at TEXT NOT NULL,
            first_position INTEGER NOT NULL,
            last_position INTEGER NOT NULL
        ) STRICT, WITHOUT ROWID""",
        *_append_only("commands"),
        """CREATE TABLE refusals (
            id INTEGER PRIMARY KEY,
            recorded_at TEXT NOT NULL,
            at_position INTEGER NOT NULL,
            actor TEXT NOT NULL,
            command_id TEXT NOT NULL,
            command_type TEXT NOT NULL,
            command TEXT NOT NULL,
            reason TEXT NOT NULL,
            code TEXT NOT NULL
        ) STRICT""",
        "CREATE INDEX refusals_at_position ON refusals(at_position)",
        *_append_only("refusals"),
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT, WITHOUT ROWID",
        f"PRAGMA application_id = {APPLICATION_ID}",
    ]
    for statement in statements:
        db.execute(statement)


@migration(2, "projector")
def _projector(db: Database) -> None:
    """The projector's checkpoint and lease (its per-projection tables are made at run time)."""
    statements = [
        # definitions: JSON {projection: definition}; error/error_position: the last
        # failure, so every process (and the app) can show why the read model stopped.
        """CREATE TABLE projector_checkpoint (
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            definitions TEXT NOT NULL,
            error TEXT,
            error_position INTEGER,
            updated_at TEXT NOT NULL
        ) STRICT, WITHOUT ROWID""",
        # expires_at: seconds since the epoch (the holder's clock), renewed while it writes.
        """CREATE TABLE projector_lease (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at REAL NOT NULL
        ) STRICT, WITHOUT ROWID""",
    ]
    for statement in statements:
        db.execute(statement)


@migration(3, "bookmarks")
def _bookmarks(db: Database) -> None:
    """Named positions on the timeline.

    Bookmarks are annotations, not audit facts: rows are moved and deleted freely,
    so this table has no append-only triggers and is not part of the hash chain.
    """
    db.execute(
        """CREATE TABLE bookmarks (
            name TEXT PRIMARY KEY,
            position INTEGER NOT NULL CHECK (position >= 0),
            actor TEXT,
            created_at TEXT
        ) STRICT, WITHOUT ROWID"""
    )


@migration(4, "correlation_index")
def _correlation_index(db: Database) -> None:
    """Find the events of one correlation (the inspector's links) without a scan.

    Queries must spell the expression exactly as here to use the index.
    """
    db.execute(
        "CREATE INDEX events_correlation ON events(json_extract(metadata, '$.correlation_id'))"
    )


@migration(5, "time_by_position")
def _time_by_position(db: Database) -> None:
    """Drop the `recorded_at` index: time order is position order.

    Every writer keeps `recorded_at` non-decreasing along positions (appends clamp it to
    the previous event's, bulk loads and imports refuse a time that goes back, and
    `verify` reports one), so `position_at` binary-searches positions by primary key
    instead. One index fewer to update on every append.
    """
    db.execute("DROP INDEX IF EXISTS events_recorded_at")


# Spelled exactly so in the store's correlation query, else the planner cannot use it.
CORRELATION_INDEX_WHERE = (
    "json_extract(metadata, '$.correlation_id') IS NOT json_extract(metadata, '$.command_id') "
    "OR json_type(metadata, '$.command_id') IS NOT 'text' "
    "OR json_extract(metadata, '$.command_id') = ''"
)
"""Which events the correlation index holds: all but those whose correlation id is their
own (non-empty, text) command id, which is what most commands record. Those are found
through the `commands` table instead (`SqliteEventStore.positions_by_correlation`)."""


@migration(6, "partial_correlation_index")
def _partial_correlation_index(db: Database) -> None:
    """Make the correlation index partial (see `CORRELATION_INDEX_WHERE`).

    A command that starts its own correlation then writes no entry into it, one index
    page fewer per append.
    """
    db.execute("DROP INDEX IF EXISTS events_correlation")
    db.execute(
        "CREATE INDEX events_correlation ON events(json_extract(metadata, '$.correlation_id')) "
        f"WHERE {CORRELATION_INDEX_WHERE}"
    )


APPEND_ONLY_TABLES = ("events", "commands", "refusals", "imports", "merkle_nodes", "checkpoints")
"""The audit tables whose UPDATE and DELETE the triggers of step 1 refuse."""


def expected_triggers() -> dict[str, str]:
    """Every trigger the migrations create, by name, with its SQL as `sqlite_master` keeps it."""
    expected: dict[str, str] = {}
    for table in APPEND_ONLY_TABLES:
        for sql in _append_only(table):
            expected[sql.split()[2]] = sql
    return expected


@migration(7, "imports")
def _imports(db: Database) -> None:
    """Who imported which file, when, into which positions: one row per import.

    Append-only like the events: an import is an audit fact. `sha256` is the imported
    file's digest; rows restored from an export keep their original values, and
    `restored_by` names the import (id) that brought them in (NULL for a row made by
    an import into this database).
    """
    statements = [
        """CREATE TABLE imports (
            id INTEGER PRIMARY KEY,
            actor TEXT NOT NULL,
            imported_at TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            source TEXT NOT NULL,
            first_position INTEGER NOT NULL,
            last_position INTEGER NOT NULL,
            events INTEGER NOT NULL,
            restored_by INTEGER
        ) STRICT""",
        *_append_only("imports"),
    ]
    for statement in statements:
        db.execute(statement)


@migration(8, "derived_data_macs")
def _derived_data_macs(db: Database) -> None:
    """An HMAC column on the derived tables (see `store.derived_macs`).

    With the chain's key, snapshots, projector checkpoints and commands rows carry an
    HMAC binding each to the position and event hash it claims; rows written without a
    key (or before this step) have NULL. The snapshot tables are created here when
    missing (they used to appear on the first snapshot written).
    """
    from store.snapshots import SNAPSHOT_SCHEMA

    db.execute("ALTER TABLE commands ADD COLUMN mac TEXT")
    db.execute("ALTER TABLE projector_checkpoint ADD COLUMN mac TEXT")
    for statement in SNAPSHOT_SCHEMA:
        db.execute(statement)
    columns = {row[1] for row in db.execute("PRAGMA table_info(snapshots)").fetchall()}
    if "mac" not in columns:
        db.execute("ALTER TABLE snapshots ADD COLUMN mac TEXT")


@migration(9, "clock_skew")
def _clock_skew(db: Database) -> None:
    """Index `recorded_at` again, and record how long each projector lease runs.

    Times are no longer clamped to run in position order: each event keeps its
    writer's time, so one skewed clock changes no other event's time, and
    `position_at` can no longer binary-search positions (see `domain.clock_skew`).
    The index answers "anything recorded at or before T?"; position ranges are still
    read by primary key. A lease's `seconds` lets others tell a lease from a clock far
    ahead (expiring further away than it runs) from a long one (`store.lease`).
    """
    db.execute("CREATE INDEX IF NOT EXISTS events_recorded_at ON events(recorded_at)")
    db.execute("ALTER TABLE projector_lease ADD COLUMN seconds REAL")


@migration(10, "merkle_tree")
def _merkle_tree(db: Database) -> None:
    """The Merkle tree over the events and the checkpoints issued (docs/proofs.md).

    Builds the tree of the events already stored (a progress line on stderr for a
    large store); from then on every append extends it in its own transaction.
    """
    for statement in TREE_SCHEMA:
        db.execute(statement)
    for table in ("merkle_nodes", "checkpoints"):
        for statement in _append_only(table):
            db.execute(statement)
    build_tree(db.conn)
