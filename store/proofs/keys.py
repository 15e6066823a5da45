"""Ed25519 signing keys for checkpoints, in the C2SP signed-note formats.

- signer key file: `PRIVATE+KEY+<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte seed)>`
  (the form Go's golang.org/x/mod/sumdb/note uses), kept mode 0600;
- verifier key: `<name>+<8 hex key id>+<base64(0x01 ‖ 32-byte public key)>`.
"""

from __future__ import annotations

import base64
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from domain.errors import InvalidInput
from store.files import read_small_file
from store.proofs.verifier import (
    ED25519,
    EM_DASH,
    MalformedProof,
    VerifierKey,
    key_id,
    parse_verifier_key,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
# `cryptography` is imported where a key is made or used: most commands never sign,
# and it is a noticeable part of every command's start-up.

SIGNING_KEY_ENV = "EVENTSCOPE_SIGNING_KEY_FILE"
_NAME = re.compile(r"[^\s+]+")


def check_key_name(name: str) -> str:
    """A key name: non-empty, no spaces, no '+' (C2SP); raises InvalidInput."""
    if not _NAME.fullmatch(name) or any(ord(ch) < 0x20 for ch in name):
        raise InvalidInput(
            f"key name {name!r} must be non-empty, without spaces or '+', e.g. example.com/log"
        )
    return name


@dataclass(frozen=True)
class SigningKey:
    """A named Ed25519 private key."""

    name: str
    private: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        """The 32-byte public key."""
        from cryptography.hazmat.primitives import serialization

        return self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )

    @property
    def verifier(self) -> VerifierKey:
        """The matching verifier key."""
        public = self.public_bytes
        return VerifierKey(self.name, key_id(self.name, public), public)

    def signer_text(self) -> str:
        """The signer key file's one line."""
        from cryptography.hazmat.primitives import serialization

        seed = self.private.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        encoded = base64.b64encode(bytes([ED25519]) + seed).decode()
        return f"PRIVATE+KEY+{self.name}+{self.verifier.key_id.hex()}+{encoded}"

    def sign(self, text: str) -> str:
        """The signed note of `text` (which ends with a newline): text, blank line, signature."""
        signature = self.private.sign(text.encode())
        encoded = base64.b64encode(self.verifier.key_id + signature).decode()
        return f"{text}\n{EM_DASH} {self.name} {encoded}\n"


def generate(name: str) -> SigningKey:
    """A new random signing key named `name`."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return SigningKey(check_key_name(name), Ed25519PrivateKey.generate())


def parse_signing_key(text: str, source: str = "the signing key") -> SigningKey:
    """Read a signer key line; raises InvalidInput naming what is wrong."""
    parts = text.strip().split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise InvalidInput(
            f"{source} is not a signing key (PRIVATE+KEY+<name>+<id>+<key>); "
            "make one with `eventscope keygen`"
        )
    name, hex_id, encoded = parts[2:]
    check_key_name(name)
    try:
        material = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise InvalidInput(f"{source}: the key is not valid base64") from None
    if len(material) != 33 or material[0] != ED25519:
        raise InvalidInput(f"{source} is not an Ed25519 key")
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    key = SigningKey(name, Ed25519PrivateKey.from_private_bytes(material[1:]))
    if key.verifier.key_id.hex() != hex_id:
        raise InvalidInput(f"{source}: the key id does not match the name and key")
    return key


def _read(path: str, what: str) -> str:
    try:  # a regular file under 1 MiB: a FIFO or /dev/zero is refused, not waited on
        return read_small_file(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{what} {path} is not a text file") from None


def load_signing_key(path: str | None, environ: dict[str, str] | None = None) -> SigningKey | None:
    """The signing key from `path`, else `$EVENTSCOPE_SIGNING_KEY_FILE`, else None."""
    env = dict(os.environ) if environ is None else environ
    chosen = path or env.get(SIGNING_KEY_ENV) or None
    if chosen is None:
        return None
    return parse_signing_key(_read(chosen, "signing key file"), f"signing key file {chosen}")


def load_verifier_key(path_or_key: str) -> VerifierKey:
    """A verifier key from a file (keygen's PREFIX.pub) or given inline."""
    text = path_or_key
    if not ("+" in path_or_key and not Path(path_or_key).exists()):
        text = _read(path_or_key, "verifier key file")
    try:
        return parse_verifier_key(text)
    except MalformedProof as exc:
        raise InvalidInput(f"{path_or_key}: {exc}") from None


def write_key_pair(
    key: SigningKey, prefix: str, public_text: str | None = None
) -> tuple[Path, Path]:
    """Write PREFIX.key (mode 0600, refused if it exists) and PREFIX.pub (the verifier key,
    or `public_text`: a witness writes its cosigner key there)."""
    private, public = Path(prefix + ".key"), Path(prefix + ".pub")
    for path in (private, public):
        if path.exists():
            raise InvalidInput(
                f"{path} exists; keygen never overwrites a key, choose another --out"
            )
    if not private.parent.is_dir():
        raise InvalidInput(f"folder {private.parent} does not exist")
    try:
        fd = os.open(private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(key.signer_text() + "\n")
        try:
            public.write_text((public_text or str(key.verifier)) + "\n", encoding="utf-8")
        except OSError:
            private.unlink()
            raise
    except OSError as exc:
        raise InvalidInput(f"cannot write {private}: {exc.strerror}") from None
    return private, public
