"""The roles export and import run on, on every store: the `AuditRecords` reads an
export needs (commands by position, commands that recorded no event, refusals by
position, import records) and `EventWriter.load_recorded` with its `ImportWrites`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from contract_support import AnyStore, Kind, exported, fill, meta, new, put, refusal

from domain.envelope import Bookmark, Head, Metadata, RecordedEvent, StreamAppend
from domain.errors import InvalidInput
from domain.ports import CommandRecord, ImportRecord, ImportWrites, RecordedItem
from store.hashchain import EventRejected


def _empty_command(store: AnyStore, command_id: str, **payload: object) -> None:
    """A command that recorded no event (the store still remembers it)."""
    store.append(
        [],
        Metadata(actor="carol", command_id=command_id, command_type="noop", command=payload),
    )


def _history(store: AnyStore) -> None:
    """c1 (1-2, two streams), an empty command, c2 (3), refusals at 0, 3, 3, 4, c3 (4)."""
    store.record_refusal(refusal("r0"))
    store.append(
        [
            StreamAppend("account-a", "account", 0, (new(),)),
            StreamAppend("account-b", "account", 0, (new(),)),
        ],
        meta("c1", amount="1.00"),
    )
    _empty_command(store, "e1", why="nothing to do")
    put(store, "account-a", 1, command_id="c2")
    store.record_refusal(refusal("r3a"))
    store.record_refusal(refusal("r3b", actor="bob"))
    put(store, "account-c", 0, command_id="c3")
    store.record_refusal(refusal("r4"))


# -- what an export reads ------------------------------------------------------------------


def test_commands_between_are_by_first_position_with_their_payloads(store: AnyStore) -> None:
    _history(store)
    found = store.commands_between(1, 4)
    assert [(c.command_id, c.first_position, c.last_position) for c in found] == [
        ("c1", 1, 2),
        ("c2", 3, 3),
        ("c3", 4, 4),
    ]
    assert found[0] == CommandRecord(
        "c1", "deposit", {"amount": "1.00"}, "alice", found[0].recorded_at, 1, 2
    )
    assert [c.command_id for c in store.commands_between(2, 3)] == ["c2"]  # c1 starts at 1
    assert store.commands_between(5, 9) == []
    put(store, "account-c", 1, command_id="c5")  # later commands are found too
    assert [c.command_id for c in store.commands_between(4, 9)] == ["c3", "c5"]


def test_commands_that_recorded_no_event_are_listed_apart(kind: Kind) -> None:
    store = kind.make()
    _empty_command(store, "e2")
    fill(store, 2)
    _empty_command(store, "e1", why="later")
    empty = store.empty_commands()
    assert [c.command_id for c in empty] == ["e2", "e1"]  # by time (the clock steps)
    assert empty[1] == CommandRecord("e1", "noop", {"why": "later"}, "carol", empty[1].recorded_at)
    assert all(c.command_id not in ("e1", "e2") for c in store.commands_between(0, 9))


def test_refusals_between_are_oldest_first_in_the_range(store: AnyStore) -> None:
    _history(store)
    assert [r.command_id for r in store.refusals_between(0, 4)] == ["r0", "r3a", "r3b", "r4"]
    assert [r.command_id for r in store.refusals_between(3, 3)] == ["r3a", "r3b"]
    assert [r.command_id for r in store.refusals_between(1, 2)] == []
    assert [r.command_id for r in store.refusals_between(4, 9)] == ["r4"]
    kept = store.refusals_between(3, 3)[1]
    assert kept == next(r for r in store.refusals() if r.command_id == "r3b")
    kept.command["amount"] = "changed"  # a copy: the kept refusal cannot be edited
    assert store.refusals_between(3, 3)[1].command == {"amount": "9.00"}


def test_a_store_that_never_imported_has_no_import_records(store: AnyStore) -> None:
    _history(store)
    assert store.imports() == []


# -- loading a recorded history ------------------------------------------------------------


def _items(source: AnyStore) -> list[RecordedItem]:
    """The source's events with their commands' payloads, and its refusals in place."""
    items: list[RecordedItem] = []
    refusals = source.refusals_between(0, source.head().position)
    firsts = {c.first_position: c for c in source.commands_between(1, source.head().position)}
    for event in exported(source):
        items += [r for r in refusals if r.at_position == event.position - 1]
        command = firsts.get(event.position)
        items.append((event, None if command is None else command.payload))
    items += [r for r in refusals if r.at_position == source.head().position]
    return items


def _record(first: int, last: int, restored_by: int | None = None) -> ImportRecord:
    return ImportRecord(0, "ann", "2026-03-01T10:00:00Z", "ab" * 32, "a.jsonl", first, last,
                        last - first + 1, restored_by)  # fmt: skip


def test_load_recorded_keeps_events_refusals_payloads_and_the_finishing_records(
    kind: Kind,
) -> None:
    source = kind.make()
    _history(source)
    target = kind.make()
    seen: list[Head] = []

    def finish(writes: ImportWrites, head: Head) -> None:
        seen.append(head)
        assert writes.last_import_id() == 0
        writes.add_empty_command(CommandRecord("e1", "noop", {"why": "x"}, "carol", "2026-03-01"))
        writes.add_bookmark(Bookmark("audit", 2, "ann", "2026-03-01T10:00:00Z"))
        assert writes.add_import(_record(1, 2, restored_by=2)).id == 1
        assert writes.add_import(_record(1, 4)).id == 2

    head = target.load_recorded(_items(source), finish)
    assert head == source.head() == target.head() and seen == [head]
    assert exported(target) == exported(source)
    assert target.verify().ok
    assert target.refusals() == source.refusals()
    for command_id in ("c1", "c2", "c3"):
        assert target.command_payload(command_id) == source.command_payload(command_id)
        assert target.positions_by_command(command_id) == source.positions_by_command(command_id)
    assert target.commands_between(1, 4) == source.commands_between(1, 4)
    assert [c.payload for c in target.empty_commands()] == [{"why": "x"}]
    assert target.bookmarks() == [Bookmark("audit", 2, "ann", "2026-03-01T10:00:00Z")]
    assert [(r.id, r.restored_by, r.last_position) for r in target.imports()] == [
        (1, 2, 2),
        (2, None, 4),
    ]


def test_what_finish_reads_sees_this_load_too(kind: Kind) -> None:
    source = kind.make()
    _history(source)
    target = kind.make()
    fill(target, 0)

    def finish(writes: ImportWrites, head: Head) -> None:
        assert writes.command_exists("c2")  # loaded just now
        assert not writes.command_exists("e9")
        writes.add_empty_command(CommandRecord("e9", "noop", None, "carol", "2026-03-01"))
        assert writes.command_exists("e9")
        assert not writes.bookmark_exists("b")
        writes.add_bookmark(Bookmark("b", head.position, "ann", ""))
        assert writes.bookmark_exists("b")
        writes.add_import(_record(1, head.position))
        assert writes.last_import_id() == 1

    target.load_recorded(_items(source), finish)
    assert target.command_payload("e9") is None  # no payload was given
    assert [c.command_id for c in target.empty_commands()] == ["e9"]
    assert target.find_command("e9") is not None


def test_import_ids_continue_across_loads(kind: Kind) -> None:
    source = kind.make()
    fill(source, 4)
    items = _items(source)
    target = kind.make()

    def recorder(first: int) -> Callable[[ImportWrites, Head], None]:
        def finish(writes: ImportWrites, head: Head) -> None:
            writes.add_import(_record(first, head.position))

        return finish

    target.load_recorded(items[:2], recorder(1))
    target.load_recorded(items[2:], recorder(3))
    assert [(r.id, r.first_position, r.last_position) for r in target.imports()] == [
        (1, 1, 2),
        (2, 3, 4),
    ]


def _snapshot(store: AnyStore) -> tuple[object, ...]:
    return (
        store.head(),
        exported(store),
        store.refusals(),
        store.commands_between(0, 99),
        store.empty_commands(),
        store.bookmarks(),
        store.imports(),
    )


def test_a_refusing_finish_leaves_the_store_as_it_was(kind: Kind) -> None:
    source = kind.make()
    _history(source)
    items = _items(source)
    target = kind.make()
    target.load_recorded(items[:3], lambda writes, head: None)
    target.set_bookmark("kept", 1, actor="ann")
    before = _snapshot(target)

    def finish(writes: ImportWrites, head: Head) -> None:
        writes.add_empty_command(CommandRecord("e7", "noop", {}, "carol", "2026-03-01"))
        writes.add_bookmark(Bookmark("late", 1, "ann", ""))
        writes.add_import(_record(1, head.position))
        raise InvalidInput("another writer appended during the import; try again")

    with pytest.raises(InvalidInput, match="another writer"):
        target.load_recorded(items[3:], finish)
    assert _snapshot(target) == before
    assert target.find_command("c3") is None and target.find_command("e7") is None


def test_a_broken_chain_writes_nothing_and_never_finishes(kind: Kind) -> None:
    source = kind.make()
    _history(source)
    items = _items(source)
    target = kind.make()
    before = _snapshot(target)
    called: list[Head] = []
    broken = [item for item in items if not _at(item, 3)]  # a gap at position 3
    with pytest.raises(EventRejected, match="position"):
        target.load_recorded(broken, lambda writes, head: called.append(head))
    assert called == [] and _snapshot(target) == before


def _at(item: RecordedItem, position: int) -> bool:
    return (
        isinstance(item, tuple)
        and isinstance(item[0], RecordedEvent)
        and (item[0].position == position)
    )
