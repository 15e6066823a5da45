"""`--db` names a store: a SQLite path or `sqlite:///path`, `memory:`, or a PostgreSQL
URL; what needs a file refuses the others with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli

from domain.errors import InvalidInput
from tui.bootstrap import database_path


def test_a_path_and_a_sqlite_url_name_the_same_file(tmp_path: Path) -> None:
    target = tmp_path / "bank.db"
    assert database_path(str(target)) == target
    assert database_path(f"sqlite:///{target}") == target
    assert database_path("sqlite:///relative.db") == Path("relative.db")


def test_no_value_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EVENTSCOPE_DB", "from-env.db")
    assert database_path(None) == Path("from-env.db")


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("postgresql://localhost/bank", "needs a database file, and this store has none"),
        ("postgres://u:secret@localhost/bank", "postgres://u:\\*\\*\\*@localhost/bank"),
        ("memory:", "needs a database file"),
        ("sqlite://bank.db", "write sqlite:///relative.db"),
    ],
)
def test_urls_that_name_no_sqlite_file_are_refused_where_a_file_is_needed(
    value: str, reason: str
) -> None:
    with pytest.raises(InvalidInput, match=reason):
        database_path(value)


def test_the_cli_opens_a_sqlite_url(cli: Cli, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'url.db'}"
    assert cli("--db", url, "init").code == 0
    assert (tmp_path / "url.db").exists()
    assert cli("--db", url, "verify").code == 0


def test_the_cli_names_an_unreachable_postgresql_server_in_one_line(cli: Cli) -> None:
    result = cli("--db", "postgresql://u:secret@127.0.0.1:1/bank", "verify")
    assert result.code == 2
    assert "cannot reach the server" in result.err and "secret" not in result.err
    assert len(result.err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "query",
    [
        "password=s3cr3t-pw",
        "sslmode=prefer&password=s3cr3t-pw",
        "sslpassword=s3cr3t-pw&password=s3cr3t-pw&foo=1",  # unknown `foo`: refused early
        "password=s3cr3t-pw&connect_timeout=bad",
    ],
)
def test_a_password_given_as_a_url_parameter_is_never_printed(
    cli: Cli, postgres_url: str, query: str
) -> None:
    missing = postgres_url.rsplit("/", 1)[0] + "/no_such_database"
    for url in (f"{missing}?{query}", "postgresql://u@127.0.0.1:1/bank?" + query):
        result = cli("--db", url, "verify")
        assert result.code == 2, result
        assert "s3cr3t-pw" not in result.err + result.out, result.err
        assert "password=***" in result.err
        assert len(result.err.strip().splitlines()) == 1


def test_the_cli_runs_on_the_in_memory_store(cli: Cli) -> None:
    result = cli("--db", "memory:", "demo", "--events", "500", "--no-open")
    assert result.code == 0, result.err
    result = cli("--db", "memory:", "--read-only", "verify")
    assert result.code == 2
    assert "memory: starts empty" in result.err and len(result.err.strip().splitlines()) == 1
