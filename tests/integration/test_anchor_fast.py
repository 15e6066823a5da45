"""`verify --anchor CHECKPOINT`: O(log n), no chain walk, and every tamper it must catch.

Real SQLite files in tmp dirs, tampered with plain sqlite3 as an outsider would (the
append-only triggers dropped first), then checked through the CLI in-process.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli

from store.proofs.sqlite_log import build_tree
from store.proofs.verifier import event_chain_hash
from store.sqlite import SqliteEventStore, schema

COLUMNS = (
    "position, event_id, stream_id, stream_type, version, type, schema_version, "
    "data, metadata, recorded_at, prev_hash, hash"
)


def _drop_triggers(conn: sqlite3.Connection, *names: str) -> None:
    for name in names:
        conn.execute(f"DROP TRIGGER {name}")


def _restore_triggers(conn: sqlite3.Connection, *names: str) -> None:
    """Put the triggers back, so the schema check passes and only the anchor can tell."""
    for name in names:
        conn.execute(schema.expected_triggers()[name])


def _rehash_from(conn: sqlite3.Connection, first: int) -> None:
    """Recompute every chain hash from `first` on (an unkeyed chain allows it)."""
    rows = conn.execute(
        f"SELECT {COLUMNS} FROM events WHERE position >= ? ORDER BY position", (first,)
    ).fetchall()
    prev_row = conn.execute("SELECT hash FROM events WHERE position = ?", (first - 1,)).fetchone()
    prev = prev_row[0] if prev_row else "0" * 64
    names = COLUMNS.split(", ")
    for row in rows:
        event: dict[str, Any] = dict(zip(names, row, strict=True))
        event["data"] = json.loads(event["data"])
        event["metadata"] = json.loads(event["metadata"])
        event["prev_hash"] = prev
        digest = event_chain_hash(event)
        conn.execute(
            "UPDATE events SET prev_hash = ?, hash = ? WHERE position = ?", (prev, digest, row[0])
        )
        prev = digest


@pytest.fixture
def logged(cli: Cli, db: Path, tmp_path: Path) -> Path:
    """A 300-event demo with a key pair, c1 at 300, a few commands, c2 at 306."""
    assert cli("keygen", "--name", "example.com/bank", "--out", str(tmp_path / "x")).code == 0
    assert cli("demo", "--events", "300", "--no-open").code == 0
    key = str(tmp_path / "x.key")
    assert cli("--signing-key", key, "checkpoint", "--out", str(tmp_path / "c1")).code == 0
    assert cli("exec", "open_account", "account_id=zz1", "owner=Zed", "currency=EUR").code == 0
    for amount in ("1.00", "2.00", "3.00", "4.00", "5.00"):
        assert cli("exec", "deposit", "account_id=zz1", f"amount={amount}").code == 0
    assert cli("--signing-key", key, "checkpoint", "--out", str(tmp_path / "c2")).code == 0
    return tmp_path


def _one_failure_line(result: Any, *words: str) -> None:
    assert result.code == 1, (result.out, result.err)
    assert "Traceback" not in result.err
    failed = [line for line in result.err.splitlines() if "checkpoint check failed" in line]
    assert len(failed) == 1, result.err
    for word in words:
        assert word in failed[0], failed[0]


def test_an_intact_store_passes_and_says_what_was_not_checked(cli: Cli, logged: Path) -> None:
    ok = cli("verify", "--anchor", str(logged / "c1"), "--key", str(logged / "x.pub"))
    assert ok.code == 0, ok.err
    assert "extends the checkpoint of size 300" in ok.out
    assert "signature ok (example.com/bank)" in ok.out
    assert "the events were not re-hashed" in ok.out
    assert "chain ok" not in ok.out  # no walk
    report = cli("verify", "--anchor", str(logged / "c2"), "--json").json()
    assert isinstance(report, dict)
    assert report["ok"] is True and report["anchor"]["walked"] is False
    assert report["anchor"]["size"] == report["anchor"]["head"] == 306
    assert "checked" not in report  # the chain walk's count is absent: it did not run
    deep = cli("verify", "--anchor", str(logged / "c1"), "--deep", "--json").json()
    assert isinstance(deep, dict) and deep["checked"] == 306 and deep["ok"] is True


def test_the_signing_key_is_the_default_and_a_wrong_key_fails(cli: Cli, logged: Path) -> None:
    signed = cli("--signing-key", str(logged / "x.key"), "verify", "--anchor", str(logged / "c1"))
    assert signed.code == 0 and "signature ok" in signed.out
    assert cli("keygen", "--name", "example.com/bank", "--out", str(logged / "y")).code == 0
    wrong = cli("verify", "--anchor", str(logged / "c1"), "--key", str(logged / "y.pub"))
    _one_failure_line(wrong, "signature check failed", "no signature by key")
    unsigned = logged / "plain"
    unsigned.write_text(cli("checkpoint").out)
    nosig = cli("verify", "--anchor", str(unsigned), "--key", str(logged / "x.pub"))
    _one_failure_line(nosig, "signature check failed")
    assert cli("verify", "--anchor", str(unsigned)).code == 0  # unsigned: still an anchor
    bad = cli("verify", "--anchor", str(logged / "c1"), "--key", "nonsense")
    assert bad.code == 2 and bad.err.count("\n") == 1


def test_deleting_the_last_events_fails_and_says_why(cli: Cli, db: Path, logged: Path) -> None:
    with sqlite3.connect(db, isolation_level=None) as conn:
        _drop_triggers(conn, "events_no_delete")
        conn.execute("DELETE FROM events WHERE position > 303")
        _restore_triggers(conn, "events_no_delete")
    _one_failure_line(cli("verify", "--anchor", str(logged / "c2")), "removed from the tail")
    # c1 (size 300) is still a prefix, but the tree holds the deleted events' nodes.
    _one_failure_line(
        cli("verify", "--anchor", str(logged / "c1")), "nodes past the head", "removed"
    )


def test_a_thorough_tail_cut_is_caught_by_the_later_checkpoints(
    cli: Cli, db: Path, logged: Path
) -> None:
    """The events, the tree's nodes past the new head and the store's own checkpoints are
    all cut: the auditor's c2 still tells; c1, older than the cut, cannot (a limit)."""
    with sqlite3.connect(db, isolation_level=None) as conn:
        _drop_triggers(conn, "events_no_delete", "merkle_nodes_no_delete")
        _drop_triggers(conn, "checkpoints_no_delete")
        conn.execute("DELETE FROM events WHERE position > 301")
        for level in range(1, 10):
            conn.execute(
                "DELETE FROM merkle_nodes WHERE level = ? AND idx >= ?", (level, 301 >> level)
            )
        conn.execute("DELETE FROM checkpoints WHERE tree_size > 301")
        _restore_triggers(conn, "events_no_delete", "merkle_nodes_no_delete")
        _restore_triggers(conn, "checkpoints_no_delete")
    _one_failure_line(cli("verify", "--anchor", str(logged / "c2")), "removed from the tail")
    assert cli("verify", "--anchor", str(logged / "c1")).code == 0


def test_the_store_s_own_newest_checkpoint_catches_a_cut_an_old_anchor_cannot(
    cli: Cli, db: Path, logged: Path
) -> None:
    with sqlite3.connect(db, isolation_level=None) as conn:
        _drop_triggers(conn, "events_no_delete", "merkle_nodes_no_delete")
        conn.execute("DELETE FROM events WHERE position > 301")
        for level in range(1, 10):
            conn.execute(
                "DELETE FROM merkle_nodes WHERE level = ? AND idx >= ?", (level, 301 >> level)
            )
        _restore_triggers(conn, "events_no_delete", "merkle_nodes_no_delete")
    _one_failure_line(
        cli("verify", "--anchor", str(logged / "c1")), "store's own newest checkpoint", "tail"
    )


def test_a_rewritten_past_with_the_tree_rebuilt_fails(cli: Cli, db: Path, logged: Path) -> None:
    with sqlite3.connect(db, isolation_level=None) as conn:
        _drop_triggers(conn, "events_no_update", "merkle_nodes_no_delete")
        conn.execute("UPDATE events SET data = json_set(data, '$.amount', 1) WHERE position = 10")
        _rehash_from(conn, 10)
        conn.execute("DELETE FROM merkle_nodes")
        build_tree(conn)
        _restore_triggers(conn, "events_no_update", "merkle_nodes_no_delete")
    assert cli("verify").code == 0  # the forged chain verifies on its own
    _one_failure_line(cli("verify", "--anchor", str(logged / "c1")), "history was rewritten")
    _one_failure_line(cli("verify", "--anchor", str(logged / "c2")), "history was rewritten")


def test_a_rewritten_past_with_the_tree_left_alone_fails(cli: Cli, db: Path, logged: Path) -> None:
    with sqlite3.connect(db, isolation_level=None) as conn:
        _drop_triggers(conn, "events_no_update")
        conn.execute("UPDATE events SET data = json_set(data, '$.amount', 1) WHERE position = 10")
        _rehash_from(conn, 10)
        _restore_triggers(conn, "events_no_update")
    _one_failure_line(
        cli("verify", "--anchor", str(logged / "c1")), "does not hash from the nodes below it"
    )


def test_a_changed_head_event_fails(cli: Cli, db: Path, logged: Path) -> None:
    with sqlite3.connect(db, isolation_level=None) as conn:
        _drop_triggers(conn, "events_no_update")
        conn.execute("UPDATE events SET data = json_set(data, '$.amount', '9.00') "
                     "WHERE position = 306")  # fmt: skip
        _restore_triggers(conn, "events_no_update")
    _one_failure_line(
        cli("verify", "--anchor", str(logged / "c2")), "head event's hash", "does not match"
    )


def test_a_fork_fails(cli: Cli, db: Path, logged: Path, tmp_path: Path) -> None:
    """Two copies of the same history that go different ways after c2: the checkpoint of
    one does not anchor the other, though both extend c2."""
    fork = tmp_path / "fork.db"
    with sqlite3.connect(db) as source, sqlite3.connect(fork) as target:
        source.backup(target)
    for path, amount in ((db, "1.00"), (fork, "2.00")):
        for _ in range(3):
            done = cli("exec", "deposit", "account_id=zz1", f"amount={amount}", db_path=path)
            assert done.code == 0, done.err
    c3 = tmp_path / "c3"
    c3.write_text(cli("checkpoint").out)
    assert cli("verify", "--anchor", str(c3)).code == 0
    assert cli("verify", "--anchor", str(logged / "c2"), db_path=fork).code == 0  # shared past
    _one_failure_line(cli("verify", "--anchor", str(c3), db_path=fork), "history was rewritten")


def test_an_event_changed_in_place_is_found_only_by_the_full_walk(
    cli: Cli, db: Path, logged: Path
) -> None:
    """The documented limit: the fast check does not re-hash every event."""
    with sqlite3.connect(db, isolation_level=None) as conn:
        _drop_triggers(conn, "events_no_update")
        conn.execute("UPDATE events SET data = json_set(data, '$.amount', 1) WHERE position = 10")
        _restore_triggers(conn, "events_no_update")
    assert cli("verify", "--anchor", str(logged / "c1")).code == 0
    walked = cli("verify", "--anchor", str(logged / "c1"), "--deep")
    assert walked.code == 1 and "position 10" in walked.err
    assert cli("verify").code == 1


def test_the_anchor_check_reads_no_more_than_a_few_events(
    cli: Cli, logged: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No chain walk, no full read: the walks fail if called, and the events read back
    one by one are counted."""

    def refuse(*args: object, **kwargs: object) -> Any:
        raise AssertionError("the fast anchor check walked the events")

    read: list[int] = []
    original = SqliteEventStore.read_all

    def counting(self: SqliteEventStore, *args: Any, **kwargs: Any) -> Any:
        events = original(self, *args, **kwargs)
        read.append(len(events))
        return events

    monkeypatch.setattr(SqliteEventStore, "verify", refuse)
    monkeypatch.setattr(SqliteEventStore, "iter_all", refuse)
    monkeypatch.setattr(SqliteEventStore, "read_all", counting)
    result = cli("verify", "--anchor", str(logged / "c1"), "--key", str(logged / "x.pub"))
    assert result.code == 0, result.err
    assert sum(read) <= 6, read  # the head and the one before; the event at each size
