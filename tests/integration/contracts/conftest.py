"""The store fixture of the contract suites: every test runs on each store kind."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from contract_support import AnyStore, Kind, _tamper_memory, _tamper_sqlite

from domain.clock import StepClock
from store import InMemoryEventStore, SqliteEventStore


@pytest.fixture(params=["memory", "sqlite"])
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

    if request.param == "memory":
        yield Kind("memory", make_memory, _tamper_memory)
    else:
        yield Kind("sqlite", make_sqlite, _tamper_sqlite)
    for store in made:
        store.close()


@pytest.fixture
def store(kind: Kind) -> AnyStore:
    return kind.make()
