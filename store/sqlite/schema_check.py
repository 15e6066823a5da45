"""Is the schema the one the migrations made? The append-only triggers and the version.

The triggers that refuse UPDATE and DELETE on the audit tables are what makes an
accidental edit fail; dropping one is the first step of every edit (see the tamper
suite). `verify` compares the triggers in `sqlite_master` with the SQL the migrations
created, and the schema version (`PRAGMA user_version`, `meta.schema_version`) with the
steps recorded in `_sqlite_migrations`, and names the first difference.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from store.connection import connect
from store.sidecars import existing_sidecars
from store.sqlite import schema


def schema_problem(conn: sqlite3.Connection) -> str | None:
    """The first way the file's schema differs from what the migrations made, or None."""
    return next(iter(_version_problems(conn)), None) or next(iter(_trigger_problems(conn)), None)


def _version_problems(conn: sqlite3.Connection) -> Iterable[str]:
    _, version = schema.read_versions(conn)
    latest = schema.latest_version()
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ? ORDER BY rowid",
                (schema.MIGRATION_SET,),
            )
        ]
    except sqlite3.OperationalError:
        names = []
    if version > latest and len(names) >= version:
        return  # written by a newer eventscope: opening it says so
    if version != latest:
        yield f"the schema version is {version}, not {latest} (PRAGMA user_version was changed)"
    row = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    if row is None or row[0] != str(version):
        recorded = "missing" if row is None else repr(row[0])
        yield f"meta schema_version is {recorded}, but the file is at schema {version}"
    expected = [step.key for step in schema.steps() if step.number <= version]
    if names != expected:
        yield (
            f"the recorded migrations ({', '.join(names) or 'none'}) are not the steps of "
            f"schema {version}"
        )


def _trigger_problems(conn: sqlite3.Connection) -> Iterable[str]:
    expected = schema.expected_triggers()
    actual = dict(
        conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN "
            f"({', '.join('?' * len(schema.APPEND_ONLY_TABLES))})",
            schema.APPEND_ONLY_TABLES,
        ).fetchall()
    )
    for name, sql in expected.items():
        table = name.rsplit("_no_", 1)[0]
        if name not in actual:
            yield f"trigger {name} is missing: {table} are no longer append-only"
        elif actual[name] != sql:
            yield f"trigger {name} was altered: it is not the one the migrations created"
    for name in sorted(set(actual) - set(expected)):
        yield f"trigger {name} on an audit table was not created by eventscope"


def schema_problem_of_file(path: Path, busy_timeout_ms: int = 5000) -> str | None:
    """`schema_problem` of the eventscope file at `path`, read through its own read-only
    connection (None also when it is no eventscope file: opening it says why)."""
    # With no -wal/-shm (no connection open), an immutable look creates none either.
    alone = not existing_sidecars(path)
    try:
        conn = connect(path, "ro", busy_timeout_ms, immutable=alone)
    except sqlite3.Error:
        return None
    try:
        app_id, _ = schema.read_versions(conn)
        if app_id != schema.APPLICATION_ID:
            return None
        return schema_problem(conn)
    except sqlite3.Error:
        return None
    finally:
        conn.close()
