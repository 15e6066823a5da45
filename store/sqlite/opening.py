"""Opening a SQLite file: what it is, creating or migrating its schema, checking the key."""

from __future__ import annotations

import secrets
import sqlite3

from domain.clock import SystemClock
from domain.errors import InvalidInput, StoreError
from store.files import refuse_special_file
from store.hashchain import (
    hash_mode,
    key_check_value,
)
from store.sqlite import schema
from store.sqlite.base import SqliteBase

_SQLITE_MAGIC = b"SQLite format 3\x00"


class Opening(SqliteBase):
    """Checks and prepares the file when the store opens."""

    def _check_file(self, create: bool) -> None:
        path = self.path
        if str(path) in ("", ":memory:") or str(path).startswith("file:"):
            raise InvalidInput(f"--db must be a file path, not {str(path)!r}")
        folder = path.parent
        if not folder.is_dir():
            raise StoreError(f"cannot open {path}: folder {folder} does not exist")
        if path.is_dir():
            raise StoreError(f"{path} is a folder, not a database file")
        refuse_special_file(path, "database")  # a FIFO hangs SQLite, /dev/null gets a journal
        if not path.exists():
            if self.read_only:
                raise StoreError(f"{path} does not exist")
            if not create:
                raise StoreError(f"{path} does not exist; create it with `eventscope init`")
            return
        try:
            with path.open("rb") as handle:
                magic = handle.read(len(_SQLITE_MAGIC))
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {exc.strerror}") from None
        if magic and magic != _SQLITE_MAGIC:
            raise StoreError(f"{path} is not a SQLite database")

    def _prepare(self, conn: sqlite3.Connection, create: bool, domain: str) -> None:
        """Check what the file is; create or migrate the schema when allowed."""
        try:
            app_id, version = schema.read_versions(conn)
            objects = schema.table_count(conn)
        except sqlite3.DatabaseError as exc:
            raise self._error(exc, "open") from None
        latest = schema.latest_version()
        if app_id == schema.APPLICATION_ID:
            if version > latest:
                raise StoreError(
                    f"{self.path} was written by a newer eventscope (schema {version} > "
                    f"{latest}); upgrade eventscope"
                )
            if version == latest or self.read_only:
                if version < 1:
                    raise StoreError(f"{self.path} is an eventscope database without a schema")
                if not self.read_only:
                    self._ensure_wal(conn)
                return
        elif app_id != 0:
            raise StoreError(
                f"{self.path} is a SQLite database of another application (application_id "
                f"{app_id:#x}), not an eventscope database"
            )
        elif objects:
            raise StoreError(f"{self.path} is a SQLite database but not an eventscope database")
        elif not create:
            raise StoreError(f"{self.path} is an empty database; set it up with `eventscope init`")
        if self.read_only:
            raise StoreError(f"{self.path} is not an eventscope database")
        self._migrate(conn, domain)

    def _ensure_wal(self, conn: sqlite3.Connection) -> None:
        """Switch the file to WAL (a property of the file, set outside transactions)."""
        try:
            if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                conn.execute("PRAGMA journal_mode = WAL")
        except sqlite3.Error as exc:
            raise self._error(exc, "switch to WAL mode") from None

    def _migrate(self, conn: sqlite3.Connection, domain: str) -> None:
        """Create or upgrade the schema in one write transaction."""
        self._ensure_wal(conn)
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                # Checked again under the write lock: another process may have
                # initialised or upgraded the file since we looked.
                app_id, version = schema.read_versions(conn)
                fresh = app_id == 0 and schema.table_count(conn) == 0
                if not fresh and app_id != schema.APPLICATION_ID:
                    raise StoreError(f"{self.path} is not an eventscope database")
                if version > schema.latest_version():
                    raise StoreError(
                        f"{self.path} was written by a newer eventscope (schema {version} > "
                        f"{schema.latest_version()}); upgrade eventscope"
                    )
                try:
                    schema.apply_migrations(conn)
                except RuntimeError as exc:
                    raise StoreError(f"{self.path}: {exc}") from None
                if fresh:
                    self._write_initial_meta(conn, domain)
                conn.execute("COMMIT")
            except BaseException:
                self._rollback(conn)
                raise
        except sqlite3.Error as exc:
            raise self._error(exc, "set up the schema") from None

    def _write_initial_meta(self, conn: sqlite3.Connection, domain: str) -> None:
        salt = secrets.token_hex(16)
        values = {
            "hash_mode": hash_mode(self._key),
            "key_salt": salt,
            "key_check": key_check_value(self._key, salt) if self._key is not None else "",
            "domain": domain,
            # Wall time, not the injected clock: creating a file must not shift the
            # timestamps a test or demo clock gives to the first events.
            "created_at": SystemClock().now(),
            "created_by": "eventscope",
        }
        conn.executemany(
            "INSERT INTO meta(key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            list(values.items()),
        )

    def _read_meta(self, conn: sqlite3.Connection) -> dict[str, str]:
        try:
            return dict(conn.execute("SELECT key, value FROM meta").fetchall())
        except sqlite3.Error as exc:
            raise self._error(exc, "read its settings") from None
