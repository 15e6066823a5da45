"""The ProofStore role: the Merkle tree over the events and the checkpoints issued."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class KeptCheckpoint:
    """A checkpoint the store issued: the tree size and root it names, and its note text."""

    size: int
    root: bytes
    text: str
    """The whole checkpoint note (signed or not), as handed out."""
    issued_at: str


class ProofStore(Protocol):
    """The Merkle tree over the events (RFC 9162) and the checkpoints issued for it.

    Leaf i is the event at position i + 1. There is no `append` here on purpose: the
    tree grows inside each `EventStore` append, bulk load and import, in the same
    transaction as the events, so it can never disagree with them. Every read costs
    O(log n) stored nodes. A size past the head raises `InvalidInput`.
    """

    def tree_size(self) -> int:
        """How many leaves the tree has (the head position)."""
        ...

    def root(self, size: int) -> bytes:
        """MTH(D[0:size]): the root hash of the tree of the first `size` events."""
        ...

    def inclusion_path(self, index: int, size: int) -> list[bytes]:
        """RFC 9162 PATH(index, D[0:size]): sibling hashes from the leaf's up to the root's."""
        ...

    def consistency_path(self, old_size: int, new_size: int) -> list[bytes]:
        """RFC 9162 PROOF(old_size, D[0:new_size]) (empty when old_size is 0 or equal)."""
        ...

    def nodes(self, ids: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored hashes of the full subtrees `ids` ((level, index); level 0 is the leaf
        hash of the event at position index + 1); ids not stored are left out."""
        ...

    def top_indexes(self) -> dict[int, int]:
        """For each level >= 1 that holds stored nodes, the highest index stored there.

        What the stored tree, not the events, says its size is: `verify --anchor`
        compares it with the head (`store.proofs.anchor`). O(log n) reads.
        """
        ...

    def keep_checkpoint(self, checkpoint: KeptCheckpoint) -> None:
        """Keep an issued checkpoint (append-only)."""
        ...

    def checkpoints(self, *, last: int | None = None) -> list[KeptCheckpoint]:
        """The checkpoints issued so far (only the `last` N when given), oldest first."""
        ...
