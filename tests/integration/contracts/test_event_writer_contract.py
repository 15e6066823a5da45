"""The EventWriter contract: appends, bulk loads and imports, on every store."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from contract_support import AnyStore, Kind, exported, fill, meta, new, pending, put, refusal

from domain.clock import StepClock
from domain.envelope import (
    GENESIS_HASH,
    Head,
    NewEvent,
    PendingEvent,
    RecordedEvent,
    Refusal,
    StreamAppend,
)
from domain.errors import ConcurrencyConflict, InvalidInput
from store import export_events
from store import import_events as import_jsonl

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


# -- bulk ----------------------------------------------------------------------------------


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


# -- exclusive appends (the bus's decision under the lock) ----------------------------------


def test_an_exclusive_block_keeps_other_writers_out_until_it_ends(kind: Kind) -> None:
    store = kind.make()
    put(store, "account-a", 0)
    other = kind.reopen(store)  # another connection (memory: the store, from another thread)
    landed: list[Any] = []
    rival = threading.Thread(target=lambda: landed.append(put(other, "account-b", 0)))
    with store.exclusive_appends():
        rival.start()
        rival.join(0.3)  # it waits for the block, however long it lasts
        assert landed == []
        assert store.stream_version("account-b") == 0
        with store.exclusive_appends():  # re-entrant on its thread
            mine = put(store, "account-a", 1)
        kept = store.record_refusal(refusal("refused-inside"))
    rival.join()
    assert mine.positions == (2,) and kept.at_position == 2
    assert landed[0].positions == (3,)  # after the block, never inside it
    assert [e.position for e in store.read_all()] == [1, 2, 3]
    assert [r.command_id for r in store.refusals()] == ["refused-inside"]
    assert store.verify().ok


def test_an_exclusive_block_that_raises_keeps_nothing_it_wrote(kind: Kind) -> None:
    if kind.name == "memory":
        pytest.skip("the in-memory store applies each write at once (it has no transaction)")
    store = kind.make()
    put(store, "account-a", 0)
    head = store.head()
    with pytest.raises(RuntimeError), store.exclusive_appends():
        put(store, "account-a", 1)
        store.record_refusal(refusal("undone"))
        raise RuntimeError("the decision failed after its writes")
    assert store.head() == head and store.refusals() == []
    assert put(store, "account-a", 1).positions == (2,)  # the lock was released
    assert store.verify().ok
