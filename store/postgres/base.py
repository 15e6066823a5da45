"""What every part of the PostgreSQL store shares: the connection, its lock, errors,
the head, and the chain's settings."""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, LiteralString

import psycopg

from domain.clock import Clock
from domain.clock_skew import TimeBlocks
from domain.envelope import GENESIS_HASH, Head
from domain.errors import DomainError, InvalidInput, StoreError
from store.chain_settings import ChainSettings
from store.derived_macs import DerivedMacs
from store.hashchain import ChainRow
from store.postgres.commit_mode import CommitChooser
from store.postgres.connect import connect

CHAIN_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, type, schema_version, "
    "recorded_at, data, metadata, prev_hash, hash"
)
"""Column order of a ChainRow (what is hashed, then the links): every event query
selects these, and `store.hashchain.event_from_row` turns them into an event."""


class QmarkConnection:
    """A psycopg connection seen through `execute(sql, params)` with `?` placeholders.

    The shared helpers written against sqlite3 in portable SQL (`store.derived_macs`,
    the export and import of `store.transfer`) run on PostgreSQL through it, so their
    logic exists once. Their SQL never holds a literal `?`.
    """

    def __init__(self, conn: psycopg.Connection, lock: threading.RLock) -> None:
        self._pg = conn
        self._lock = lock

    def execute(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        with self._lock:
            return self._pg.execute(sql.replace("?", "%s"), params)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock:
            execute_rows(self._pg, sql.replace("?", "%s"), list(rows))


FEW_ROWS = 16
"""Up to this many rows are inserted by one `execute` each; more go through `COPY`."""

_PLAIN_INSERT = re.compile(r"INSERT INTO (\w+) \(([\w, ]+)\) VALUES \((?:%s, ?)*%s\)")
"""An INSERT of bare values into named columns: what `COPY` can do instead."""

COLUMN_TYPES: dict[str, dict[str, str]] = {
    "events": {
        **dict.fromkeys(("position", "version"), "int8"),
        "schema_version": "int4",
        **dict.fromkeys(
            (
                "event_id",
                "stream_id",
                "stream_type",
                "type",
                "recorded_at",
                "data",
                "metadata",
                "prev_hash",
                "hash",
            ),
            "text",
        ),
    },
    "merkle_nodes": {"level": "int4", "idx": "int8", "hash": "bytea"},
    "commands": {
        **dict.fromkeys(("command_id", "command_type", "payload", "actor", "recorded_at"), "text"),
        **dict.fromkeys(("first_position", "last_position"), "int8"),
        "mac": "text",
    },
}
"""The column types of the bulk-written tables: their rows go by `COPY`'s binary form,
with no text escaping on either side (a hash as its 32 bytes, not 66 characters of hex).
A table or column not named here goes by `COPY`'s text form."""


def column_types(table: str, columns: str) -> list[str]:
    """The types of `columns` (a list as an INSERT or COPY names them) of `table`;
    KeyError when one is not in `COLUMN_TYPES`."""
    known = COLUMN_TYPES[table]
    return [known[name.strip()] for name in columns.split(",")]


def execute_rows(conn: psycopg.Connection, sql: Any, rows: Sequence[Sequence[Any]]) -> None:
    """Insert `rows` with `sql` (an INSERT with one placeholder per column).

    A few rows go as separate statements: in pipeline mode they are queued without a
    wait, where `executemany` would add a sync (a round trip). Many rows of a plain
    INSERT go through `COPY … FROM STDIN` (the bulk loads and imports: the same rows,
    the same constraints and triggers, several times faster than `executemany`);
    anything else through `executemany`.
    """
    if len(rows) <= FEW_ROWS:
        for row in rows:
            conn.execute(sql, row)
        return
    plain = _PLAIN_INSERT.fullmatch(sql) if isinstance(sql, str) else None
    with conn.cursor() as cur:
        if plain is None or conn.pgconn.pipeline_status != psycopg.pq.PipelineStatus.OFF:
            cur.executemany(sql, rows)
            return
        table, columns = plain.groups()
        try:
            types: list[str] | None = column_types(table, columns)
        except KeyError:
            types = None  # (COPY's text form)
        binary = " (FORMAT BINARY)" if types else ""
        with cur.copy(f"COPY {table} ({columns}) FROM STDIN{binary}") as copy:
            if types:
                copy.set_types(types)
            # psycopg formats each row in C (psycopg[binary]): binary for the tables of
            # `COLUMN_TYPES`, else COPY's text form (NULL as \N, text escaped, bytes as hex).
            for row in rows:
                copy.write_row(row)


class PostgresBase(ChainSettings):
    """The state of one open PostgreSQL store, and the helpers its parts share."""

    url: str
    where: str
    """The URL without its password: how messages name the database."""
    clock: Clock
    read_only: bool
    macs: DerivedMacs | None
    _key: bytes | None
    _digest: Callable[[bytes], str]
    _pg: psycopg.Connection
    _lock: threading.RLock
    _closed: bool
    _time_blocks: TimeBlocks
    _meta: dict[str, str]
    server_append = True
    """Unkeyed appends run as one call of `eventscope_append` (store/postgres/
    append_function.py); False keeps the client path (`bench/bench_postgres.py` compares
    both). A keyed chain always takes the client path: its key stays on the client."""
    shared_commits = True
    """Unkeyed appends outside `exclusive_appends` share commits with other writers'
    (store/postgres/group_commit.py); False calls `eventscope_append` alone, one commit
    each (main's path before shared commits: `bench/bench_postgres.py --main`)."""
    commits: CommitChooser
    """Which path this session's unkeyed appends take (`eventscope.commit_mode`, read at
    connect: store/postgres/commit_mode.py)."""
    last_batch = 0
    """How many appends the commit of this store's last shared-commit append held."""
    last_lock_grant: float | None = None
    """When the server granted the append lock to this store's last append (epoch s)."""

    def _conn(self) -> Any:
        """This store's connection as the sqlite3-style view of `QmarkConnection`."""
        self._open_check()
        return QmarkConnection(self._pg, self._lock)

    def _error(self, exc: psycopg.Error, action: str) -> DomainError:
        """One actionable line for a failed statement."""
        text = " ".join(str(exc).split())
        if isinstance(exc, psycopg.errors.ReadOnlySqlTransaction):
            return StoreError(f"{self.where} is open read-only: cannot {action}")
        if isinstance(exc, psycopg.errors.UniqueViolation):
            if "event_id" in text:
                return InvalidInput("an event id in this append is already recorded")
            if "commands_pkey" in text:
                return InvalidInput("a command id in this load is already recorded")
        if isinstance(exc, psycopg.errors.RestrictViolation):
            return StoreError(f"{self.where}: {text}")
        if isinstance(exc, psycopg.errors.InsufficientPrivilege):
            # A role `init --reader-role` set up (or one never granted anything): say
            # who may not do what, and the two ways on, not only the server's words.
            return StoreError(
                f"{self.where}: role {self._pg.info.user} may not {action} ({text[:120]}); "
                "connect as the writer role (`init --writer-role`), or read with --read-only"
            )
        if isinstance(exc, psycopg.OperationalError | psycopg.errors.AdminShutdown):
            return StoreError(
                f"{self.where}: the connection to the server was lost while trying to "
                f"{action}; nothing was half-recorded, try again ({text[:200]})"
            )
        return StoreError(f"{self.where}: cannot {action}: {text[:300]}")

    def _query(self, sql: LiteralString | str, params: Sequence[Any] = ()) -> list[Any]:
        self._open_check()
        try:
            with self._lock:
                return self._pg.execute(sql, params).fetchall()
        except psycopg.Error as exc:
            raise self._error(exc, "read") from None

    def _one(self, sql: LiteralString | str, params: Sequence[Any] = ()) -> Any:
        rows = self._query(sql, params)
        return rows[0] if rows else None

    def _open_check(self) -> None:
        """Refuse a closed store; reconnect a connection the server or network lost.

        Every operation starts here, outside any transaction, so a lost connection (a
        restarted server, `pg_terminate_backend`, a network cut) fails the one operation
        it broke, with one line saying to try again, and the next one reconnects: an app
        left open keeps working instead of failing every read until restarted.
        """
        if self._closed:
            raise StoreError(f"the store for {self.where} is closed")
        if self._pg.closed:
            with self._lock:
                if self._pg.closed and not self._closed:
                    self._pg = connect(self.url, read_only=self.read_only)

    def head(self) -> Head:
        """The last position and its hash (0 and the genesis hash when empty)."""
        row = self._one("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
        return Head(int(row[0]), row[1]) if row else Head(0, GENESIS_HASH)

    def iter_chain_rows(
        self, *, after: int = 0, to: int | None = None, chunk: int = 2000
    ) -> Iterator[ChainRow]:
        """Raw chain rows (stored JSON texts, not decoded) for verification."""
        stop = self.head().position if to is None else to
        position = after
        while position < stop:
            rows = self._query(
                f"SELECT {CHAIN_COLUMNS} FROM events WHERE position > %s AND position <= %s "
                "ORDER BY position LIMIT %s",
                (position, stop, chunk),
            )
            if not rows:
                return
            for row in rows:
                yield tuple(row)
            position = rows[-1][0]
