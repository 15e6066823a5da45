"""A load into an empty PostgreSQL store writes its batches from a writer thread while
the next batch is made (store/postgres/bulk_load.py). Whatever stops the load, a
refusal in a later batch or the writer's own error, nothing is written and the writer
thread is gone; a load that succeeds has every batch, in order."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from typing import Any

import orjson
import psycopg
import pytest
from postgres_server import PostgresServer

from domain.errors import DomainError, InvalidInput
from domain.ledger.demo import generate_demo
from domain.ledger.description import LEDGER_DOMAIN
from store.postgres import bulk_load
from store.postgres.store import PostgresEventStore
from store.transfer.export import export_history
from store.transfer.importer import import_history

EVENTS = 400
BATCH = 50
"""Small batches, so that a few hundred events cross many of them."""
SWITCH_INTERVAL = sys.getswitchinterval()


@pytest.fixture
def exported(postgres_server: PostgresServer) -> Iterator[bytes]:
    store = PostgresEventStore(postgres_server.database(), create=True, domain="ledger")
    try:
        store.append_bulk(generate_demo(EVENTS, 5))
        out = io.BytesIO()
        export_history(store, out)
        yield out.getvalue()
    finally:
        store.close()


@pytest.fixture(autouse=True)
def small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bulk_load, "STREAM_BATCH", BATCH)


def _writers() -> list[threading.Thread]:
    """The load's writer threads still alive; the switch interval must be back as well."""
    assert sys.getswitchinterval() == SWITCH_INTERVAL
    return [t for t in threading.enumerate() if t.name == "eventscope-load-writer"]


def _empty(store: PostgresEventStore) -> bool:
    return (
        store.head().position == 0
        and store.empty_commands() == []
        and store.imports() == []
        and store.refusals_between(0, EVENTS) == []
    )


def test_a_load_across_many_batches_has_every_event_and_record(
    postgres_server: PostgresServer, exported: bytes
) -> None:
    target = PostgresEventStore(postgres_server.database(), create=True, domain="ledger")
    try:
        result = import_history(target, io.BytesIO(exported), domain=LEDGER_DOMAIN, actor="t")
        assert result.events == EVENTS
        assert target.head().position == EVENTS
        assert target.verify().ok
        out = io.BytesIO()
        export_history(target, out)
        # The same lines, and after them this import's own record.
        assert out.getvalue().startswith(exported)
    finally:
        target.close()
    assert _writers() == []


def test_a_bad_line_in_a_later_batch_is_named_and_nothing_is_written(
    postgres_server: PostgresServer, exported: bytes
) -> None:
    lines = exported.splitlines()
    events = [i for i, line in enumerate(lines) if line.startswith(b'{"position"')]
    at = events[-10]  # many batches were written before it
    event: dict[str, Any] = orjson.loads(lines[at])
    event["hash"] = "0" * 64
    lines[at] = orjson.dumps(event)
    target = PostgresEventStore(postgres_server.database(), create=True, domain="ledger")
    try:
        with pytest.raises(InvalidInput) as refused:
            import_history(
                target,
                io.BytesIO(b"\n".join(lines) + b"\n"),
                domain=LEDGER_DOMAIN,
                actor="t",
                name="f",
            )
        assert refused.value.message.startswith(f"f: line {at + 1}: "), refused.value.message
        assert "hash does not match" in refused.value.message
        assert _empty(target)
    finally:
        target.close()
    assert _writers() == []


def test_an_error_of_the_writer_reaches_the_import_and_nothing_is_written(
    postgres_server: PostgresServer, exported: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    grow = PostgresEventStore._extend_tree

    def failing(self: PostgresEventStore, *args: Any, **kwargs: Any) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        grow(self, *args, **kwargs)

    monkeypatch.setattr(PostgresEventStore, "_extend_tree", failing)
    target = PostgresEventStore(postgres_server.database(), create=True, domain="ledger")
    try:
        with pytest.raises(DomainError) as failed:
            import_history(target, io.BytesIO(exported), domain=LEDGER_DOMAIN, actor="t")
        assert "\n" not in str(failed.value)
        assert _writers() == []
        monkeypatch.setattr(PostgresEventStore, "_extend_tree", grow)
        assert _empty(target)
    finally:
        target.close()


def test_a_load_pauses_the_collector_and_leaves_it_as_it_found_it(
    postgres_server: PostgresServer,
) -> None:
    """As SQLite's load (`store.collector.collector_paused`): the cyclic collector does
    not walk the load's growing sets of ids while it runs, and is back afterwards."""
    import gc

    paused: list[bool] = []

    def watched() -> Iterator[Any]:
        for item in generate_demo(EVENTS, 6):
            paused.append(not gc.isenabled())
            yield item

    with PostgresEventStore(postgres_server.database(), create=True, domain="ledger") as store:
        store.append_bulk(watched())
        assert paused and all(paused) and gc.isenabled()
