"""A PostgreSQL store whose connection the server ended reconnects on its next use.

Found on the acceptance walk: an app left open while the server ended its session
(`pg_terminate_backend`, as a restart or a network cut would) said "try again" for
every step afterwards, and never recovered until restarted. Now the operation the loss
broke fails with its one line, and the next one opens a new session.
"""

from __future__ import annotations

import psycopg
import pytest
from reliability_support import create_ledger

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
