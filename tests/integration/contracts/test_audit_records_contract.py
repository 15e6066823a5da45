"""The AuditRecords contract: refusals, command links, bookmarks, on every store."""

from __future__ import annotations

from typing import Any

import pytest
from contract_support import AnyStore, Kind, exported, fill, meta, new, pending, refusal

from domain.envelope import (
    Metadata,
    StreamAppend,
)
from domain.errors import InvalidInput

# -- refusals ------------------------------------------------------------------------------


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


def test_refusal_marks_place_every_refusal_by_id_without_its_command(store: AnyStore) -> None:
    first = store.record_refusal(refusal("r1"))
    fill(store, 2)
    second = store.record_refusal(refusal("r2", actor="bob"))
    third = store.record_refusal(refusal("r3"))
    marks = store.refusal_marks()
    assert marks == [(r.id, r.at_position, r.actor, r.recorded_at) for r in (first, second, third)]
    assert [m.actor for m in marks] == ["alice", "bob", "alice"]
    assert store.refusal_marks(after_id=second.id) == marks[2:]
    assert store.refusal_marks(after_id=third.id) == []
    assert store.refusal_count() == 3
    assert [store.refusal_count(to_position=p) for p in (0, 1, 2, 3)] == [1, 1, 3, 3]


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


def test_command_rows_are_the_stored_rows_by_first_position(kind: Kind) -> None:
    """What `verify --deep` reads: each row as stored, with its HMAC (a keyed store that
    keeps rows outside the process signs them; memory keeps none)."""
    for key in (None, b"the contract's key"):
        store = kind.make(key=key)
        _correlated(store)
        store.append([], meta("c-empty"))
        rows = store.command_rows(1, 4)
        assert [(r[0], r[5], r[6]) for r in rows] == [("c1", 1, 2), ("c2", 3, 3), ("c3", 4, 4)]
        assert [r[0] for r in store.command_rows(0, 0)] == ["c-empty"]
        assert store.command_rows(6, 1 << 62) == []
        assert all(len(r) == 8 for r in rows)
        signed = key is not None and kind.name != "memory"
        assert all((r[7] is not None) == signed for r in rows), rows


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
