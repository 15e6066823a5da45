"""The Merkle tree and issued checkpoints in an eventscope SQLite file.

Tables (schema step 10, `store.sqlite.schema`):

- `merkle_nodes(level, idx, hash)`: the full subtrees of level >= 1 (32-byte hashes);
  the leaves are the events' own hashes, so level 0 is read from `events`;
- `checkpoints(id, tree_size, root, text, issued_at)`: every checkpoint issued.

Both are append-only (triggers). `extend_tree` runs inside the transaction of every
append, bulk load and import (one call in `store.sqlite`), so the tree always has
exactly the events' leaves. `SqliteProofStore` is the `domain.ports.ProofStore` role
over the file, with its own per-thread connections (like the snapshot store).
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from domain.errors import StoreError
from store.connection import connect
from store.proofs import tree
from store.proofs.tree import NodeId
from store.proofs.verifier import leaf_hash

if TYPE_CHECKING:
    from domain.ports import KeptCheckpoint

TREE_SCHEMA = (
    """CREATE TABLE merkle_nodes (
        level INTEGER NOT NULL CHECK (level >= 1),
        idx INTEGER NOT NULL CHECK (idx >= 0),
        hash BLOB NOT NULL,
        PRIMARY KEY (level, idx)
    ) STRICT, WITHOUT ROWID""",
    """CREATE TABLE checkpoints (
        id INTEGER PRIMARY KEY,
        tree_size INTEGER NOT NULL CHECK (tree_size >= 0),
        root BLOB NOT NULL,
        text TEXT NOT NULL,
        issued_at TEXT NOT NULL
    ) STRICT""",
)
"""The statements creating the tree tables (the schema step adds append-only triggers)."""

_INSERT_NODE = "INSERT INTO merkle_nodes (level, idx, hash) VALUES (?, ?, ?)"
_NODE = "SELECT hash FROM merkle_nodes WHERE level = ? AND idx = ?"
_EVENT_HASH = "SELECT hash FROM events WHERE position = ?"
_IN_CHUNK = 200
_BUILD_CHUNK = 50_000
_PROGRESS_FROM = 100_000
"""A migration over at least this many events shows its progress on stderr."""


def _lookup(
    conn: sqlite3.Connection,
    known: dict[int, str],
    nodes: Mapping[tuple[int, int], bytes] | None = None,
) -> Any:
    def lookup(level: int, index: int) -> bytes:
        if nodes is not None:
            node = nodes.get((level, index))
            if node is not None:
                return node
        if level == 0:
            chain = known.get(index)
            if chain is None:
                row = conn.execute(_EVENT_HASH, (index + 1,)).fetchone()
                if row is None:
                    raise StoreError(f"the Merkle tree lacks leaf {index}; run `eventscope verify`")
                chain = row[0]
            return leaf_hash(chain)
        row = conn.execute(_NODE, (level, index)).fetchone()
        if row is None:
            raise StoreError(
                f"the Merkle tree lacks node (level {level}, index {index}); "
                "run `eventscope verify`"
            )
        return bytes(row[0])

    return lookup


TREE_STEP = 10
"""The schema step that adds the tree (`store.sqlite.schema`)."""


def _tree_in_schema() -> bool:
    """False only where an older schema is in force (tests that write a pre-tree file)."""
    from store.sqlite import schema  # schema imports this module

    return schema.latest_version() >= TREE_STEP


def extend_tree(
    conn: sqlite3.Connection,
    rows: Sequence[Sequence[Any]],
    stored: Mapping[tuple[int, int], bytes] | None = None,
) -> None:
    """Add the leaves of chain rows just inserted (position first, hash last), in order.

    Runs in the caller's transaction. The row before the first one is the previous
    leaf, whose chain hash the first row carries as its prev_hash: a one-event append
    usually reads nothing and writes one node. `stored` holds stored nodes the caller
    already read (`(level, index) -> hash`, e.g. the tree's right edge, read with the
    head by PostgreSQL's append): they are not read again.
    """
    TreeGrowth().extend(conn, rows, stored)


class TreeGrowth:
    """The tree grown by one load, batch after batch in one transaction: the right edge
    its earlier batches made is kept, so each stored node the load needs is read once
    (about one a level), where each batch read the edge again (a dozen queries)."""

    def __init__(self) -> None:
        self._extender: tree.TreeExtender | None = None

    def extend(
        self,
        conn: sqlite3.Connection,
        rows: Sequence[Sequence[Any]],
        stored: Mapping[tuple[int, int], bytes] | None = None,
    ) -> None:
        """`extend_tree` for the load's next batch of rows."""
        if not rows or not _tree_in_schema():
            return
        start = rows[0][0] - 1
        lookup = _lookup(conn, {start - 1: rows[0][10]}, stored)
        extender = self._extender
        if extender is None or extender.size != start:
            extender = self._extender = tree.TreeExtender(start, lookup)
        else:
            extender.lookup = lookup
        nodes = extender.add(row[11] for row in rows)
        if len(nodes) == 1:
            conn.execute(_INSERT_NODE, nodes[0])
        elif nodes:
            conn.executemany(_INSERT_NODE, nodes)


def build_tree(conn: sqlite3.Connection) -> int:
    """Build the tree of every stored event (schema step 10); returns the leaf count.

    Streams the hashes in chunks; past `_PROGRESS_FROM` events it draws a progress
    line on stderr, since this runs once, while a command waits for it.
    """
    total = int(conn.execute("SELECT count(*) FROM events").fetchone()[0])
    if total == 0:
        return 0
    show = total >= _PROGRESS_FROM
    extender = tree.TreeExtender(0, _lookup(conn, {}))
    done = 0
    while done < total:
        hashes = [
            h
            for (h,) in conn.execute(
                "SELECT hash FROM events WHERE position > ? ORDER BY position LIMIT ?",
                (done, _BUILD_CHUNK),
            )
        ]
        if not hashes:
            break
        conn.executemany(_INSERT_NODE, extender.add(hashes))
        done += len(hashes)
        if show:
            _progress(done, total)
    if show:
        sys.stderr.write("\n")
        sys.stderr.flush()
    return done


def _progress(done: int, total: int) -> None:
    share = done / total
    bar = "#" * int(share * 30)
    end = "\r" if sys.stderr.isatty() and done < total else ""
    if end or done >= total:
        sys.stderr.write(
            f"\rbuilding the Merkle tree [{bar:.<30}] {share:4.0%} {done:,}/{total:,}{end}"
        )
        sys.stderr.flush()


def tree_bytes(conn: sqlite3.Connection) -> int:
    """Bytes the tree table takes (dbstat when available, else an estimate)."""
    try:
        row = conn.execute("SELECT sum(pgsize) FROM dbstat WHERE name = 'merkle_nodes'").fetchone()
        return int(row[0] or 0)
    except sqlite3.Error:
        count = conn.execute("SELECT count(*) FROM merkle_nodes").fetchone()[0]
        return int(count) * 45


class SqliteProofStore:
    """The ProofStore role over the eventscope file at `path` (see the module doc)."""

    def __init__(
        self, path: str | os.PathLike[str], *, read_only: bool = False, busy_timeout_ms: int = 5000
    ) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.busy_timeout_ms = busy_timeout_ms
        if not self.path.exists():
            raise StoreError(f"{self.path} does not exist; create it with `eventscope init`")
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                conn = connect(self.path, "ro" if self.read_only else "rw", self.busy_timeout_ms)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open {self.path}: {exc}") from None
            self._local.conn = conn
            with self._lock:
                self._connections.append(conn)
        return conn

    def _read(self, query: Any) -> Any:
        """Run `query(conn, head)` in one read transaction (a stable head)."""
        conn = self._conn()
        try:
            conn.execute("BEGIN")
            try:
                row = conn.execute("SELECT max(position) FROM events").fetchone()
                return query(conn, int(row[0] or 0))
            finally:
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot read the Merkle tree: {exc}") from None

    def _fetch(self, conn: sqlite3.Connection) -> tree.Fetch:
        def fetch(ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
            found: dict[NodeId, bytes] = {}
            leaves = [index for level, index in ids if level == 0]
            inner = [(level, index) for level, index in ids if level > 0]
            for i in range(0, len(leaves), _IN_CHUNK):
                chunk = leaves[i : i + _IN_CHUNK]
                marks = ",".join("?" * len(chunk))
                for position, chain in conn.execute(
                    f"SELECT position, hash FROM events WHERE position IN ({marks})",
                    [index + 1 for index in chunk],
                ):
                    found[(0, position - 1)] = leaf_hash(chain)
            for i in range(0, len(inner), _IN_CHUNK):
                nodes = inner[i : i + _IN_CHUNK]
                # OR of point lookups: SQLite scans the table for `(level, idx) IN (VALUES
                # ...)`, but searches the primary key once per term of an OR.
                where = " OR ".join("(level = ? AND idx = ?)" for _ in nodes)
                flat = [value for node in nodes for value in node]
                for level, index, digest in conn.execute(
                    f"SELECT level, idx, hash FROM merkle_nodes WHERE {where}", flat
                ):
                    found[(level, index)] = bytes(digest)
            return found

        return fetch

    def _checked(self, run: Any) -> Any:
        try:
            return self._read(run)
        except LookupError as exc:
            raise StoreError(f"{self.path}: {exc}; run `eventscope verify`") from None

    def tree_size(self) -> int:
        """How many leaves the tree has (the head position)."""
        return int(self._read(lambda conn, head: head))

    def root(self, size: int) -> bytes:
        """MTH(D[0:size])."""
        result: bytes = self._checked(
            lambda conn, head: tree.root_at(size, head, self._fetch(conn))
        )
        return result

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size])."""
        result: list[bytes] = self._checked(
            lambda conn, head: tree.inclusion_path(index, size, head, self._fetch(conn))
        )
        return result

    def consistency_path(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size])."""
        result: list[bytes] = self._checked(
            lambda conn, head: tree.consistency_path(old_size, new_size, head, self._fetch(conn))
        )
        return result

    def nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The stored hashes of these nodes (level 0: the events' leaf hashes)."""
        result: dict[NodeId, bytes] = self._read(lambda conn, head: self._fetch(conn)(ids))
        return result

    def top_indexes(self) -> dict[int, int]:
        """For each level >= 1 with stored nodes, the highest index stored there.

        One primary-key search per level (`max(idx)` of a level is the last entry of
        its range in the index), so O(log n) whatever the tree's size.
        """

        def read(conn: sqlite3.Connection, head: int) -> dict[int, int]:
            del head
            row = conn.execute("SELECT max(level) FROM merkle_nodes").fetchone()
            top: dict[int, int] = {}
            for level in range(1, int(row[0] or 0) + 1):
                found = conn.execute(
                    "SELECT max(idx) FROM merkle_nodes WHERE level = ?", (level,)
                ).fetchone()[0]
                if found is not None:
                    top[level] = int(found)
            return top

        result: dict[int, int] = self._read(read)
        return result

    def keep_checkpoint(self, checkpoint: KeptCheckpoint) -> None:
        """Keep an issued checkpoint."""
        if self.read_only:
            raise StoreError(f"{self.path} is open read-only: cannot keep a checkpoint")
        conn = self._conn()
        try:
            conn.execute(
                "INSERT INTO checkpoints (tree_size, root, text, issued_at) VALUES (?, ?, ?, ?)",
                (checkpoint.size, checkpoint.root, checkpoint.text, checkpoint.issued_at),
            )
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot keep the checkpoint: {exc}") from None

    def checkpoints(self, *, last: int | None = None) -> list[KeptCheckpoint]:
        """The checkpoints issued so far (only the `last` N when given), oldest first."""
        rows = self._read(
            lambda conn, head: conn.execute(
                "SELECT tree_size, root, text, issued_at FROM checkpoints ORDER BY id DESC LIMIT ?",
                (-1 if last is None else max(0, last),),
            ).fetchall()
        )
        rows.reverse()
        from domain.ports import KeptCheckpoint  # appending (`exec`) reads none (start-up)

        return [KeptCheckpoint(int(s), bytes(r), str(t), str(at)) for s, r, t, at in rows]

    def size_in_bytes(self) -> int:
        """Bytes the stored tree takes in the file."""
        return int(self._read(lambda conn, head: tree_bytes(conn)))

    def close(self) -> None:
        """Close every connection this object opened."""
        with self._lock:
            for conn in self._connections:
                conn.close()
            self._connections.clear()
        self._local = threading.local()
