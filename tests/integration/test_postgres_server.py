"""The throwaway PostgreSQL server the tests use: it runs, each test gets its own empty
database, and a test run killed by SIGKILL leaves no server running."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from postgres_server import (
    OWNER_FILE,
    PostgresServer,
    process_start_time,
    reap_stale_servers,
)

SUPPORT = Path(__file__).parents[1] / "support"
HANG_GUARD = 120.0


def test_each_test_gets_a_fresh_empty_database(postgres_server: PostgresServer) -> None:
    first, second = postgres_server.database(), postgres_server.database()
    assert first != second
    with psycopg.connect(first) as conn:
        conn.execute("CREATE TABLE t (x int)")
    with psycopg.connect(second) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchone()
    assert tables == (0,)


def test_the_server_speaks_a_supported_version(postgres_url: str) -> None:
    with psycopg.connect(postgres_url) as conn:
        assert conn.info.server_version >= 120000


# -- servers left by a killed test run -------------------------------------------------------

_OWNER = """
import sys, time
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from postgres_server import start_server
server = start_server(parent=Path(sys.argv[2]))
if sys.argv[3] == "no-watchdog":  # as if the watchdog had been killed too
    server._watchdog.kill()
print(server.folder, server.port, flush=True)
time.sleep(600)
"""


@pytest.fixture
def parent() -> Iterator[Path]:
    """A folder for servers, readable by the server's user (not under pytest's 0700 dirs)."""
    folder = Path(tempfile.mkdtemp(prefix="eventscope-pg-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _owned_server_killed(parent: Path, mode: str) -> tuple[Path, int]:
    """Start a server from a child process, SIGKILL the child; the server's folder and port."""
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER, str(SUPPORT), str(parent), mode],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert owner.stdout is not None
    folder, port = owner.stdout.readline().split()
    assert _running(int(port))
    owner.kill()
    owner.communicate(timeout=HANG_GUARD)
    return Path(folder), int(port)


def _running(port: int) -> bool:
    try:
        psycopg.connect(
            f"postgresql://postgres@127.0.0.1:{port}/postgres", connect_timeout=5
        ).close()
    except psycopg.OperationalError:
        return False
    return True


def test_a_server_stops_when_its_owner_is_killed(parent: Path) -> None:
    folder, port = _owned_server_killed(parent, "watchdog")
    deadline = time.monotonic() + HANG_GUARD
    while folder.exists() or _running(port):
        assert time.monotonic() < deadline, "the server outlived its owner"
        time.sleep(0.2)


def test_the_next_start_reaps_servers_of_dead_owners_only(parent: Path) -> None:
    folder, port = _owned_server_killed(parent, "no-watchdog")
    assert folder.exists() and _running(port)  # leaked: nobody stopped it
    alive = parent / "eventscope-pg-alive"
    alive.mkdir()
    (alive / OWNER_FILE).write_text(f"{os.getpid()} {process_start_time(os.getpid())}\n")
    foreign = parent / "eventscope-pg-foreign"  # no owner recorded: not ours to judge
    foreign.mkdir()

    assert reap_stale_servers(parent) == [folder]
    assert not folder.exists() and not _running(port)
    assert alive.exists() and foreign.exists()
