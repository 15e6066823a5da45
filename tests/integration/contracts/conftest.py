"""The store fixture of the contract suites: every test runs on each store kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contract_support import AnyStore, Kind, _tamper_memory, _tamper_postgres, _tamper_sqlite

from domain.clock import StepClock
from store import InMemoryEventStore, SqliteEventStore
from store.postgres.store import PostgresEventStore


@pytest.fixture(params=["memory", "sqlite", "postgres"])
def kind(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Kind]:
    made: list[AnyStore] = []
    counter = iter(range(1000))

    def make_memory(**options: Any) -> AnyStore:
        options.setdefault("clock", StepClock())
        store = InMemoryEventStore(**options)
        made.append(store)
        return store

    def make_sqlite(**options: Any) -> AnyStore:
        options.setdefault("clock", StepClock())
        store = SqliteEventStore(tmp_path / f"store-{next(counter)}.db", create=True, **options)
        made.append(store)
        return store

    def make_postgres(**options: Any) -> AnyStore:
        options.setdefault("clock", StepClock())
        store = PostgresEventStore(server.database(), create=True, **options)
        made.append(store)
        return store

    def reopen(store: AnyStore) -> AnyStore:
        other: AnyStore
        if isinstance(store, SqliteEventStore):
            other = SqliteEventStore(store.path)
        elif isinstance(store, PostgresEventStore):
            other = PostgresEventStore(store.url)
        else:
            return store
        made.append(other)
        return other

    if request.param == "memory":
        yield Kind("memory", make_memory, _tamper_memory)
    elif request.param == "sqlite":
        yield Kind("sqlite", make_sqlite, _tamper_sqlite, reopen)
    else:
        # The throwaway server (tests/integration/conftest.py); skips without PostgreSQL.
        server = request.getfixturevalue("postgres_server")
        yield Kind("postgres", make_postgres, _tamper_postgres, reopen)
    for store in made:
        store.close()


@pytest.fixture
def store(kind: Kind) -> AnyStore:
    return kind.make()
