"""`verify --anchor CHECKPOINT` in O(log n): a kept checkpoint against the store, with
no walk of the events (docs/proofs.md, "What the fast anchor check proves").

Four parts, each a few stored-node or event reads:

1. the checkpoint's signature, when a verifier key is given or known;
2. the tree is tied to the events: the stored nodes end exactly where a tree of `head`
   leaves ends (no node past the head, none missing), every node on the tree's right
   edge hashes from the two below it down to the last events' leaves, the last leaf is
   the head event's, and the head event's hash recomputes from its fields and links to
   the event before it;
3. the consistency proof from the checkpoint's size to the head, checked against the
   checkpoint's root, and the stored event at the checkpoint's size under that root
   (`bundles.check_checkpoint`);
4. the same consistency check for the newest checkpoint the store itself issued.

It does not re-hash every event: an event changed in place, whose hash no longer
matches, is found by the full `verify` (the chain walk), not here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from domain.envelope import GENESIS_HASH, Head
from domain.ports import EventStore, ProofStore
from store.proofs.bundles import check_checkpoint
from store.proofs.tree import NodeId
from store.proofs.verifier import (
    Checkpoint,
    MalformedProof,
    ProofFailed,
    VerifierKey,
    leaf_hash,
    node_hash,
    parse_checkpoint,
    verify_note,
)

SCOPE_LINE = (
    "fast check: O(log n) reads, the events were not re-hashed one by one; "
    "`eventscope verify` without --anchor walks the whole chain"
)
"""The last line of a fast anchor check: what it did not do."""


def expected_tops(size: int) -> dict[int, int]:
    """For a tree of `size` leaves, the last full subtree's index at each level >= 1."""
    return {level: (size >> level) - 1 for level in range(1, size.bit_length()) if size >> level}


def _shape_problem(size: int, tops: dict[int, int]) -> str:
    expected = expected_tops(size)
    for level in sorted(set(tops) | set(expected)):
        stored, wanted = tops.get(level, -1), expected.get(level, -1)
        if stored > wanted:
            return (
                f"the Merkle tree holds nodes past the head (position {size}): level {level} "
                f"reaches node {stored}, a tree of {size} events ends at {wanted}; "
                "events were removed from the tail"
            )
        if stored < wanted:
            return (
                f"the Merkle tree ends before the head (position {size}): level {level} "
                f"stops at node {stored}, a tree of {size} events reaches {wanted}; "
                "the tree was not built over every event"
            )
    return ""


def _edge_problem(proofs: ProofStore, head: Head) -> str:
    """Every right-edge node hashes from its children, and the last leaf is the head's."""
    size = head.position
    edge = expected_tops(size)
    wanted: set[NodeId] = {(0, size - 1)}
    for level, index in edge.items():
        wanted |= {(level, index), (level - 1, 2 * index), (level - 1, 2 * index + 1)}
    found = proofs.nodes(sorted(wanted))
    missing = sorted(wanted - set(found))
    if missing:
        level, index = missing[0]
        return f"the Merkle tree lacks node (level {level}, index {index}) below the head"
    if found[(0, size - 1)] != leaf_hash(head.hash):
        return f"the tree's last leaf is not the head event's (position {size})"
    for level, index in sorted(edge.items()):
        below = node_hash(found[(level - 1, 2 * index)], found[(level - 1, 2 * index + 1)])
        if found[(level, index)] != below:
            first, last = index << level, ((index + 1) << level) - 1
            return (
                f"the Merkle tree's node (level {level}, index {index}) does not hash from "
                f"the nodes below it: events {first + 1}..{last + 1} or the tree were changed"
            )
    return ""


def _head_problem(events: EventStore, head: Head) -> str:
    """The head event's hash recomputes from its fields and links to the one before."""
    size = head.position
    last_two = events.read_all(after=max(0, size - 2), to=size)
    if not last_two or last_two[-1].position != size or last_two[-1].hash != head.hash:
        return f"the head event (position {size}) cannot be read back"
    event = last_two[-1]
    if not events.verify_event(event):
        return f"the head event's hash (position {size}) does not match its contents"
    before = last_two[0].hash if len(last_two) == 2 else GENESIS_HASH
    if size > 1 and len(last_two) != 2:
        return f"position {size - 1}, before the head, is missing"
    if event.prev_hash != before:
        return f"the head event (position {size}) does not link to the event before it"
    return ""


def tree_tie_problem(proofs: ProofStore, events: EventStore, head: Head) -> str:
    """Why the stored tree is not the tree of the stored events up to `head`, or ""."""
    if head.position == 0:
        return _shape_problem(0, proofs.top_indexes())
    return (
        _shape_problem(head.position, proofs.top_indexes())
        or _edge_problem(proofs, head)
        or _head_problem(events, head)
    )


@dataclass(frozen=True)
class FastAnchorReport:
    """The outcome of `verify --anchor CHECKPOINT`: one line per part, the first problem."""

    ok: bool
    size: int
    head: int
    problem: str = ""
    lines: list[str] = field(default_factory=list)
    signature: str = "not checked"

    def to_json_dict(self) -> dict[str, Any]:
        """The report as JSON (`verify --anchor --json`'s "anchor")."""
        return {
            "ok": self.ok,
            "size": self.size,
            "head": self.head,
            "problem": self.problem,
            "signature": self.signature,
            "walked": False,
        }


def _signature(checkpoint: Checkpoint, key: VerifierKey | None) -> tuple[str, str]:
    """(state, problem): the checkpoint's signature by `key`."""
    if key is None:
        return "not checked", ""
    try:
        if checkpoint.note is None:
            raise ProofFailed("the checkpoint is not a signed note")
        verify_note(checkpoint.note, key)
    except ProofFailed as exc:
        return "failed", f"signature check failed: {exc}"
    return f"ok ({key.name})", ""


def _failed(checkpoint: Checkpoint, head: Head, problem: str, signature: str) -> FastAnchorReport:
    line = f"checkpoint check failed: {problem}"
    return FastAnchorReport(False, checkpoint.size, head.position, problem, [line], signature)


def check_anchor_fast(
    proofs: ProofStore, events: EventStore, checkpoint: Checkpoint, key: VerifierKey | None
) -> FastAnchorReport:
    """Check a kept checkpoint against the store in O(log n) (the module doc's parts)."""
    head = events.head()
    signature, problem = _signature(checkpoint, key)
    if problem:
        return _failed(checkpoint, head, problem, signature)
    problem = tree_tie_problem(proofs, events, head)
    if problem:
        return _failed(checkpoint, head, problem, signature)
    own = proofs.checkpoints(last=1)
    for name, kept in [("the checkpoint", checkpoint), *_own(own)]:
        at_size = (
            events.read_all(after=kept.size - 1, to=kept.size)
            if 0 < kept.size <= head.position
            else []
        )
        report = check_checkpoint(proofs, kept, head, at_size[0] if at_size else None)
        if not report.ok:
            where = "" if name == "the checkpoint" else "the store's own newest checkpoint: "
            return _failed(checkpoint, head, where + report.problem, signature)
    lines = [
        f"checkpoint ok: the store (head {head.position}) extends the checkpoint of size "
        f"{checkpoint.size} (consistency proof); signature {signature}",
        f"tree ok: {head.position} leaves, none past the head; its right edge hashes up from "
        "the last events; the head event's hash recomputes and links to the one before"
        + (f"; the store's newest checkpoint (size {own[0].size}) is extended too" if own else ""),
        SCOPE_LINE,
    ]
    return FastAnchorReport(True, checkpoint.size, head.position, "", lines, signature)


def _own(kept: list[Any]) -> list[tuple[str, Checkpoint]]:
    """The store's newest issued checkpoint as a parsed one (none when it has none)."""
    out: list[tuple[str, Checkpoint]] = []
    for item in kept:
        try:
            out.append(("own", parse_checkpoint(item.text)))
        except MalformedProof:
            out.append(("own", Checkpoint("", item.size, item.root)))
    return out
