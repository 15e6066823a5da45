"""A bulk load into an empty store writes its commands rows in key order at the end
(`store.sqlite.bulk_commands`) and pauses the garbage collector: what it leaves must be
exactly what loads through the ordinary path leave, and a failed load must leave
nothing (no rows, no temporary table, the collector running)."""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pytest

from domain.envelope import PendingEvent, Refusal
from domain.errors import InvalidInput
from domain.ledger.demo import generate_demo
from store import SqliteEventStore

KEY = b"the auditor's key"
EVENTS = 3000


def history() -> list[PendingEvent | Refusal]:
    return list(generate_demo(EVENTS, 11))


def command_boundary(items: list[PendingEvent | Refusal], near: int) -> int:
    """The first index at or after `near` where a new command starts."""
    for at in range(near, len(items)):
        before, item = items[at - 1], items[at]
        if (
            type(item) is PendingEvent
            and type(before) is PendingEvent
            and item.metadata["command_id"] != before.metadata["command_id"]
        ):
            return at
    raise AssertionError("no command boundary")


def rows(path: Path, table: str) -> list[tuple[object, ...]]:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[list[SqliteEventStore]]:
    made: list[SqliteEventStore] = []
    yield made
    for store in made:
        store.close()


@pytest.mark.parametrize("key", [None, KEY], ids=["plain", "keyed"])
def test_commands_rows_of_a_load_into_an_empty_store_are_those_of_the_ordinary_path(
    tmp_path: Path, stores: list[SqliteEventStore], key: bytes | None
) -> None:
    items = history()
    whole = SqliteEventStore(tmp_path / "whole.db", create=True, key=key)
    split = SqliteEventStore(tmp_path / "split.db", create=True, key=key)
    stores += [whole, split]
    whole.append_bulk(items)
    # The second load goes into a store that holds events: its commands rows are
    # written as they come, each checked against those already recorded.
    cut = command_boundary(items, 10)
    split.append_bulk(items[:cut])
    split.append_bulk(items[cut:])
    assert whole.head() == split.head()
    for table in ("commands", "events", "refusals", "merkle_nodes"):
        assert rows(tmp_path / "whole.db", table) == rows(tmp_path / "split.db", table)
    commands = rows(tmp_path / "whole.db", "commands")
    assert len(commands) > EVENTS // 3
    assert all((row[7] is None) == (key is None) for row in commands)  # the HMAC column
    assert whole.verify().ok


def test_a_failed_load_into_an_empty_store_leaves_nothing_behind(
    tmp_path: Path, stores: list[SqliteEventStore]
) -> None:
    items = history()
    store = SqliteEventStore(tmp_path / "a.db", create=True, key=KEY)
    stores.append(store)
    last = max(at for at, item in enumerate(items) if type(item) is PendingEvent)
    broken = list(items)
    event = items[last]
    assert type(event) is PendingEvent
    broken[last] = replace(event, version=1)  # its stream has events already
    with pytest.raises(InvalidInput):
        store.append_bulk(broken)
    assert store.head().position == 0
    assert rows(tmp_path / "a.db", "commands") == []
    writer = store._conn()  # the temporary table lives on the writer's connection
    assert writer.execute("SELECT name FROM temp.sqlite_master").fetchall() == []
    assert gc.isenabled()
    store.append_bulk(items)
    assert store.verify().ok and rows(tmp_path / "a.db", "commands") != []


def test_a_load_leaves_the_collector_as_it_found_it(
    tmp_path: Path, stores: list[SqliteEventStore]
) -> None:
    store = SqliteEventStore(tmp_path / "a.db", create=True)
    stores.append(store)
    items = history()
    cut = command_boundary(items, 100)
    paused: list[bool] = []

    def watched() -> Iterator[PendingEvent | Refusal]:
        for item in items[:cut]:
            paused.append(not gc.isenabled())
            yield item

    store.append_bulk(watched())
    assert all(paused) and gc.isenabled()
    gc.disable()
    try:
        store.append_bulk(items[cut:])
        assert not gc.isenabled()  # the caller's choice stands
    finally:
        gc.enable()
