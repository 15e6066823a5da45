"""The README's "Running on PostgreSQL" steps, run as a new user would type them, against
the throwaway server: each `eventscope` line succeeds and does what its comment says.

The walk found `eventscope demo` there run into a database that already held the
account just opened, so it wrote no demo data (it opens a non-empty database as it is).
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

import psycopg
import pytest
from postgres_server import PostgresServer
from reliability_support import run_cli

README = (Path(__file__).resolve().parents[2] / "README.md").read_text()
EXAMPLE_URL = re.compile(r"postgresql://alice@db\.example:5432/(\w+)")


def _steps() -> list[str]:
    """The first shell block of the section, one command a line, comments dropped."""
    section = README[README.index("## Running on PostgreSQL") :]
    match = re.search(r"```sh\n(.*?)```", section, re.S)
    assert match, "the section has no shell block"
    return [line.split("  #")[0].strip() for line in match.group(1).splitlines() if line.strip()]


def test_the_readme_postgresql_steps_run_and_demo_writes_its_data(
    postgres_server: PostgresServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    databases: dict[str, str] = {}

    def url(match: re.Match[str]) -> str:
        return postgres_server.url(databases[match.group(1)])

    ran: list[str] = []
    for step in _steps():
        words = shlex.split(EXAMPLE_URL.sub(url, step))
        if words[:2] == ["pip", "install"]:
            continue
        if words[0] == "createdb":
            databases[words[1]] = f"readme_{os.getpid()}_{words[1]}"
            with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{databases[words[1]]}"')
            continue
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            monkeypatch.setenv(name, value)
            continue
        assert words[0] == "eventscope", step
        if len(words) == 1:  # the app itself: interactive (tests/tui run it)
            continue
        if "demo" in words:  # a smaller history, and no app
            words = [w if not w.isdigit() else "300" for w in words] + ["--no-open"]
        done = run_cli(*words[1:])
        assert done.code == 0, (step, done)
        assert "already holds" not in done.out + done.err, (step, done)
        ran.append(words[-1] if "demo" not in words else "demo")
    assert "demo" in ran and "init" in ran
    demo = postgres_server.url(databases["demo"])
    shown = run_cli("--db", demo, "--read-only", "verify", "--json")
    assert shown.code == 0 and '"position":300' in shown.out.replace(" ", ""), shown


def test_demo_into_a_database_that_holds_one_event_says_so_in_good_english(
    postgres_url: str,
) -> None:
    assert run_cli("--db", postgres_url, "init").code == 0
    opened = run_cli(
        "--db", postgres_url, "exec", "open_account", "account_id=a1", "owner=A", "currency=EUR"
    )
    assert opened.code == 0, opened
    done = run_cli("--db", postgres_url, "demo", "--events", "300", "--no-open")
    assert done.code == 0 and "already holds 1 event: opening it as it is" in done.err, done
