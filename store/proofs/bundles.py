"""Issuing checkpoints and writing proof bundles (what `eventscope prove` hands out),
and checking a kept checkpoint against the store (`verify --anchor CHECKPOINT`).

The formats are in docs/proofs.md; `store.proofs.verifier` reads them back.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any

from domain.envelope import Head, RecordedEvent
from domain.errors import InvalidInput
from domain.ports import KeptCheckpoint, ProofStore
from store.proofs.keys import SigningKey
from store.proofs.verifier import (
    CONSISTENCY_FORMAT,
    INCLUSION_FORMAT,
    TLOG_PROOF_HEADER,
    Checkpoint,
    MalformedProof,
    ProofFailed,
    leaf_hash,
    parse_checkpoint,
    verify_consistency,
    verify_inclusion,
)


def default_origin(db_name: str) -> str:
    """`eventscope/<database file name>`, spaces and '+' replaced so it is a key name too."""
    safe = "".join("_" if ch.isspace() or ch == "+" else ch for ch in db_name)
    return f"eventscope/{safe}"


def read_checkpoint(text: str, source: str) -> Checkpoint:
    """Parse a checkpoint file's text; InvalidInput (exit 2) naming the file when malformed."""
    try:
        return parse_checkpoint(text)
    except MalformedProof as exc:
        raise InvalidInput(f"{source} is not a checkpoint: {exc}") from None


def issue_checkpoint(
    proofs: ProofStore,
    size: int,
    *,
    origin: str,
    signer: SigningKey | None,
    issued_at: str,
    keep: bool = True,
) -> KeptCheckpoint:
    """The checkpoint of the first `size` events, signed with `signer` when given, and
    kept in the store when `keep`."""
    if not origin or any(ord(ch) < 0x20 for ch in origin) or "\n" in origin:
        raise InvalidInput("--origin must be one non-empty line without control characters")
    root = proofs.root(size)
    body = Checkpoint(origin, size, root).body
    text = signer.sign(body) if signer is not None else body
    checkpoint = KeptCheckpoint(size, root, text, issued_at)
    if keep:
        # Ed25519 signs deterministically: the same tree, origin and key give the same
        # text, so a repeated `prove` or `checkpoint` reuses the kept one (no growth).
        latest = proofs.checkpoints(last=1)
        if latest and latest[0].text == text:
            return latest[0]
        proofs.keep_checkpoint(checkpoint)
    return checkpoint


def inclusion_bundle(
    event: RecordedEvent, hash_mode: str, path: list[bytes], checkpoint: KeptCheckpoint
) -> dict[str, Any]:
    """The JSON inclusion bundle of `event` in the tree `checkpoint` names."""
    return {
        "format": INCLUSION_FORMAT,
        "position": event.position,
        "leaf_index": event.position - 1,
        "tree_size": checkpoint.size,
        "hash_mode": hash_mode,
        "event": event.to_json_dict(),
        "leaf_hash": leaf_hash(event.hash).hex(),
        "inclusion_path": [p.hex() for p in path],
        "checkpoint": checkpoint.text,
    }


def tlog_proof(bundle: dict[str, Any]) -> str:
    """The bundle as a c2sp.org/tlog-proof@v1 text (the event and hash mode as `extra`)."""
    extra = json.dumps(
        {"hash_mode": bundle["hash_mode"], "event": bundle["event"]},
        ensure_ascii=False,
        separators=(",", ":"),
    )
    lines = [
        TLOG_PROOF_HEADER,
        "extra " + base64.b64encode(extra.encode()).decode(),
        f"index {bundle['leaf_index']}",
        *(base64.b64encode(bytes.fromhex(p)).decode() for p in bundle["inclusion_path"]),
    ]
    checkpoint: str = bundle["checkpoint"]
    return "\n".join(lines) + "\n\n" + checkpoint


def consistency_bundle(old_text: str, new: KeptCheckpoint, path: list[bytes]) -> dict[str, Any]:
    """The JSON consistency bundle from a kept checkpoint to a new one."""
    return {
        "format": CONSISTENCY_FORMAT,
        "old_size": parse_checkpoint(old_text).size,
        "new_size": new.size,
        "old_checkpoint": old_text,
        "new_checkpoint": new.text,
        "consistency_path": [p.hex() for p in path],
    }


@dataclass(frozen=True)
class CheckpointAnchorReport:
    """Whether the store still extends a checkpoint kept elsewhere."""

    ok: bool
    size: int
    head: int
    problem: str = ""

    @property
    def message(self) -> str:
        """One line for a person."""
        if self.ok:
            return (
                f"checkpoint ok: the store (head {self.head}) extends the checkpoint of "
                f"size {self.size} (consistency proof)"
            )
        return f"checkpoint check failed: {self.problem}"

    def to_json_dict(self) -> dict[str, Any]:
        """The report as JSON."""
        return {"ok": self.ok, "size": self.size, "head": self.head, "problem": self.problem}


def check_checkpoint(
    proofs: ProofStore, checkpoint: Checkpoint, head: Head, event_at_size: RecordedEvent | None
) -> CheckpointAnchorReport:
    """Check in O(log n) that the store's tree extends `checkpoint`.

    Two proofs: the consistency proof from the checkpoint's tree to the store's tree at
    its head, and the inclusion of the stored event at the checkpoint's size under the
    checkpoint's root (which ties the events themselves, whose chain `verify` walks, to
    the tree the checkpoint signed).
    """
    size = checkpoint.size
    if size > head.position:
        return CheckpointAnchorReport(
            False,
            size,
            head.position,
            f"the store ends at position {head.position} but the checkpoint covers {size} "
            "events: events were removed from the tail",
        )
    try:
        new_root = proofs.root(head.position)
        path = proofs.consistency_path(size, head.position)
        verify_consistency(size, head.position, checkpoint.root, new_root, path)
        if event_at_size is not None:
            index = size - 1
            verify_inclusion(
                leaf_hash(event_at_size.hash),
                index,
                size,
                proofs.inclusion_path(index, size),
                checkpoint.root,
            )
    except ProofFailed as exc:
        return CheckpointAnchorReport(
            False,
            size,
            head.position,
            f"the first {size} events are not those of the checkpoint ({exc}): "
            "history was rewritten (or forked)",
        )
    return CheckpointAnchorReport(True, size, head.position)
