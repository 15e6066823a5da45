"""What the store contract suites share: how to make each store, and small builders."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from domain.clock import SequentialIds
from domain.envelope import (
    Metadata,
    NewEvent,
    PendingEvent,
    RecordedEvent,
    Refusal,
    StreamAppend,
)
from store import InMemoryEventStore, SqliteEventStore
from store.hashchain import ChainRow
from store.postgres.store import PostgresEventStore

AnyStore = InMemoryEventStore | SqliteEventStore | PostgresEventStore


@dataclass
class Kind:
    """How to make a store of one kind, and how to tamper with one behind its back."""

    name: str
    make: Callable[..., AnyStore]
    tamper: Callable[[AnyStore, int, Callable[[ChainRow], ChainRow]], None]
    reopen: Callable[[AnyStore], AnyStore] = lambda store: store
    """Another handle on the same store (another connection; memory: the store itself)."""


def _tamper_memory(store: AnyStore, position: int, edit: Callable[[ChainRow], ChainRow]) -> None:
    assert isinstance(store, InMemoryEventStore)
    store._rows[position - 1] = edit(store._rows[position - 1])


def _tamper_sqlite(store: AnyStore, position: int, edit: Callable[[ChainRow], ChainRow]) -> None:
    """Edit one row as an outsider would: another connection, triggers dropped."""
    assert isinstance(store, SqliteEventStore)
    row = next(store.iter_chain_rows(after=position - 1, to=position))
    changed = edit(row)
    columns = (
        "position, event_id, stream_id, stream_type, version, type, schema_version, "
        "recorded_at, data, metadata, prev_hash, hash"
    )
    conn = sqlite3.connect(store.path, isolation_level=None)
    conn.execute("DROP TRIGGER events_no_update")
    conn.execute(
        f"UPDATE events SET ({columns}) = ({', '.join('?' * 12)}) WHERE position = ?",
        (*changed, position),
    )
    conn.close()


def _tamper_postgres(store: AnyStore, position: int, edit: Callable[[ChainRow], ChainRow]) -> None:
    """Edit one row as a database administrator could: triggers disabled, then back on."""
    import psycopg

    assert isinstance(store, PostgresEventStore)
    row = next(store.iter_chain_rows(after=position - 1, to=position))
    changed = edit(row)
    columns = (
        "position, event_id, stream_id, stream_type, version, type, schema_version, "
        "recorded_at, data, metadata, prev_hash, hash"
    )
    with psycopg.connect(store.url, autocommit=True) as conn:
        conn.execute("ALTER TABLE events DISABLE TRIGGER USER")
        conn.execute(
            f"UPDATE events SET ({columns}) = ({', '.join(['%s'] * 12)}) WHERE position = %s",
            (*changed, position),
        )
        conn.execute("ALTER TABLE events ENABLE TRIGGER USER")


IDS = SequentialIds("ev")


def new(type_: str = "Deposited", **data: Any) -> NewEvent:
    return NewEvent(type=type_, data=data or {"amount": 1}, event_id=IDS.new_id())


def meta(command_id: str = "", actor: str = "alice", **command: Any) -> Metadata:
    return Metadata(
        actor=actor,
        command_id=command_id or IDS.new_id(),
        command_type="deposit",
        command=command or {"amount": "1.00"},
    )


def put(
    store: AnyStore, stream: str, expected: int, *events: NewEvent, command_id: str = ""
) -> Any:
    """Append `events` (default: one) to `stream` expecting version `expected`."""
    return store.append(
        [StreamAppend(stream, "account", expected, events or (new(),))], meta(command_id)
    )


def fill(store: AnyStore, count: int, streams: int = 3) -> None:
    """`count` single-event appends spread over `streams` streams."""
    for i in range(count):
        stream = f"account-{i % streams}"
        put(store, stream, store.stream_version(stream))


def refusal(command_id: str, actor: str = "alice") -> Refusal:
    return Refusal(
        recorded_at="2026-01-01T09:30:00.000000Z",
        actor=actor,
        command_id=command_id,
        command_type="withdraw",
        command={"amount": "9.00"},
        reason="insufficient funds",
        code="refused",
    )


def pending(count: int, *, streams: int = 3, command_every: int = 2) -> list[PendingEvent]:
    """`count` decided events over `streams` streams; each command covers a few events."""
    events = []
    versions = [0] * streams
    for n in range(count):
        s = n % streams
        versions[s] += 1
        command = f"bulk-cmd-{n // command_every}"
        events.append(
            PendingEvent(
                event_id=f"bulk-{n}",
                stream_id=f"account-{s}",
                stream_type="account",
                version=versions[s],
                type="Deposited",
                data={"amount": n},
                metadata={
                    "actor": "demo",
                    "command_id": command,
                    "command_type": "deposit",
                    "correlation_id": command,
                    "causation_id": command,
                },
                recorded_at=f"2026-02-01T00:00:{n // 10:02d}.000000Z",
                command={"n": n} if n % command_every == 0 else None,
            )
        )
    return events


def exported(store: AnyStore) -> list[RecordedEvent]:
    return list(store.iter_all())
