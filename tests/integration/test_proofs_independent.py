"""An independent RFC 9162 reading of our log agrees with our checkpoints and proofs.

Everything here is written from RFC 9162 §2.1 alone (the recursive definitions of MTH,
PATH and PROOF), using only `log --json` as input: no eventscope proof code is imported.
It is what an outside auditor would do, and it must reach the same root and the same
proofs as `checkpoint` and `prove`.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest
from cli_support import Cli


def leaf(chain_hash_hex: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(chain_hash_hex)).digest()


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n: int) -> int:
    """The largest power of two smaller than n (RFC 9162 §2.1.1)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves: list[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = split(len(leaves))
    return node(mth(leaves[:k]), mth(leaves[k:]))


def path(m: int, leaves: list[bytes]) -> list[bytes]:
    """PATH(m, D[n]), RFC 9162 §2.1.3.1."""
    n = len(leaves)
    if n == 1:
        return []
    k = split(n)
    if m < k:
        return [*path(m, leaves[:k]), mth(leaves[k:])]
    return [*path(m - k, leaves[k:]), mth(leaves[:k])]


def subproof(m: int, leaves: list[bytes], whole: bool) -> list[bytes]:
    """SUBPROOF(m, D[n], b), RFC 9162 §2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if whole else [mth(leaves)]
    k = split(n)
    if m <= k:
        return [*subproof(m, leaves[:k], whole), mth(leaves[k:])]
    return [*subproof(m - k, leaves[k:], False), mth(leaves[:k])]


def checkpoint_root(text: str) -> tuple[int, bytes]:
    _origin, size, root = text.splitlines()[:3]
    return int(size), base64.b64decode(root)


@pytest.fixture
def history(cli: Cli, tmp_path: Path) -> Path:
    assert cli("demo", "--events", "300", "--no-open").code == 0
    return tmp_path


def test_an_independent_rfc9162_reader_agrees_with_checkpoints_and_proofs(
    cli: Cli, history: Path
) -> None:
    first = cli("checkpoint", "--out", str(history / "c1"))
    assert first.code == 0
    for account in ("ind-1", "ind-2", "ind-3"):
        opened = cli("exec", "open_account", f"account_id={account}", "owner=Ind", "currency=EUR")
        assert opened.code == 0
    leaves = [leaf(str(event["hash"])) for event in cli("log", "--json").lines()]

    now = cli("checkpoint")
    size, root = checkpoint_root(now.out)
    assert size == len(leaves) == 303
    assert root == mth(leaves)

    for position in (1, 2, 150, 256, 257, 303):
        bundle = cli("prove", str(position), "--json").json()
        assert isinstance(bundle, dict)
        assert bundle["leaf_index"] == position - 1
        assert bytes.fromhex(str(bundle["leaf_hash"])) == leaves[position - 1]
        expected = [h.hex() for h in path(position - 1, leaves)]
        assert bundle["inclusion_path"] == expected

    old_size, old_root = checkpoint_root((history / "c1").read_text())
    assert old_root == mth(leaves[:old_size])
    consistency = cli("prove", "--consistency", str(history / "c1"), "--json").json()
    assert isinstance(consistency, dict)
    assert consistency["consistency_path"] == [h.hex() for h in subproof(old_size, leaves, True)]


def test_repeated_proofs_of_one_tree_keep_one_checkpoint(cli: Cli, history: Path) -> None:
    import sqlite3

    for _ in range(3):
        assert cli("prove", "5", "--json").code == 0
        assert cli("checkpoint").code == 0
    with sqlite3.connect(history / "bank.db") as conn:
        kept = conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]
    assert kept == 1
    cli("exec", "open_account", "account_id=ind-9", "owner=Ind", "currency=EUR")
    assert cli("checkpoint").code == 0
    with sqlite3.connect(history / "bank.db") as conn:
        assert conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0] == 2
