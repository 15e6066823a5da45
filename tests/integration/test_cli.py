"""The CLI as BRIEF §8 documents it: happy paths, and bad input that changes nothing."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import Cli, head_of


def _bank(cli: Cli) -> None:
    assert cli("init").code == 0
    for account_id, owner, currency in [
        ("a1", "Ada", "EUR"),
        ("a2", "Bob", "EUR"),
        ("u1", "Cy", "USD"),
        ("f1", "Fay", "EUR"),
        ("c1", "Cal", "EUR"),
    ]:
        r = cli(
            "exec",
            "open_account",
            f"account_id={account_id}",
            f"owner={owner}",
            f"currency={currency}",
        )
        assert r.code == 0, r.err
    assert cli("exec", "deposit", "account_id=a1", "amount=100.00").code == 0
    assert cli("exec", "deposit", "account_id=f1", "amount=5.00").code == 0
    assert cli("exec", "freeze_account", "account_id=f1", "reason=fraud check").code == 0
    assert cli("exec", "close_account", "account_id=c1", "reason=moved away").code == 0


def test_walkthrough_open_deposit_transfer_log_verify(cli: Cli) -> None:
    _bank(cli)
    r = cli("exec", "transfer", "from_account=a1", "to_account=a2", "amount=25.50")
    assert r.code == 0
    result = r.json()
    assert isinstance(result, dict)
    assert [e["type"] for e in result["events"]] == ["TransferSent", "TransferReceived"]
    assert result["positions"] == [10, 11]
    log = cli("log", "--json").lines()
    assert [e["position"] for e in log] == list(range(1, 12))
    assert log[-1]["data"]["amount"] == 2550
    assert cli("verify").code == 0


def test_same_command_id_appends_nothing(cli: Cli, db: Path) -> None:
    _bank(cli)
    first = cli("exec", "deposit", "account_id=a1", "amount=1.00", "--command-id", "k-1")
    before = head_of(db)
    again = cli("exec", "deposit", "account_id=a1", "amount=1.00", "--command-id", "k-1")
    assert first.code == again.code == 0
    assert again.json()["duplicate"] is True  # type: ignore[index]
    assert again.json()["positions"] == first.json()["positions"]  # type: ignore[index]
    assert head_of(db) == before
    other = cli("exec", "deposit", "account_id=a1", "amount=2.00", "--command-id", "k-1")
    assert other.code == 2 and "already used for a different command" in other.err


def test_log_filters(cli: Cli) -> None:
    _bank(cli)
    by_stream = cli("log", "--stream", "account-a1", "--json").lines()
    assert {e["stream_id"] for e in by_stream} == {"account-a1"}
    by_type = cli("log", "--type", "AccountOpened", "--json").lines()
    assert len(by_type) == 5
    window = cli("log", "--from", "3", "--to", "4", "--json").lines()
    assert [e["position"] for e in window] == [3, 4]
    assert len(cli("log", "--actor", "nobody", "--json").lines()) == 0
    human = cli("log").out.splitlines()
    assert len(human) == 9 and "AccountOpened" in human[0]


BAD_COMMANDS = [
    (["exec", "teleport", "x=1"], 2, "unknown command 'teleport'"),
    (["exec", "deposit", "account_id=a1"], 2, "amount is required"),
    (["exec", "deposit", "account_id=a1", "amount=1", "memo=x"], 2, "memo is not a field"),
    (["exec", "deposit", "--json", '{"account_id": "a1", "amount": 5.5}'], 2, "amount"),
    (["exec", "deposit", "account_id=a1", "amount=0"], 2, "more than 0"),
    (["exec", "deposit", "account_id=a1", "amount=-5"], 2, "amount"),
    (["exec", "deposit", "account_id=a1", "amount=abc"], 2, "not a decimal number"),
    (["exec", "deposit", "account_id=a1", "amount=1.234"], 2, "more than 2 decimals"),
    (["exec", "deposit", "account_id=a1", "amount=99999999999999999"], 2, "too large"),
    (["exec", "deposit", "account_id=zz", "amount=1"], 1, "zz does not exist"),
    (["exec", "open_account", "account_id=a1", "owner=X", "currency=EUR"], 1, "a1"),
    (["exec", "withdraw", "account_id=a1", "amount=100.01"], 1, "overdraft limit"),
    (["exec", "transfer", "from_account=a1", "to_account=a1", "amount=1"], 1, "to itself"),
    (["exec", "transfer", "from_account=a1", "to_account=u1", "amount=1"], 1, "one currency"),
    (["exec", "deposit", "account_id=f1", "amount=1"], 1, "frozen"),
    (["exec", "deposit", "account_id=c1", "amount=1"], 1, "closed"),
    (["exec", "close_account", "account_id=a1", "reason=bye"], 1, "still holds"),
    (["exec", "deposit", "account_id=a1", "amount"], 2, "not key=value"),
    (["exec", "deposit", "--json", "[1, 2]"], 2, "JSON object"),
    (["exec", "deposit", "--json", "{nope"], 2, "not valid JSON"),
    (["log", "--from", "-1"], 2, "--from must be >= 0"),
    (["frobnicate"], 2, "invalid choice"),
    (["verify", "--anchor", "missing.json"], 2, "does not exist"),
]


@pytest.mark.parametrize(("args", "code", "message"), BAD_COMMANDS)
def test_bad_input_is_one_line_and_changes_nothing(
    cli: Cli, db: Path, args: list[str], code: int, message: str
) -> None:
    _bank(cli)
    before = head_of(db)
    r = cli(*args)
    assert r.code == code, r.err
    assert message.lower() in r.err.lower()
    assert len(r.err.strip().splitlines()) == 1, r.err
    assert "Traceback" not in r.err
    assert head_of(db) == before


def test_refusals_are_recorded_for_the_audit(cli: Cli, db: Path) -> None:
    _bank(cli)
    assert cli("exec", "withdraw", "account_id=a1", "amount=500").code == 1
    with sqlite3.connect(db) as conn:
        rows = conn.execute("SELECT actor, command_type, reason FROM refusals").fetchall()
    assert rows == [("tester", "withdraw", rows[0][2])]
    assert "overdraft limit" in rows[0][2]


def test_db_in_missing_folder(cli: Cli, tmp_path: Path) -> None:
    r = cli("init", db_path=tmp_path / "nowhere" / "x.db")
    assert r.code == 2 and "does not exist" in r.err and len(r.err.splitlines()) == 1
    assert not (tmp_path / "nowhere").exists()


def test_file_that_is_not_sqlite(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("just some notes\n" * 100)
    r = cli("log", db_path=path)
    assert r.code == 2 and "not a SQLite database" in r.err
    assert path.read_text() == "just some notes\n" * 100


def test_sqlite_file_of_another_program(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE photos (id INTEGER PRIMARY KEY)")
    r = cli("log", db_path=path)
    assert r.code == 2 and "not an eventscope database" in r.err


def test_newer_schema_is_refused(cli: Cli, db: Path) -> None:
    _bank(cli)
    with sqlite3.connect(db) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        conn.execute(f"PRAGMA user_version = {version + 1}")
    r = cli("log")
    assert r.code == 2 and "newer eventscope" in r.err


def test_locked_by_another_writer(cli: Cli, db: Path) -> None:
    _bank(cli)
    before = head_of(db)
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        r = cli("--busy-timeout", "100", "exec", "deposit", "account_id=a1", "amount=1")
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert r.code == 2 and "locked" in r.err and len(r.err.splitlines()) == 1
    assert head_of(db) == before


def test_tampering_is_named_by_verify(cli: Cli, db: Path) -> None:
    _bank(cli)
    with sqlite3.connect(db) as conn:
        conn.execute("DROP TRIGGER IF EXISTS events_no_update")
        triggers = [
            r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
        ]
        for name in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("UPDATE events SET data = replace(data, '10000', '99999') WHERE position = 6")
    r = cli("verify")
    assert r.code == 1 and "position 6" in r.err
    j = cli("verify", "--json")
    assert j.code == 1 and j.json()["first_bad_position"] == 6  # type: ignore[index]


def test_truncated_tail_is_caught_by_anchor(cli: Cli, db: Path, tmp_path: Path) -> None:
    _bank(cli)
    anchor = tmp_path / "head.json"
    anchor.write_text(cli("verify", "--json").out)
    assert cli("verify", "--anchor", str(anchor)).code == 0
    with sqlite3.connect(db) as conn:
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.execute("DELETE FROM events WHERE position > 7")
    report = cli("verify", "--json").json()
    assert isinstance(report, dict)
    assert report["first_bad_position"] is None  # the shorter chain is self-consistent...
    assert "events_no_update is missing" in report["schema"]["problem"]  # (triggers dropped)
    r = cli("verify", "--anchor", str(anchor))
    assert r.code == 1 and "removed from the tail" in r.err  # ...but not what was kept


def test_export_import_roundtrip(cli: Cli, db: Path, tmp_path: Path) -> None:
    _bank(cli)
    dump = tmp_path / "dump.jsonl"
    assert cli("export", str(dump)).code == 0
    copy = tmp_path / "copy.db"
    r = cli("import", str(dump), db_path=copy)
    assert r.code == 0, r.err
    assert head_of(copy) == head_of(db)
    original = cli("log", "--json").out
    assert cli("log", "--json", db_path=copy).out == original


def _dump_lines(cli: Cli, tmp_path: Path) -> list[str]:
    dump = tmp_path / "dump.jsonl"
    assert cli("export", str(dump)).code == 0
    # Only the event lines: the format of older exports, which must still import.
    return [line for line in dump.read_text().splitlines() if '"record"' not in line]


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda ls: [*ls[:3], "{not json", *ls[3:]], "line 4"),
        (lambda ls: [ls[0], ls[2], ls[1], *ls[3:]], "line 2"),
        (lambda ls: [*ls[:3], ls[2], *ls[3:]], "line 4"),
        (lambda ls: [*ls[:5], ls[5].replace(":10000,", ":99999,"), *ls[6:]], "line 6"),
        (lambda ls: [], "empty"),
    ],
    ids=["malformed", "reordered", "duplicated", "tampered", "empty"],
)
def test_bad_import_names_the_line_and_writes_nothing(
    cli: Cli, tmp_path: Path, mangle: object, message: str
) -> None:
    _bank(cli)
    lines = _dump_lines(cli, tmp_path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(mangle(lines)) + "\n")  # type: ignore[operator]
    target = tmp_path / "target.db"
    assert cli("init", db_path=target).code == 0
    before = head_of(target)
    r = cli("import", str(bad), db_path=target)
    assert r.code == 2 and message in r.err, r.err
    assert len(r.err.strip().splitlines()) == 1
    assert head_of(target) == before


def test_no_traceback_from_the_real_entry_point(tmp_path: Path) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "tui", "--db", str(tmp_path / "x" / "y.db"), "init"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
