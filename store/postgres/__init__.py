"""The PostgreSQL event store (optional extra `eventscope[postgres]`, psycopg 3).

- store.py: `PostgresEventStore`, opening, keys, waiting for other writers (LISTEN/NOTIFY).
- writes.py: appends, bulk loads, imports, refusals, bookmarks under the append lock.
- reads.py: the EventReader and AuditRecords reads, verifying the chain.
- schema.py: the numbered migrations; connect.py / url.py: connecting, one-line errors.
See docs/postgres.md for the design and why positions are gap-free.
"""

from store.postgres.url import is_postgres_url

__all__ = ["is_postgres_url"]
# `store.postgres.opening.open_postgres` (imported on use: psycopg is an optional extra).
