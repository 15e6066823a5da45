"""Persisted read models: the tables the projector writes and the live panels read.

Layout, per projection `p` (its name is a lowercase identifier):

- `rm_<p>(key TEXT PRIMARY KEY, row TEXT)`: one JSON row per row key (WITHOUT ROWID,
  so reading in key order needs no sort);
- `rm_<p>__aux(part TEXT PRIMARY KEY, value TEXT)`: the state's `aux`, one JSON value
  per top-level key, so a batch rewrites only the parts that changed;
- while rebuilding, `rm_<p>__new` and `rm_<p>__new_aux` take the same shape and are
  renamed over the live pair in the swap transaction.

Shared by every projection of a projector `name`:

- `projector_checkpoint(name, position, fingerprint, definitions, error,
  error_position, updated_at)`: the position the tables reflect (written in the same
  transaction as the rows), which projection definitions built them, and the last
  failure, if any;
- `projector_lease(name, owner, expires_at)`: who may write (see `store.projector`).

Both shared tables come from a schema migration (`store.sqlite.schema`); the per-projection
tables depend on the domain, so the projector creates them.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

import orjson

from domain.errors import InvalidInput
from domain.ports.projections import Checkpoint, ReadModelTables
from domain.projection import Projection, ProjectionState, Row
from store.derived_macs import DerivedMacs, check_checkpoint, checkpoint_mac
from store.snapshot_format import stored_definition

READ_MODEL_FORMAT: Final = 1
"""The layout of the tables above; part of the fingerprint, so a new layout rebuilds."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,62}")


def check_projection_name(name: str) -> None:
    """Refuse a projection name that cannot name a table safely (`__` is ours)."""
    if not _NAME.fullmatch(name) or "__" in name or name.endswith("_"):
        raise InvalidInput(
            f"projection name {name!r} cannot name a read-model table; use lowercase "
            "letters, digits and single underscores"
        )


def rows_table(projection: str, *, new: bool = False) -> str:
    """The table of `projection`'s rows (its rebuild twin with `new`)."""
    return f"rm_{projection}__new" if new else f"rm_{projection}"


def aux_table(projection: str, *, new: bool = False) -> str:
    """The table of `projection`'s aux parts (its rebuild twin with `new`)."""
    return f"rm_{projection}__new_aux" if new else f"rm_{projection}__aux"


def fingerprint(projections: Sequence[Projection]) -> tuple[str, dict[str, str]]:
    """(fingerprint, definition by projection name) of a set of projections.

    A definition is what `store.snapshot_format.stored_definition` says (name, class, `version`,
    and a digest of the projection's module source), the same identity the timeline's
    snapshots use: a changed fold is never mixed with rows an older fold wrote.
    """
    definitions = {p.name: stored_definition(p) for p in projections}
    text = orjson.dumps({"format": READ_MODEL_FORMAT, "definitions": sorted(definitions.items())})
    return hashlib.sha256(text).hexdigest()[:24], definitions


_CHECKPOINT_COLUMNS = "name, position, fingerprint, definitions, error, error_position, updated_at"


def read_checkpoint(conn: sqlite3.Connection, name: str) -> Checkpoint | None:
    """The checkpoint of projector `name` (None before its first write)."""
    try:
        row = conn.execute(
            f"SELECT {_CHECKPOINT_COLUMNS} FROM projector_checkpoint WHERE name = ?", (name,)
        ).fetchone()
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return None  # a file opened read-only before the migration that adds it
        raise
    if row is None:
        return None
    return Checkpoint(row[0], row[1], row[2], orjson.loads(row[3]), row[4], row[5], row[6])


def write_checkpoint(
    conn: sqlite3.Connection,
    name: str,
    position: int,
    fingerprint: str,
    definitions: Mapping[str, str],
    updated_at: str,
    macs: DerivedMacs | None = None,
) -> None:
    """Record that the tables reflect `position` (clears any recorded failure).

    With `macs` (the chain's key) the row gets an HMAC binding it to the event there.
    """
    mac = checkpoint_mac(conn, macs, name, position, fingerprint)
    columns, marks, also = _CHECKPOINT_COLUMNS, "?, ?, ?, ?, NULL, NULL, ?", ""
    params: list[object] = [name, position, fingerprint, orjson.dumps(dict(definitions)).decode()]
    params.append(updated_at)
    if mac is not None:  # without a key the column stays NULL (and older files lack it)
        columns, marks, also = columns + ", mac", marks + ", ?", ", mac = excluded.mac"
        params.append(mac)
    conn.execute(
        f"INSERT INTO projector_checkpoint ({columns}) VALUES ({marks}) "
        "ON CONFLICT(name) DO UPDATE SET "
        "position = excluded.position, fingerprint = excluded.fingerprint, "
        "definitions = excluded.definitions, error = NULL, error_position = NULL, "
        f"updated_at = excluded.updated_at{also}",
        params,
    )


def record_failure(
    conn: sqlite3.Connection, name: str, message: str, position: int, updated_at: str
) -> None:
    """Keep a failure on the checkpoint row, where every process can see it.

    A first build that fails leaves a row at position 0 with no fingerprint, so the
    next attempt builds from scratch again.
    """
    conn.execute(
        f"INSERT INTO projector_checkpoint ({_CHECKPOINT_COLUMNS}) "
        "VALUES (?, 0, '', '{}', ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
        "error = excluded.error, error_position = excluded.error_position, "
        "updated_at = excluded.updated_at",
        (name, message, position, updated_at),
    )


class CheckpointRecords:
    """The checkpoint part of `ReadModelTables`, on a `?`-placeholder connection: one
    body for the SQLite and PostgreSQL adapters, which set `_sql` and `_macs`."""

    _sql: Any
    _macs: DerivedMacs | None

    def checkpoint(self, name: str) -> Checkpoint | None:
        return read_checkpoint(self._sql, name)

    def check_checkpoint(self, name: str, position: int, fingerprint: str) -> None:
        check_checkpoint(self._sql, self._macs, name, position, fingerprint)

    def write_checkpoint(
        self,
        name: str,
        position: int,
        fingerprint: str,
        definitions: Mapping[str, str],
        updated_at: str,
    ) -> None:
        write_checkpoint(
            self._sql, name, position, fingerprint, definitions, updated_at, self._macs
        )

    def record_failure(self, name: str, message: str, position: int, updated_at: str) -> None:
        record_failure(self._sql, name, message, position, updated_at)


def existing_tables(conn: sqlite3.Connection) -> set[str]:
    """Names of the read-model tables in the file."""
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'rm_*'"
    ).fetchall()
    return {row[0] for row in rows}


def create_tables(conn: sqlite3.Connection, projection: str, *, new: bool = False) -> None:
    """Create `projection`'s empty pair of tables (dropping leftovers of the same names)."""
    drop_tables(conn, projection, new=new)
    conn.execute(
        f'CREATE TABLE "{rows_table(projection, new=new)}" '
        "(key TEXT PRIMARY KEY, row TEXT NOT NULL) STRICT, WITHOUT ROWID"
    )
    conn.execute(
        f'CREATE TABLE "{aux_table(projection, new=new)}" '
        "(part TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT, WITHOUT ROWID"
    )


def drop_tables(conn: sqlite3.Connection, projection: str, *, new: bool = False) -> None:
    """Drop `projection`'s pair of tables, if they exist."""
    conn.execute(f'DROP TABLE IF EXISTS "{rows_table(projection, new=new)}"')
    conn.execute(f'DROP TABLE IF EXISTS "{aux_table(projection, new=new)}"')


_LEFTOVERS = (
    "SELECT name FROM sqlite_master WHERE type = 'table' "
    "AND (name GLOB 'rm_*__new' OR name GLOB 'rm_*__new_aux')"
)


def rebuild_leftovers(conn: sqlite3.Connection) -> list[str]:
    """The `__new` tables of a rebuild that never swapped (it failed, or was killed)."""
    return [name for (name,) in conn.execute(_LEFTOVERS).fetchall()]


def drop_rebuild_leftovers(conn: sqlite3.Connection) -> None:
    """Drop every unfinished rebuild's `__new` tables (inside a write transaction)."""
    for name in rebuild_leftovers(conn):
        conn.execute(f'DROP TABLE "{name}"')


def swap_in(conn: sqlite3.Connection, projection: str) -> None:
    """Replace the live pair of `projection` by its rebuilt twin (inside a transaction)."""
    drop_tables(conn, projection)
    conn.execute(
        f'ALTER TABLE "{rows_table(projection, new=True)}" RENAME TO "{rows_table(projection)}"'
    )
    conn.execute(
        f'ALTER TABLE "{aux_table(projection, new=True)}" RENAME TO "{aux_table(projection)}"'
    )


def upsert_rows(conn: sqlite3.Connection, table: str, rows: Iterable[tuple[str, str]]) -> None:
    """Write (key, row JSON) pairs, replacing the rows with those keys."""
    conn.executemany(f'INSERT OR REPLACE INTO "{table}" (key, row) VALUES (?, ?)', rows)


def delete_rows(conn: sqlite3.Connection, table: str, keys: Iterable[str]) -> None:
    """Delete the rows with these keys (rows a projection removed)."""
    conn.executemany(f'DELETE FROM "{table}" WHERE key = ?', ((key,) for key in keys))


def upsert_aux(conn: sqlite3.Connection, table: str, parts: Iterable[tuple[str, str]]) -> None:
    """Write (part, value JSON) pairs."""
    conn.executemany(f'INSERT OR REPLACE INTO "{table}" (part, value) VALUES (?, ?)', parts)


def delete_aux(conn: sqlite3.Connection, table: str, parts: Iterable[str]) -> None:
    """Delete aux parts the state no longer has."""
    conn.executemany(f'DELETE FROM "{table}" WHERE part = ?', ((part,) for part in parts))


def read_rows(
    conn: sqlite3.Connection,
    projection: str,
    *,
    after: str | None = None,
    limit: int | None = None,
    keys: Sequence[str] | None = None,
) -> dict[str, Row]:
    """Rows of `projection` by key, in key order: all, a page after a key, or some keys."""
    table = rows_table(projection)
    if keys is not None:
        found: dict[str, Row] = {}
        for key in keys:
            row = conn.execute(f'SELECT row FROM "{table}" WHERE key = ?', (key,)).fetchone()
            if row is not None:
                found[key] = orjson.loads(row[0])
        return found
    sql = f'SELECT key, row FROM "{table}"'
    params: list[Any] = []
    if after is not None:
        sql += " WHERE key > ?"
        params.append(after)
    sql += " ORDER BY key LIMIT ?"
    params.append(-1 if limit is None else limit)
    loads = orjson.loads
    return {key: loads(row) for key, row in conn.execute(sql, params)}


def read_aux_blobs(conn: sqlite3.Connection, projection: str) -> dict[str, bytes]:
    """The stored aux parts of `projection`, still encoded (as written)."""
    rows = conn.execute(f'SELECT part, value FROM "{aux_table(projection)}"').fetchall()
    return {part: value.encode() for part, value in rows}


def read_state(
    tables: ReadModelTables, projection: Projection
) -> tuple[ProjectionState, dict[str, bytes]]:
    """`projection`'s persisted state, and its aux parts as stored.

    Aux parts missing from the store keep their `initial()` value; call inside a read
    transaction together with the checkpoint, so rows, aux and position agree.
    """
    state = projection.initial()
    state.rows = tables.read_rows(projection.name)
    blobs = tables.read_aux(projection.name)
    for part, blob in blobs.items():
        state.aux[part] = orjson.loads(blob)
    return state, blobs


def encode_row(row: Row) -> str:
    """A row as stored."""
    return orjson.dumps(row).decode()


def changed_aux(
    aux: Mapping[str, Any], written: Mapping[str, bytes]
) -> tuple[dict[str, bytes], list[str]]:
    """(parts whose encoding differs from `written`, parts no longer present).

    Comparing encodings costs one `orjson.dumps` per part per batch; projections do
    not report aux changes, and this keeps writes to what really changed.
    """
    dumps = orjson.dumps
    changed = {}
    for part, value in aux.items():
        blob = dumps(value)
        if written.get(part) != blob:
            changed[part] = blob
    removed = [part for part in written if part not in aux]
    return changed, removed
