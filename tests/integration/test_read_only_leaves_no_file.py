"""`--read-only` creates no file (issue 9 §4): no `-wal`/`-shm` that was not there before.

A `mode=ro` connection to a WAL database creates an empty `-wal` and a `-shm`, and may
not remove them when it closes. Every read-only command, and the app opened read-only,
must leave the folder as it found it: the same names, the same sizes, and the
database's modification time unchanged.
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest
from reliability_support import create_ledger, run_cli

from tui.app import open_app
from tui.bootstrap import open_workspace

Listing = dict[str, tuple[int, int]]

READING = [
    ["log"],
    ["log", "--json", "--from", "3"],
    ["state", "--json"],
    ["state", "--at", "5", "--projection", "account_balances"],
    ["diff", "2", "9"],
    ["verify"],
    ["verify", "--json"],
    ["export", "{out}"],
    ["commands"],
]


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    folder = tmp_path / "evidence"
    folder.mkdir()
    db = folder / "bank.db"
    create_ledger(db, synchronous="OFF")
    assert sorted(p.name for p in folder.iterdir()) == ["bank.db"]
    return db


def listing(folder: Path) -> Listing:
    """Name -> (size, mtime in ns) of every file in `folder`."""
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


@pytest.mark.parametrize("args", READING, ids=[" ".join(a) for a in READING])
def test_a_read_only_command_leaves_the_folder_as_it_was(
    bank: Path, tmp_path: Path, args: list[str]
) -> None:
    before = listing(bank.parent)
    argv = [a.replace("{out}", str(tmp_path / "out.jsonl")) for a in args]
    r = run_cli("--db", str(bank), "--read-only", *argv)
    assert r.code == 0, r.err
    assert listing(bank.parent) == before


def test_a_refused_read_only_open_leaves_the_folder_as_it_was(bank: Path) -> None:
    before = listing(bank.parent)
    r = run_cli("--db", str(bank), "--read-only", "--domain", "inventory", "log")
    assert r.code == 2 and "ledger domain" in r.err, r.err
    assert listing(bank.parent) == before


def test_sidecars_that_were_there_before_are_left_alone(bank: Path) -> None:
    """Another process has the database open: its -wal and -shm stay, as they are its."""
    holder = sqlite3.connect(bank)
    try:
        holder.execute("SELECT count(*) FROM events").fetchone()
        before = listing(bank.parent)
        assert {"bank.db-wal", "bank.db-shm"} <= set(before)
        r = run_cli("--db", str(bank), "--read-only", "verify")
        assert r.code == 0, r.err
        assert set(listing(bank.parent)) == set(before)
    finally:
        holder.close()


def test_a_reader_that_opens_meanwhile_keeps_its_files(bank: Path) -> None:
    """The read-only session's cleanup removes nothing another connection still uses."""
    workspace = open_workspace(bank, read_only=True)
    workspace.store.head()
    other = sqlite3.connect(f"{bank.resolve().as_uri()}?mode=ro", uri=True)
    try:
        other.execute("SELECT count(*) FROM events").fetchone()
        workspace.close()
        assert os.path.exists(f"{bank}-wal") and os.path.exists(f"{bank}-shm")
        assert other.execute("SELECT count(*) FROM events").fetchone()[0] > 0
    finally:
        other.close()


async def test_the_app_opened_read_only_leaves_the_folder_as_it_was(bank: Path) -> None:
    before = listing(bank.parent)
    workspace = open_workspace(bank, read_only=True)
    try:
        app = open_app(workspace, watch=True, verify=True)
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause(0.5)
            await pilot.press("left", "left", "home", "end")
            await pilot.pause(0.2)
            await pilot.press("q")
    finally:
        workspace.close()
    assert listing(bank.parent) == before
