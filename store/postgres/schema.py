"""The PostgreSQL schema, as numbered migrations, and what a database must be to open.

`eventscope_schema` records each applied step (number, name, time): its presence marks
the database as an eventscope store, its highest number is the schema version. The
tables mirror the SQLite store's (store/sqlite/schema.py), with JSON kept as the exact
canonical text that was hashed (`text`, never `jsonb`, which would reorder keys).
Audit tables are append-only by triggers that refuse UPDATE, DELETE and TRUNCATE.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import psycopg

from domain.errors import StoreError
from store.postgres.append_function import APPEND_FUNCTION, STALE_FUNCTION, VERSIONS_FUNCTION
from store.postgres.group_commit import COMBINE_FUNCTION, SHARED_PROCEDURE
from store.postgres.group_commit import TABLES as QUEUE_TABLES

MIGRATION_LOCK = 0x45565343_00000001
"""The advisory lock taken while migrating, so two processes never migrate at once."""

APPEND_ONLY_TABLES = ("events", "commands", "refusals", "imports", "merkle_nodes", "checkpoints")

_GUARD_FUNCTION = """
CREATE OR REPLACE FUNCTION eventscope_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% are append-only: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$"""


_NEXT_ID_FUNCTION = """
CREATE OR REPLACE FUNCTION eventscope_next_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.id IS NULL THEN
        EXECUTE format('SELECT coalesce(max(id), 0) + 1 FROM %I', TG_TABLE_NAME) INTO NEW.id;
    END IF;
    RETURN NEW;
END
$$"""
"""Ids of refusals and imports run max+1, as SQLite's rowids do (a sequence would skip
numbers after a rollback); their writers hold the append lock."""


def _next_id(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_next_id BEFORE INSERT ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION eventscope_next_id()"
    )


def _append_only(table: str) -> list[str]:
    """A statement-level trigger: any UPDATE, DELETE or TRUNCATE is refused, even one
    that would touch no row."""
    return [
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON {table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION eventscope_append_only()"
    ]


@dataclass(frozen=True)
class Step:
    """One numbered migration: statements run in one transaction."""

    number: int
    name: str
    statements: Sequence[str]


STEPS: tuple[Step, ...] = (
    Step(
        1,
        "events",
        [
            _GUARD_FUNCTION,
            _NEXT_ID_FUNCTION,
            """CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL)""",
            # position is assigned as head+1 under the append lock (store/postgres/writes.py),
            # never by a sequence: sequences hand out numbers in start order, not commit order.
            """CREATE TABLE events (
                position bigint PRIMARY KEY CHECK (position >= 1),
                event_id text COLLATE "C" NOT NULL UNIQUE,
                stream_id text COLLATE "C" NOT NULL,
                stream_type text COLLATE "C" NOT NULL,
                version bigint NOT NULL CHECK (version >= 1),
                type text COLLATE "C" NOT NULL,
                schema_version integer NOT NULL,
                data text NOT NULL,
                metadata text NOT NULL,
                recorded_at text COLLATE "C" NOT NULL,
                prev_hash text NOT NULL,
                hash text NOT NULL,
                UNIQUE (stream_id, version)
            )""",
            "CREATE INDEX events_type ON events (type, position)",
            "CREATE INDEX events_actor ON events (((metadata::jsonb) ->> 'actor'), position)",
            "CREATE INDEX events_correlation ON events "
            "(((metadata::jsonb) ->> 'correlation_id'), position)",
            "CREATE INDEX events_recorded_at ON events (recorded_at)",
            *_append_only("events"),
            """CREATE TABLE commands (
                command_id text COLLATE "C" PRIMARY KEY,
                command_type text NOT NULL,
                payload text,
                actor text NOT NULL,
                recorded_at text NOT NULL,
                first_position bigint NOT NULL,
                last_position bigint NOT NULL,
                mac text
            )""",
            *_append_only("commands"),
            """CREATE TABLE refusals (
                id bigint PRIMARY KEY,
                recorded_at text NOT NULL,
                at_position bigint NOT NULL,
                actor text NOT NULL,
                command_id text NOT NULL,
                command_type text NOT NULL,
                command text NOT NULL,
                reason text NOT NULL,
                code text NOT NULL
            )""",
            "CREATE INDEX refusals_at_position ON refusals (at_position)",
            *_append_only("refusals"),
            _next_id("refusals"),
            """CREATE TABLE imports (
                id bigint PRIMARY KEY,
                actor text NOT NULL,
                imported_at text NOT NULL,
                sha256 text NOT NULL,
                source text NOT NULL,
                first_position bigint NOT NULL,
                last_position bigint NOT NULL,
                events bigint NOT NULL,
                restored_by bigint
            )""",
            *_append_only("imports"),
            _next_id("imports"),
            # Bookmarks are annotations, not audit facts: moved and deleted freely.
            """CREATE TABLE bookmarks (
                name text COLLATE "C" PRIMARY KEY,
                position bigint NOT NULL CHECK (position >= 0),
                actor text,
                created_at text
            )""",
            # The change token (`data_version`): bumped by every write transaction.
            "CREATE TABLE changes (id integer PRIMARY KEY CHECK (id = 1), version bigint NOT NULL)",
            "INSERT INTO changes VALUES (1, 0)",
        ],
    ),
    Step(
        2,
        "derived_and_proofs",
        [
            """CREATE TABLE snapshots (
                id bigserial PRIMARY KEY,
                key text NOT NULL,
                position bigint NOT NULL CHECK (position >= 0),
                event_hash text NOT NULL,
                encoding text NOT NULL,
                blob bytea NOT NULL,
                mac text,
                UNIQUE (key, position)
            )""",
            """CREATE TABLE snapshot_chunks (
                id bigserial PRIMARY KEY,
                key text NOT NULL,
                digest text NOT NULL,
                blob bytea NOT NULL,
                UNIQUE (key, digest)
            )""",
            """CREATE TABLE projector_checkpoint (
                name text PRIMARY KEY,
                position bigint NOT NULL,
                fingerprint text NOT NULL,
                definitions text NOT NULL,
                error text,
                error_position bigint,
                updated_at text NOT NULL,
                mac text
            )""",
            """CREATE TABLE projector_lease (
                name text PRIMARY KEY,
                owner text NOT NULL,
                expires_at double precision NOT NULL,
                seconds double precision
            )""",
            """CREATE TABLE read_models (
                projection text NOT NULL,
                row_key text NOT NULL,
                row_data text NOT NULL,
                PRIMARY KEY (projection, row_key)
            )""",
            """CREATE TABLE merkle_nodes (
                level integer NOT NULL CHECK (level >= 1),
                idx bigint NOT NULL CHECK (idx >= 0),
                hash bytea NOT NULL,
                PRIMARY KEY (level, idx)
            )""",
            *_append_only("merkle_nodes"),
            """CREATE TABLE checkpoints (
                id bigint PRIMARY KEY,
                tree_size bigint NOT NULL CHECK (tree_size >= 0),
                root bytea NOT NULL,
                text text NOT NULL,
                issued_at text NOT NULL
            )""",
            *_append_only("checkpoints"),
            _next_id("checkpoints"),
        ],
    ),
    # The append in one server-side call (store/postgres/append_function.py).
    Step(3, "append_function", [STALE_FUNCTION, VERSIONS_FUNCTION, APPEND_FUNCTION]),
    # Writers sharing one commit (store/postgres/group_commit.py).
    Step(4, "shared_commits", [*QUEUE_TABLES, COMBINE_FUNCTION, SHARED_PROCEDURE]),
    # A writer waits for the lock a while before it queues; results written set-based
    # (store/postgres/group_commit.py: both routines replaced, their grants kept).
    Step(5, "lock_patience", [COMBINE_FUNCTION, SHARED_PROCEDURE]),
)


def latest_version() -> int:
    """The schema version this eventscope writes."""
    return STEPS[-1].number


def current_version(conn: psycopg.Connection) -> int | None:
    """The database's schema version; None when it is not an eventscope store (no
    `eventscope_schema` table), 0 when it is empty."""
    marked = conn.execute("SELECT to_regclass('eventscope_schema') IS NOT NULL").fetchone()
    if marked is None or not marked[0]:
        return None
    row = conn.execute("SELECT coalesce(max(number), 0) FROM eventscope_schema").fetchone()
    return int(row[0]) if row else 0


def user_tables(conn: psycopg.Connection) -> int:
    """How many tables the database's visible schemas hold (0: a fresh database)."""
    row = conn.execute(
        "SELECT count(*) FROM pg_catalog.pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
    ).fetchone()
    return int(row[0]) if row else 0


def check_version(where: str, version: int) -> None:
    """Refuse a schema newer than this eventscope's."""
    if version > latest_version():
        raise StoreError(
            f"{where} was written by a newer eventscope (schema {version} > "
            f"{latest_version()}); upgrade eventscope"
        )


def migrate(conn: psycopg.Connection, where: str, *, create: bool) -> bool:
    """Create or upgrade the schema, under the migration lock; True when it was fresh.

    Refuses a database that holds tables but is not an eventscope store, and one of a
    newer schema. Each step runs in the same transaction as its record.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        version = current_version(conn)
        fresh = version is None
        if version is None:
            if user_tables(conn):
                raise StoreError(
                    f"{where} is a PostgreSQL database but not an eventscope store "
                    "(it holds other tables); give an empty database"
                )
            if not create:
                raise StoreError(f"{where} is an empty database; set it up with `eventscope init`")
            conn.execute(
                "CREATE TABLE eventscope_schema (number integer PRIMARY KEY, name text NOT NULL, "
                "applied_at timestamptz NOT NULL DEFAULT now())"
            )
            version = 0
        check_version(where, version)
        for step in STEPS:
            if step.number <= version:
                continue
            for statement in step.statements:
                conn.execute(statement)
            conn.execute(
                "INSERT INTO eventscope_schema (number, name) VALUES (%s, %s)",
                (step.number, step.name),
            )
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('schema_version', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (str(step.number),),
            )
    return fresh


def expected_triggers() -> dict[str, str]:
    """Every trigger the migrations create, by name, with its table."""
    found: dict[str, str] = {}
    for step in STEPS:
        for statement in step.statements:
            words = statement.split()
            if words[:2] == ["CREATE", "TRIGGER"]:
                found[words[2]] = words[words.index("ON") + 1]
    return found


def schema_problem(conn: psycopg.Connection) -> str | None:
    """What is wrong with the schema (a trigger missing or disabled, the version), or None.

    Someone with the rights to do so can drop or disable a trigger behind eventscope's
    back; `verify` reports it, as for a SQLite file.
    """
    version = current_version(conn)
    if version != latest_version():
        return f"schema version {version}, expected {latest_version()}"
    rows = conn.execute(
        "SELECT t.tgname, t.tgenabled FROM pg_catalog.pg_trigger t "
        "JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
        "WHERE NOT t.tgisinternal AND c.relnamespace = current_schema()::regnamespace"
    ).fetchall()
    present = {name: enabled for name, enabled in rows}
    for name, table in expected_triggers().items():
        if name not in present:
            return f"trigger {name} on {table} is missing: {table} can be changed"
        if present[name] == "D":
            return f"trigger {name} on {table} is disabled: {table} can be changed"
    return None
