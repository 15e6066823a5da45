"""The Merkle tree and issued checkpoints in memory: the ProofStore twin for tests.

`InMemoryEventStore` owns one (`store.proofs`) and extends it in every commit, as the
SQLite store does inside its transactions; reads go through the same proof planner
(`store.proofs.tree`), so both stores answer from the same algorithms.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from domain.ports import KeptCheckpoint
from store.proofs import tree
from store.proofs.tree import NodeId


class InMemoryProofStore:
    """The ProofStore role in memory (thread-safe)."""

    def __init__(self) -> None:
        self._leaves: list[bytes] = []
        self._nodes: dict[NodeId, bytes] = {}
        self._checkpoints: list[KeptCheckpoint] = []
        self._lock = threading.Lock()

    def _lookup(self, level: int, index: int) -> bytes:
        return self._leaves[index] if level == 0 else self._nodes[(level, index)]

    def extend(self, rows: Sequence[Sequence[Any]]) -> None:
        """Add the leaves of committed chain rows (position first, hash last), in order."""
        with self._lock:
            extender = tree.TreeExtender(len(self._leaves), self._lookup)
            chain_hashes = [row[11] for row in rows]
            for level, index, digest in extender.add(chain_hashes):
                self._nodes[(level, index)] = digest
            self._leaves.extend(tree.leaf_hashes(chain_hashes))

    def _fetch(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        found: dict[NodeId, bytes] = {}
        for level, index in ids:
            if level == 0 and index < len(self._leaves):
                found[(0, index)] = self._leaves[index]
            elif (level, index) in self._nodes:
                found[(level, index)] = self._nodes[(level, index)]
        return found

    def tree_size(self) -> int:
        """How many leaves the tree has (the head position)."""
        return len(self._leaves)

    def root(self, size: int) -> bytes:
        """MTH(D[0:size])."""
        with self._lock:
            return tree.root_at(size, len(self._leaves), self._fetch)

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        """PATH(index, D[0:size])."""
        with self._lock:
            return tree.inclusion_path(index, size, len(self._leaves), self._fetch)

    def consistency_path(self, old_size: int, new_size: int) -> list[bytes]:
        """PROOF(old_size, D[0:new_size])."""
        with self._lock:
            return tree.consistency_path(old_size, new_size, len(self._leaves), self._fetch)

    def nodes(self, ids: Sequence[NodeId]) -> dict[NodeId, bytes]:
        """The stored hashes of these nodes (level 0: leaf hashes); missing ones left out."""
        with self._lock:
            return self._fetch(ids)

    def top_indexes(self) -> dict[int, int]:
        """For each level >= 1 with stored nodes, the highest index stored there."""
        with self._lock:
            top: dict[int, int] = {}
            for level, index in self._nodes:
                top[level] = max(index, top.get(level, -1))
        return top

    def keep_checkpoint(self, checkpoint: KeptCheckpoint) -> None:
        """Keep an issued checkpoint."""
        with self._lock:
            self._checkpoints.append(checkpoint)

    def checkpoints(self, *, last: int | None = None) -> list[KeptCheckpoint]:
        """The checkpoints issued so far (only the `last` N when given), oldest first."""
        with self._lock:
            kept = list(self._checkpoints)
        return kept if last is None else kept[max(0, len(kept) - last) :]
