"""A witness cosigns only a checkpoint that extends the last one it cosigned (C2SP).

Two parties can then not be shown two different histories: whichever the witness saw
first, the other is refused, and auditors who require the witness's cosignature notice.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from cli_support import Cli

from store.proofs.cosignature import parse_cosigner_key, verify_cosignature
from store.proofs.verifier import ProofFailed


@pytest.fixture
def keys(cli: Cli, tmp_path: Path) -> Path:
    assert cli("keygen", "--name", "example.com/bank", "--out", str(tmp_path / "log")).code == 0
    made = cli("keygen", "--witness", "--name", "w.example", "--out", str(tmp_path / "w"))
    assert made.code == 0
    assert cli("init").code == 0
    return tmp_path


def _exec(cli: Cli, key: Path, account: str, db: Path | None = None) -> None:
    done = cli(
        "--signing-key",
        str(key),
        "exec",
        "open_account",
        f"account_id={account}",
        "owner=W",
        "currency=EUR",
        db_path=db,
    )
    assert done.code == 0, done.err


def test_a_witness_cosigns_extensions_and_refuses_a_fork(
    cli: Cli, db: Path, keys: Path, tmp_path: Path
) -> None:
    sign = ["--signing-key", str(keys / "log.key")]
    origin = ["--origin", "example.com/bank"]  # a forked copy keeps the log's name
    state = tmp_path / "wstate"
    witness = ["--witness-key", str(keys / "w.key"), "--log-key", str(keys / "log.pub")]
    _exec(cli, keys / "log.key", "w1")
    assert cli(*sign, "checkpoint", *origin, "--out", str(tmp_path / "c1")).code == 0
    first = cli("cosign", *witness, "--state", str(state), str(tmp_path / "c1"))
    assert first.code == 0, first.err
    (tmp_path / "c1.cosigned").write_text(first.out)
    checked = cli(
        "verify-proof",
        str(tmp_path / "c1.cosigned"),
        "--key",
        str(keys / "log.pub"),
        "--witness-key",
        str(keys / "w.pub"),
    )
    assert checked.code == 0 and "cosigned by witness w.example" in checked.out

    # A fork: a copy of the store takes another path from the same first checkpoint.
    fork = tmp_path / "fork.db"
    shutil.copy(db, fork)
    for path in db.parent.glob(db.name + "-*"):
        shutil.copy(path, tmp_path / path.name.replace(db.name, "fork.db"))
    _exec(cli, keys / "log.key", "w2")
    _exec(cli, keys / "log.key", "other", db=fork)

    extended = cli(*sign, "prove", *origin, "--consistency", str(tmp_path / "c1"), "--json")
    (tmp_path / "ext.json").write_text(extended.out)
    second = cli("cosign", *witness, "--state", str(state), str(tmp_path / "ext.json"))
    assert second.code == 0, second.err

    forked = cli(
        *sign, "prove", *origin, "--consistency", str(tmp_path / "c1"), "--json", db_path=fork
    )
    (tmp_path / "fork.json").write_text(forked.out)
    refused = cli("cosign", *witness, "--state", str(state), str(tmp_path / "fork.json"))
    assert refused.code == 1
    assert (
        "fork" in refused.err or "does not extend" in refused.err or "last cosigned" in refused.err
    )
    assert refused.err.count("\n") == 1


def test_a_cosignature_breaks_with_any_change(cli: Cli, keys: Path, tmp_path: Path) -> None:
    _exec(cli, keys / "log.key", "w1")
    assert (
        cli("--signing-key", str(keys / "log.key"), "checkpoint", "--out", str(tmp_path / "c")).code
        == 0
    )
    witness = ["--witness-key", str(keys / "w.key"), "--log-key", str(keys / "log.pub")]
    done = cli("cosign", *witness, "--state", str(tmp_path / "s"), str(tmp_path / "c"))
    assert done.code == 0
    key = parse_cosigner_key((keys / "w.pub").read_text())
    assert verify_cosignature(done.out, key) > 0
    lines = done.out.split("\n")
    lines[1] = str(int(lines[1]) + 1)  # another tree size, same signatures
    with pytest.raises(ProofFailed):
        verify_cosignature("\n".join(lines), key)


def test_an_unsigned_checkpoint_is_not_cosigned(cli: Cli, keys: Path, tmp_path: Path) -> None:
    _exec(cli, keys / "log.key", "w1")
    assert cli("checkpoint", "--out", str(tmp_path / "c")).code == 0  # no signing key
    witness = ["--witness-key", str(keys / "w.key"), "--log-key", str(keys / "log.pub")]
    done = cli("cosign", *witness, "--state", str(tmp_path / "s"), str(tmp_path / "c"))
    assert done.code == 1 and "not signed by the log key" in done.err
    assert not (tmp_path / "s").exists() or not any((tmp_path / "s").iterdir())
