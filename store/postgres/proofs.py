"""The ProofStore role on PostgreSQL: the Merkle tree over the events and the issued
checkpoints, in the `merkle_nodes` and `checkpoints` tables.

The tree grows inside every append, bulk load and import transaction through
`store.proofs.sqlite_log.extend_tree` (portable SQL, run through the `?`-placeholder
view), so it always has exactly the events' leaves; proofs are planned by
`store.proofs.tree`, the same algorithms every store answers from.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import psycopg

from domain.errors import StoreError
from domain.ports import KeptCheckpoint, ProofStore
from store.proofs import tree
from store.proofs.tree import NodeId
from store.proofs.verifier import leaf_hash

if TYPE_CHECKING:
    from store.postgres.store import PostgresEventStore

T = TypeVar("T")


class PostgresProofStore:
    """The Merkle tree and checkpoints of one PostgreSQL store (its connection, its lock)."""

    def __init__(self, store: PostgresEventStore) -> None:
        self._store = store

    def _read(self, run: Callable[[psycopg.Connection, int], T]) -> T:
        """`run(conn, head)` in one REPEATABLE READ transaction: the tree and the head agree."""
        store = self._store
        store._open_check()
        try:
            with store._lock, store._pg.transaction():
                conn = store._pg
                conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
                row = conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()
                return run(conn, int(row[0]) if row else 0)
        except psycopg.Error as exc:
            raise store._error(exc, "read the Merkle tree") from None
        except LookupError as exc:
            raise StoreError(f"{store.where}: {exc}; run `eventscope verify`") from None

    def _fetch(self, conn: psycopg.Connection) -> tree.Fetch:
        def fetch(ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
            found: dict[NodeId, bytes] = {}
            leaves = [index + 1 for level, index in ids if level == 0]
            if leaves:
                for position, chain in conn.execute(
                    "SELECT position, hash FROM events WHERE position = ANY(%s)", (leaves,)
                ).fetchall():
                    found[(0, int(position) - 1)] = leaf_hash(chain)
            inner = [(level, index) for level, index in ids if level > 0]
            if inner:
                rows = conn.execute(
                    "SELECT n.level, n.idx, n.hash FROM merkle_nodes n "
                    "JOIN unnest(%s::int[], %s::bigint[]) AS w(level, idx) "
                    "ON n.level = w.level AND n.idx = w.idx",
                    ([level for level, _ in inner], [index for _, index in inner]),
                ).fetchall()
                for level, index, digest in rows:
                    found[(int(level), int(index))] = bytes(digest)
            return found

        return fetch

    def tree_size(self) -> int:
        """How many leaves the tree has (the head position)."""
        return self._read(lambda conn, head: head)

    def root(self, size: int) -> bytes:
        """MTH(D[0:size])."""
        return self._read(lambda conn, head: tree.root_at(size, head, self._fetch(conn)))

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size])."""
        return self._read(
            lambda conn, head: tree.inclusion_path(index, size, head, self._fetch(conn))
        )

    def consistency_path(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size])."""
        return self._read(
            lambda conn, head: tree.consistency_path(old_size, new_size, head, self._fetch(conn))
        )

    def nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The stored hashes of these nodes (level 0: the events' leaf hashes)."""
        return self._read(lambda conn, head: self._fetch(conn)(ids))

    def top_indexes(self) -> dict[int, int]:
        """For each level >= 1 with stored nodes, the highest index stored there (one
        primary-key search per level: O(log n) whatever the tree's size)."""

        def read(conn: psycopg.Connection, head: int) -> dict[int, int]:
            row = conn.execute("SELECT max(level) FROM merkle_nodes").fetchone()
            top: dict[int, int] = {}
            for level in range(1, int(row[0] or 0) + 1 if row else 1):
                found = conn.execute(
                    "SELECT max(idx) FROM merkle_nodes WHERE level = %s", (level,)
                ).fetchone()
                if found is not None and found[0] is not None:
                    top[level] = int(found[0])
            return top

        return self._read(read)

    def keep_checkpoint(self, checkpoint: KeptCheckpoint) -> None:
        """Keep an issued checkpoint (append-only)."""
        store = self._store
        store._open_check()
        store._refuse_read_only("keep a checkpoint")
        try:
            with store._lock:
                store._pg.execute(
                    "INSERT INTO checkpoints (tree_size, root, text, issued_at) "
                    "VALUES (%s, %s, %s, %s)",
                    (checkpoint.size, checkpoint.root, checkpoint.text, checkpoint.issued_at),
                )
        except psycopg.Error as exc:
            raise store._error(exc, "keep the checkpoint") from None

    def checkpoints(self, *, last: int | None = None) -> list[KeptCheckpoint]:
        """The checkpoints issued so far (only the `last` N when given), oldest first."""
        sql = "SELECT tree_size, root, text, issued_at FROM checkpoints ORDER BY id DESC"
        params: list[Any] = []
        if last is not None:
            sql += " LIMIT %s"
            params.append(max(0, last))
        rows = self._read(lambda conn, head: conn.execute(sql, params).fetchall())
        rows.reverse()
        return [KeptCheckpoint(int(s), bytes(r), str(t), str(at)) for s, r, t, at in rows]

    def close(self) -> None:
        """Nothing of its own to release: it uses the store's connection."""


if TYPE_CHECKING:
    _ROLE: type[ProofStore] = PostgresProofStore
