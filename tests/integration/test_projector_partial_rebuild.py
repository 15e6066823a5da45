"""`rebuild --projection NAME`: one read model rebuilt at the checkpoint, the others kept."""

from __future__ import annotations

import copy
import sqlite3
from pathlib import Path

import pytest
from cli_support import Cli
from projector_support import (
    assert_same_states,
    demo_items,
    ledger_projector,
    new_store,
    persisted,
    replayed,
)

from domain.errors import InvalidInput
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.projection import Projection
from store.sqlite import SqliteEventStore

TARGET = "account_balances"


def _table_bytes(path: Path, table: str) -> list[tuple[str, str]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(f'SELECT key, row FROM "{table}" ORDER BY key').fetchall()


ITEMS = demo_items(3500)


@pytest.fixture
def store(tmp_path: Path) -> SqliteEventStore:
    store = new_store(tmp_path / "bank.db")
    store.append_bulk(ITEMS[:3000])
    return store


def test_one_read_model_is_rebuilt_and_the_others_are_left_byte_for_byte(
    store: SqliteEventStore,
) -> None:
    with ledger_projector(store) as projector:
        projector.catch_up()
    others = [p.name for p in LEDGER_PROJECTIONS if p.name != TARGET]
    kept = {name: _table_bytes(store.path, f"rm_{name}") for name in others}
    with sqlite3.connect(store.path) as conn:  # a damaged row the rebuild must restore
        conn.execute(
            f"UPDATE rm_{TARGET} SET row = '{{}}' WHERE key = (SELECT min(key) FROM rm_{TARGET})"
        )
        conn.execute(f"DELETE FROM rm_{TARGET} WHERE key = (SELECT max(key) FROM rm_{TARGET})")
    with ledger_projector(store) as projector:
        status = projector.rebuild(only=[TARGET])
        assert status.checkpoint == store.head().position
        assert {name: _table_bytes(store.path, f"rm_{name}") for name in others} == kept
        assert_same_states(persisted(projector), replayed(store))


def test_a_partial_rebuild_stops_at_the_checkpoint_and_catching_up_goes_on(
    store: SqliteEventStore,
) -> None:
    with ledger_projector(store) as projector:
        projector.catch_up()
    checkpoint = store.head().position
    store.append_bulk(ITEMS[3000:])
    with ledger_projector(store) as projector:
        assert projector.rebuild(only=[TARGET]).checkpoint == checkpoint
        assert projector.catch_up().checkpoint == store.head().position
        assert_same_states(persisted(projector), replayed(store))


def _next_version(projection: Projection) -> Projection:
    """The same fold under a new definition (as after editing it)."""
    changed = copy.copy(projection)
    changed.version = projection.version + 1  # type: ignore[attr-defined]
    return changed


def test_other_read_models_out_of_date_are_named_and_nothing_changes(
    store: SqliteEventStore,
) -> None:
    with ledger_projector(store) as projector:
        projector.catch_up()
    changed = [_next_version(p) if p.name == "daily_activity" else p for p in LEDGER_PROJECTIONS]
    before = _table_bytes(store.path, f"rm_{TARGET}")
    with (
        ledger_projector(store, changed) as projector,
        pytest.raises(InvalidInput, match="daily_activity are out of date too"),
    ):
        projector.rebuild(only=[TARGET])
    assert _table_bytes(store.path, f"rm_{TARGET}") == before
    with ledger_projector(store, changed) as projector:
        projector.rebuild(only=["daily_activity"])
        assert_same_states(persisted(projector), replayed(store, changed))


def test_the_cli_rebuilds_one_projection_and_refuses_an_unknown_one(
    cli: Cli, store: SqliteEventStore
) -> None:
    assert cli("project", db_path=store.path).code == 0
    result = cli("rebuild", "--projection", TARGET, db_path=store.path)
    assert result.code == 0, result.err
    result = cli("rebuild", "--projection", "nope", db_path=store.path)
    assert result.code == 2
    assert "unknown projection 'nope'" in result.err
    assert len(result.err.strip().splitlines()) == 1
