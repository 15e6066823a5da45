"""The inspector's checkpoint line: is this event in the last checkpoint issued?

Textual-free: the inspector's worker calls `checkpoint_status` beside the chain check.
It verifies an RFC 9162 inclusion proof of the event against the root written in the
latest kept checkpoint's text (what was signed), in O(log n) reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import orjson

from domain.envelope import RecordedEvent
from domain.errors import DomainError, InvalidInput
from domain.ports import ProofStore
from domain.text import escape
from store.proofs import bundles
from store.proofs.keys import load_signing_key
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


def save_proof_bundle(session: Session, position: int, folder: Path) -> Path:
    """Write the inclusion proof of the event at `position` as a JSON bundle in `folder`.

    It proves against the latest kept checkpoint when that covers the event, else
    against a new one of the head (signed with `$EVENTSCOPE_SIGNING_KEY_FILE` when set,
    kept in the store unless read-only). Never overwrites: `proof-<position>.json`, then
    `proof-<position>-2.json`, … Blocking: call it from a worker. Raises DomainError
    with a message fit for a notice.
    """
    workspace = session.workspace
    head = workspace.store.head().position
    if not 1 <= position <= head:
        raise InvalidInput("move the cursor onto an event first (position 1 or later)")
    kept = workspace.proofs.checkpoints(last=1)
    if kept and kept[-1].size >= position:
        checkpoint = kept[-1]
    else:
        checkpoint = bundles.issue_checkpoint(
            workspace.proofs,
            head,
            origin=bundles.default_origin(workspace.name),
            signer=load_signing_key(None),
            issued_at=workspace.clock.now(),
            keep=not workspace.read_only,
        )
    event = workspace.store.read_all(after=position - 1, to=position)[0]
    path = workspace.proofs.inclusion_path(position - 1, checkpoint.size)
    bundle = bundles.inclusion_bundle(event, workspace.store.hash_mode, path, checkpoint)
    text = orjson.dumps(bundle, option=orjson.OPT_INDENT_2).decode() + "\n"
    for n in range(1, 1000):
        target = folder / (f"proof-{position}.json" if n == 1 else f"proof-{position}-{n}.json")
        try:
            with open(target, "x", encoding="utf-8") as out:
                out.write(text)
        except FileExistsError:
            continue
        except OSError as exc:
            raise InvalidInput(f"cannot write {target}: {exc.strerror}") from None
        return target
    raise InvalidInput(f"{folder} already holds 999 proofs of #{position}")


def latest_checkpoint_status(session: Session) -> CheckpointStatus | None:
    """The header's checkpoint part: does the store still extend its latest checkpoint?

    O(log n): a consistency proof from the checkpoint to the head, and the stored event
    at the checkpoint's size under its root. None when no checkpoint was issued.
    Blocking: the background check calls it after the chain walk.
    """
    workspace = session.workspace
    try:
        kept = workspace.proofs.checkpoints(last=1)
        if not kept:
            return None
        checkpoint = parse_checkpoint(kept[-1].text)
        head = workspace.store.head()
        stored = (
            workspace.store.read_all(after=checkpoint.size - 1, to=checkpoint.size)
            if 0 < checkpoint.size <= head.position
            else []
        )
        report = bundles.check_checkpoint(
            workspace.proofs, checkpoint, head, stored[0] if stored else None
        )
    except (DomainError, MalformedProof) as exc:
        return CheckpointStatus(False, f"checkpoint ✗ {escape(str(exc))}")
    if report.ok:
        return CheckpointStatus(True, f"checkpoint {checkpoint.size:,} ✓")
    return CheckpointStatus(False, f"checkpoint {checkpoint.size:,} ✗")
