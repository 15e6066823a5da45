"""Privileges for a writer role and a reader role (`init --writer-role W --reader-role R`).

Triggers refuse UPDATE, DELETE and TRUNCATE of the audit tables, but the owner of a
table can drop or disable its triggers. With privileges the server itself refuses, even
with the triggers gone: the owning role (the one that ran `init`, and every migration)
keeps the schema, writers connect as a role that owns none of the audit tables, and
auditors as one that can only read.

- append-only (`events`, `commands`, `refusals`, `imports`, `merkle_nodes`,
  `checkpoints`): writer SELECT, INSERT (never UPDATE, DELETE, TRUNCATE); reader SELECT;
- annotations and derived data (`bookmarks`, `snapshots`, `snapshot_chunks`,
  `projector_checkpoint`, `projector_lease`, `read_models`): writer SELECT, INSERT,
  UPDATE, DELETE; reader SELECT;
- `changes` (the change token): writer SELECT, UPDATE; reader SELECT;
- `meta`, `eventscope_schema`: both SELECT;
- the append function (`eventscope_append` and its two helpers): writer EXECUTE; it
  runs with the caller's rights, so it writes only what the writer may insert;
- shared commits (migration 4): the UNLOGGED `eventscope_append_queue` and
  `eventscope_append_results`: writer SELECT, INSERT, UPDATE, DELETE, reader nothing;
  `eventscope_append_shared` and `eventscope_combine`: writer EXECUTE;
- the projector's `rm_*` tables: the writer owns them (it creates, rebuilds and drops
  them); reader SELECT.

The writer may create tables in the schema (the projector's read models); it never owns
an audit table, so it can neither drop nor disable their triggers. The reader gets
SELECT on the `rm_*` tables the writer creates later through default privileges. The
reader is meant for `--read-only` sessions (the app and every read command; no
bookmarks, no projector: those write).
"""

from __future__ import annotations

from typing import LiteralString

import psycopg
from psycopg import sql

from domain.errors import InvalidInput, StoreError
from store.postgres.append_function import FUNCTIONS
from store.postgres.group_commit import QUEUE_TABLES, ROUTINES
from store.postgres.schema import APPEND_ONLY_TABLES

DERIVED_TABLES = (
    "bookmarks",
    "snapshots",
    "snapshot_chunks",
    "projector_checkpoint",
    "projector_lease",
    "read_models",
)
"""Annotations and derived data: the writer role changes them freely."""
READ_ONLY_TABLES = ("meta", "eventscope_schema")
_SEQUENCES = ("snapshots_id_seq", "snapshot_chunks_id_seq")


def _role_exists(conn: psycopg.Connection, role: str) -> bool:
    row = conn.execute("SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = %s", (role,)).fetchone()
    return row is not None


def _read_model_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT tablename FROM pg_catalog.pg_tables "
        "WHERE schemaname = current_schema() AND tablename LIKE 'rm\\_%'"
    ).fetchall()
    return [str(row[0]) for row in rows]


def _each(statement: LiteralString, tables: tuple[str, ...], role: str) -> list[sql.Composed]:
    return [
        sql.SQL(statement).format(table=sql.Identifier(table), role=sql.Identifier(role))
        for table in tables
    ]


def grant_roles(
    conn: psycopg.Connection, where: str, *, writer: str | None, reader: str | None
) -> list[str]:
    """Give `writer` and `reader` (existing roles) the privileges of the table above, in
    one transaction; returns one line per role saying what it may do. Idempotent."""
    for role, option in ((writer, "--writer-role"), (reader, "--reader-role")):
        if role is not None and not _role_exists(conn, role):
            raise InvalidInput(
                f"{option} {role}: no such role on {where}; create it first "
                f"(CREATE ROLE {role} LOGIN PASSWORD '...')"
            )
    if writer is not None and writer == reader:
        raise InvalidInput("--writer-role and --reader-role must be two different roles")
    every = APPEND_ONLY_TABLES + DERIVED_TABLES + ("changes",) + READ_ONLY_TABLES
    statements: list[sql.Composed] = []
    said: list[str] = []
    if writer is not None:
        statements += [
            sql.SQL("GRANT USAGE, CREATE ON SCHEMA {schema} TO {role}").format(
                schema=sql.Identifier(_schema(conn)), role=sql.Identifier(writer)
            ),
            *_each("REVOKE ALL ON {table} FROM {role}", every, writer),
            *_each("GRANT SELECT, INSERT ON {table} TO {role}", APPEND_ONLY_TABLES, writer),
            *_each(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}", DERIVED_TABLES, writer
            ),
            *_each("GRANT SELECT, UPDATE ON {table} TO {role}", ("changes",), writer),
            *_each("GRANT SELECT ON {table} TO {role}", READ_ONLY_TABLES, writer),
            *_each("GRANT USAGE ON SEQUENCE {table} TO {role}", _SEQUENCES, writer),
            # The append function runs with the caller's rights (SECURITY INVOKER): this
            # grant keeps it callable where EXECUTE was revoked from PUBLIC.
            *_each("GRANT EXECUTE ON FUNCTION {table} TO {role}", FUNCTIONS, writer),
            # Shared commits (store/postgres/group_commit.py): the queue and its results,
            # to the writer role only.
            *_each("REVOKE ALL ON {table} FROM {role}", QUEUE_TABLES, writer),
            *_each(
                "GRANT SELECT, INSERT, UPDATE, DELETE ON {table} TO {role}", QUEUE_TABLES, writer
            ),
            *_each("GRANT EXECUTE ON ROUTINE {table} TO {role}", ROUTINES, writer),
            # Read models built before: the writer's projector rebuilds and drops them.
            *_each("ALTER TABLE {table} OWNER TO {role}", tuple(_read_model_tables(conn)), writer),
        ]
        said.append(
            f"{writer}: SELECT, INSERT on {', '.join(APPEND_ONLY_TABLES)} (never UPDATE, "
            "DELETE, TRUNCATE); reads and writes bookmarks, snapshots and read models"
        )
    if reader is not None:
        statements += [
            sql.SQL("GRANT USAGE ON SCHEMA {schema} TO {role}").format(
                schema=sql.Identifier(_schema(conn)), role=sql.Identifier(reader)
            ),
            *_each("REVOKE ALL ON {table} FROM {role}", every + QUEUE_TABLES, reader),
            *_each("GRANT SELECT ON {table} TO {role}", every, reader),
            *_each("GRANT SELECT ON {table} TO {role}", tuple(_read_model_tables(conn)), reader),
        ]
        if writer is not None:
            statements.append(
                sql.SQL(
                    "ALTER DEFAULT PRIVILEGES FOR ROLE {writer} IN SCHEMA {schema} "
                    "GRANT SELECT ON TABLES TO {reader}"
                ).format(
                    writer=sql.Identifier(writer),
                    schema=sql.Identifier(_schema(conn)),
                    reader=sql.Identifier(reader),
                )
            )
        said.append(f"{reader}: SELECT only (open it with --read-only)")
    try:
        with conn.transaction():
            for statement in statements:
                conn.execute(statement)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise StoreError(
            f"{where}: cannot grant the roles' privileges ({' '.join(str(exc).split())}); "
            "run init as the role that owns the eventscope tables"
        ) from None
    return said


def _schema(conn: psycopg.Connection) -> str:
    row = conn.execute("SELECT current_schema()").fetchone()
    return str(row[0]) if row else "public"
