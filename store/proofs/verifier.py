"""Check eventscope proofs offline: one vendorable file (standard library + `cryptography`).

Copy this file next to an audit script and it needs nothing else from eventscope:

- RFC 9162 §2.1 Merkle tree hashing (`leaf_hash`, `node_hash`), inclusion proof
  verification (§2.1.3.2, `verify_inclusion`) and consistency proof verification
  (§2.1.4.2, `verify_consistency`);
- C2SP tlog-checkpoint notes (`parse_checkpoint`) and C2SP signed-note Ed25519
  signatures (`parse_verifier_key`, `verify_note`);
- an event's chain hash recomputed from its exported fields (`event_chain_hash`),
  byte for byte as eventscope's hash chain computes it;
- whole proof bundles as `eventscope prove` writes them (`check_bundle`).

Leaves are events: leaf index = position - 1, leaf hash = SHA-256(0x00 ‖ the event's
32-byte chain hash), node hash = SHA-256(0x01 ‖ left ‖ right). The format of every
byte is in docs/proofs.md.

Errors: `MalformedProof` when the input cannot be read as what it claims to be (exit
code 2 in the CLI), `ProofFailed` when it can but does not verify (exit code 1).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

__all__ = [
    "EMPTY_ROOT",
    "Checkpoint",
    "MalformedProof",
    "ProofFailed",
    "SignedNote",
    "VerifierKey",
    "canonical_json",
    "canonical_row",
    "event_chain_hash",
    "key_id",
    "leaf_hash",
    "node_hash",
    "parse_checkpoint",
    "parse_note",
    "parse_verifier_key",
    "root_from_leaves",
    "verify_consistency",
    "verify_inclusion",
    "verify_note",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()
"""RFC 9162: the hash of an empty tree is the hash of the empty string."""

INCLUSION_FORMAT = "eventscope/inclusion-proof@v1"
CONSISTENCY_FORMAT = "eventscope/consistency-proof@v1"
TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1"
ED25519 = 0x01
"""The signed-note signature type of Ed25519."""
EM_DASH = "\u2014"
_GENESIS_HASH = "0" * 64
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SIZE = re.compile(r"0|[1-9][0-9]*")
_MAX_PATH = 128
"""No tree of 2**64 leaves needs a longer proof; a longer one is malformed."""


class MalformedProof(ValueError):
    """The input is not a well-formed proof, checkpoint, note or key (exit code 2)."""


class ProofFailed(ValueError):
    """A well-formed proof that does not verify (exit code 1)."""


# -- RFC 9162 §2.1 hashing -----------------------------------------------------------------


def leaf_hash(chain_hash: bytes | str) -> bytes:
    """SHA-256(0x00 ‖ the event's 32-byte chain hash), the hash of one leaf."""
    raw = bytes.fromhex(chain_hash) if isinstance(chain_hash, str) else chain_hash
    if len(raw) != 32:
        raise MalformedProof("a chain hash is 32 bytes (64 hex digits)")
    return hashlib.sha256(b"\x00" + raw).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right), the hash of an interior node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def root_from_leaves(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[0:n]) of leaf hashes, bottom-up (equal to RFC 9162's recursive definition)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        paired = [node_hash(level[i], level[i + 1]) for i in range(0, len(level) - 1, 2)]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
    return level[0]


def _check_path(path: Sequence[bytes]) -> None:
    if len(path) > _MAX_PATH:
        raise MalformedProof(f"a proof path has at most {_MAX_PATH} hashes, not {len(path)}")
    for item in path:
        if len(item) != 32:
            raise MalformedProof("every hash in a proof path is 32 bytes")


def verify_inclusion(
    leaf: bytes, index: int, size: int, path: Sequence[bytes], root: bytes
) -> None:
    """RFC 9162 §2.1.3.2: raise ProofFailed unless `leaf` is at `index` of the tree `root`."""
    _check_path(path)
    if not 0 <= index < size:
        raise ProofFailed(f"leaf index {index} is not inside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ProofFailed("the inclusion path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed("the inclusion path is shorter than the tree is deep")
    if not hmac.compare_digest(r, root):
        raise ProofFailed("the inclusion path does not lead to the checkpoint's root hash")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, path: Sequence[bytes]
) -> None:
    """RFC 9162 §2.1.4.2: raise ProofFailed unless tree `new_root` extends tree `old_root`."""
    _check_path(path)
    if not 0 <= old_size <= new_size:
        raise ProofFailed(f"a tree of size {new_size} cannot extend one of size {old_size}")
    if old_size == 0 or old_size == new_size:
        if path:
            raise ProofFailed("a consistency proof from an empty or equal tree has no hashes")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise ProofFailed("the root hash of an empty tree is SHA-256 of nothing")
        if old_size == new_size and not hmac.compare_digest(old_root, new_root):
            raise ProofFailed("two checkpoints of the same size have different root hashes")
        return
    if not path:
        raise ProofFailed("the consistency path is empty")
    items = list(path)
    if old_size & (old_size - 1) == 0:
        items.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = items[0]
    for c in items[1:]:
        if sn == 0:
            raise ProofFailed("the consistency path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofFailed("the consistency path is shorter than the tree is deep")
    if not hmac.compare_digest(fr, old_root):
        raise ProofFailed("the consistency path does not lead to the old checkpoint's root")
    if not hmac.compare_digest(sr, new_root):
        raise ProofFailed("the consistency path does not lead to the new checkpoint's root")


# -- the chain hash of an exported event ---------------------------------------------------


def _float_text(value: float) -> str:
    """A float as eventscope's JSON encoder (orjson) writes it."""
    if math.isnan(value) or math.isinf(value):
        return "null"
    text = repr(value)
    if 1e-5 <= abs(value) < 1e-4:
        return format(Decimal(text), "f")
    return re.sub(r"e-0(\d)", r"e-\1", text)


def canonical_json(value: Any, *, sort_keys: bool = True) -> str:
    """Compact JSON, keys sorted, UTF-8 kept as is: the text eventscope stores and hashes."""
    if value is None or value is True or value is False:
        return json.dumps(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, int):
        return str(int(value))
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, list | tuple):
        return "[" + ",".join(canonical_json(v, sort_keys=sort_keys) for v in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value) if sort_keys else list(value)
        for key in keys:
            if not isinstance(key, str):
                raise MalformedProof("JSON object keys are strings")
        return (
            "{"
            + ",".join(
                json.dumps(k, ensure_ascii=False) + ":" + canonical_json(value[k]) for k in keys
            )
            + "}"
        )
    raise MalformedProof(f"a {type(value).__name__} is not a JSON value")


def canonical_row(event: dict[str, Any]) -> bytes:
    """The bytes hashed for an event: the JSON array of its ten canonical columns.

    [position, event_id, stream_id, stream_type, version, type, schema_version,
    recorded_at, data_text, metadata_text], where data_text and metadata_text are the
    canonical JSON texts of `data` and `metadata` (so they appear as JSON strings).
    """
    row = [
        event["position"],
        event["event_id"],
        event["stream_id"],
        event["stream_type"],
        event["version"],
        event["type"],
        event["schema_version"],
        event["recorded_at"],
        canonical_json(event["data"]),
        canonical_json(event["metadata"]),
    ]
    return canonical_json(row, sort_keys=False).encode()


def event_chain_hash(event: dict[str, Any], key: bytes | None = None) -> str:
    """The hex chain hash of an exported event: SHA-256(prev_hash ‖ canonical_row), or
    HMAC-SHA-256 with `key` for a keyed chain."""
    _check_event_shape(event)
    message = event["prev_hash"].encode() + canonical_row(event)
    if key is None:
        return hashlib.sha256(message).hexdigest()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


_EVENT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "position": int,
    "event_id": str,
    "stream_id": str,
    "stream_type": str,
    "version": int,
    "type": str,
    "schema_version": int,
    "data": dict,
    "metadata": dict,
    "recorded_at": str,
    "prev_hash": str,
    "hash": str,
}


def _check_event_shape(event: Any) -> None:
    if not isinstance(event, dict):
        raise MalformedProof("the event must be a JSON object")
    for name, kind in _EVENT_FIELDS.items():
        value = event.get(name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise MalformedProof(f"the event's {name} is missing or of the wrong type")
    for name in ("prev_hash", "hash"):
        if not _HEX64.fullmatch(event[name]):
            raise MalformedProof(f"the event's {name} must be 64 lowercase hex digits")


# -- signed notes and checkpoints (C2SP) ---------------------------------------------------


def key_id(name: str, public_key: bytes, kind: int = ED25519) -> bytes:
    """SHA-256(key name ‖ 0x0A ‖ signature type ‖ public key)[:4]."""
    return hashlib.sha256(name.encode() + b"\n" + bytes([kind]) + public_key).digest()[:4]


def _check_key_name(name: str) -> None:
    if not name or any(ch.isspace() for ch in name) or "+" in name:
        raise MalformedProof("a key name must be non-empty, without spaces or '+'")


@dataclass(frozen=True)
class VerifierKey:
    """A C2SP verifier key: `<name>+<8 hex key id>+<base64(0x01 ‖ public key)>`."""

    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([ED25519]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def _b64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise MalformedProof(f"{what} is not valid base64") from None


def parse_verifier_key(text: str) -> VerifierKey:
    """Read a verifier key; raises MalformedProof naming what is wrong."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3:
        raise MalformedProof("a verifier key has the form <name>+<8 hex digits>+<base64 key>")
    name, hex_id, encoded = parts
    _check_key_name(name)
    if not re.fullmatch(r"[0-9a-f]{8}", hex_id):
        raise MalformedProof("a verifier key's key id is 8 lowercase hex digits")
    material = _b64(encoded, "the verifier key")
    if len(material) != 33 or material[0] != ED25519:
        raise MalformedProof("the verifier key is not an Ed25519 key (0x01 ‖ 32 bytes)")
    public = material[1:]
    if key_id(name, public) != bytes.fromhex(hex_id):
        raise MalformedProof("the verifier key's key id does not match its name and key")
    return VerifierKey(name, bytes.fromhex(hex_id), public)


@dataclass(frozen=True)
class Signature:
    """One signature line of a note."""

    name: str
    key_id: bytes
    signature: bytes


@dataclass(frozen=True)
class SignedNote:
    """A note: its text (ending in a newline) and its signature lines."""

    text: str
    signatures: tuple[Signature, ...] = field(default=())


def parse_note(note: str) -> SignedNote:
    """Split a signed note into text and signatures (C2SP signed-note).

    A note without a blank line and signatures is read as an unsigned text.
    """
    if any(ord(ch) < 0x20 and ch != "\n" for ch in note):
        raise MalformedProof("a note must not contain control characters other than newline")
    if not note.endswith("\n"):
        raise MalformedProof("a note ends with a newline")
    split = note.rfind("\n\n")
    if split < 0 or not note[split + 2 :].startswith(EM_DASH):
        return SignedNote(note)
    text, block = note[: split + 1], note[split + 2 :]
    signatures = []
    for line in block.split("\n")[:-1]:
        prefix = EM_DASH + " "
        parts = line[len(prefix) :].split(" ") if line.startswith(prefix) else []
        if len(parts) != 2:
            raise MalformedProof(f"a signature line has the form '{EM_DASH} <name> <base64>'")
        name, encoded = parts
        _check_key_name(name)
        raw = _b64(encoded, f"the signature of {name}")
        if len(raw) < 5:
            raise MalformedProof(f"the signature of {name} is too short")
        signatures.append(Signature(name, raw[:4], raw[4:]))
    if not signatures:
        raise MalformedProof("a signed note has at least one signature line")
    return SignedNote(text, tuple(signatures))


def verify_note(note: SignedNote, key: VerifierKey) -> None:
    """Raise ProofFailed unless `key` signed `note` (signatures of other keys are ignored)."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    known = [s for s in note.signatures if s.name == key.name and s.key_id == key.key_id]
    if not known:
        raise ProofFailed(f"the checkpoint carries no signature by key {key.name}")
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    for signature in known:
        try:
            public.verify(signature.signature, note.text.encode())
        except InvalidSignature:
            raise ProofFailed(f"the signature by {key.name} does not verify") from None


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint: origin, tree size, root hash (and opaque extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()
    note: SignedNote | None = None

    @property
    def body(self) -> str:
        """The note text (what is signed)."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode()]
        return "\n".join([*lines, *self.extensions]) + "\n"


def parse_checkpoint(text: str) -> Checkpoint:
    """Read a checkpoint note (signed or not); raises MalformedProof naming the problem."""
    note = parse_note(text)
    lines = note.text.split("\n")[:-1]
    if len(lines) < 3 or any(not line for line in lines):
        raise MalformedProof("a checkpoint has origin, tree size and root hash lines")
    origin, size_text, root_text = lines[:3]
    if not _SIZE.fullmatch(size_text):
        raise MalformedProof("a checkpoint's tree size is a decimal number without leading 0")
    root = _b64(root_text, "the checkpoint's root hash")
    if len(root) != 32:
        raise MalformedProof("a checkpoint's root hash is 32 bytes")
    return Checkpoint(origin, int(size_text), root, tuple(lines[3:]), note)
