"""`cosign` (a witness's countersignature) and checking cosigned checkpoints offline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from domain.errors import IntegrityError, InvalidInput
from domain.text import escape
from store.files import read_small_file
from store.proofs.cosignature import CosignerKey, parse_cosigner_key, verify_cosignature
from store.proofs.keys import load_signing_key, load_verifier_key
from store.proofs.verifier import MalformedProof, ProofFailed, parse_checkpoint, verify_note
from store.proofs.witness import cosign as witness_cosign


def _text(path: str, what: str) -> str:
    if path == "-":
        return sys.stdin.read()
    try:
        return read_small_file(path, what).decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not a UTF-8 text file") from None


def load_cosigner_key(path_or_key: str) -> CosignerKey:
    """A witness key from a file (keygen --witness's PREFIX.pub) or given inline."""
    text = path_or_key
    if not ("+" in path_or_key and not Path(path_or_key).exists()):
        text = _text(path_or_key, "witness key file")
    try:
        return parse_cosigner_key(text)
    except MalformedProof as exc:
        raise InvalidInput(f"{path_or_key}: {exc}") from None


def cosign(args: argparse.Namespace) -> int:
    """`cosign --witness-key W.key --log-key LOG.pub --state DIR REQUEST`."""
    witness = load_signing_key(args.witness_key)
    assert witness is not None  # the option is required
    log_key = load_verifier_key(args.log_key)
    done = witness_cosign(
        _text(args.request, "request"), witness=witness, log_key=log_key, state=Path(args.state)
    )
    if args.out:
        try:
            with open(args.out, "x", encoding="utf-8") as out:
                out.write(done.text)
        except FileExistsError:
            raise InvalidInput(f"{args.out} exists; choose another --out") from None
        print(
            f"cosigned {done.size} events (the witness had seen {done.old_size}): "
            f"{escape(args.out)}",
            file=sys.stderr,
        )
    else:
        sys.stdout.write(done.text)
    return 0


def verify_checkpoint(text: str, source: str, key: str | None, witnesses: list[str]) -> int:
    """`verify-proof CHECKPOINT --key LOG.pub --witness-key W.pub…`: check its signatures."""
    try:
        checkpoint = parse_checkpoint(text)
    except MalformedProof as exc:
        raise InvalidInput(f"{source}: {exc}") from None
    assert checkpoint.note is not None
    lines = [f"checkpoint of {checkpoint.size} events of {checkpoint.origin}"]
    try:
        if key:
            verifier = load_verifier_key(key)
            verify_note(checkpoint.note, verifier)
            lines.append(f"signed by log key {verifier.name}: ok")
        for path in witnesses:
            witness = load_cosigner_key(path)
            when = verify_cosignature(text, witness)
            lines.append(f"cosigned by witness {witness.name} at unix time {when}: ok")
    except ProofFailed as exc:
        raise IntegrityError(f"{source}: {exc}") from None
    if not key and not witnesses:
        lines.append("no key given: signatures not checked (pass --key and --witness-key)")
    for line in lines:
        print(escape(line))
    return 0
