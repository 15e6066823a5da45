"""The Merkle tree over the events, stored as its full subtrees (RFC 9162 §2.1).

A tree of n leaves is kept as the hashes of its *full* subtrees: node (level, index)
covers leaves [index·2^level, (index+1)·2^level) and exists once all of them do, so
it never changes afterwards (append-only). Level 0 is not stored: leaf i's hash is
SHA-256(0x00 ‖ chain hash of position i+1), read from the event itself.

Every subtree an RFC 9162 proof needs is either a full subtree or the right edge of
a tree, whose hash folds at most log2(n) full subtrees. So a root, an inclusion path
or a consistency path costs O(log n) node reads, whatever the store. The storage
specifics are one function, `fetch(node ids) -> hashes`, that each store supplies.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

from domain.errors import InvalidInput
from store.proofs.verifier import EMPTY_ROOT, leaf_hash, node_hash

NodeId = tuple[int, int]
"""(level, index): the full subtree of 2**level leaves starting at leaf index·2**level."""

Fetch = Callable[[Sequence[NodeId]], dict[NodeId, bytes]]
"""Reads stored node hashes (level 0: the leaf hashes) for the ids asked."""

Range = tuple[int, int]
"""Leaves [start, end) of a subtree an RFC 9162 proof names."""


def blocks(start: int, end: int) -> list[NodeId]:
    """The full subtrees that make up leaves [start, end), left to right.

    `start` is aligned on a power of two at least `end - start` (true of every range a
    proof names), so each block is a stored full subtree.
    """
    ids: list[NodeId] = []
    width = end - start
    position = start
    for level in range(width.bit_length() - 1, -1, -1):
        if width >> level & 1:
            ids.append((level, position >> level))
            position += 1 << level
    return ids


def fold(hashes: Sequence[bytes]) -> bytes:
    """MTH of a range from its blocks' hashes: the right-most pair first."""
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def _split(width: int) -> int:
    """The largest power of two smaller than `width` (> 1)."""
    return 1 << ((width - 1).bit_length() - 1)


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]) as the ranges whose hashes it lists."""
    out: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            start += k
    out.reverse()
    return out


def consistency_ranges(old: int, new: int) -> list[Range]:
    """RFC 9162 §2.1.4.1 PROOF(old, D[0:new]) as the ranges whose hashes it lists."""
    if old == 0 or old >= new:
        return []
    out: list[Range] = []
    m, start, end, whole = old, 0, new, True
    while True:
        if m == end - start:
            if not whole:
                out.append((start, end))
            break
        k = _split(end - start)
        if m <= k:
            out.append((start + k, end))
            end = start + k
        else:
            out.append((start, start + k))
            m -= k
            start += k
            whole = False
    out.reverse()
    return out


def range_hashes(ranges: Sequence[Range], fetch: Fetch) -> list[bytes]:
    """The MTH of each range, with one `fetch` of all the full subtrees they need."""
    plans = [blocks(start, end) for start, end in ranges]
    wanted = sorted({node for plan in plans for node in plan})
    found = fetch(wanted) if wanted else {}
    missing = [node for node in wanted if node not in found]
    if missing:
        level, index = missing[0]
        raise LookupError(f"the Merkle tree lacks node (level {level}, index {index})")
    return [fold([found[node] for node in plan]) for plan in plans]


def root(size: int, fetch: Fetch) -> bytes:
    """MTH(D[0:size])."""
    if size == 0:
        return EMPTY_ROOT
    return range_hashes([(0, size)], fetch)[0]


def check_size(size: int, head: int) -> None:
    """Refuse a tree size below 0 or past the head."""
    if size < 0:
        raise InvalidInput(f"a tree size is >= 0, not {size}")
    if size > head:
        raise InvalidInput(f"tree size {size} is beyond the head ({head} events)")


def root_at(size: int, head: int, fetch: Fetch) -> bytes:
    """MTH(D[0:size]) of a tree whose head is `head`."""
    check_size(size, head)
    return root(size, fetch)


def inclusion_path(index: int, size: int, head: int, fetch: Fetch) -> list[bytes]:
    """PATH(index, D[0:size]); InvalidInput for an index or size out of range."""
    check_size(size, head)
    if not 0 <= index < size:
        raise InvalidInput(f"position {index + 1} is not in the tree of size {size}")
    return range_hashes(inclusion_ranges(index, size), fetch)


def consistency_path(old: int, new: int, head: int, fetch: Fetch) -> list[bytes]:
    """PROOF(old, D[0:new]); InvalidInput when old > new or new is past the head."""
    check_size(new, head)
    if not 0 <= old <= new:
        raise InvalidInput(f"a tree of size {new} cannot extend one of size {old}")
    return range_hashes(consistency_ranges(old, new), fetch)


class TreeExtender:
    """Adds leaves to a stored tree: returns the new full subtrees (level >= 1) to store.

    `lookup(level, index)` reads a stored node (level 0: the leaf hash), asked only
    for the left siblings the new leaves complete: about one read per append.
    """

    def __init__(self, size: int, lookup: Callable[[int, int], bytes]) -> None:
        self.size = size
        self.lookup = lookup
        """Where stored nodes are read (a load's later batches give their own)."""
        self._right: dict[int, bytes] = {}
        """The full subtrees on the right edge seen or made so far, by level."""

    def _sibling(self, level: int, index: int) -> bytes:
        known = self._right.pop(level, None)
        return known if known is not None else self.lookup(level, index)

    def add(self, chain_hashes: Iterable[str]) -> list[tuple[int, int, bytes]]:
        """Append leaves for these hex chain hashes; the new (level, index, hash) nodes."""
        nodes: list[tuple[int, int, bytes]] = []
        right = self._right
        sha256, from_hex = hashlib.sha256, bytes.fromhex
        for chain_hash in chain_hashes:
            index = self.size
            # leaf_hash and node_hash inlined: this loop runs once per bulk-loaded event.
            digest = sha256(b"\x00" + from_hex(chain_hash)).digest()
            level = 0
            while index & 1:
                digest = sha256(b"\x01" + self._sibling(level, index - 1) + digest).digest()
                level += 1
                index >>= 1
                nodes.append((level, index, digest))
            right[level] = digest
            self.size += 1
        return nodes


def leaf_hashes(chain_hashes: Iterable[str]) -> list[bytes]:
    """Leaf hashes of hex chain hashes (the tree's level 0)."""
    return [leaf_hash(h) for h in chain_hashes]
