"""`verify --deep` on every store: the same check (store/deep_check.py, over the store
roles) on PostgreSQL and in memory as on SQLite (tests/integration/test_derived_data_trust.py).

On PostgreSQL a demo ledger (read models, snapshots in the database, commands rows)
verifies deep, and each forgery an administrator could make behind eventscope's back
is named: a snapshot manifest swapped, a read-model row edited, the checkpoint moved
back, a commands row pre-seeded for a future command id; with the key, a snapshot
re-signed without it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest
from postgres_server import PostgresServer
from reliability_support import run_cli

EVENTS = 2600
"""Two snapshots (the cadence is 1024) and a tail after them."""
KEY = b"the auditor's HMAC key"


def forge_snapshot(url: str) -> tuple[str, ...]:
    _sql(
        url,
        "UPDATE snapshots SET blob = (SELECT blob FROM snapshots WHERE position = 1024) "
        "WHERE position = 2048",
    )
    return ("snapshot at #2048",)


def forge_read_model_row(url: str) -> tuple[str, ...]:
    _sql(
        url,
        "UPDATE rm_account_balances SET row = jsonb_set(row::jsonb, '{owner}', "
        "'\"Mallory\"')::text WHERE key = (SELECT min(key) FROM rm_account_balances)",
    )
    return ("account_balances row",)


def forge_checkpoint(url: str) -> tuple[str, ...]:
    _sql(url, "UPDATE projector_checkpoint SET position = position - 1")
    return ("checkpoint", f"#{EVENTS - 1}")


def forge_future_command(url: str) -> tuple[str, ...]:
    _sql(
        url,
        "INSERT INTO commands (command_id, command_type, payload, actor, recorded_at, "
        "first_position, last_position) SELECT 'pay-future-1', 'deposit', NULL, 'mallory', "
        "max(recorded_at), max(position) + 1, max(position) + 1 FROM events",
    )
    return ("command id pay-future-1",)


def _sql(url: str, statement: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(statement)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def demo(postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A demo ledger on PostgreSQL, copied per test (CREATE DATABASE ... TEMPLATE)."""
    url = postgres_server.database()
    made = run_cli("--db", url, "demo", "--events", str(EVENTS), "--no-open")
    assert made.code == 0, made
    return url


def _copy(server: PostgresServer, template: str) -> str:
    copy = server.database()
    name, source = copy.rsplit("/", 1)[1], template.rsplit("/", 1)[1]
    with psycopg.connect(server.url(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')  # type: ignore[arg-type]
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{source}"')  # type: ignore[arg-type]
    return copy


def test_a_demo_on_postgresql_verifies_deep(demo: str, postgres_server: PostgresServer) -> None:
    url = _copy(postgres_server, demo)
    result = run_cli("--db", url, "verify", "--deep", "--json")
    assert result.code == 0, result
    deep = json.loads(result.out)["deep"]
    assert deep["ok"] and deep["read_models_position"] == EVENTS
    assert deep["snapshots"] == 2 and deep["commands"] > 0


@pytest.mark.parametrize(
    "forge", [forge_snapshot, forge_read_model_row, forge_checkpoint, forge_future_command]
)
def test_verify_deep_on_postgresql_names_each_forgery(
    demo: str, postgres_server: PostgresServer, forge: Callable[[str], tuple[str, ...]]
) -> None:
    url = _copy(postgres_server, demo)
    named = forge(url)
    result = run_cli("--db", url, "verify", "--deep")
    assert result.code == 1 and "deep check failed" in result.err, result
    assert all(word in result.err for word in named), result.err


def test_with_a_key_a_resigned_snapshot_is_named_on_postgresql(
    postgres_url: str, tmp_path: Path
) -> None:
    key = tmp_path / "key"
    key.write_bytes(KEY)
    key.chmod(0o600)
    made = run_cli(
        "--db", postgres_url, "--key-file", str(key), "demo", "--events", "1100", "--no-open"
    )
    assert made.code == 0, made
    assert run_cli("--db", postgres_url, "--key-file", str(key), "verify", "--deep").code == 0
    _sql(postgres_url, "UPDATE snapshots SET mac = repeat('0', 64)")
    result = run_cli("--db", postgres_url, "--key-file", str(key), "verify", "--deep")
    assert result.code == 1 and "snapshot at #1024 does not match its HMAC" in result.err


def test_verify_deep_runs_in_memory() -> None:
    result = run_cli("--db", "memory:", "verify", "--deep", "--json")
    assert result.code == 0, result
    deep = json.loads(result.out)["deep"]
    assert deep["ok"] and deep["events"] == 0
