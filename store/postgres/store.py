"""The PostgreSQL event store: every event-store role over one PostgreSQL database that
many writer processes (on many hosts) and readers share.

Opening checks that the database is an eventscope store of a schema this version
understands (creating or migrating it unless read-only), and checks the key of an
HMAC-keyed chain. One connection, in autocommit mode, guarded by a lock: each write is
one explicit transaction holding the append lock (`writes.py`).
"""

from __future__ import annotations

import secrets
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING, Any

import psycopg

from domain.clock import Clock, SystemClock
from domain.clock_skew import TimeBlocks
from domain.errors import StoreError
from domain.ports import EventStore
from store.derived_macs import DerivedMacs
from store.hashchain import (
    digest_function,
    hash_mode,
    key_check_value,
    load_key,
)
from store.postgres import schema
from store.postgres.append_sql import CHANNEL
from store.postgres.bookmark_writes import BookmarkWrites
from store.postgres.commit_mode import CommitChooser, read_commit_mode
from store.postgres.connect import connect
from store.postgres.exclusive import ExclusiveAppends
from store.postgres.privileges import grant_roles
from store.postgres.proofs import PostgresProofStore
from store.postgres.read_models import PostgresReadModels
from store.postgres.reads import Reading
from store.postgres.url import redacted


class PostgresEventStore(BookmarkWrites, ExclusiveAppends, Reading):
    """Every event-store role (`domain.ports.EventStore`) over one PostgreSQL database.

    `url` is `postgresql://user@host:port/dbname`; `create=True` sets up an empty
    database (`eventscope init`); `read_only=True` opens the session with
    `default_transaction_read_only`, so the server itself refuses any write.
    """

    def __init__(
        self,
        url: str,
        *,
        clock: Clock | None = None,
        key: bytes | None = None,
        read_only: bool = False,
        create: bool = False,
        domain: str = "",
    ) -> None:
        self.url = url
        self.where = redacted(url)
        self.clock = clock or SystemClock()
        self.read_only = read_only
        self._key = key
        self._digest = digest_function(key)
        self.macs = DerivedMacs.from_key(key)
        self._lock = threading.RLock()
        self._closed = False
        self._time_blocks = TimeBlocks()
        self._meta = {}
        self._listener: psycopg.Connection | None = None
        self.proofs = PostgresProofStore(self)
        """The Merkle tree over these events (the ProofStore role)."""
        if read_only and create:
            raise StoreError("cannot create a database in read-only mode")
        self._pg = connect(url, read_only=read_only)
        try:
            self._prepare(create, domain)
            self.commits = CommitChooser(read_commit_mode(self._pg, self.where))
            self._meta = dict(self._query("SELECT key, value FROM meta"))
            self._check_key()
        except psycopg.Error as exc:
            self.close()
            raise self._error(exc, "open") from None
        except BaseException:
            self.close()
            raise

    @classmethod
    def open(cls, url: str, *, key_file: str | None = None, **options: Any) -> PostgresEventStore:
        """Open `url` with the key from `key_file`, `$EVENTSCOPE_KEY_FILE` or `$EVENTSCOPE_KEY`."""
        return cls(url, key=load_key(key_file), **options)

    # -- opening --------------------------------------------------------------------------------

    def _prepare(self, create: bool, domain: str) -> None:
        conn = self._pg
        version = schema.current_version(conn)
        if version is not None:
            schema.check_version(self.where, version)
        if self.read_only:
            if version is None:
                if schema.user_tables(conn):
                    raise StoreError(
                        f"{self.where} is a PostgreSQL database but not an eventscope store"
                    )
                raise StoreError(f"{self.where} is an empty database, not an eventscope store")
            if version < schema.latest_version():
                raise StoreError(
                    f"{self.where} has schema {version}; open it once without --read-only to "
                    f"upgrade it to {schema.latest_version()}"
                )
            return
        if version == schema.latest_version():
            return
        if schema.migrate(conn, self.where, create=create):
            self._write_initial_meta(domain)

    def _write_initial_meta(self, domain: str) -> None:
        salt = secrets.token_hex(16)
        values = {
            "hash_mode": hash_mode(self._key),
            "key_salt": salt,
            "key_check": key_check_value(self._key, salt) if self._key is not None else "",
            "domain": domain,
            "created_at": SystemClock().now(),
            "created_by": "eventscope",
        }
        with self._pg.transaction(), self._pg.cursor() as cur:
            cur.executemany(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO NOTHING",
                list(values.items()),
            )

    # -- information ----------------------------------------------------------------------------

    @property
    def domain(self) -> str:
        """The domain name recorded at creation ("" when none was given)."""
        return self._meta.get("domain", "")

    def meta(self) -> dict[str, str]:
        """The database's settings (schema version, hash mode, domain, created_at...)."""
        return {k: v for k, v in self._meta.items() if k not in ("key_check", "key_salt")}

    def schema_version(self) -> int:
        """The highest migration recorded in `eventscope_schema`."""
        row = self._one("SELECT coalesce(max(number), 0) FROM eventscope_schema")
        return int(row[0]) if row else 0

    def schema_problem(self) -> str | None:
        """What is wrong with the schema (triggers missing or disabled, version), or None."""
        self._open_check()
        try:
            with self._lock:
                return schema.schema_problem(self._pg)
        except psycopg.Error as exc:
            raise self._error(exc, "check the schema") from None

    def grant_roles(self, *, writer: str | None, reader: str | None) -> list[str]:
        """Grant a writer role and a reader role their privileges (`privileges.py`)."""
        self._open_check()
        self._refuse_read_only("grant privileges")
        try:
            with self._lock:
                return grant_roles(self._pg, self.where, writer=writer, reader=reader)
        except psycopg.Error as exc:
            raise self._error(exc, "grant privileges") from None

    def read_models(self) -> PostgresReadModels:
        """The `ProjectionStore` role: read-model access for one projector."""
        return PostgresReadModels(self)

    # -- waiting for other writers --------------------------------------------------------------

    def wait_for_change(self, seen: int, timeout: float) -> int:
        """Wait until `data_version()` moves past `seen`, or `timeout` seconds pass;
        returns the current token.

        Woken by LISTEN/NOTIFY (every write transaction notifies on commit), so a commit
        from another process or host is seen within milliseconds; if the listening
        connection fails, it falls back to polling every 50 ms.
        """
        deadline = time.monotonic() + max(0.0, timeout)
        current = self.data_version()
        while current == seen:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            if not self._wait_notified(min(left, 1.0)):
                time.sleep(min(left, 0.05))
            current = self.data_version()
        return current

    def _wait_notified(self, timeout: float) -> bool:
        """Block until a notification arrives (True), or the timeout (True: waited);
        False when notifications are unavailable, so the caller polls."""
        try:
            if self._listener is None:
                self._listener = psycopg.connect(self.url, autocommit=True)
                self._listener.execute(f"LISTEN {CHANNEL}")
                return True  # the token is re-read right after LISTEN started
            for _ in self._listener.notifies(timeout=timeout, stop_after=1):
                pass
            return True
        except psycopg.Error:
            listener, self._listener = self._listener, None
            if listener is not None:
                listener.close()
            return False

    # -- closing --------------------------------------------------------------------------------

    def close(self) -> None:
        """Close the connections; the store cannot be used afterwards (idempotent)."""
        with self._lock:
            self._closed = True
            for conn in (getattr(self, "_pg", None), self._listener):
                if conn is not None:
                    conn.close()
            self._listener = None

    def __enter__(self) -> PostgresEventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"PostgresEventStore({self.where!r}, hash_mode={self.hash_mode!r})"


if TYPE_CHECKING:  # every store implements every event-store role
    _ROLES: type[EventStore] = PostgresEventStore
