"""The parsers of the proof commands (keygen, checkpoint, prove, verify-proof, cosign)
and of `serve`: split from `tui.cli.parser`, which builds the whole CLI with them."""

from __future__ import annotations

from tui.cli import lazy
from tui.cli.arg_types import whole_number
from tui.cli.parser import Commands, _command


def proof_commands(sub: Commands) -> None:
    """keygen, checkpoint, prove, verify-proof (docs/proofs.md)."""
    p = _command(
        sub,
        "keygen",
        "make an Ed25519 checkpoint signing key: PREFIX.key (secret) and PREFIX.pub",
        "eventscope keygen --name example.com/bank --out bank",
    )
    p.add_argument("--name", required=True, metavar="NAME", help="key name (no spaces or '+')")
    p.add_argument("--out", required=True, metavar="PREFIX", help="write PREFIX.key, PREFIX.pub")
    p.add_argument(
        "--witness",
        action="store_true",
        help="a witness key: PREFIX.pub is a cosigner key (C2SP tlog-cosignature)",
    )
    p.set_defaults(handler=lazy.handler("proofs", "keygen"))

    p = _command(
        sub,
        "checkpoint",
        "sign the Merkle tree head (C2SP checkpoint); kept in the store",
        "eventscope --signing-key bank.key checkpoint --out c1.checkpoint",
    )
    p.add_argument("--out", metavar="FILE", help="write to a new FILE (default: stdout)")
    p.add_argument("--origin", metavar="O", help="log name (default eventscope/<db file name>)")
    p.set_defaults(handler=lazy.handler("proofs", "checkpoint"))

    p = _command(
        sub,
        "prove",
        "an inclusion proof of one event, or a consistency proof from an old checkpoint",
        "eventscope prove 42 --json > p.json; eventscope prove --consistency c1.checkpoint",
    )
    p.add_argument(
        "position", metavar="POSITION", type=whole_number, nargs="?", help="event position"
    )
    p.add_argument(
        "--size", metavar="N", type=whole_number, help="tree size to prove in (default: head)"
    )
    p.add_argument(
        "--consistency", metavar="OLD_CHECKPOINT", help="prove the store extends this checkpoint"
    )
    p.add_argument("--origin", metavar="O", help="log name (default eventscope/<db file name>)")
    p.add_argument(
        "--json", action="store_true", help="a JSON bundle (default: c2sp.org/tlog-proof text)"
    )
    p.set_defaults(handler=lazy.handler("proofs", "prove"))

    p = _command(
        sub,
        "verify-proof",
        "check a proof bundle offline (no database needed)",
        "eventscope verify-proof p.json --key bank.pub",
    )
    p.add_argument(
        "bundle", metavar="BUNDLE", help="a file from `prove`, or a checkpoint (- = stdin)"
    )
    p.add_argument("--key", metavar="VERIFIER_KEY", help="PREFIX.pub from keygen, or the key text")
    p.add_argument(
        "--witness-key",
        action="append",
        metavar="WITNESS_KEY",
        help="a witness's PREFIX.pub: the checkpoint must carry its cosignature (repeatable)",
    )
    p.set_defaults(handler=lazy.handler("proofs", "verify_proof"))

    p = _command(
        sub,
        "cosign",
        "as a witness: countersign a checkpoint only if it extends the last one cosigned",
        "eventscope cosign --witness-key w.key --log-key bank.pub --state wstate c.json",
    )
    p.add_argument(
        "request",
        metavar="REQUEST",
        help="a consistency bundle from `prove --consistency` (or a first checkpoint; - = stdin)",
    )
    p.add_argument("--witness-key", required=True, metavar="FILE", help="the witness's PREFIX.key")
    p.add_argument("--log-key", required=True, metavar="VERIFIER_KEY", help="the log's PREFIX.pub")
    p.add_argument(
        "--state", required=True, metavar="DIR", help="the witness's folder of cosigned heads"
    )
    p.add_argument("--out", metavar="FILE", help="write to a new FILE (default: stdout)")
    p.set_defaults(handler=lazy.handler("witness", "cosign"))


def serve_command(sub: Commands) -> None:
    """serve: the app in a web browser (textual-serve), one app process per tab."""
    p = _command(
        sub,
        "serve",
        "serve the app to web browsers: each tab runs its own app on the database "
        "(needs pip install 'eventscope[serve]'); Ctrl-C stops it and every app",
        "eventscope --db demo.db serve --port 8000   (then open http://127.0.0.1:8000)",
    )
    p.add_argument(
        "--host", metavar="HOST", default="127.0.0.1", help="address to bind (127.0.0.1)"
    )
    p.add_argument("--port", metavar="PORT", type=whole_number, default=8000, help="port (8000)")
    p.add_argument(
        "--public",
        action="store_true",
        help="allow a --host other than loopback: anyone who reaches it gets the app, "
        "with no authentication",
    )
    p.add_argument(
        "--public-url",
        metavar="URL",
        help="the address browsers use, behind a proxy or with --host 0.0.0.0 "
        "(default http://HOST:PORT)",
    )
    p.set_defaults(handler=lazy.handler("serve", "serve"))
