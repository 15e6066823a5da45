"""A rebuild that fails leaves no `__new` tables; one killed before its swap is cleaned
up by the next projector that takes the lease (issue 9 §7)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from projector_support import demo_items, ledger_projector, new_store, persisted, replayed

from domain.errors import StoreError
from store import read_models as rm
from store.sqlite import SqliteEventStore


def _tables(db: Path) -> set[str]:
    with sqlite3.connect(db) as conn:
        return {name for (name,) in conn.execute("SELECT name FROM sqlite_master")}


def _leftovers(db: Path) -> set[str]:
    return {name for name in _tables(db) if name.endswith(("__new", "__new_aux"))}


@pytest.fixture
def store(tmp_path: Path) -> SqliteEventStore:
    store = new_store(tmp_path / "bank.db")
    store.append_bulk(demo_items(3000))
    return store


def test_a_rebuild_on_a_full_disk_fails_cleanly_and_leaves_no_new_tables(
    store: SqliteEventStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    projector = ledger_projector(store)
    try:
        projector.catch_up()
        before = persisted(projector)
        writes = 0
        real_upsert = rm.upsert_rows

        def full_disk(conn: sqlite3.Connection, table: str, rows: Iterable[Any]) -> None:
            nonlocal writes
            writes += 1
            if writes == 3:  # the disk fills up after the `__new` tables were created
                raise sqlite3.OperationalError("database or disk is full")
            real_upsert(conn, table, rows)

        monkeypatch.setattr(rm, "upsert_rows", full_disk)
        with pytest.raises(StoreError, match="disk is full"):
            projector.rebuild()
        assert writes == 3
        assert _leftovers(store.path) == set()
        monkeypatch.undo()
        assert persisted(projector) == before  # the live read models are untouched
        projector.catch_up()
        assert persisted(projector) == replayed(store)
    finally:
        projector.close()


def test_new_tables_left_by_a_killed_rebuild_are_dropped_by_the_next_projector(
    store: SqliteEventStore,
) -> None:
    with sqlite3.connect(store.path) as conn:  # what a rebuild killed before its swap leaves
        rm.create_tables(conn, "account_balances", new=True)
        rm.create_tables(conn, "gone_projection", new=True)
    assert len(_leftovers(store.path)) == 4
    projector = ledger_projector(store)
    try:
        projector.catch_up()
        assert _leftovers(store.path) == set()
        assert persisted(projector) == replayed(store)
    finally:
        projector.close()
