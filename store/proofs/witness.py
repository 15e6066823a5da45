"""A witness, offline (C2SP tlog-witness's rule): cosign a checkpoint only if it extends
the last one this witness cosigned for the same log.

The witness keeps, per log origin, the last checkpoint it cosigned in a state folder.
Given a newer checkpoint and a consistency proof from that one (`eventscope prove
--consistency`), it checks the log's signature, the proof, and that nothing was
rewritten, then cosigns and moves its state on. A log that shows two parties two
different histories cannot get both cosigned by the same witness: the second one is not
an extension of what the witness saw first.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from domain.errors import IntegrityError, InvalidInput
from store.proofs.cosignature import (
    add_signature_line,
    cosignature_line,
    cosigner_key,
    signed_message,
)
from store.proofs.keys import SigningKey
from store.proofs.verifier import (
    CONSISTENCY_FORMAT,
    Checkpoint,
    MalformedProof,
    ProofFailed,
    VerifierKey,
    parse_checkpoint,
    verify_consistency,
    verify_note,
)


@dataclass(frozen=True)
class Cosigned:
    """What `cosign` did: the cosigned checkpoint text and the size it moved from."""

    text: str
    old_size: int
    size: int


def _state_file(state: Path, origin: str) -> Path:
    return state / (hashlib.sha256(origin.encode()).hexdigest()[:32] + ".checkpoint")


def _read_request(text: str) -> tuple[Checkpoint, str, Checkpoint | None, list[bytes]]:
    """(new checkpoint, its text, the old one the proof starts from, the proof path)."""
    if text.lstrip().startswith("{"):
        try:
            bundle = json.loads(text)
        except ValueError:
            raise InvalidInput("the request is not valid JSON") from None
        if not isinstance(bundle, dict) or bundle.get("format") != CONSISTENCY_FORMAT:
            raise InvalidInput("give a consistency bundle from `prove --consistency`")
        try:
            new_text = str(bundle["new_checkpoint"])
            old = parse_checkpoint(str(bundle["old_checkpoint"]))
            path = [bytes.fromhex(str(h)) for h in bundle["consistency_path"]]
            return parse_checkpoint(new_text), new_text, old, path
        except (KeyError, TypeError, ValueError, MalformedProof) as exc:
            raise InvalidInput(f"the consistency bundle is malformed: {exc}") from None
    try:
        return parse_checkpoint(text), text, None, []
    except MalformedProof as exc:
        raise InvalidInput(f"the request is not a checkpoint: {exc}") from None


def cosign(
    request: str,
    *,
    witness: SigningKey,
    log_key: VerifierKey,
    state: Path,
    now: int | None = None,
) -> Cosigned:
    """Cosign the checkpoint in `request` if it extends this witness's last one.

    `request` is a checkpoint (accepted as is only when the witness has none for that
    log yet, or the same one) or a consistency bundle. Raises InvalidInput for a
    malformed request and IntegrityError when the log's history does not extend what
    the witness saw (a fork, a rewrite or a rollback); the state then stays as it was.
    """
    new, new_text, old_in_proof, path = _read_request(request)
    assert new.note is not None  # parse_checkpoint keeps the note it read
    try:
        verify_note(new.note, log_key)
    except ProofFailed:
        raise IntegrityError(
            f"the checkpoint of {new.origin} is not signed by the log key {log_key.name}"
        ) from None
    state_file = _state_file(state, new.origin)
    seen = parse_checkpoint(state_file.read_text()) if state_file.exists() else None
    if seen is not None:
        if new.size < seen.size:
            raise IntegrityError(
                f"{new.origin} went back from {seen.size} to {new.size} events: refused"
            )
        if new.size == seen.size:
            if new.root != seen.root:
                raise IntegrityError(
                    f"{new.origin} shows a different tree of {new.size} events than the one "
                    "this witness cosigned: a fork, refused"
                )
        else:
            if old_in_proof is None or (old_in_proof.size, old_in_proof.root) != (
                seen.size,
                seen.root,
            ):
                raise IntegrityError(
                    f"this witness last cosigned {seen.size} events of {new.origin}: give a "
                    f"consistency bundle from that checkpoint (eventscope prove --consistency)"
                )
            try:
                verify_consistency(seen.size, new.size, seen.root, new.root, path)
            except (ProofFailed, MalformedProof) as exc:
                raise IntegrityError(
                    f"{new.origin} at {new.size} events does not extend the {seen.size} this "
                    f"witness cosigned: {exc}"
                ) from None
    timestamp = int(time.time()) if now is None else now
    signature = witness.private.sign(signed_message(new.body, timestamp))
    key = cosigner_key(witness.name, witness.public_bytes)
    cosigned = add_signature_line(
        new_text, cosignature_line(witness.name, key.key_id, timestamp, signature)
    )
    state.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=state, prefix=".cosign-")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(new.body)
    os.replace(tmp, state_file)
    return Cosigned(cosigned, 0 if seen is None else seen.size, new.size)
