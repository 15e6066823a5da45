"""Fixtures for integration tests: real SQLite files in tmp_path, the CLI in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import Cli, CliResult
from postgres_server import REQUIRE_ENV, PostgresServer, ServerUnavailable, start_server

from tui.cli import main


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "bank.db"


@pytest.fixture
def cli(db: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    """Run `eventscope --db <db> ARGS...` in-process; returns code, stdout, stderr."""

    def run(*args: str, db_path: Path | None = None) -> CliResult:
        capsys.readouterr()
        code = main(["--db", str(db_path or db), "--actor", "tester", *args])
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throwaway PostgreSQL server per test process (per xdist worker).

    Without PostgreSQL's server programs the tests that use it skip, saying how to
    enable them; with EVENTSCOPE_REQUIRE_POSTGRES=1 (as in .ci/run) they fail instead.
    """
    try:
        server = start_server()
    except ServerUnavailable as exc:
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{exc} ({REQUIRE_ENV}=1: the PostgreSQL tests must run)")
        pytest.skip(f"{exc} (set {REQUIRE_ENV}=1 to make this a failure)")
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the throwaway server."""
    return postgres_server.database()
