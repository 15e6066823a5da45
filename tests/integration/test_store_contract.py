"""The EventStore contract: every store (in memory, SQLite) keeps the same promises."""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from domain.clock import SequentialIds, StepClock
from domain.envelope import (
    GENESIS_HASH,
    Head,
    Metadata,
    NewEvent,
    PendingEvent,
    RecordedEvent,
    Refusal,
    StreamAppend,
)
from domain.errors import ConcurrencyConflict, InvalidInput
from store import InMemoryEventStore, SqliteEventStore, check_anchor, export_events
from store import import_events as import_jsonl
from store.hashchain import ChainRow, canonical_row, chain_hash

AnyStore = InMemoryEventStore | SqliteEventStore


@dataclass
class Kind:
    """How to make a store of one kind, and how to tamper with one behind its back."""

    name: str
    make: Callable[..., AnyStore]
    tamper: Callable[[AnyStore, int, Callable[[ChainRow], ChainRow]], None]


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


# -- appending -----------------------------------------------------------------------------


def test_an_empty_store_has_the_genesis_head(store: AnyStore) -> None:
    assert store.head() == Head(0, GENESIS_HASH)
    assert store.read_all() == []
    assert store.stream_version("account-a") == 0
    assert store.verify().ok


def test_append_returns_what_read_all_returns(store: AnyStore) -> None:
    result = put(store, "account-a", 0, new(amount=5), new(amount=7))
    assert result.positions == (1, 2)
    assert not result.duplicate
    assert list(result.events) == store.read_all()
    first, second = result.events
    assert (first.version, second.version) == (1, 2)
    assert first.prev_hash == GENESIS_HASH and second.prev_hash == first.hash
    assert first.metadata["actor"] == "alice"
    assert first.metadata["correlation_id"] == first.metadata["command_id"]
    assert store.head() == Head(2, second.hash)


def test_a_multi_stream_append_is_one_atomic_step(store: AnyStore) -> None:
    put(store, "account-b", 0)
    result = store.append(
        [
            StreamAppend("account-a", "account", 0, (new("Sent"),)),
            StreamAppend("account-b", "account", 1, (new("Received"),)),
        ],
        meta(),
    )
    assert result.positions == (2, 3)
    assert [e.stream_id for e in result.events] == ["account-a", "account-b"]
    assert result.events[0].recorded_at == result.events[1].recorded_at
    assert store.stream_version("account-a") == 1
    assert store.stream_version("account-b") == 2


def test_a_conflict_on_any_stream_writes_nothing(store: AnyStore) -> None:
    put(store, "account-b", 0)
    head = store.head()
    with pytest.raises(ConcurrencyConflict) as caught:
        store.append(
            [
                StreamAppend("account-a", "account", 0, (new(),)),
                StreamAppend("account-b", "account", 0, (new(),)),
            ],
            meta(),
        )
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == (
        "account-b",
        0,
        1,
    )
    assert "retry" in caught.value.message
    assert store.head() == head
    assert store.stream_version("account-a") == 0


def test_a_repeated_command_id_returns_the_earlier_result(store: AnyStore) -> None:
    first = put(store, "account-a", 0, new(), new(), command_id="cmd-1")
    again = put(store, "account-a", 0, command_id="cmd-1")
    assert again.duplicate
    assert again.positions == first.positions
    assert again.events == first.events
    assert store.head().position == 2
    found = store.find_command("cmd-1")
    assert found is not None and found.positions == (1, 2) and found.duplicate
    assert store.find_command("cmd-unknown") is None
    assert store.command_payload("cmd-1") == ("deposit", {"amount": "1.00"})
    assert store.command_payload("cmd-unknown") is None


def test_a_command_that_records_nothing_is_still_remembered(store: AnyStore) -> None:
    empty = store.append([], meta("cmd-empty"))
    assert empty.positions == () and not empty.duplicate
    again = store.append([], meta("cmd-empty"))
    assert again.duplicate and again.positions == ()
    assert store.head().position == 0


def test_positions_stay_gap_free_across_conflicts_and_duplicates(store: AnyStore) -> None:
    put(store, "account-a", 0, command_id="c1")
    with pytest.raises(ConcurrencyConflict):
        put(store, "account-a", 0)
    put(store, "account-a", 0, command_id="c1")
    put(store, "account-b", 0, NewEvent("T", {"n": 1}, event_id="ev-dup"), new())
    with pytest.raises(InvalidInput):
        put(store, "account-c", 0, new(), NewEvent("T", {"n": 1}, event_id="ev-dup"))
    put(store, "account-a", 1)
    assert [e.position for e in store.read_all()] == list(range(1, store.head().position + 1))
    assert store.verify().ok


def test_a_reused_event_id_is_refused_and_nothing_is_written(store: AnyStore) -> None:
    put(store, "account-a", 0, NewEvent("T", {"n": 1}, event_id="same"))
    head = store.head()
    with pytest.raises(InvalidInput, match="already recorded"):
        put(store, "account-b", 0, new(), NewEvent("T", {"n": 1}, event_id="same"))
    assert store.head() == head
    assert store.stream_version("account-b") == 0


@pytest.mark.parametrize(
    ("streams", "message"),
    [
        ([StreamAppend("a", "t", 0, ()), StreamAppend("a", "t", 0, ())], "appears twice"),
        ([StreamAppend("", "t", 0, ())], "stream_id"),
        ([StreamAppend("a", "t", 0, (NewEvent("T", {}),))], "event_id"),
        ([StreamAppend("a", "t", 0, (NewEvent("", {}, event_id="x"),))], "type"),
        ([StreamAppend("a", "t", 0, (NewEvent("T", {"f": {1, 2}}, event_id="x"),))], "JSON"),
    ],
)
def test_malformed_appends_are_refused(
    store: AnyStore, streams: list[StreamAppend], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        store.append(streams, meta())
    assert store.head().position == 0


def test_each_event_keeps_its_own_time_even_when_the_clock_goes_back(kind: Kind) -> None:
    store = kind.make(clock=StepClock("2026-01-01T10:00:00Z", step=timedelta(minutes=-1)))
    put(store, "account-a", 0)
    put(store, "account-a", 1)
    times = [e.recorded_at for e in store.read_all()]
    assert times == ["2026-01-01T10:00:00.000000Z", "2026-01-01T09:59:00.000000Z"]
    assert store.verify().ok


def test_stored_data_is_canonical_and_isolated_from_callers(store: AnyStore) -> None:
    payload: dict[str, Any] = {"b": [1, 2], "a": {"y": 1, "x": 2}}
    result = put(store, "account-a", 0, NewEvent("T", payload, event_id="iso"))
    payload["b"].append(3)
    result.events[0].data["a"]["x"] = 99
    stored = store.read_all()[0]
    assert stored.data == {"a": {"x": 2, "y": 1}, "b": [1, 2]}
    assert list(stored.data) == ["a", "b"]
    assert store.verify().ok


# -- reading -------------------------------------------------------------------------------


def test_read_stream_between_versions(store: AnyStore) -> None:
    fill(store, 12, streams=2)
    stream = store.read_stream("account-1")
    assert [e.version for e in stream] == [1, 2, 3, 4, 5, 6]
    assert [e.version for e in store.read_stream("account-1", after_version=2)] == [3, 4, 5, 6]
    window = store.read_stream("account-1", after_version=2, to_version=4)
    assert [e.version for e in window] == [3, 4]
    assert store.read_stream("account-none") == []


def test_read_all_and_iter_all_between_positions(store: AnyStore) -> None:
    fill(store, 10)
    assert [e.position for e in store.read_all(after=3, to=6)] == [4, 5, 6]
    assert [e.position for e in store.read_all(after=3, limit=2)] == [4, 5]
    assert [e.position for e in store.read_all(after=8, to=20)] == [9, 10]
    assert store.read_all(after=10) == []
    assert list(store.iter_all(after=2, to=7)) == store.read_all(after=2, to=7)
    assert list(store.iter_all()) == store.read_all()


def test_position_at_finds_the_last_event_at_or_before_a_time(store: AnyStore) -> None:
    fill(store, 5)  # recorded at 09:00:00 .. 09:00:04
    assert store.position_at("2026-01-01T08:59:59Z") == 0
    assert store.position_at("2026-01-01T09:00:00.000000Z") == 1
    assert store.position_at("2026-01-01T09:00:02.500000Z") == 3
    assert store.position_at("2026-01-01T09:00:02") == 3
    assert store.position_at("2026-01-01T11:00:03+02:00") == 4
    assert store.position_at("2027-01-01") == 5
    with pytest.raises(InvalidInput, match="not an ISO time"):
        store.position_at("yesterday")


class _TimesClock:
    """A clock that gives `moments` in turn (each append reads it once)."""

    def __init__(self, *moments: str) -> None:
        self._moments = list(moments)

    def now(self) -> str:
        return self._moments.pop(0)


_times_clock = _TimesClock


def test_position_at_passes_over_an_event_whose_clock_ran_ahead(kind: Kind) -> None:
    minutes = [f"2026-01-01T09:{m:02d}:00Z" for m in range(20)]
    # Position 5 was written by a clock 31 years ahead; the others are in order.
    store = kind.make(clock=_times_clock(*minutes[:4], "2057-01-01T00:00:00Z", *minutes[5:]))
    for version in range(20):
        put(store, "account-a", version)
    times = [e.recorded_at for e in store.read_all()]
    assert times[4] == "2057-01-01T00:00:00.000000Z" and times[5] == minutes[5][:-1] + ".000000Z"
    assert store.position_at("2026-01-01T09:03:30Z") == 4
    assert store.position_at("2026-01-01T09:05:00Z") == 6
    assert store.position_at("2026-01-01T09:19:00Z") == 20
    # The skewed event never moves the boundary, not even at its own time.
    assert store.position_at("2057-06-01T00:00:00Z") == 20


def test_position_at_passes_over_an_event_whose_clock_ran_behind(kind: Kind) -> None:
    minutes = [f"2026-01-01T09:{m:02d}:00Z" for m in range(20)]
    store = kind.make(clock=_times_clock(*minutes[:10], "1990-01-01T00:00:00Z", *minutes[11:]))
    for version in range(20):
        put(store, "account-a", version)
    assert store.position_at("1995-01-01T00:00:00Z") == 0
    assert store.position_at("2026-01-01T09:09:30Z") == 10
    assert store.position_at("2026-01-01T09:11:00Z") == 12


def test_position_at_on_times_out_of_order_is_the_last_position_at_or_before(
    kind: Kind,
) -> None:
    # Small steps back (within the tolerance) flag nothing: the last position whose
    # time is at or before T counts, wherever its neighbours are.
    moments = ["2026-01-01T09:00:10Z", "2026-01-01T09:00:05Z", "2026-01-01T09:00:20Z"]
    store = kind.make(clock=_times_clock(*moments))
    for version in range(3):
        put(store, "account-a", version)
    assert store.position_at("2026-01-01T09:00:04Z") == 0
    assert store.position_at("2026-01-01T09:00:05Z") == 2
    assert store.position_at("2026-01-01T09:00:12Z") == 2
    assert store.position_at("2026-01-01T09:00:20Z") == 3


def test_filters_streams_and_counts(store: AnyStore) -> None:
    put(store, "account-a", 0, new("Opened"), new("Deposited"))
    store.append([StreamAppend("account-b", "account", 0, (new("Opened"),))], meta(actor="bob"))
    put(store, "card-1", 0, new("Issued"))
    assert store.count_events() == 4
    assert store.count_events(type="Opened") == 2
    assert store.count_events(actor="bob") == 1
    assert store.count_events(stream="account-a", type="Deposited") == 1
    page = store.events_page(type="Opened")
    assert [e.position for e in page] == [1, 3]
    assert [e.position for e in store.events_page(actor="alice", after=1, limit=2)] == [2, 4]
    assert [e.position for e in store.events_page(descending=True, limit=2)] == [4, 3]
    assert [e.position for e in store.events_page(stream="account-a", descending=True)] == [2, 1]
    assert [e.position for e in store.events_page(before=3)] == [1, 2]
    assert [(s.stream_id, s.version) for s in store.streams("account-")] == [
        ("account-a", 2),
        ("account-b", 1),
    ]
    assert [s.stream_id for s in store.streams(limit=1, after="account-a")] == ["account-b"]
    assert store.streams("card")[0].stream_type == "account"


# -- refusals ------------------------------------------------------------------------------


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


def test_refusals_are_kept_at_the_head_position(store: AnyStore) -> None:
    first = store.record_refusal(refusal("r1"))
    fill(store, 2)
    second = store.record_refusal(refusal("r2", actor="bob"))
    third = store.record_refusal(refusal("r3"))
    assert (first.id, first.at_position) == (1, 0)
    assert (second.at_position, third.at_position) == (2, 2)
    assert second.id < third.id
    assert [r.command_id for r in store.refusals()] == ["r3", "r2", "r1"]
    assert [r.command_id for r in store.refusals(to_position=1)] == ["r1"]
    assert [r.command_id for r in store.refusals(limit=2)] == ["r3", "r2"]
    kept = store.refusals()[1]
    assert kept == second
    assert kept.command == {"amount": "9.00"} and kept.reason == "insufficient funds"
    assert store.head().position == 2


# -- bulk ----------------------------------------------------------------------------------


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


def test_bulk_load_assigns_positions_hashes_and_commands(store: AnyStore) -> None:
    head = store.append_bulk(pending(30), batch=7)
    assert head == store.head() and head.position == 30
    assert store.verify().ok
    assert [e.version for e in store.read_stream("account-1")] == list(range(1, 11))
    found = store.find_command("bulk-cmd-3")
    assert found is not None and found.positions == (7, 8)
    assert store.command_payload("bulk-cmd-3") == ("deposit", {"n": 6})
    assert store.count_events(type="Deposited", actor="demo") == 30


def test_bulk_load_continues_a_non_empty_store(store: AnyStore) -> None:
    put(store, "account-0", 0, new())
    events = [
        replace(e, version=e.version + 1) if e.stream_id == "account-0" else e for e in pending(6)
    ]
    head = store.append_bulk(events)
    assert head.position == 7
    assert [e.version for e in store.read_stream("account-0")] == [1, 2, 3]
    assert store.verify().ok


def _with_command(event: PendingEvent, command_id: str) -> PendingEvent:
    return replace(event, metadata={**event.metadata, "command_id": command_id})


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (lambda es: [*es[:4], replace(es[4], version=5), *es[5:]], "version"),
        (lambda es: [*es[:4], replace(es[4], recorded_at="yesterday")], "form"),
        (lambda es: [*es[:4], replace(es[4], event_id=es[0].event_id)], "twice|already"),
        (lambda es: [*es[:4], replace(es[4], data={"bad": {1}})], "JSON"),
        (lambda es: [*es[:4], _with_command(es[4], "bulk-cmd-0")], "command"),
    ],
    ids=["version gap", "time format", "event id", "not JSON", "command reused"],
)
def test_a_bad_bulk_load_writes_nothing(
    store: AnyStore, breakage: Callable[[list[PendingEvent]], list[PendingEvent]], message: str
) -> None:
    put(store, "account-x", 0)
    head = store.head()
    with pytest.raises(InvalidInput, match=message):
        store.append_bulk(breakage(pending(9)))
    assert store.head() == head
    assert store.count_events() == 1


def test_refusals_in_a_bulk_load_are_kept_where_they_occur(store: AnyStore) -> None:
    put(store, "account-x", 0)
    events = pending(6)
    late = replace(refusal("late"), at_position=1)  # its own at_position is ignored
    mixed: list[PendingEvent | Refusal] = [*events[:2], refusal("early"), *events[2:5], late]
    head = store.append_bulk([*mixed, events[5]])
    assert head.position == 7
    kept = store.refusals()
    assert [(r.command_id, r.at_position) for r in kept] == [("late", 6), ("early", 3)]
    assert kept[0].id > kept[1].id


def test_a_failed_bulk_load_keeps_none_of_its_refusals(store: AnyStore) -> None:
    events = pending(4)
    with pytest.raises(InvalidInput):
        store.append_bulk([events[0], refusal("r"), replace(events[1], version=7)])
    assert store.refusals() == [] and store.head().position == 0


def test_a_bad_bulk_load_into_an_empty_store_writes_nothing(store: AnyStore) -> None:
    events = pending(9)
    events[7] = replace(events[7], event_id=events[2].event_id)
    with pytest.raises(InvalidInput, match="bulk-2"):
        store.append_bulk(events)
    assert store.head().position == 0
    assert store.find_command("bulk-cmd-0") is None
    store.append_bulk(pending(9))
    assert store.verify().ok


# -- import --------------------------------------------------------------------------------


def exported(store: AnyStore) -> list[RecordedEvent]:
    return list(store.iter_all())


def test_export_then_import_gives_identical_events(kind: Kind) -> None:
    source = kind.make()
    fill(source, 8)
    buffer = io.BytesIO()
    assert export_events(source.iter_all(), buffer) == 8
    target = kind.make()
    head = import_jsonl(target, io.BytesIO(buffer.getvalue()))
    assert head == source.head() == target.head()
    assert exported(target) == exported(source)
    assert target.verify().ok
    command_id = source.read_all()[0].metadata["command_id"]
    found = target.find_command(command_id)
    assert found is not None and found.positions == (1,)
    assert target.command_payload(command_id) is None  # payloads are not exported


def test_import_appends_when_the_file_continues_the_head(kind: Kind) -> None:
    source = kind.make()
    fill(source, 6)
    events = exported(source)
    target = kind.make()
    target.import_events(events[:4])
    head = target.import_events(events[4:])
    assert head == source.head()
    with pytest.raises(InvalidInput, match="must start at position 7, not 1"):
        target.import_events(events)
    assert target.head() == head


def _broken(events: list[RecordedEvent], how: str) -> list[RecordedEvent]:
    e = list(events)
    if how == "data":
        e[3] = replace(e[3], data={"amount": 1_000_000})
    elif how == "prev_hash":
        e[3] = replace(e[3], prev_hash=e[1].hash)
    elif how == "gap":
        del e[3]
    elif how == "swap":
        e[2], e[3] = e[3], e[2]
    elif how == "duplicate":
        e.insert(3, e[2])
    elif how == "version":
        e[3] = replace(e[3], version=e[3].version + 1)
    elif how == "start":
        e = e[1:]
    return e


@pytest.mark.parametrize(
    ("how", "index", "message"),
    [
        ("data", 3, "hash does not match"),
        ("prev_hash", 3, "prev_hash"),
        ("gap", 3, "expected position 4"),
        ("swap", 2, "expected position 3"),
        ("duplicate", 3, "expected position 4"),
        ("version", 3, "version"),
        ("start", 0, "must start at position 1"),
    ],
)
def test_an_import_that_breaks_the_chain_writes_nothing(
    kind: Kind, how: str, index: int, message: str
) -> None:
    source = kind.make()
    fill(source, 6)
    target = kind.make()
    with pytest.raises(InvalidInput, match=message) as caught:
        target.import_events(_broken(exported(source), how))
    assert getattr(caught.value, "index", None) == index
    assert target.head() == Head(0, GENESIS_HASH)
    assert target.count_events() == 0


def test_import_refuses_what_the_validator_refuses(kind: Kind) -> None:
    source = kind.make()
    fill(source, 4)

    def no_big_amounts(event: RecordedEvent) -> None:
        if event.position == 3:
            raise InvalidInput("amount too big")

    target = kind.make()
    with pytest.raises(InvalidInput, match="event 3: amount too big"):
        target.import_events(exported(source), validate=no_big_amounts)
    assert target.head().position == 0


def test_import_into_a_keyed_store_needs_the_same_key(kind: Kind) -> None:
    source = kind.make(key=b"k1")
    fill(source, 3)
    with pytest.raises(InvalidInput, match="another key"):
        kind.make(key=b"k2").import_events(exported(source))
    with pytest.raises(InvalidInput, match="keyed database"):
        kind.make().import_events(exported(source))
    assert kind.make(key=b"k1").import_events(exported(source)) == source.head()


# -- verify and anchors --------------------------------------------------------------------


def _edit_data(row: ChainRow) -> ChainRow:
    return (*row[:8], '{"amount":1000000}', *row[9:])


def _relink(row: ChainRow) -> ChainRow:
    return (*row[:10], "f" * 64, row[11])


def _bump_version(row: ChainRow) -> ChainRow:
    return (*row[:4], row[4] + 100, *row[5:])


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_edit_data, "hash does not match"),
        (_relink, "prev_hash"),
        (_bump_version, "jumps from version"),
    ],
)
def test_verify_names_the_first_bad_position(
    kind: Kind, edit: Callable[[ChainRow], ChainRow], message: str
) -> None:
    store = kind.make()
    fill(store, 9)
    head = store.head()
    report = store.verify()
    assert report.ok and report.checked == 9 and report.head == head
    kind.tamper(store, 5, edit)
    report = store.verify()
    assert not report.ok
    assert report.first_bad_position == 5
    assert message in report.problem
    assert report.checked == 4
    assert report.head == Head(4, store.read_all(after=3, to=4)[0].hash)
    assert "position 5" in report.message


def test_keyed_chains_verify_only_with_their_key(kind: Kind) -> None:
    keyed = kind.make(key=b"secret")
    plain = kind.make()
    for store in (keyed, plain):
        fill(store, 4)
    assert keyed.verify().ok and keyed.verify().hash_mode == "hmac-sha256"
    assert plain.verify().hash_mode == "sha256"
    assert keyed.head() != plain.head()


def test_an_anchor_is_found_or_its_loss_named(store: AnyStore) -> None:
    fill(store, 5)
    anchor = store.head()
    fill(store, 2)
    assert check_anchor(store, anchor).ok
    assert check_anchor(store, Head(0, GENESIS_HASH)).ok
    ahead = check_anchor(store, Head(99, anchor.hash))
    assert not ahead.ok and "removed from the tail" in ahead.problem
    rewritten = check_anchor(store, Head(5, "0" * 63 + "1"))
    assert not rewritten.ok and "rewritten" in rewritten.problem


# -- filtered positions --------------------------------------------------------------------


def _mixed(store: AnyStore) -> None:
    """Six events over EUR/USD accounts and a card, by three actors.

    1 account-eur-1 Opened alice  {"owner": "Ann Lee"}
    2 account-eur-1 Deposited alice {"amount": 5, "reference": "Rent MARCH"}
    3 account-eur-2 Opened bob   {"owner": "Bo"}
    4 account-usd-1 Opened carol {"owner": "Zoë"}
    5 account-eur-2 Withdrawn bob {"amount": 7, "reference": "groceries"}
    6 card-eur-1    Issued alice {"limit": 100}
    """
    plan: list[tuple[str, str, str, dict[str, Any]]] = [
        ("account-eur-1", "Opened", "alice", {"owner": "Ann Lee"}),
        ("account-eur-1", "Deposited", "alice", {"amount": 5, "reference": "Rent MARCH"}),
        ("account-eur-2", "Opened", "bob", {"owner": "Bo"}),
        ("account-usd-1", "Opened", "carol", {"owner": "Zoë"}),
        ("account-eur-2", "Withdrawn", "bob", {"amount": 7, "reference": "groceries"}),
        ("card-eur-1", "Issued", "alice", {"limit": 100}),
    ]
    for stream, type_, actor, data in plan:
        store.append(
            [StreamAppend(stream, "account", store.stream_version(stream), (new(type_, **data),))],
            meta(actor=actor),
        )


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [1, 2, 3, 4, 5, 6]),
        ({"stream": "account-eur-2"}, [3, 5]),
        ({"stream": "account-eur-*"}, [1, 2, 3, 5]),
        ({"stream": "*-eur-?"}, [1, 2, 3, 5, 6]),
        ({"stream": "account-[eu][us][rd]-1"}, [1, 2, 4]),
        ({"stream": "account-[^e]*"}, [4]),
        ({"stream": "ACCOUNT-*"}, []),  # GLOB is case-sensitive
        ({"stream": "account-eur"}, []),  # exact means exact, not a prefix
        ({"stream": "account-[eur-1"}, []),  # an unclosed set matches nothing
        ({"type": "Opened"}, [1, 3, 4]),
        ({"type": "*drawn"}, [5]),
        ({"actor": "alice"}, [1, 2, 6]),
        ({"actor": "?o*"}, [3, 5]),
        ({"stream": "account-*", "type": "Opened", "actor": "bob"}, [3]),
        ({"text": "rent march"}, [2]),  # case-insensitive
        ({"text": "GROCER"}, [5]),
        ({"text": "zoë"}, [4]),  # non-ASCII text matches as written
        ({"text": "carol"}, [4]),  # metadata is searched too
        ({"text": "reference"}, [2, 5]),  # keys are part of the JSON text
        ({"text": "owner", "actor": "a*"}, [1]),
        ({"text": "nowhere"}, []),
        ({"stream": "account-*", "after": 2, "to": 5}, [3, 4, 5]),
        ({"stream": "account-eur-1", "after": 1}, [2]),
        ({"stream": "account-eur-2", "to": 4}, [3]),
        ({"actor": "alice", "limit": 2}, [1, 2]),
        ({"limit": 0}, []),
        ({"after": 6}, []),
    ],
)
def test_positions_filter_by_exact_values_globs_and_text(
    store: AnyStore, filters: dict[str, Any], expected: list[int]
) -> None:
    _mixed(store)
    assert store.positions(**filters) == expected


def test_positions_and_events_at_page_through_a_filter(store: AnyStore) -> None:
    moment = "2026-02-01T00:00:00.000000Z"
    store.append_bulk([replace(e, recorded_at=moment) for e in pending(1_230, streams=3)])
    matching = store.positions(stream="account-1")
    assert len(matching) == 410 and all(isinstance(p, int) for p in matching)
    assert matching == [e.position for e in store.read_stream("account-1")]
    everything = store.positions()
    assert everything == list(range(1, 1_231))
    events = store.events_at(everything)  # more than one IN (...) chunk
    assert [e.position for e in events] == everything
    assert events == store.read_all()
    page = matching[100:150]
    assert store.events_at(page) == [e for e in store.read_stream("account-1")][100:150]
    assert [e.position for e in store.events_at([9, 3, 3, 0, -1, 5_000, 1])] == [1, 3, 9]
    assert store.events_at([]) == []


# -- correlation and command lookup --------------------------------------------------------


def _correlated(store: AnyStore) -> None:
    """Command c1 (positions 1-2) starts correlation c1; c2 (3) and c4 (5) follow it."""

    def run(command_id: str, stream: str, count: int, correlation: str = "") -> None:
        events = tuple(new() for _ in range(count))
        store.append(
            [StreamAppend(stream, "account", store.stream_version(stream), events)],
            Metadata(
                actor="alice",
                command_id=command_id,
                command_type="deposit",
                correlation_id=correlation,
                causation_id=correlation,
            ),
        )

    run("c1", "account-a", 2)
    run("c2", "account-b", 1, correlation="c1")
    run("c3", "account-a", 1)
    run("c4", "account-c", 1, correlation="c1")


def test_positions_by_correlation_and_by_command(store: AnyStore) -> None:
    _correlated(store)
    store.append([], meta("c-empty"))  # a command that recorded nothing
    assert store.positions_by_correlation("c1") == [1, 2, 3, 5]
    assert store.positions_by_correlation("c1", limit=2) == [1, 2]
    assert store.positions_by_correlation("c3") == [4]
    assert store.positions_by_correlation("unknown") == []
    assert store.positions_by_command("c1") == [1, 2]
    assert store.positions_by_command("c4") == [5]
    assert store.positions_by_command("c-empty") == []
    assert store.positions_by_command("unknown") == []


def test_positions_by_command_after_a_bulk_load_and_an_import(kind: Kind) -> None:
    source = kind.make()
    source.append_bulk(pending(12, command_every=3))
    assert source.positions_by_command("bulk-cmd-2") == [7, 8, 9]
    assert source.positions_by_correlation("bulk-cmd-2") == [7, 8, 9]
    target = kind.make()
    target.import_events(exported(source))
    assert target.positions_by_command("bulk-cmd-2") == [7, 8, 9]


# -- verifying one event -------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, b"auditor's key"], ids=["sha256", "hmac"])
def test_verify_event_recomputes_one_stored_hash(kind: Kind, key: bytes | None) -> None:
    store = kind.make(key=key)
    fill(store, 6)
    events = store.read_all()
    assert all(store.verify_event(e) for e in events)
    fifth = events[4]
    assert not store.verify_event(replace(fifth, hash="0" * 64))
    assert not store.verify_event(replace(fifth, position=99))
    assert not store.verify_event(replace(fifth, prev_hash=events[2].hash))
    kind.tamper(store, 5, _edit_data)
    assert not store.verify_event(fifth)
    assert store.verify_event(events[3]) and store.verify_event(events[5])


def _forge_plain(row: ChainRow) -> ChainRow:
    """Edit the data and re-hash with plain SHA-256, as a forger without the key would."""
    edited: ChainRow = (*row[:8], '{"amount":1000000}', *row[9:])
    return (*edited[:11], chain_hash(edited[10], canonical_row(edited), None))


@pytest.mark.parametrize(("key", "caught"), [(None, False), (b"k1", True)], ids=["sha", "hmac"])
def test_verify_event_catches_a_rehash_only_with_a_key(
    kind: Kind, key: bytes | None, caught: bool
) -> None:
    store = kind.make(key=key)
    fill(store, 3)
    kind.tamper(store, 3, _forge_plain)
    forged = store.read_all()[2]
    assert forged.data == {"amount": 1_000_000}
    assert store.verify_event(forged) is not caught
    assert store.verify().ok is not caught


# -- bookmarks -----------------------------------------------------------------------------


def test_bookmarks_are_set_moved_listed_and_deleted(store: AnyStore) -> None:
    assert store.bookmarks() == []
    fill(store, 5)
    late = store.set_bookmark("payday", 4, actor="alice")
    assert (late.name, late.position, late.actor) == ("payday", 4, "alice")
    assert late.created_at.endswith("Z") and len(late.created_at) == 27
    store.set_bookmark("before anything", 0, actor="bob")
    store.set_bookmark("Zoë's audit ☑", 2, actor="carol")
    assert [(b.name, b.position) for b in store.bookmarks()] == [
        ("before anything", 0),
        ("Zoë's audit ☑", 2),
        ("payday", 4),
    ]
    assert store.bookmarks()[2] == late
    moved = store.set_bookmark("payday", 1, actor="bob")  # re-using a name moves it
    assert [(b.name, b.position, b.actor) for b in store.bookmarks()][:2] == [
        ("before anything", 0, "bob"),
        ("payday", 1, "bob"),
    ]
    assert len(store.bookmarks()) == 3 and moved in store.bookmarks()
    store.set_bookmark("head", 5, actor="alice")
    assert store.delete_bookmark("payday") is True
    assert store.delete_bookmark("payday") is False
    assert [b.name for b in store.bookmarks()] == ["before anything", "Zoë's audit ☑", "head"]
    assert store.head().position == 5 and store.verify().ok  # not part of the chain


def test_equal_positions_list_bookmarks_by_name(store: AnyStore) -> None:
    fill(store, 2)
    for name in ("b", "c", "a"):
        store.set_bookmark(name, 2, actor="alice")
    assert [b.name for b in store.bookmarks()] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("name", "position", "message"),
    [
        ("", 1, "needs a name"),
        ("   ", 1, "needs a name"),
        ("x" * 61, 1, "at most 60 characters, not 61"),
        ("tab\there", 1, "control, bidi or invisible characters \\(U\\+0009\\)"),
        ("two\nlines", 1, "control, bidi or invisible"),
        ("abc\u202edcb", 1, "control, bidi or invisible"),
        (" padded", 1, "start or end with a space"),
        ("ok", -1, "from 0 to 3, not -1"),
        ("ok", 4, "from 0 to 3, not 4"),
        ("ok", True, "whole number"),
        ("ok", "2", "whole number"),
    ],
)
def test_bad_bookmarks_are_refused_and_nothing_changes(
    store: AnyStore, name: str, position: Any, message: str
) -> None:
    fill(store, 3)
    store.set_bookmark("kept", 1, actor="alice")
    before = store.bookmarks()
    with pytest.raises(InvalidInput, match=message):
        store.set_bookmark(name, position, actor="alice")
    assert store.bookmarks() == before


def test_a_sixty_character_name_and_the_head_are_accepted(store: AnyStore) -> None:
    fill(store, 3)
    name = "n" * 60
    assert store.set_bookmark(name, 3, actor="").position == 3
    assert store.bookmarks()[0].name == name and store.bookmarks()[0].actor == ""


def test_bookmarks_in_an_empty_store_point_at_zero(store: AnyStore) -> None:
    assert store.set_bookmark("start", 0, actor="alice").position == 0
    with pytest.raises(InvalidInput, match="from 0 to 0, not 1"):
        store.set_bookmark("start", 1, actor="alice")
    assert [b.position for b in store.bookmarks()] == [0]


def test_text_is_matched_literally_not_as_a_pattern(store: AnyStore) -> None:
    for i, reference in enumerate(["100% sure", "100 percent", "a_b", "axb", "back\\slash"]):
        put(store, f"account-{i}", 0, new("Noted", ref=reference))
    assert store.positions(text="100%") == [1]
    assert store.positions(text="a_b") == [3]
    assert store.positions(text="k\\\\s") == [5]  # a backslash is stored escaped in JSON
    assert store.positions(text="%") == [1]
    assert store.positions(text="*") == [] and store.positions(text="?") == []
