"""Export carries everything an audit needs; import restores it (issue 9 §4 content).

A round trip keeps the head, `state --json` (refusal counts included), the bookmarks
and the import records, and the commands' payloads: a reused command id with another
command type is still refused afterwards.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import orjson
import pytest
from cli_support import Cli

from store.sqlite import SqliteEventStore


def _demo(cli: Cli, db: Path, domain: str) -> None:
    r = cli("--domain", domain, "demo", "--events", "600", "--no-open", db_path=db)
    assert r.code == 0, r.err
    with SqliteEventStore.open(db) as store:
        store.set_bookmark("before the audit", 120, actor="ann")
        store.set_bookmark("end", store.head().position, actor="bob")


def _round_trip(cli: Cli, source: Path, target: Path, work: Path, domain: str = "ledger") -> Path:
    dump = work / f"{source.stem}.jsonl"
    assert cli("export", str(dump), db_path=source).code == 0
    r = cli("--domain", domain, "import", str(dump), db_path=target)
    assert r.code == 0, r.err
    return dump


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(db) as conn:
        return conn.execute(sql).fetchall()


@pytest.mark.parametrize("domain", ["ledger", "inventory"])
def test_a_round_trip_keeps_head_state_refusals_bookmarks_and_commands(
    cli: Cli, tmp_path: Path, domain: str
) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _demo(cli, a, domain)
    _round_trip(cli, a, b, tmp_path, domain)
    va, vb = cli("verify", "--json", db_path=a).json(), cli("verify", "--json", db_path=b).json()
    assert va["head"] == vb["head"]  # type: ignore[index]
    state_a = cli("state", "--json", db_path=a)
    state_b = cli("state", "--json", db_path=b)
    assert state_a.code == 0 and state_a.out == state_b.out
    if domain == "ledger":  # its state counts refusals per account: compared above too
        assert '"refusals":' in state_a.out
    refusals = "SELECT recorded_at, at_position, actor, command_id, command, reason, code "
    assert _rows(a, refusals + "FROM refusals ORDER BY id") == _rows(
        b, refusals + "FROM refusals ORDER BY id"
    )
    assert len(_rows(a, "SELECT 1 FROM refusals")) > 0
    commands = "SELECT * FROM commands ORDER BY command_id"
    assert _rows(a, commands) == _rows(b, commands)
    bookmarks = "SELECT name, position, actor, created_at FROM bookmarks ORDER BY name"
    assert _rows(a, bookmarks) == _rows(b, bookmarks)


def test_import_records_survive_a_round_trip(cli: Cli, tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.db", tmp_path / "b.db", tmp_path / "c.db"
    _demo(cli, a, "ledger")
    dump = _round_trip(cli, a, b, tmp_path)
    _round_trip(cli, b, c, tmp_path)
    verified = cli("verify", "--json", db_path=c).json()
    imports = verified["imports"]  # type: ignore[index]
    assert [i["restored_by"] for i in imports] == [2, None]
    import hashlib

    assert imports[0]["sha256"] == hashlib.sha256(dump.read_bytes()).hexdigest()
    assert imports[0]["actor"] == imports[1]["actor"] == "tester"
    text = cli("verify", db_path=c).out
    assert "2 imports: #1-#" in text and "restored by import 2" in text


def test_a_reused_command_id_with_another_type_is_still_refused(cli: Cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    assert cli("init", db_path=a).code == 0
    assert (
        cli("exec", "open_account", "account_id=a1", "owner=Ann", "currency=EUR", db_path=a).code
        == 0
    )
    r = cli("exec", "deposit", "account_id=a1", "amount=5.00", "--command-id", "cmd-1", db_path=a)
    assert r.code == 0, r.err
    _round_trip(cli, a, b, tmp_path)
    again = cli(
        "exec", "withdraw", "account_id=a1", "amount=1.00", "--command-id", "cmd-1", db_path=b
    )
    assert again.code == 2 and "already used for a different command (deposit)" in again.err
    same = cli(
        "exec", "deposit", "account_id=a1", "amount=5.00", "--command-id", "cmd-1", db_path=b
    )
    assert same.code == 0 and orjson.loads(same.out)["duplicate"] is True


def test_an_old_export_of_events_only_still_imports(cli: Cli, tmp_path: Path) -> None:
    a, b = tmp_path / "a.db", tmp_path / "b.db"
    _demo(cli, a, "ledger")
    dump = tmp_path / "new.jsonl"
    assert cli("export", str(dump), db_path=a).code == 0
    old = tmp_path / "old.jsonl"
    old.write_bytes(b"".join(x for x in dump.read_bytes().splitlines(True) if b'"record"' not in x))
    r = cli("import", str(old), db_path=b)
    assert r.code == 0, r.err
    assert (
        cli("verify", "--json", db_path=a).json()["head"]
        == cli(  # type: ignore[index]
            "verify", "--json", db_path=b
        ).json()["head"]
    )  # type: ignore[index]
