"""A load into an empty PostgreSQL store builds the metadata's indexes at the end
(store/postgres/bulk_indexes.py): they are gone while it loads, and afterwards the
table has every index it had, by the same definitions, valid, and answering queries.
A refused load, a role that does not own the table, and a reader in the middle of a
transaction each leave the indexes as they were."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from itertools import count

import psycopg
import pytest
from postgres_server import PostgresServer
from reliability_support import run_cli

from domain.envelope import Metadata, NewEvent, StreamAppend
from domain.errors import DomainError
from domain.ledger.demo import generate_demo
from domain.ledger.description import LEDGER_DOMAIN
from store.postgres import bulk_indexes, loads
from store.postgres.store import PostgresEventStore
from store.transfer.export import export_history
from store.transfer.importer import import_history

_names = count()


def _indexes(url: str) -> dict[str, tuple[str, bool]]:
    """The events table's indexes: name -> (definition, valid)."""
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT x.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i "
            "JOIN pg_class x ON x.oid = i.indexrelid WHERE i.indrelid = 'events'::regclass"
        ).fetchall()
    return {name: (definition, valid) for name, definition, valid in rows}


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """The indexes present inside the load's transaction each time it rebuilt some."""
    seen: list[set[str]] = []
    restore = bulk_indexes.restore

    def watching(conn: psycopg.Connection, definitions: list[str]) -> None:
        rows = conn.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'events'"
        ).fetchall()
        seen.append({name for (name,) in rows})
        restore(conn, definitions)

    monkeypatch.setattr(loads, "restore", watching)
    return seen


@pytest.fixture
def exported(postgres_server: PostgresServer) -> Iterator[bytes]:
    store = PostgresEventStore(postgres_server.database(), create=True, domain="ledger")
    try:
        store.append_bulk(generate_demo(300, 3))
        out = io.BytesIO()
        export_history(store, out)
        yield out.getvalue()
    finally:
        store.close()


def _actors(url: str) -> list[tuple[str, int]]:
    """Events per actor, by the actor index's own expression."""
    with psycopg.connect(url) as conn:
        conn.execute("SET enable_seqscan = off")  # the index, where there is one
        rows = conn.execute(
            "SELECT (metadata::jsonb) ->> 'actor', count(*) FROM events "
            "WHERE (metadata::jsonb) ->> 'actor' > '' GROUP BY 1 ORDER BY 1"
        ).fetchall()
    return [(str(actor), int(n)) for actor, n in rows]


def test_demo_and_import_build_the_indexes_they_set_aside(
    postgres_server: PostgresServer, exported: bytes, rebuilt: list[set[str]]
) -> None:
    fresh = postgres_server.database()
    PostgresEventStore(fresh, create=True).close()
    before = _indexes(fresh)
    assert set(bulk_indexes.SET_ASIDE) <= set(before)
    for load in ("demo", "import"):
        url = postgres_server.database()
        with PostgresEventStore(url, create=True, domain="ledger") as store:
            if load == "demo":
                store.append_bulk(generate_demo(300, 3))
            else:
                import_history(store, io.BytesIO(exported), domain=LEDGER_DOMAIN, actor="t")
            assert store.verify().ok
        assert rebuilt.pop() == set(before) - set(bulk_indexes.SET_ASIDE)
        assert _indexes(url) == before  # the same names and definitions, all valid
        assert sum(n for _, n in _actors(url)) == 300


def test_a_load_into_a_store_with_events_keeps_its_indexes(
    postgres_server: PostgresServer, rebuilt: list[set[str]]
) -> None:
    url = postgres_server.database()
    with PostgresEventStore(url, create=True, domain="ledger") as store:
        probe = NewEvent("Probed", {"n": 1}, event_id="probe-1")
        store.append([StreamAppend("probe-1", "probe", 0, (probe,))], Metadata("ann", "c1", "do"))
        store.append_bulk(generate_demo(50, 3))
    assert rebuilt == []
    assert sum(n for _, n in _actors(url)) == 51


def test_a_refused_import_leaves_the_indexes(
    postgres_server: PostgresServer, exported: bytes, rebuilt: list[set[str]]
) -> None:
    url = postgres_server.database()
    PostgresEventStore(url, create=True).close()
    before = _indexes(url)
    damaged = exported.replace(b'"amount":', b'"amount":1', 1)
    with PostgresEventStore(url, domain="ledger") as store, pytest.raises(DomainError):
        import_history(store, io.BytesIO(damaged), domain=LEDGER_DOMAIN, actor="t")
    assert rebuilt == []
    assert _indexes(url) == before


def test_a_role_that_does_not_own_the_table_keeps_the_indexes(
    postgres_server: PostgresServer, rebuilt: list[set[str]]
) -> None:
    writer = f"loader_{os.getpid()}_{next(_names)}"
    with psycopg.connect(postgres_server.url(), autocommit=True) as admin:
        admin.execute(f"CREATE ROLE {writer} LOGIN")
    owner = postgres_server.database()
    assert run_cli("--db", owner, "init", "--writer-role", writer).code == 0
    before = _indexes(owner)
    as_writer = f"postgresql://{writer}@{owner.split('@', 1)[1]}"
    with PostgresEventStore(as_writer, domain="ledger") as store:
        store.append_bulk(generate_demo(100, 3))
        assert store.verify().ok
    assert rebuilt == []
    assert _indexes(owner) == before


def test_a_reader_in_a_transaction_does_not_hold_up_the_load(
    postgres_server: PostgresServer, rebuilt: list[set[str]]
) -> None:
    url = postgres_server.database()
    PostgresEventStore(url, create=True).close()
    before = _indexes(url)
    with psycopg.connect(url) as reader:
        reader.execute("SELECT count(*) FROM events").fetchone()  # holds the table
        with PostgresEventStore(url, domain="ledger") as store:
            store.append_bulk(generate_demo(100, 3))
        reader.rollback()
    assert rebuilt == []
    assert _indexes(url) == before
    assert sum(n for _, n in _actors(url)) == 100
