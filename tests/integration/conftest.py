"""Fixtures for integration tests: real SQLite files in tmp_path, the CLI in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli, CliResult

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
