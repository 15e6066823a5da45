"""The server connection dies in the middle of an append (PostgreSQL).

The writer has taken the append lock and inserted its events; another session holds a
lock that makes the writer's `commands` insert wait, finds the writer's backend (the
holder of the advisory append lock) and ends it with `pg_terminate_backend`. The append
must land entirely or not at all (here: not at all, the transaction never committed),
the user gets one line and no traceback, positions stay gap-free, the chain verifies,
and the same command retried with its id is recorded exactly once.
"""

from __future__ import annotations

import threading
import time

import psycopg
from cli_support import CliResult
from reliability_support import HANG_GUARD, create_ledger, run_cli

from store.postgres.append_sql import APPEND_LOCK
from store.postgres.store import PostgresEventStore

_WRITER_WAITING = """
SELECT holder.pid FROM pg_locks holder
JOIN pg_locks waiting ON waiting.pid = holder.pid
WHERE holder.locktype = 'advisory' AND holder.granted
  AND holder.classid = %s AND holder.objid = %s
  AND waiting.relation = 'commands'::regclass AND NOT waiting.granted
"""


def _advisory_key(key: int) -> tuple[int, int]:
    """How pg_locks shows a bigint advisory key: high and low 32 bits."""
    return key >> 32, key & 0xFFFFFFFF


def _deposit(url: str, command_id: str) -> CliResult:
    return run_cli(
        "--db", url, "exec", "deposit", "account_id=e1", "amount=5.00", "--command-id", command_id
    )


def test_a_connection_killed_mid_append_records_nothing_and_the_retry_lands_once(
    postgres_url: str,
) -> None:
    create_ledger(postgres_url)
    with PostgresEventStore(postgres_url, read_only=True) as store:
        before = store.head()
    outcome: list[CliResult] = []
    with psycopg.connect(postgres_url, autocommit=True) as blocker:
        blocker.execute("BEGIN")
        blocker.execute("LOCK TABLE commands IN SHARE MODE")  # reads pass, inserts wait
        writer = threading.Thread(target=lambda: outcome.append(_deposit(postgres_url, "c-1")))
        writer.start()
        deadline = time.monotonic() + HANG_GUARD
        while (
            row := blocker.execute(_WRITER_WAITING, _advisory_key(APPEND_LOCK)).fetchone()
        ) is None:
            assert time.monotonic() < deadline and writer.is_alive(), "the writer never waited"
            time.sleep(0.01)
        blocker.execute("SELECT pg_terminate_backend(%s)", (row[0],))
        blocker.execute("ROLLBACK")
        writer.join(HANG_GUARD)
    (result,) = outcome
    assert result.code == 2, result
    assert "Traceback" not in result.err and len(result.err.strip().splitlines()) == 1
    assert "connection to the server was lost" in result.err
    assert "nothing was half-recorded" in result.err
    with PostgresEventStore(postgres_url, read_only=True) as store:
        assert store.head() == before  # not one event of the append landed
        assert store.find_command("c-1") is None
        assert store.verify().ok

    retried = _deposit(postgres_url, "c-1")
    again = _deposit(postgres_url, "c-1")
    assert (retried.code, again.code) == (0, 0), (retried, again)
    with PostgresEventStore(postgres_url, read_only=True) as store:
        assert store.head().position == before.position + 1  # recorded once, no gap
        report = store.verify()
        assert report.ok and report.head == store.head()
