"""Which store the reliability harness runs on: a SQLite file (a `Path`) or a PostgreSQL
database (its `postgresql://` URL), and how the harness reads each behind eventscope's
back.

The audits of `reliability_support` are written once, in portable SQL with `?`
placeholders over a raw connection: plain sqlite3 for a file, psycopg (with `?` read as
psycopg's `%s`) for PostgreSQL. The one SQLite function they use,
`json_extract(doc, '$.field')`, is given to the PostgreSQL database as a SQL function
(`add_json_extract`), so the raw recomputations are the same text on both.
"""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from store.postgres import is_postgres_url
from store.postgres.store import PostgresEventStore
from store.sqlite import SqliteEventStore

Target = Path | str
"""A SQLite file, or the URL of a PostgreSQL database."""
AnyStore = SqliteEventStore | PostgresEventStore

_JSON_EXTRACT = """
CREATE OR REPLACE FUNCTION json_extract(doc text, path text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT (doc::jsonb) #> string_to_array(substr(path, 3), '.')
$$"""
"""SQLite's `json_extract(doc, '$.a.b')` for the harness's raw checks: a number comes
back as a Python int, a string as a str, a missing field as NULL (psycopg decodes jsonb)."""


def is_postgres(target: Target) -> bool:
    """True when `target` names a PostgreSQL database."""
    return isinstance(target, str) and is_postgres_url(target)


def open_store(target: Target, **options: Any) -> AnyStore:
    """The eventscope store at `target` (`create`, `key`, `read_only`, `domain`, and
    for SQLite `synchronous`)."""
    if is_postgres(target):
        options.pop("synchronous", None)
        return PostgresEventStore(str(target), **options)
    return SqliteEventStore(target, **options)


def add_json_extract(url: str) -> None:
    """Give the PostgreSQL database at `url` the harness's `json_extract`."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(_JSON_EXTRACT)


@contextlib.contextmanager
def raw_connection(target: Target, timeout: float) -> Iterator[Any]:
    """A plain connection to `target`, outside eventscope's reads: `execute(sql, params)`
    with `?` placeholders, rows as tuples; autocommit (the caller writes BEGIN/COMMIT)."""
    if not is_postgres(target):
        conn = sqlite3.connect(target, isolation_level=None, timeout=timeout)
        try:
            yield conn
        finally:
            conn.close()
        return
    import psycopg

    with psycopg.connect(str(target), autocommit=True) as pg:
        yield _Qmark(pg)


class _Qmark:
    """A psycopg connection taking sqlite3's `?` placeholders; a literal `%` (as in
    `LIKE 'stock-%'`) stays literal."""

    def __init__(self, conn: Any) -> None:
        self._pg = conn

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._pg.execute(sql.replace("%", "%%").replace("?", "%s"), params)


def settle(target: Target, timeout: float) -> None:
    """Wait until no other client is connected to `target` (PostgreSQL; a file: nothing
    to wait for).

    A client killed right after sending COMMIT may see that commit finish a moment
    after its death: the audit of a kill waits for the server to have ended the dead
    client's session, so what it reads is final.
    """
    if not is_postgres(target):
        return
    import psycopg

    deadline = time.monotonic() + timeout
    with psycopg.connect(str(target), autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
            ).fetchone()
            if row is not None and row[0] == 0:
                return
            assert time.monotonic() < deadline, f"{row} sessions still open on {target}"
            time.sleep(0.01)
