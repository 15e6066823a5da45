"""The SQLite event store: one file, WAL, one writer at a time, many readers.

Writes are raw `sqlite3` statements in one `BEGIN IMMEDIATE` transaction each, so
the head read inside it is the real head even with other writer processes, and
positions are assigned as head+1 without gaps. Connections are per thread (the app
reads from worker threads). Every SQLite failure a person can cause (a locked file,
a read-only file, a file that is not a database) becomes a one-line `StoreError`.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from domain.clock import Clock, SystemClock
from domain.errors import InvalidInput, StoreError
from store.derived_macs import DerivedMacs
from store.hashchain import (
    digest_function,
    load_key,
)
from store.sqlite import checkpoints, schema
from store.sqlite.append import Appending
from store.sqlite.audit import Auditing
from store.sqlite.bulk import Loading
from store.sqlite.connections import ThreadConnections
from store.sqlite.opening import Opening
from store.sqlite.queries import Reading
from store.sqlite.statements import (
    INSERT_COMMAND,
    INSERT_SIGNED_COMMAND,
)
from store.sqlite.writer_queue import WriterQueue

if TYPE_CHECKING:
    from domain.ports import EventStore, ProjectionStore
    from store.sqlite.read_models import SqliteReadModels

SYNCHRONOUS_MODES = ("OFF", "NORMAL", "FULL", "EXTRA")


class SqliteEventStore(Opening, Appending, Loading, Reading, Auditing):
    """Every event-store role (`domain.ports.EventStore`) over one SQLite file.

    Its parts, one mixin each: `opening`, `append`, `bulk`, `queries`, `audit`, over
    `base`.

    Opening checks that the file is an eventscope database of a schema this version
    understands, applies pending migrations (unless read-only), and checks the key
    of an HMAC-keyed chain. `key` is the HMAC key (see `store.hashchain.load_key`,
    or use `SqliteEventStore.open` to read it from the environment). `create=True`
    creates the file (and initialises an empty SQLite file); `read_only=True` opens
    it with `mode=ro`, so SQLite itself refuses any write.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        clock: Clock | None = None,
        key: bytes | None = None,
        synchronous: str = "FULL",
        busy_timeout_ms: int = 5000,
        read_only: bool = False,
        create: bool = False,
        domain: str = "",
    ) -> None:
        self.path = Path(path)
        self.where = str(self.path)
        self.clock: Clock = clock or SystemClock()
        self.read_only = read_only
        self.busy_timeout_ms = busy_timeout_ms
        self.synchronous = synchronous.upper()
        if self.synchronous not in SYNCHRONOUS_MODES:
            raise InvalidInput(
                f"synchronous must be one of {', '.join(SYNCHRONOUS_MODES)}, not {synchronous!r}"
            )
        if busy_timeout_ms < 0:
            raise InvalidInput("busy_timeout_ms must be >= 0")
        if read_only and create:
            raise InvalidInput("cannot create a database in read-only mode")
        self._key = key
        self._digest = digest_function(key)
        self.macs = DerivedMacs.from_key(key)
        """MACs of derived rows (snapshots, checkpoints, commands); None without a key."""
        self._insert_command = INSERT_COMMAND if key is None else INSERT_SIGNED_COMMAND
        # The wall clock always gives the stored time format; others are checked.
        self._clock_is_stored = type(self.clock) is SystemClock
        self._threads = ThreadConnections(
            self._connect, lambda: StoreError(f"the store for {self.path} is closed")
        )
        self._writers = WriterQueue(busy_timeout_ms)
        """In-process writers take turns here before `BEGIN IMMEDIATE` (FIFO)."""
        self._lock = threading.Lock()
        self._closed = False
        self._commits = 0
        """Write transactions this store committed (all threads; drives checkpoints)."""
        self._checkpoint_due = checkpoints.CHECKPOINT_EVERY
        self._checkpointer: checkpoints.Checkpointer | None = None
        self._time_blocks = None
        """The time blocks of `position_at`, made on its first call (`exec` never asks)."""
        self._check_file(create)
        try:
            conn = self._conn()
            self._prepare(conn, create, domain)
            self._meta = self._read_meta(conn)
            self._check_key()
        except BaseException:
            self.close()
            raise

    @classmethod
    def init(
        cls, path: str | os.PathLike[str], *, key: bytes | None = None, **options: Any
    ) -> SqliteEventStore:
        """Create (or open, if it exists) a database at `path`: `eventscope init`."""
        return cls(path, key=key, create=True, **options)

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        key_file: str | os.PathLike[str] | None = None,
        **options: Any,
    ) -> SqliteEventStore:
        """Open `path` with the key from `key_file`, `$EVENTSCOPE_KEY_FILE` or `$EVENTSCOPE_KEY`."""
        return cls(path, key=load_key(key_file), **options)

    @property
    def domain(self) -> str:
        """The domain name recorded at creation ("" when none was given)."""
        return self._meta.get("domain", "")

    def meta(self) -> dict[str, str]:
        """The database's settings (schema version, hash mode, domain, created_at...)."""
        return {k: v for k, v in self._meta.items() if k not in ("key_check", "key_salt")}

    def schema_version(self) -> int:
        """`PRAGMA user_version` of the file."""
        try:
            return schema.read_versions(self._conn())[1]
        except sqlite3.Error as exc:
            raise self._error(exc, "read the schema version") from None

    def read_models(self) -> SqliteReadModels:
        """The `ProjectionStore` role: read-model access for one projector."""
        # Imported here: `exec` appends and opens no read model (start-up, issue 14).
        from store.sqlite.read_models import SqliteReadModels

        return SqliteReadModels(self)

    def close(self) -> None:
        """Stop the checkpointer and close every thread's connection; the store cannot
        be used afterwards."""
        with self._lock:
            self._closed = True
            checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()
        self._threads.close_all()

    def __enter__(self) -> SqliteEventStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SqliteEventStore({str(self.path)!r}, hash_mode={self.hash_mode!r})"


if TYPE_CHECKING:  # every store implements every event-store role
    _ROLES: type[EventStore] = SqliteEventStore
    _READ_SIDE: type[ProjectionStore] = SqliteEventStore
