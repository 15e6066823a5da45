"""The append lock held for a block (`EventWriter.exclusive_appends`) on PostgreSQL.

One transaction holds `pg_advisory_xact_lock(APPEND_LOCK)` from the block's start to its
commit, so no other writer appends meanwhile; the reads inside (READ COMMITTED, a new
snapshot per statement, all taken after the lock was granted) see every append
committed before, and an append or refusal inside joins the transaction (the append
function takes the lock again, which a holder already has; other writes run in a
savepoint). The order proof of docs/postgres.md is unchanged: this is one more write
transaction that holds the lock to its commit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg

from store.postgres.append_sql import APPEND_LOCK
from store.postgres.base import PostgresBase

_IDLE = psycopg.pq.TransactionStatus.IDLE


class ExclusiveAppends(PostgresBase):
    """`exclusive_appends`: the store's connection in one transaction holding the lock."""

    @contextlib.contextmanager
    def exclusive_appends(self) -> Iterator[None]:
        """No other writer appends inside; committed at the end, rolled back if the
        block raises (see `domain.ports.EventWriter.exclusive_appends`). Re-entrant."""
        self._open_check()
        self._refuse_read_only("append")
        conn = self._pg
        with self._lock:
            if conn.info.transaction_status != _IDLE:  # already inside a block
                yield
                return
            try:
                conn.execute("BEGIN")
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (APPEND_LOCK,))
            except psycopg.Error as exc:
                self._roll_back()
                raise self._error(exc, "append") from None
            try:
                yield
            except BaseException:
                self._roll_back()
                raise
            try:
                conn.execute("COMMIT")
            except psycopg.Error as exc:
                self._roll_back()
                raise self._error(exc, "append") from None

    def _roll_back(self) -> None:
        if self._pg.info.transaction_status != _IDLE:
            with contextlib.suppress(psycopg.Error):
                self._pg.execute("ROLLBACK")
