"""C2SP tlog-cosignature (Ed25519, `cosignature/v1`): make and check a witness's cosignature.

Like `store.proofs.verifier`, this module needs nothing beyond the standard library and
`cryptography`, so an auditor can vendor both. A cosignature is one more signature line
on a checkpoint note:

    — <witness name> base64(key id ‖ u64 big-endian timestamp ‖ Ed25519 signature)

where key id = SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4], and the signed message is
`cosignature/v1\\ntime <timestamp>\\n` followed by the checkpoint's note body.
"""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass

from store.proofs.verifier import (
    EM_DASH,
    MalformedProof,
    ProofFailed,
    key_id,
    parse_checkpoint,
)

COSIGNATURE_V1 = 0x04
"""The signature type byte of an Ed25519 cosigner key (C2SP tlog-cosignature)."""


@dataclass(frozen=True)
class CosignerKey:
    """A witness's public key: `<name>+<8 hex key id>+<base64(0x04 ‖ public key)>`."""

    name: str
    key_id: bytes
    public_key: bytes

    def __str__(self) -> str:
        encoded = base64.b64encode(bytes([COSIGNATURE_V1]) + self.public_key).decode()
        return f"{self.name}+{self.key_id.hex()}+{encoded}"


def cosigner_key(name: str, public_key: bytes) -> CosignerKey:
    """The cosigner key of `public_key` under `name`."""
    return CosignerKey(name, key_id(name, public_key, COSIGNATURE_V1), public_key)


def parse_cosigner_key(text: str) -> CosignerKey:
    """Read a cosigner (witness) key; raises MalformedProof naming what is wrong."""
    parts = text.strip().split("+", 2)
    if len(parts) != 3 or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise MalformedProof("a witness key has the form <name>+<8 hex digits>+<base64 key>")
    name, hex_id, encoded = parts
    if not name or any(ch.isspace() for ch in name):
        raise MalformedProof("a witness key's name must be non-empty, without spaces")
    try:
        material = base64.b64decode(encoded.encode("ascii"), validate=True)
    except ValueError:
        raise MalformedProof("the witness key is not valid base64") from None
    if len(material) != 33 or material[0] != COSIGNATURE_V1:
        raise MalformedProof("the witness key is not an Ed25519 cosigner key (0x04 ‖ 32 bytes)")
    key = cosigner_key(name, material[1:])
    if key.key_id.hex() != hex_id:
        raise MalformedProof("the witness key's key id does not match its name and key")
    return key


def signed_message(body: str, timestamp: int) -> bytes:
    """What a cosigner signs: the header, the time line, then the checkpoint body."""
    return f"cosignature/v1\ntime {timestamp}\n{body}".encode()


def cosignature_line(name: str, key_id_bytes: bytes, timestamp: int, signature: bytes) -> str:
    """One note signature line carrying a timestamped cosignature."""
    raw = key_id_bytes + struct.pack(">Q", timestamp) + signature
    return f"{EM_DASH} {name} {base64.b64encode(raw).decode()}"


def add_signature_line(note: str, line: str) -> str:
    """`note` (a checkpoint, signed or not) with one more signature line."""
    body_end = note.find("\n\n")
    if body_end < 0:  # unsigned: start the signature block
        return f"{note}\n{line}\n"
    return f"{note}{line}\n"


def verify_cosignature(note: str, key: CosignerKey) -> int:
    """The timestamp of `key`'s valid cosignature on the checkpoint `note`.

    Raises ProofFailed when the note carries none from `key`, or one that does not verify.
    """
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    checkpoint = parse_checkpoint(note)
    assert checkpoint.note is not None
    found = [
        s
        for s in checkpoint.note.signatures
        if s.name == key.name and s.key_id == key.key_id and len(s.signature) == 72
    ]
    if not found:
        raise ProofFailed(f"the checkpoint carries no cosignature by witness {key.name}")
    public = Ed25519PublicKey.from_public_bytes(key.public_key)
    for signature in found:
        (timestamp,) = struct.unpack(">Q", signature.signature[:8])
        try:
            public.verify(signature.signature[8:], signed_message(checkpoint.body, timestamp))
        except InvalidSignature:
            continue
        return int(timestamp)
    raise ProofFailed(f"the cosignature by witness {key.name} does not verify")
