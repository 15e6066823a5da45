"""Bulk loads on PostgreSQL go through `COPY … FROM STDIN` (store/postgres/base.py,
`execute_rows`): whatever the text holds (backslashes, tabs, newlines, any Unicode), a
COPY-loaded store reads back the very events, verifies, has the head a SQLite store
loaded with the same history has, and stays append-only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer

from domain.envelope import PendingEvent
from store import SqliteEventStore
from store.postgres.base import FEW_ROWS
from store.postgres.store import PostgresEventStore
from store.proofs.verifier import leaf_hash, root_from_leaves

TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


def _history(notes: list[str]) -> list[PendingEvent]:
    return [
        PendingEvent(
            event_id=f"e{n}",
            stream_id=f"note-{n % 3}",
            stream_type="note",
            version=n // 3 + 1,
            type="Noted",
            data={"text": note, "n": n},
            metadata={"actor": "al\\ice\t", "command_id": f"c{n}", "command_type": "note"},
            recorded_at=f"2026-01-01T09:00:{n % 60:02d}.000000Z",
            command={"text": note},
        )
        for n, note in enumerate(notes)
    ]


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(notes=st.lists(TEXT, min_size=FEW_ROWS + 1, max_size=FEW_ROWS + 30))
def test_a_copy_loaded_store_reads_back_the_same_events_and_head_as_sqlite(
    postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory, notes: list[str]
) -> None:
    history = _history(["a\\b\tc\nd\re\\N", *notes])
    path: Path = tmp_path_factory.mktemp("copy") / "store.db"
    with (
        PostgresEventStore(postgres_server.database(), create=True) as pg,
        SqliteEventStore(path, create=True) as lite,
    ):
        assert pg.append_bulk(history) == lite.append_bulk(history)
        assert [e.data for e in pg.read_all()] == [item.data for item in history]
        assert [e.metadata for e in pg.read_all()] == [e.metadata for e in lite.read_all()]
        assert [pg.command_payload(f"c{n}") for n in range(len(history))] == [
            ("note", {"text": item.data["text"]}) for item in history
        ]
        assert pg.verify().ok
        leaves = [leaf_hash(e.hash) for e in lite.read_all()]
        assert pg.proofs.root(len(history)) == root_from_leaves(leaves)


def test_copy_loaded_rows_are_append_only(postgres_url: str) -> None:
    with PostgresEventStore(postgres_url, create=True) as store:
        store.append_bulk(_history([f"n{n}" for n in range(FEW_ROWS * 2)]))
        for statement in (
            "UPDATE events SET data = '{}' WHERE position = 1",
            "DELETE FROM commands",
            "DELETE FROM merkle_nodes",
        ):
            with pytest.raises(psycopg.errors.RestrictViolation):
                store._pg.execute(statement)
        assert store.verify().ok


def test_rows_go_by_binary_copy_with_their_exact_values(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The bulk-written tables go by COPY's binary form (`COLUMN_TYPES`): every COPY of
    a load is binary, and a keyed store (its commands rows carry a MAC) and a command
    kept without a payload read back as written, the tree's hashes as their 32 bytes,
    and everything verifies."""
    history = _history([f"n{n}" for n in range(FEW_ROWS * 2)])
    history[3] = replace(history[3], command=None)
    statements: list[str] = []
    real_copy = psycopg.Cursor.copy

    def copy(self: psycopg.Cursor[Any], statement: Any, *args: Any, **kwargs: Any) -> Any:
        statements.append(str(statement))
        return real_copy(self, statement, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "copy", copy)
    with PostgresEventStore(postgres_url, create=True, key=b"k" * 32) as store:
        store.append_bulk(history)
        tables = {statement.split()[1] for statement in statements}
        assert tables == {"events", "commands", "merkle_nodes"}
        assert all(statement.endswith("(FORMAT BINARY)") for statement in statements)
        assert store.verify().ok
        assert store.command_payload("c3") is None
        assert store.command_payload("c4") == ("note", {"text": "n4"})
        assert store.find_command("c4") is not None  # its MAC checks
        macs = store._pg.execute("SELECT count(*) FROM commands WHERE mac IS NULL").fetchone()
        assert macs == (0,)
        widths = store._pg.execute("SELECT DISTINCT length(hash) FROM merkle_nodes").fetchall()
        assert widths == [(32,)]
