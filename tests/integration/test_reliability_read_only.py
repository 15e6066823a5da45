"""`--read-only` cannot write (BRIEF §8): SQLite itself refuses, and so does the CLI.

A read-only store opens its file with `mode=ro`, so even a raw INSERT through its own
connection is refused by SQLite ("attempt to write a readonly database"), whatever
eventscope's own checks do. Commands that write are refused up front with one line;
commands that read work and leave the file's bytes as they were.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from bad_input_support import (
    Lab,
    build_lab_template,
    permissions_can_be_honoured,
    run_honouring_permissions,
)
from cli_support import head_of
from reliability_support import run_cli

from domain.errors import StoreError
from domain.ledger import LEDGER
from domain.ledger.projections import LEDGER_PROJECTIONS
from store.projector import Projector
from store.sqlite import SqliteEventStore
from store.sqlite.read_models import SqliteReadModels

READONLY = "attempt to write a readonly database"
RAW_WRITES = [
    "INSERT INTO events SELECT 999, 'forged', stream_id, stream_type, 99, type, schema_version, "
    "data, metadata, recorded_at, hash, hash FROM events WHERE position = 1",
    "UPDATE events SET data = '{}' WHERE position = 1",
    "DELETE FROM events WHERE position > 10",
    "INSERT INTO commands VALUES ('c', 'deposit', NULL, 'eve', '', 0, 0, NULL)",
    "INSERT INTO meta VALUES ('hash_mode', 'none')",
    "DROP TRIGGER events_no_update",
    "CREATE TABLE notes (x)",
    "PRAGMA user_version = 99",
]
WRITING = [
    ["exec", "deposit", "account_id=e1", "amount=1"],
    ["import", "{export}"],
    ["init"],
    ["rebuild"],
    ["project"],
    ["simulate", "--duration", "0"],
    ["demo", "--events", "10", "--no-open"],
]
READING = [
    ["log", "--json"],
    ["verify", "--json"],
    ["state", "--json"],
    ["state", "--at", "5", "--projection", "account_balances"],
    ["diff", "3", "12"],
    ["export", "{out}"],
]


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_lab_template(tmp_path_factory.mktemp("read-only-template"))


@pytest.fixture
def lab(template: Path, tmp_path: Path) -> Iterator[Lab]:
    lab = Lab.copy(template, tmp_path / "lab")
    yield lab
    lab.close()


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("sql", RAW_WRITES)
def test_sqlite_itself_refuses_a_raw_write_through_the_read_only_store(lab: Lab, sql: str) -> None:
    before = digest(lab.bank)
    with SqliteEventStore(lab.bank, read_only=True) as store:
        with pytest.raises(sqlite3.OperationalError, match=READONLY):
            store._conn().execute(sql)
        assert store.verify().ok
    assert digest(lab.bank) == before


def test_the_projectors_connection_is_read_only_too(lab: Lab) -> None:
    with SqliteEventStore(lab.bank, read_only=True) as store:
        projector = Projector(store, LEDGER_PROJECTIONS, LEDGER.catalog)
        try:
            models = projector.models
            assert isinstance(models, SqliteReadModels)
            with (
                pytest.raises(StoreError, match="open read-only: cannot forge a table"),
                models.transaction("forge a table", write=False) as tables,
            ):
                tables.conn.execute("CREATE TABLE rm_forged (key TEXT)")
            assert projector.status().role == "reader"
        finally:
            projector.close()


@pytest.mark.parametrize("args", WRITING, ids=[a[0] for a in WRITING])
def test_commands_that_write_are_refused_in_one_line(lab: Lab, args: list[str]) -> None:
    export = lab.jsonl(lab.rest, "rest.jsonl")
    argv = [a.replace("{export}", export) for a in args]
    before, bytes_before = head_of(lab.bank), digest(lab.bank)
    r = run_cli("--db", str(lab.bank), "--read-only", *argv)
    assert r.code == 2, r.err
    assert "drop --read-only" in r.err or "read-only" in r.err
    assert len(r.err.strip().splitlines()) == 1 and "Traceback" not in r.err
    assert head_of(lab.bank) == before and digest(lab.bank) == bytes_before


@pytest.mark.parametrize("args", READING, ids=[" ".join(a) for a in READING])
def test_commands_that_read_work_and_leave_the_file_as_it_was(lab: Lab, args: list[str]) -> None:
    argv = [a.replace("{out}", str(lab.folder / "out.jsonl")) for a in args]
    before = digest(lab.bank)
    r = run_cli("--db", str(lab.bank), "--read-only", *argv)
    assert r.code == 0, r.err
    assert digest(lab.bank) == before


def test_read_only_mode_reads_a_database_in_a_read_only_folder(lab: Lab) -> None:
    """An auditor's evidence copy on read-only media must be readable with --read-only.

    A WAL database needs its `-shm` index file; in a folder nobody may write, SQLite
    cannot create it and refuses a plain `mode=ro` open (SQLITE_READONLY_DIRECTORY).
    Today `--read-only` then fails with "is open read-only: cannot open", which is
    both wrong (nothing asked to write) and unhelpful. Opening such a file
    `immutable=1` (there is no -wal to miss when none can exist) reads it.
    """
    if not permissions_can_be_honoured():
        pytest.skip("root may not drop CAP_DAC_OVERRIDE here: no read-only folder without mount")
    folder = lab.read_only_folder()
    before = digest(folder / "bank.db")
    for args in (["log", "--json"], ["verify"], ["state", "--json"]):
        r = run_honouring_permissions(["--db", str(folder / "bank.db"), "--read-only", *args])
        assert r.code == 0, f"{args}: {r.err}"
    assert digest(folder / "bank.db") == before
