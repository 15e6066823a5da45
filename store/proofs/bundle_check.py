"""Checking eventscope's proof bundles offline: inclusion, consistency, tlog-proof text.

Vendorable with `verifier.py` beside it (standard library and `cryptography` only): the
bundle formats are in docs/proofs.md; the hashing, tree and note checks are in
`verifier.py`.
"""

from __future__ import annotations

import hmac
import json
import re
from dataclasses import dataclass, field
from typing import Any

from store.proofs.verifier import (
    _GENESIS_HASH,
    _HEX64,
    CONSISTENCY_FORMAT,
    INCLUSION_FORMAT,
    TLOG_PROOF_HEADER,
    Checkpoint,
    MalformedProof,
    ProofFailed,
    VerifierKey,
    _b64,
    _check_event_shape,
    _check_path,
    event_chain_hash,
    leaf_hash,
    parse_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_note,
)

# -- bundles -------------------------------------------------------------------------------


@dataclass
class ProofReport:
    """What a bundle proved: one line per fact, for a person."""

    kind: str
    lines: list[str] = field(default_factory=list)


def _hash_list(value: Any, what: str) -> list[bytes]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise MalformedProof(f"{what} must be a list of hex strings")
    if not all(_HEX64.fullmatch(v) for v in value):
        raise MalformedProof(f"every hash in {what} is 64 lowercase hex digits")
    return [bytes.fromhex(v) for v in value]


def _int(bundle: dict[str, Any], name: str) -> int:
    value = bundle.get(name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedProof(f"the bundle's {name} must be a whole number >= 0")
    return value


def _checkpoint(value: Any, what: str, key: VerifierKey | None, report: ProofReport) -> Checkpoint:
    if not isinstance(value, str):
        raise MalformedProof(f"the bundle's {what} must be the checkpoint text")
    checkpoint = parse_checkpoint(value)
    if key is not None:
        assert checkpoint.note is not None
        try:
            verify_note(checkpoint.note, key)
        except ProofFailed as exc:
            raise ProofFailed(f"{what}: {exc}") from None
        report.lines.append(f"{what}: signature by {key.name} ok")
    else:
        report.lines.append(f"{what}: signature not checked (no verifier key given)")
    return checkpoint


def check_bundle(
    text: str, key: VerifierKey | None = None, chain_key: bytes | None = None
) -> ProofReport:
    """Verify a bundle from `eventscope prove` (JSON inclusion or consistency, or the
    C2SP tlog-proof text form). Raises MalformedProof or ProofFailed; returns the report.

    `key` checks the checkpoints' signatures; `chain_key` is the HMAC key of a keyed
    chain (without it an HMAC event hash cannot be recomputed, and the report says so).
    """
    if text.startswith(TLOG_PROOF_HEADER + "\n"):
        bundle = _from_tlog_proof(text)
    else:
        try:
            bundle = json.loads(text)
        except ValueError:
            raise MalformedProof("the bundle is neither JSON nor a c2sp.org/tlog-proof") from None
    if not isinstance(bundle, dict):
        raise MalformedProof("the bundle must be a JSON object")
    kind = bundle.get("format")
    if kind == INCLUSION_FORMAT:
        return _check_inclusion(bundle, key, chain_key)
    if kind == CONSISTENCY_FORMAT:
        return _check_consistency(bundle, key)
    raise MalformedProof(f"unknown bundle format {kind!r}")


def _check_inclusion(
    bundle: dict[str, Any], key: VerifierKey | None, chain_key: bytes | None
) -> ProofReport:
    report = ProofReport("inclusion")
    position = _int(bundle, "position")
    index = _int(bundle, "leaf_index")
    size = _int(bundle, "tree_size")
    path = _hash_list(bundle.get("inclusion_path"), "inclusion_path")
    event = bundle.get("event")
    _check_event_shape(event)
    assert isinstance(event, dict)
    stated_leaf = bundle.get("leaf_hash")
    if not isinstance(stated_leaf, str) or not _HEX64.fullmatch(stated_leaf):
        raise MalformedProof("the bundle's leaf_hash must be 64 lowercase hex digits")
    checkpoint = _checkpoint(bundle.get("checkpoint"), "checkpoint", key, report)
    if event["position"] != position or index != position - 1:
        raise ProofFailed(
            f"the event is at position {event['position']}, the bundle says position "
            f"{position} and leaf index {index} (leaf index = position - 1)"
        )
    if checkpoint.size != size:
        raise ProofFailed(f"the checkpoint is of size {checkpoint.size}, the bundle says {size}")
    mode = bundle.get("hash_mode", "sha256")
    if mode == "sha256" or chain_key is not None:
        computed = event_chain_hash(event, chain_key)
        if not hmac.compare_digest(computed, event["hash"]):
            why = "it was changed" if chain_key is None else "it was changed, or the key is wrong"
            raise ProofFailed(
                f"the event's fields hash to {computed}, not to its recorded hash: {why}"
            )
        report.lines.append(f"event {position}: fields hash to its recorded hash ({mode})")
    else:
        report.lines.append(
            f"event {position}: hash not recomputed ({mode} chain; give its key to check)"
        )
    if position == 1 and event["prev_hash"] != _GENESIS_HASH:
        raise ProofFailed("the event at position 1 must link to the genesis hash")
    leaf = leaf_hash(event["hash"])
    if leaf.hex() != stated_leaf:
        raise ProofFailed("the bundle's leaf_hash is not SHA-256(0x00 ‖ the event's hash)")
    verify_inclusion(leaf, index, size, path, checkpoint.root)
    report.lines.append(
        f"inclusion ok: position {position} is leaf {index} of the tree of size {size} "
        f"(origin {checkpoint.origin})"
    )
    return report


def _check_consistency(bundle: dict[str, Any], key: VerifierKey | None) -> ProofReport:
    report = ProofReport("consistency")
    path = _hash_list(bundle.get("consistency_path"), "consistency_path")
    old = _checkpoint(bundle.get("old_checkpoint"), "old checkpoint", key, report)
    new = _checkpoint(bundle.get("new_checkpoint"), "new checkpoint", key, report)
    if old.origin != new.origin:
        raise ProofFailed(f"the checkpoints are of two logs ({old.origin!r}, {new.origin!r})")
    verify_consistency(old.size, new.size, old.root, new.root, path)
    report.lines.append(
        f"consistency ok: the tree of size {new.size} extends the tree of size {old.size} "
        f"(origin {old.origin})"
    )
    return report


def _from_tlog_proof(text: str) -> dict[str, Any]:
    """A c2sp.org/tlog-proof@v1 as a JSON bundle; its extra line is base64 of the JSON
    object {"hash_mode": ..., "event": <the event as export writes it>}."""
    head, sep, checkpoint = text.partition("\n\n")
    if not sep:
        raise MalformedProof("a tlog-proof has its checkpoint after an empty line")
    lines = head.split("\n")[1:]
    if not lines or not lines[0].startswith("extra "):
        raise MalformedProof("an eventscope tlog-proof carries the event as its extra line")
    try:
        extra = json.loads(_b64(lines[0][6:], "the extra line"))
    except ValueError:
        raise MalformedProof("the extra line is not JSON") from None
    if not isinstance(extra, dict) or not isinstance(extra.get("hash_mode"), str):
        raise MalformedProof('the extra line is {"hash_mode": ..., "event": ...}')
    event = extra.get("event")
    if len(lines) < 2 or not re.fullmatch(r"index (0|[1-9][0-9]*)", lines[1]):
        raise MalformedProof("a tlog-proof names its leaf as 'index N'")
    index = int(lines[1][6:])
    path = [_b64(line, "an inclusion path line") for line in lines[2:]]
    _check_path(path)
    if not isinstance(event, dict):
        raise MalformedProof("the extra line is not an exported event")
    _check_event_shape(event)
    parsed = parse_checkpoint(checkpoint)
    return {
        "format": INCLUSION_FORMAT,
        "position": index + 1,
        "leaf_index": index,
        "tree_size": parsed.size,
        "event": event,
        "hash_mode": extra["hash_mode"],
        "leaf_hash": leaf_hash(event["hash"]).hex(),
        "inclusion_path": [p.hex() for p in path],
        "checkpoint": checkpoint,
    }
