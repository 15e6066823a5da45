"""A PostgreSQL store whose connection the server ended reconnects on its next use.

Found on the acceptance walk: an app left open while the server ended its session
(`pg_terminate_backend`, as a restart or a network cut would) said "try again" for
every step afterwards, and never recovered until restarted. Now the operation the loss
broke fails with its one line, and the next one opens a new session; and `project
--follow` (a daemon, as the app's own projector) shows the loss and keeps following,
where it used to exit.
"""

from __future__ import annotations

import psycopg
import pytest
from follow_support import following, until
from reliability_support import create_ledger, run_cli

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.errors import StoreError
from domain.ledger import LEDGER
from store.postgres.store import PostgresEventStore


def _end_session(url: str, store: PostgresEventStore) -> None:
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (store._pg.info.backend_pid,))


@pytest.mark.parametrize("read_only", [False, True])
def test_reads_work_again_after_the_server_ended_the_session(
    postgres_url: str, read_only: bool
) -> None:
    create_ledger(postgres_url)
    with PostgresEventStore(postgres_url, read_only=read_only) as store:
        head = store.head()
        _end_session(postgres_url, store)
        with pytest.raises(StoreError, match="connection to the server was lost"):
            store.head()
        assert store.head() == head
        assert store.verify().ok
        if read_only:  # the new session is read-only too: the server refuses writes
            with pytest.raises(StoreError, match="read-only"):
                store.set_bookmark("after", 1, actor="ann")


def test_a_command_after_the_session_ended_is_recorded_once_in_order(postgres_url: str) -> None:
    create_ledger(postgres_url)
    with PostgresEventStore(postgres_url) as store:
        bus = CommandBus(store, LEDGER, ids=SequentialIds("re"))
        head = store.head().position
        _end_session(postgres_url, store)
        with pytest.raises(StoreError):
            store.head()  # the loss shows once
        fields = {"account_id": "e1", "amount": "5.00"}
        bus.execute_fields("deposit", fields, actor="ann", command_id="after-loss")
        assert store.head().position == head + 1
        assert store.verify().ok


def test_project_follow_keeps_following_after_the_server_ended_its_sessions(
    postgres_url: str,
) -> None:
    create_ledger(postgres_url)
    with PostgresEventStore(postgres_url, read_only=True) as store:
        head = store.head().position
    with following(postgres_url) as (daemon, statuses):
        until(statuses, f"#{head} of {head} · up to date")
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert ended is not None and ended[0] >= 1
        deposit = run_cli("--db", postgres_url, "exec", "deposit", "account_id=e1", "amount=1")
        assert deposit.code == 0, deposit
        until(statuses, f"#{head + 1} of {head + 1} · up to date")
        assert daemon.poll() is None, "the daemon stopped on a lost connection"
