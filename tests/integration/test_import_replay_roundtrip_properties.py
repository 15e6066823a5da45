"""Property: an exported history imports into every store as it was, and a line tampered
with (and re-hashed, so that only the domain's rules can tell) is refused at that line.

The replay compares each command's recorded events with the ones its real handler
emits; when they are the very rows the bus would write, the data is not validated a
second time and the decider's fold is kept (`domain.history_check.recorded_as_emitted`).
These properties hold that shortcut to the full replay's verdicts: a demo export (with
its command records and refusals) round-trips with the same head, refusals and commands
rows; a changed amount, reference or field type is refused with one line naming the
tampered line, and the target store is left empty. On PostgreSQL the refusal comes while
the event rows are streaming into an open COPY (store/postgres/bulk_load.py).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer

from domain.envelope import GENESIS_HASH, Head, PendingEvent
from domain.errors import InvalidInput
from domain.ledger.demo import generate_demo
from domain.ledger.description import LEDGER_DOMAIN
from domain.ports import EventStore
from store import InMemoryEventStore, SqliteEventStore
from store.hashchain import ChainExtender, event_from_row
from store.postgres.store import PostgresEventStore
from store.transfer.export import export_history
from store.transfer.importer import import_history

Tamper = Callable[[dict[str, Any]], bool]
"""Changes an event's data in place; False when the event has nothing to change."""


def _more(data: dict[str, Any]) -> bool:
    if not isinstance(data.get("amount"), int):
        return False
    data["amount"] += 1
    return True


def _renamed(data: dict[str, Any]) -> bool:
    if not isinstance(data.get("reference"), str):
        return False
    data["reference"] += "x"
    return True


def _listed(data: dict[str, Any]) -> bool:
    if "amount" not in data:
        return False
    data["amount"] = [data["amount"]]
    return True


def _as_text(data: dict[str, Any]) -> bool:
    if not isinstance(data.get("amount"), int):
        return False
    data["amount"] = str(data["amount"])  # lax validation would read "100" as 100
    return True


def _padded(data: dict[str, Any]) -> bool:
    if not isinstance(data.get("reference"), str):
        return False
    data["reference"] = f" {data['reference']} "  # a model that strips would accept it
    return True


TAMPERS: dict[str, Tamper] = {
    "amount + 1": _more,
    "reference": _renamed,
    "a list": _listed,
    "amount as text": _as_text,
    "padded reference": _padded,
}


def _rechained(lines: list[bytes]) -> list[bytes]:
    """The lines with every event's hashes recomputed (records left as they are)."""
    extender = ChainExtender(Head(0, GENESIS_HASH), "", None, stream_version=lambda _: 0)
    out = []
    for line in lines:
        value = orjson.loads(line)
        if "record" not in value:
            pending = PendingEvent(
                event_id=value["event_id"],
                stream_id=value["stream_id"],
                stream_type=value["stream_type"],
                version=value["version"],
                type=value["type"],
                data=value["data"],
                metadata=value["metadata"],
                recorded_at=value["recorded_at"],
                schema_version=value["schema_version"],
            )
            value = event_from_row(extender.pending(pending)).to_json_dict()
        out.append(orjson.dumps(value))
    return out


def _tampered(lines: list[bytes], tamper: Tamper, at: float) -> tuple[list[bytes], int] | None:
    """The export with one event changed by `tamper` (the first it can change from `at`
    of the way in) and re-chained, and that event's line number; None if none can be."""
    start = int(at * len(lines))
    for number in [*range(start, len(lines)), *range(start)]:
        value = orjson.loads(lines[number])
        if "record" in value or not tamper(value["data"]):
            continue
        changed = [*lines[:number], orjson.dumps(value), *lines[number + 1 :]]
        return _rechained(changed), number + 1
    return None


def _audit(store: EventStore) -> tuple[Any, ...]:
    head = store.head()
    return (
        head,
        store.refusals_between(0, head.position),
        store.command_rows(1, head.position),
        store.empty_commands(),
    )


@contextmanager
def _stores(kind: str, server: PostgresServer | None) -> Iterator[Callable[[], EventStore]]:
    made: list[EventStore] = []
    with tempfile.TemporaryDirectory() as work:

        def make() -> EventStore:
            store: EventStore
            if kind == "memory":
                store = InMemoryEventStore()
            elif kind == "sqlite":
                path = Path(work) / f"{len(made)}.db"
                store = SqliteEventStore(path, create=True, synchronous="OFF")
            else:
                assert server is not None
                store = PostgresEventStore(server.database(), create=True, domain="ledger")
            made.append(store)
            return store

        try:
            yield make
        finally:
            for store in made:
                store.close()


def _check(
    kind: str, server: PostgresServer | None, size: int, seed: int, tamper: str, at: float
) -> None:
    with _stores(kind, server) as make:
        source = make()
        source.append_bulk(generate_demo(size, seed))
        out = io.BytesIO()
        export_history(source, out)
        lines = out.getvalue().splitlines()
        copy = make()
        import_history(copy, io.BytesIO(out.getvalue()), domain=LEDGER_DOMAIN, actor="p")
        assert _audit(copy) == _audit(source)

        bad = _tampered(lines, TAMPERS[tamper], at)
        if bad is None:
            return
        changed, line = bad
        target = make()
        with pytest.raises(InvalidInput) as refused:
            import_history(
                target,
                io.BytesIO(b"\n".join(changed) + b"\n"),
                domain=LEDGER_DOMAIN,
                actor="p",
                name="t",
            )
        message = refused.value.message
        assert message.startswith(f"t: line {line}: ") and "\n" not in message, message
        assert target.head().position == 0
        assert target.refusals_between(0, size) == []
        assert target.empty_commands() == [] and target.imports() == []


HISTORIES = given(
    size=st.integers(20, 600),
    seed=st.integers(0, 10_000),
    tamper=st.sampled_from(sorted(TAMPERS)),
    at=st.floats(0.0, 1.0),
)
"""A demo history's size and seed, and which tampering where (a fraction of the way in)."""

REFUSED_LATE = example(size=20, seed=0, tamper="amount + 1", at=0.0)
"""Named line 6 for a deposit tampered at line 4: its command was decided (and refused)
when the next command's first event arrived, and the refusal took that event's index."""


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
@settings(max_examples=8, deadline=None)
@REFUSED_LATE
@HISTORIES
def test_an_export_imports_as_it_was_and_a_tampered_line_is_refused_there(
    kind: str, size: int, seed: int, tamper: str, at: float
) -> None:
    _check(kind, None, size, seed, tamper, at)


@settings(max_examples=4, deadline=None)
@REFUSED_LATE
@HISTORIES
def test_on_postgres_a_tampered_line_aborts_the_streamed_copy_and_writes_nothing(
    postgres_server: PostgresServer, size: int, seed: int, tamper: str, at: float
) -> None:
    _check("postgres", postgres_server, size, seed, tamper, at)
