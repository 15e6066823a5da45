"""The inspector's checkpoint line: is this event in the last checkpoint issued?

Textual-free: the inspector's worker calls `checkpoint_status` beside the chain check.
It verifies an RFC 9162 inclusion proof of the event against the root written in the
latest kept checkpoint's text (what was signed), in O(log n) reads.
"""

from __future__ import annotations

from dataclasses import dataclass

from domain.envelope import RecordedEvent
from domain.errors import DomainError
from domain.ports import ProofStore
from domain.text import escape
from store.proofs.verifier import (
    MalformedProof,
    ProofFailed,
    leaf_hash,
    parse_checkpoint,
    verify_inclusion,
)
from tui.services.types import HashStatus
from tui.session import Session


@dataclass(frozen=True)
class CheckpointStatus:
    """One line for the inspector; `ok` None when there is nothing to check yet."""

    ok: bool | None
    text: str


def checkpoint_status(proofs: ProofStore, event: RecordedEvent) -> CheckpointStatus | None:
    """The event against the latest kept checkpoint (None when none was issued)."""
    try:
        kept = proofs.checkpoints(last=1)
    except DomainError:
        return None
    if not kept:
        return None
    latest = kept[-1]
    if latest.size < event.position:
        return CheckpointStatus(None, f"after the last checkpoint (size {latest.size})")
    index = event.position - 1
    try:
        root = parse_checkpoint(latest.text).root
        path = proofs.inclusion_path(index, latest.size)
        verify_inclusion(leaf_hash(event.hash), index, latest.size, path, root)
    except (ProofFailed, MalformedProof, DomainError) as exc:
        return CheckpointStatus(
            False, f"✗ not in checkpoint size {latest.size}: {escape(str(exc))}"
        )
    return CheckpointStatus(True, f"✓ in checkpoint size {latest.size}")


@dataclass(frozen=True)
class CheckedHashStatus(HashStatus):
    """A chain status with the event's place in the latest checkpoint."""

    checkpoint: CheckpointStatus | None = None


def hash_status_with_checkpoint(session: Session, event: RecordedEvent) -> HashStatus:
    """`session.hash_status(event)`, plus the checkpoint line when a checkpoint was issued.

    Blocking: the inspector calls it from its worker.
    """
    status = session.hash_status(event)
    found = checkpoint_status(session.workspace.proofs, event)
    if found is None:
        return status
    return CheckedHashStatus(
        status.linked, status.verified, status.detail, status.clock_skew, checkpoint=found
    )
