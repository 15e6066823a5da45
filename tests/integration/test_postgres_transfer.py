"""Moving a store between SQLite and PostgreSQL with `export | import -`: the same head,
chain, refusals, commands, bookmarks and import records, and the same state at every
point, in both directions."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from postgres_server import PostgresServer

from store.sqlite import SqliteEventStore

EVENTSCOPE = [sys.executable, "-m", "tui"]


def _run(db: str, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*EVENTSCOPE, "--db", db, "--actor", "mover", *args],
        input=stdin,
        capture_output=True,
        check=False,
        timeout=600,
    )


def _ok(db: str, *args: str, stdin: bytes | None = None) -> bytes:
    done = _run(db, *args, stdin=stdin)
    assert done.returncode == 0, done.stderr.decode()
    return done.stdout


def _head(db: str) -> dict[str, object]:
    report = json.loads(_ok(db, "verify", "--json"))
    assert report["ok"] is True
    head: dict[str, object] = report["head"]
    return head


def _moved(source: str, target: str) -> None:
    """`eventscope --db SOURCE export | eventscope --db TARGET import -`."""
    exported = _ok(source, "export")
    _ok(target, "import", "-", stdin=exported)


@pytest.mark.slow
def test_sqlite_to_postgres_and_back_keeps_head_records_and_states(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    original = str(tmp_path / "original.db")
    _ok(original, "demo", "--events", "1500", "--no-open", "--seed", "3")
    with SqliteEventStore(original) as store:
        store.set_bookmark("audit-start", 42, actor="auditor")
    on_postgres = postgres_server.database()
    _moved(original, on_postgres)
    assert _head(on_postgres) == _head(original)

    back = str(tmp_path / "back.db")
    _moved(on_postgres, back)
    assert _head(back) == _head(original)

    # The records an audit needs came along: refusals and commands, import records.
    exported = [json.loads(line) for line in _ok(on_postgres, "export").splitlines()]
    kinds = {line.get("record") for line in exported if "record" in line}
    assert {"refusal", "command", "import", "bookmark"} <= kinds

    rng = random.Random(11)
    for position in [0, 1, 1500, *rng.sample(range(2, 1500), 4)]:
        want = _ok(original, "state", "--at", str(position), "--json")
        assert _ok(on_postgres, "state", "--at", str(position), "--json") == want
        assert _ok(back, "state", "--at", str(position), "--json") == want


def test_an_import_that_fails_leaves_postgres_unchanged(
    tmp_path: Path, postgres_server: PostgresServer
) -> None:
    original = str(tmp_path / "original.db")
    _ok(original, "demo", "--events", "200", "--no-open")
    lines = _ok(original, "export").splitlines()
    last_event = max(i for i, line in enumerate(lines) if line.startswith(b'{"position"'))
    lines[last_event] = lines[last_event].replace(b'"hash":"', b'"hash":"0', 1)
    broken = b"\n".join(lines)
    target = postgres_server.database()
    _ok(target, "init")
    done = _run(target, "import", "-", stdin=broken)
    assert done.returncode == 2
    assert len(done.stderr.decode().strip().splitlines()) == 1
    assert _head(target) == {"position": 0, "hash": "0" * 64}


def _nul_in_event_id(lines: list[bytes]) -> tuple[int, str]:
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"position":5,'))
    lines[at] = lines[at].replace(b'"event_id":"', b'"event_id":"\\u0000', 1)
    return at, "event_id contains control"


def _nul_in_refusal_reason(lines: list[bytes]) -> tuple[int, str]:
    at = next(i for i, line in enumerate(lines) if line.startswith(b'{"record":"refusal"'))
    lines[at] = lines[at].replace(b'"reason":"', b'"reason":"\\u0000', 1)
    return at, "refusal record: reason contains control"


@pytest.mark.parametrize("damage", [_nul_in_event_id, _nul_in_refusal_reason])
def test_text_postgres_cannot_hold_is_refused_at_its_line_as_on_sqlite(
    tmp_path: Path, postgres_server: PostgresServer, damage: Any
) -> None:
    """A NUL in an event id or a record's text reached the server before, which refused
    it without naming the line (and SQLite stored it): it is now refused at its line, by
    the same rule on both stores, and nothing is written."""
    original = str(tmp_path / "original.db")
    _ok(original, "demo", "--events", "200", "--no-open")
    lines = _ok(original, "export").splitlines()
    at, problem = damage(lines)
    damaged = b"\n".join(lines)
    on_postgres = postgres_server.database()
    _ok(on_postgres, "init")
    outcomes = []
    for target in (on_postgres, str(tmp_path / "copy.db")):
        done = _run(target, "import", "-", stdin=damaged)
        assert done.returncode == 2
        assert len(done.stderr.decode().strip().splitlines()) == 1
        outcomes.append(done.stderr.decode().split("error: ", 1)[1].split(": ", 1)[1])
    assert outcomes[0] == outcomes[1]
    assert f"line {at + 1}: {problem}" in outcomes[0]
    assert _head(on_postgres) == {"position": 0, "hash": "0" * 64}
    assert not (tmp_path / "copy.db").exists()
