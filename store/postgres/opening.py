"""Opening a PostgreSQL store the way the composition root opens a SQLite file."""

from __future__ import annotations

from domain.clock import Clock
from store.hashchain import load_key
from store.postgres.store import PostgresEventStore


def open_postgres(
    url: str,
    *,
    clock: Clock,
    key_file: str | None = None,
    read_only: bool = False,
    create: bool = False,
    domain: str = "",
) -> PostgresEventStore:
    """The store at `url` (`--db postgresql://...`), with the key from `key_file`,
    `$EVENTSCOPE_KEY_FILE` or `$EVENTSCOPE_KEY`; `create` sets up an empty database.

    Every failure a person can cause (unreachable server, wrong credentials, missing
    database, unknown URL parameter, old server, not an eventscope store) is a
    one-line StoreError or InvalidInput (exit 2), and nothing is changed.
    """
    return PostgresEventStore(
        url, key=load_key(key_file), clock=clock, read_only=read_only, create=create, domain=domain
    )
