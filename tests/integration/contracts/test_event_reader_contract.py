"""The EventReader contract: streams, global order, time index, filters and pages,
on every store."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from contract_support import AnyStore, Kind, fill, meta, new, pending, put

from domain.envelope import (
    StreamAppend,
)
from domain.errors import InvalidInput

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


def test_text_is_matched_literally_not_as_a_pattern(store: AnyStore) -> None:
    for i, reference in enumerate(["100% sure", "100 percent", "a_b", "axb", "back\\slash"]):
        put(store, f"account-{i}", 0, new("Noted", ref=reference))
    assert store.positions(text="100%") == [1]
    assert store.positions(text="a_b") == [3]
    assert store.positions(text="k\\\\s") == [5]  # a backslash is stored escaped in JSON
    assert store.positions(text="%") == [1]
    assert store.positions(text="*") == [] and store.positions(text="?") == []


# -- the change token ----------------------------------------------------------------------


def test_the_change_token_moves_when_another_handle_commits(kind: Kind, store: AnyStore) -> None:
    # In memory every handle is the store itself; SQLite and PostgreSQL open a second one.
    writer = kind.reopen(store)
    before = store.data_version()
    put(writer, "account-a", 0)
    assert store.data_version() != before
    assert store.head().position == 1
