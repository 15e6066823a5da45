"""The auditor's flow through the CLI: keygen, checkpoint, prove, verify-proof, verify --anchor.

Real SQLite files in tmp dirs; the verify-proof step runs with no database at all.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from pathlib import Path

import pytest
from cli_support import Cli

from store.proofs.bundle_check import check_bundle
from store.proofs.verifier import parse_verifier_key
from store.sqlite import schema


def restore_triggers(conn: sqlite3.Connection, *names: str) -> None:
    """Put back the append-only triggers an attacker dropped (verify checks them too)."""
    for name in names:
        conn.execute(schema.expected_triggers()[name])


@pytest.fixture
def audited(cli: Cli, db: Path, tmp_path: Path) -> Path:
    """A demo database with a key pair, checkpoint c1 at 2000 and c2 after a few commands."""
    assert cli("keygen", "--name", "example.com/bank", "--out", str(tmp_path / "x")).code == 0
    assert cli("demo", "--events", "2000", "--no-open").code == 0
    key = str(tmp_path / "x.key")
    assert cli("--signing-key", key, "checkpoint", "--out", str(tmp_path / "c1")).code == 0
    assert cli("exec", "open_account", "account_id=zz1", "owner=Zed", "currency=EUR").code == 0
    assert cli("exec", "deposit", "account_id=zz1", "amount=10.00").code == 0
    assert cli("--signing-key", key, "checkpoint", "--out", str(tmp_path / "c2")).code == 0
    return tmp_path


def test_the_auditors_flow(cli: Cli, db: Path, audited: Path) -> None:
    folder = audited
    key_file = folder / "x.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    c1 = (folder / "c1").read_text()
    assert c1.startswith(f"eventscope/{db.name}\n2000\n")
    assert "\n\n\u2014 example.com/bank " in c1

    proved = cli("--signing-key", str(key_file), "prove", "42", "--json")
    assert proved.code == 0, proved.err
    bundle = proved.json()
    assert isinstance(bundle, dict)
    assert bundle["position"] == 42 and bundle["leaf_index"] == 41
    assert bundle["tree_size"] == 2002
    exported = cli("log", "--from", "42", "--to", "42", "--json").lines()[0]
    assert bundle["event"] == exported
    (folder / "p.json").write_text(proved.out)

    # Offline: no --db, and the database moved out of reach.
    moved = db.rename(folder / "elsewhere.db")
    checked = cli("verify-proof", str(folder / "p.json"), "--key", str(folder / "x.pub"))
    assert checked.code == 0, checked.err
    assert "inclusion ok: position 42" in checked.out
    assert "signature by example.com/bank ok" in checked.out
    moved.rename(db)

    anchored = cli("verify", "--anchor", str(folder / "c1"))
    assert anchored.code == 0, anchored.err
    assert "checkpoint ok" in anchored.out

    consistency = cli("--signing-key", str(key_file), "prove", "--consistency", str(folder / "c1"))
    assert consistency.code == 0, consistency.err
    (folder / "cons.json").write_text(consistency.out)
    assert cli("verify-proof", str(folder / "cons.json"), "--key", str(folder / "x.pub")).code == 0

    # An outsider deletes the last events (dropping the trigger that refuses it).
    with sqlite3.connect(db, isolation_level=None) as conn:
        conn.execute("DROP TRIGGER events_no_delete")
        conn.execute("DELETE FROM events WHERE position > 2000")
        restore_triggers(conn, "events_no_delete")
    failed = cli("verify", "--anchor", str(folder / "c2"))
    assert failed.code == 1
    assert "events were removed from the tail" in failed.err
    # c1's prefix is intact, but the tree still holds the deleted events' nodes.
    older = cli("verify", "--anchor", str(folder / "c1"))
    assert older.code == 1 and "nodes past the head" in older.err


def test_a_rewritten_history_fails_the_anchor_and_the_old_proof(
    cli: Cli, db: Path, audited: Path
) -> None:
    folder = audited
    proved = cli("prove", "42", "--json")
    (folder / "p.json").write_text(proved.out)
    # Rewrite event 10 and re-hash the whole chain (an unkeyed chain allows that), as
    # a thorough forger would; the tree nodes are rebuilt from the new hashes too.
    from store.proofs.sqlite_log import build_tree
    from store.proofs.verifier import event_chain_hash

    with sqlite3.connect(db, isolation_level=None) as conn:
        for trigger in ("events_no_update", "merkle_nodes_no_delete"):
            conn.execute(f"DROP TRIGGER {trigger}")
        conn.execute("UPDATE events SET data = json_set(data, '$.amount', 1) WHERE position = 10")
        conn.execute("DELETE FROM merkle_nodes")
        columns = (
            "position, event_id, stream_id, stream_type, version, type, schema_version, "
            "data, metadata, recorded_at, prev_hash, hash"
        )
        rows = conn.execute(f"SELECT {columns} FROM events ORDER BY position").fetchall()
        prev = "0" * 64
        names = columns.split(", ")
        for row in rows:
            event = dict(zip(names, row, strict=True))
            event["data"] = json.loads(event["data"])
            event["metadata"] = json.loads(event["metadata"])
            event["prev_hash"] = prev
            digest = event_chain_hash(event)
            conn.execute(
                "UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?",
                (prev, digest, row[0]),
            )
            prev = digest
        build_tree(conn)
        restore_triggers(conn, "events_no_update", "merkle_nodes_no_delete")
    assert cli("verify").code == 0  # the forged chain verifies on its own
    failed = cli("verify", "--anchor", str(folder / "c1"))
    assert failed.code == 1
    assert "history was rewritten" in failed.err
    checkpoint = (folder / "c1").read_text()
    fresh = cli("prove", "42", "--json").json()
    assert isinstance(fresh, dict)
    fresh["checkpoint"] = checkpoint
    fresh["tree_size"] = 2000
    (folder / "forged.json").write_text(json.dumps(fresh))
    assert cli("verify-proof", str(folder / "forged.json")).code == 1


@pytest.mark.parametrize(
    ("edit", "code", "words"),
    [
        (lambda text: text[: len(text) // 2], 2, "neither JSON"),
        (lambda text: text.replace('"leaf_index":41', '"leaf_index":"x"'), 2, "leaf_index"),
        (lambda text: text.replace('"inclusion_path":["', '"inclusion_path":["ab'), 2, "hex"),
        (lambda text: text.replace('"tree_size":2002', '"tree_size":2003'), 1, "size"),
        (lambda text: text.replace('"position":42,"leaf', '"position":43,"leaf'), 1, "position"),
    ],
)
def test_bad_bundles_give_one_line_and_the_right_exit_code(
    cli: Cli, audited: Path, edit: object, code: int, words: str
) -> None:
    folder = audited
    text = cli("--signing-key", str(folder / "x.key"), "prove", "42", "--json").out
    assert callable(edit)
    (folder / "bad.json").write_text(edit(text))
    result = cli("verify-proof", str(folder / "bad.json"), "--key", str(folder / "x.pub"))
    assert result.code == code, result.err
    assert words in result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err


def test_wrong_keys_and_bad_signatures_are_refused(cli: Cli, audited: Path) -> None:
    folder = audited
    bundle = cli("--signing-key", str(folder / "x.key"), "prove", "7", "--json").json()
    assert isinstance(bundle, dict)
    (folder / "p.json").write_text(json.dumps(bundle))
    assert cli("keygen", "--name", "example.com/bank", "--out", str(folder / "y")).code == 0
    wrong = cli("verify-proof", str(folder / "p.json"), "--key", str(folder / "y.pub"))
    assert wrong.code == 1 and "no signature by key" in wrong.err
    body, _, _ = bundle["checkpoint"].rpartition("\u2014 example.com/bank ")
    bundle["checkpoint"] = body + "\u2014 example.com/bank not*base64\n"
    (folder / "p.json").write_text(json.dumps(bundle))
    bad = cli("verify-proof", str(folder / "p.json"), "--key", str(folder / "x.pub"))
    assert bad.code == 2 and "base64" in bad.err
    assert cli("verify-proof", str(folder / "p.json"), "--key", "nonsense").code == 2
    assert cli("keygen", "--name", "a b", "--out", str(folder / "z")).code == 2
    again = cli("keygen", "--name", "n", "--out", str(folder / "x"))
    assert again.code == 2 and "never overwrites" in again.err


def test_prove_refuses_positions_and_sizes_outside_the_log(cli: Cli, audited: Path) -> None:
    for args in (["prove", "0"], ["prove", "2003"], ["prove", "5", "--size", "3000"], ["prove"]):
        result = cli(*args)
        assert result.code == 2, args
        assert result.err.count("\n") == 1
    (audited / "junk").write_text("not a checkpoint\n")
    assert cli("verify", "--anchor", str(audited / "junk")).code == 2
    assert cli("prove", "--consistency", str(audited / "junk")).code == 2


def test_unsigned_checkpoints_and_tlog_proofs(cli: Cli, audited: Path) -> None:
    plain = cli("checkpoint", "--origin", "bank.example/log")
    assert plain.code == 0
    assert plain.out.startswith("bank.example/log\n2002\n") and "\u2014" not in plain.out
    tlog = cli("--signing-key", str(audited / "x.key"), "prove", "1")
    assert tlog.out.startswith("c2sp.org/tlog-proof@v1\nextra ")
    key = parse_verifier_key((audited / "x.pub").read_text())
    assert check_bundle(tlog.out, key).kind == "inclusion"
    (audited / "p.tlog").write_text(tlog.out)
    offline = cli("verify-proof", str(audited / "p.tlog"))
    assert offline.code == 0 and "signature not checked" in offline.out
