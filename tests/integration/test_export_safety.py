"""`export FILE` never overwrites the database, and never leaves a partial file (issue 9 §4).

`open(FILE, "wb")` used to truncate FILE before writing: `export bank.db` left the
database at 0 bytes, through a hard link or a symlink too, and even with --read-only.
Now the database and its sidecars are refused (by inode and by name), an existing
file needs --force, and the bytes go through a temporary file renamed into place.
"""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest
from cli_support import head_of
from reliability_support import create_ledger, run_cli, subprocess_env

from store.sqlite import SqliteEventStore


@pytest.fixture
def bank(tmp_path: Path) -> Path:
    db = tmp_path / "bank.db"
    create_ledger(db, synchronous="OFF")
    return db


def _events_in(export: bytes) -> int:
    """The event lines of an export (the others are `{"record": ...}` lines)."""
    return sum("record" not in orjson.loads(line) for line in export.splitlines())


def _listing(folder: Path) -> dict[str, str]:
    """Every file in `folder` (following no links) with a digest of its bytes."""
    seen = {}
    for path in sorted(folder.iterdir()):
        if path.is_symlink():
            seen[path.name] = "-> " + os.readlink(path)
        elif path.is_file():
            seen[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            seen[path.name] = "folder"
    return seen


TARGETS: list[tuple[str, Callable[[Path], str]]] = [
    ("the database", str),
    ("the database, by another spelling", lambda db: f"{db.parent}/./{db.name}"),
    ("its -wal", lambda db: f"{db}-wal"),
    ("its -shm", lambda db: f"{db}-shm"),
    ("its -journal", lambda db: f"{db}-journal"),
    ("a hard link to it", lambda db: (os.link(db, db.parent / "link.db"), "link.db")[1]),
    ("a symlink to it", lambda db: (os.symlink(db, db.parent / "sym.db"), "sym.db")[1]),
]


@pytest.mark.parametrize("force", [False, True], ids=["", "--force"])
@pytest.mark.parametrize("read_only", [False, True], ids=["", "--read-only"])
@pytest.mark.parametrize(("name", "target"), TARGETS, ids=[t[0] for t in TARGETS])
def test_export_onto_the_database_is_refused_and_changes_nothing(
    bank: Path,
    name: str,
    target: Callable[[Path], str],
    read_only: bool,
    force: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(bank.parent)
    out = target(bank)
    before, head = _listing(bank.parent), head_of(bank)
    argv = ["--db", str(bank), *(["--read-only"] if read_only else []), "export", out]
    r = run_cli(*argv, *(["--force"] if force else []))
    assert r.code == 2, (name, r.err)
    assert "is the database" in r.err and len(r.err.strip().splitlines()) == 1, r.err
    assert _listing(bank.parent) == before
    assert head_of(bank) == head and bank.stat().st_size > 0


def test_export_onto_the_live_wal_of_an_open_database_is_refused(bank: Path) -> None:
    with SqliteEventStore(bank, synchronous="OFF") as store:  # keeps -wal and -shm open
        store.head()
        wal = Path(f"{bank}-wal")
        assert wal.exists()
        link = bank.parent / "wal-link"
        os.link(wal, link)
        r = run_cli("--db", str(bank), "export", str(link), "--force")
        assert r.code == 2 and "is the database" in r.err, r.err
        assert store.verify().ok


def test_an_existing_file_needs_force(bank: Path) -> None:
    out = bank.parent / "backup.jsonl"
    out.write_bytes(b"keep me\n")
    r = run_cli("--db", str(bank), "export", str(out))
    assert r.code == 2 and "exists; give --force" in r.err, r.err
    assert out.read_bytes() == b"keep me\n"
    r = run_cli("--db", str(bank), "export", str(out), "--force")
    assert r.code == 0, r.err
    assert _events_in(out.read_bytes()) == head_of(bank)[0]


def test_a_new_export_gets_the_usual_permissions_and_a_replaced_one_keeps_its_own(
    bank: Path,
) -> None:
    out = bank.parent / "new.jsonl"
    umask = os.umask(0o022)
    try:
        assert run_cli("--db", str(bank), "export", str(out)).code == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    out.chmod(0o600)
    assert run_cli("--db", str(bank), "export", str(out), "--force").code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    ("target", "message"),
    [("/dev/null", "not a regular file"), (".", "is a folder")],
)
def test_a_device_or_a_folder_is_refused_even_with_force(
    bank: Path, target: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(bank.parent)
    before = _listing(bank.parent)
    r = run_cli("--db", str(bank), "export", target, "--force")
    assert r.code == 2 and message in r.err, r.err
    assert _listing(bank.parent) == before and os.path.exists("/dev/null")


def test_a_failed_export_leaves_neither_a_partial_file_nor_a_temporary_one(
    bank: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The disk fills up half-way: the old file is as it was and nothing else is left."""
    import store.transfer.export

    out = bank.parent / "backup.jsonl"
    out.write_bytes(b"yesterday's export\n")
    before = _listing(bank.parent)

    def full_disk(store: object, stream: object, *args: object, **kwargs: object) -> int:
        stream.write(b'{"position": 1}\n')  # type: ignore[attr-defined]
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.transfer.export, "export_history", full_disk)
    r = run_cli("--db", str(bank), "export", str(out), "--force")
    assert r.code == 2 and "No space left" in r.err, r.err
    assert _listing(bank.parent) == before


def test_an_unwritable_folder_is_one_line_and_leaves_nothing(bank: Path) -> None:
    r = run_cli("--db", str(bank), "export", str(bank.parent / "missing" / "out.jsonl"))
    assert r.code == 2 and "cannot write" in r.err, r.err
    assert not (bank.parent / "missing").exists()


def test_stdout_export_still_works(bank: Path) -> None:
    for argv in (["export"], ["export", "-"], ["--read-only", "export", "-"]):
        done = subprocess.run(
            [sys.executable, "-m", "tui", "--db", str(bank), *argv],
            env=subprocess_env(),
            capture_output=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        assert _events_in(done.stdout) == head_of(bank)[0]
