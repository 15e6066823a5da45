"""`eventscope_append`, the append as one server-side call (migration 3).

The server hashes each event with PostgreSQL's `sha256()` from the client's canonical
tail: the hashes must be byte-identical to `store.hashchain`'s (the SQLite store's, and
what `verify` recomputes) for any text, number or structure an event can hold; the
Merkle tree it grows must be RFC 9162's; and writer processes calling it at once must
leave positions 1..N with no hole.
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from postgres_server import PostgresServer

from domain.clock import StepClock
from domain.envelope import Metadata, NewEvent, StreamAppend
from domain.errors import ConcurrencyConflict
from store import SqliteEventStore
from store.hashchain import canonical_row, canonical_tail, chain_row
from store.postgres.store import PostgresEventStore
from store.proofs.verifier import leaf_hash, root_from_leaves

# Any Unicode but surrogates (not storable as UTF-8 JSON); names also without NUL
# (PostgreSQL text cannot hold it: both paths refuse it alike). In JSON data NUL is
# fine: it is stored escaped.
_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
_NAME = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), min_size=1)
_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | _TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
    max_leaves=8,
)
_EVENT = st.tuples(_NAME, st.dictionaries(_TEXT, _JSON, max_size=4), st.integers(1, 2**31 - 1))


@settings(max_examples=200)
@given(
    position=st.integers(1, 2**63 - 1),
    names=st.lists(_NAME, min_size=4, max_size=4),
    version=st.integers(1, 2**63 - 1),
    schema_version=st.integers(1, 2**31 - 1),
    data=_JSON,
)
def test_the_canonical_tail_after_the_position_is_the_canonical_row(
    position: int, names: list[str], version: int, schema_version: int, data: Any
) -> None:
    import orjson

    data_text = orjson.dumps(data, option=orjson.OPT_SORT_KEYS).decode()
    row = (
        position,
        names[0],
        names[1],
        names[2],
        version,
        names[3],
        schema_version,
        "2026-01-01T00:00:00.000000Z",
        data_text,
        '{"actor":"a"}',
        "0" * 64,
        "0" * 64,
    )
    assert b"[" + str(position).encode() + canonical_tail(*row[1:10]) == canonical_row(row)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    commands=st.lists(
        st.lists(st.tuples(st.sampled_from(["s1", "s2", "ß-ü 𝄞"]), _EVENT), max_size=4),
        min_size=1,
        max_size=6,
    ),
    actor=_NAME,
)
def test_the_server_hashes_awkward_events_as_the_sqlite_store_does(
    postgres_server: PostgresServer,
    tmp_path_factory: pytest.TempPathFactory,
    commands: list[list[tuple[str, tuple[str, dict[str, Any], int]]]],
    actor: str,
) -> None:
    path: Path = tmp_path_factory.mktemp("awkward") / "store.db"
    with (
        PostgresEventStore(postgres_server.database(), create=True, clock=StepClock()) as pg,
        SqliteEventStore(path, create=True, clock=StepClock()) as lite,
    ):
        for n, events in enumerate(commands):
            by_stream: dict[str, list[NewEvent]] = {}
            for k, (stream, (type_, data, schema)) in enumerate(events):
                event = NewEvent(type_, data, schema_version=schema, event_id=f"e{n}-{k}-é")
                by_stream.setdefault(stream, []).append(event)
            metadata = Metadata(
                actor=actor,
                command_id=f"c{n}",
                command_type=actor,
                command={"n": n, "actor": actor},
            )
            for store in (pg, lite):
                appends = [
                    StreamAppend(stream, f"type {stream}", store.stream_version(stream), tuple(got))
                    for stream, got in by_stream.items()
                ]
                result = store.append(appends, metadata)
            assert pg.last_lock_grant is not None  # the server's path, not the client's
        assert pg.head() == lite.head()
        stored = list(pg.iter_chain_rows())
        assert stored == list(lite.iter_chain_rows())
        assert [chain_row(e) for e in result.events] == stored[len(stored) - len(result.events) :]
        leaves = [leaf_hash(row[11]) for row in stored]
        for size in range(1, len(leaves) + 1):
            assert pg.proofs.root(size) == root_from_leaves(leaves[:size])
        assert pg.verify().ok
        assert pg.find_command(f"c{len(commands) - 1}") is not None


def _writer(url: str, index: int, commands: int, go: Any) -> list[int]:
    """Append `commands` one-event commands to a stream of its own and, every third,
    to the stream all writers share (retrying its conflicts); the positions it got."""
    store = PostgresEventStore(url)
    got: list[int] = []
    go.wait()
    for n in range(commands):
        stream = "shared" if n % 3 == 0 else f"own-{index}"
        while True:
            event = NewEvent("Appended", {"writer": index, "n": n}, event_id=f"w{index}-{n}")
            append = StreamAppend(stream, "s", store.stream_version(stream), (event,))
            try:
                result = store.append([append], Metadata("w", f"w{index}-{n}", "append"))
            except ConcurrencyConflict:
                continue
            got += result.positions
            break
    store.close()
    return got


def test_writer_processes_calling_the_function_at_once_leave_no_gap(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.database()
    PostgresEventStore(url, create=True).close()
    writers, commands = 4, 40
    context = multiprocessing.get_context("spawn")
    go = context.Manager().Event()
    with context.Pool(writers) as pool:
        pending = [pool.apply_async(_writer, (url, k, commands, go)) for k in range(writers)]
        go.set()
        got = [position for job in pending for position in job.get(timeout=600)]
    total = writers * commands
    assert sorted(got) == list(range(1, total + 1))  # each position given out once, no hole
    with PostgresEventStore(url) as store:
        assert [e.position for e in store.iter_all()] == list(range(1, total + 1))
        assert store.stream_version("shared") == len(range(0, commands, 3)) * writers
        assert store.verify().ok
        leaves = [leaf_hash(e.hash) for e in store.iter_all()]
        assert store.proofs.root(total) == root_from_leaves(leaves)
