"""The verifiable-log commands: keygen, checkpoint, prove, verify-proof (docs/proofs.md).

`verify --anchor CHECKPOINT` is answered here too (`anchor_check`, O(log n), no chain
walk), so `commands.verify` only hands over a kept anchor that is not the older JSON head.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from domain.errors import IntegrityError, InvalidInput
from domain.text import UnsafeText, checked_text, escape
from store.files import read_small_file
from store.hashchain import load_key
from store.proofs import bundles
from store.proofs.anchor import check_anchor_fast
from store.proofs.bundle_check import check_bundle
from store.proofs.cosignature import cosigner_key
from store.proofs.keys import generate, load_signing_key, load_verifier_key, write_key_pair
from store.proofs.verifier import (
    TLOG_PROOF_HEADER,
    Checkpoint,
    MalformedProof,
    ProofFailed,
    VerifierKey,
    parse_checkpoint,
)
from tui.bootstrap import Workspace
from tui.cli.commands import _dump, _option, workspace
from tui.cli.witness import verify_checkpoint


def _text_file(path: str) -> str:
    try:  # a regular file under 1 MiB: a FIFO or /dev/zero is refused, not waited on
        return read_small_file(path, "file").decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(f"{path} is not a UTF-8 text file") from None


def _origin(args: argparse.Namespace, ws: Workspace) -> str:
    origin = getattr(args, "origin", None) or bundles.default_origin(ws.name)
    try:
        return checked_text(origin, field="--origin", max_length=200)
    except UnsafeText as exc:
        raise InvalidInput(str(exc)) from None


def _write_new(path: str, text: str) -> None:
    """Write `text` to a new file (never over an existing one)."""
    try:
        with open(path, "x", encoding="utf-8") as out:
            out.write(text)
    except FileExistsError:
        raise InvalidInput(f"{path} exists; choose another --out") from None
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror}") from None


def keygen(args: argparse.Namespace) -> int:
    """`keygen --name NAME --out PREFIX`: PREFIX.key (0600) and PREFIX.pub."""
    key = generate(args.name)
    shown = str(key.verifier)
    if args.witness:  # a witness publishes a cosigner key (type 0x04), C2SP tlog-cosignature
        shown = str(cosigner_key(key.name, key.public_bytes))
    private, public = write_key_pair(key, args.out, shown)
    print(f"wrote {escape(str(private))} (keep it secret) and {escape(str(public))}")
    print(escape(shown))
    return 0


def _issue(args: argparse.Namespace, ws: Workspace, size: int) -> Any:
    signer = load_signing_key(_option(args, "signing_key"))
    return bundles.issue_checkpoint(
        ws.proofs,
        size,
        origin=_origin(args, ws),
        signer=signer,
        issued_at=ws.clock.now(),
        keep=not ws.read_only,
    )


def checkpoint(args: argparse.Namespace) -> int:
    """`checkpoint [--out FILE] [--origin O]`: the checkpoint of the head, kept in the store."""
    signer = load_signing_key(_option(args, "signing_key"))  # a bad key: fail before opening
    del signer
    with workspace(args) as ws:
        issued = _issue(args, ws, ws.store.head().position)
    if args.out:
        _write_new(args.out, issued.text)
        print(f"checkpoint of {issued.size} events written to {escape(args.out)}", file=sys.stderr)
    else:
        sys.stdout.write(issued.text)
    return 0


def prove(args: argparse.Namespace) -> int:
    """`prove POSITION [--size N]` or `prove --consistency OLD_CHECKPOINT`."""
    if args.consistency is not None:
        if args.position is not None:
            raise InvalidInput("give a POSITION or --consistency FILE, not both")
        return _prove_consistency(args)
    if args.position is None:
        raise InvalidInput("give the POSITION of an event (or --consistency FILE)")
    load_signing_key(_option(args, "signing_key"))
    with workspace(args) as ws:
        head = ws.store.head().position
        size = head if args.size is None else args.size
        if args.position < 1 or args.position > size:
            raise InvalidInput(
                f"position {args.position} is not in a tree of size {size} (1..{size})"
            )
        if size > head:
            raise InvalidInput(f"--size {size} is beyond the head ({head} events)")
        event = ws.store.read_all(after=args.position - 1, to=args.position)[0]
        issued = _issue(args, ws, size)
        path = ws.proofs.inclusion_path(args.position - 1, size)
        bundle = bundles.inclusion_bundle(event, ws.store.hash_mode, path, issued)
    if args.json:
        _dump(bundle)
    else:
        sys.stdout.write(bundles.tlog_proof(bundle))
    return 0


def _prove_consistency(args: argparse.Namespace) -> int:
    old_text = _text_file(args.consistency)
    old = bundles.read_checkpoint(old_text, args.consistency)
    load_signing_key(_option(args, "signing_key"))
    with workspace(args) as ws:
        head = ws.store.head().position
        if old.size > head:
            raise IntegrityError(
                f"{args.consistency} covers {old.size} events but the store ends at {head}: "
                "events were removed from the tail"
            )
        issued = _issue(args, ws, head)
        path = ws.proofs.consistency_path(old.size, head)
    _dump(bundles.consistency_bundle(old_text, issued, path))
    return 0


def verify_proof(args: argparse.Namespace) -> int:
    """`verify-proof BUNDLE [--key VERIFIER_KEY]`: offline, no database needed."""
    text = sys.stdin.read() if args.bundle == "-" else _text_file(args.bundle)
    if not text.lstrip().startswith("{") and not text.startswith(TLOG_PROOF_HEADER):
        # A checkpoint on its own (perhaps cosigned by witnesses): check its signatures.
        return verify_checkpoint(text, args.bundle, args.key, args.witness_key or [])
    if args.witness_key:
        raise InvalidInput("--witness-key checks a checkpoint file, not a proof bundle")
    key = load_verifier_key(args.key) if args.key else None
    chain_key = load_key(_option(args, "key_file"))
    try:
        report = check_bundle(text, key, chain_key)
    except MalformedProof as exc:
        raise InvalidInput(f"{args.bundle}: {exc}") from None
    except ProofFailed as exc:
        raise IntegrityError(f"{args.bundle}: proof failed: {exc}") from None
    for line in report.lines:
        print(escape(line))
    return 0


def read_anchor(text: str, source: str) -> Checkpoint | None:
    """A kept anchor as a checkpoint, or None when it is a JSON head (the older format)."""
    if text.lstrip().startswith("{"):
        return None
    try:
        return parse_checkpoint(text)
    except MalformedProof as exc:
        raise InvalidInput(
            f"{source} is not JSON (a head saved by `verify --json`) nor a checkpoint: {exc}"
        ) from None


def anchor_check(
    args: argparse.Namespace, ws: Workspace, kept: Checkpoint
) -> tuple[bool, dict[str, Any], list[str]]:
    """Check a kept checkpoint against the store in O(log n), with no walk of the chain
    (`store.proofs.anchor`): (ok, JSON report, lines). The signature is checked with
    `verify --key`, else with the configured signing key's public half, if any."""
    report = check_anchor_fast(ws.proofs, ws.store, kept, _anchor_key(args))
    return report.ok, report.to_json_dict(), [escape(line) for line in report.lines]


def _anchor_key(args: argparse.Namespace) -> VerifierKey | None:
    if getattr(args, "key", None):
        return load_verifier_key(args.key)
    signer = load_signing_key(_option(args, "signing_key"))
    return signer.verifier if signer is not None else None
