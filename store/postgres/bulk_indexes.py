"""A load into an empty PostgreSQL store builds the metadata's indexes once, at the end.

Two indexes of `events` are on expressions over the metadata, its actor and its
correlation id (`(metadata::jsonb) ->> …`): each row copied in is parsed as JSON and
inserted into each of them, about 4 µs of the server's time a row for each, where one
build over the loaded table costs about 1.5 (`bench/bench_import_budget.py`, 50,000
events; the other indexes gain less than their build costs at the end, when nothing
else runs). `pg_restore` loads a table the same way, and the SQLite load
(`store.sqlite.bulk`) drops and rebuilds the events' indexes likewise.

So a load into an empty store (`demo`, `import` of an export: `store.postgres.loads`)
drops those two indexes in its own transaction and, once every row is written, builds
each again from its own definition, read from the catalog (the very index and name),
with memory enough for the server's parallel workers. Every key and constraint is kept
and checked as the rows arrive.

While the load runs, its transaction holds `events` exclusively: a reader waits for the
commit (before it, the store is empty to every reader anyway). A role that does not own
the table (`init --writer-role`) cannot drop its indexes, and nothing is dropped when
another session reads the table at that moment (the load does not wait for it): the
load then keeps the indexes and inserts into them as it goes.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

SET_ASIDE = ("events_actor", "events_correlation")
"""The indexes a load into an empty store builds at the end."""

LOCK_WAIT = "500ms"
"""How long a load waits for the table's exclusive lock before keeping the indexes."""

MAINTENANCE_MEMORY = "256MB"
"""`maintenance_work_mem` while the indexes are built: enough for the server's parallel
workers to share a build (each needs 32 MB)."""

_DEFINITIONS = """
SELECT x.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class x ON x.oid = i.indexrelid
WHERE i.indrelid = 'events'::regclass AND x.relname = ANY(%s)
ORDER BY x.relname
"""


def set_aside(conn: psycopg.Connection) -> list[str] | None:
    """Drop the indexes a load builds at the end (in the caller's transaction); their
    definitions, or None when they stay (see the module)."""
    found = conn.execute(_DEFINITIONS, (list(SET_ASIDE),)).fetchall()
    if not found:
        return None
    try:
        with conn.transaction():  # a savepoint: nothing dropped when one drop fails
            conn.execute(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
            for name, _ in found:
                conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            conn.execute("SET LOCAL lock_timeout = DEFAULT")
    except (psycopg.errors.InsufficientPrivilege, psycopg.errors.LockNotAvailable):
        return None
    return [str(definition) for _, definition in found]


def restore(conn: psycopg.Connection, definitions: list[str]) -> None:
    """Build the indexes `set_aside` dropped, in the same transaction."""
    conn.execute(f"SET LOCAL maintenance_work_mem = '{MAINTENANCE_MEMORY}'")
    for definition in definitions:
        conn.execute(definition)
    conn.execute("SET LOCAL maintenance_work_mem = DEFAULT")
