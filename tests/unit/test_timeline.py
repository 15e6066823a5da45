"""The timeline's edges: upcasting, aggregates, time lookups, snapshot keys, live cursors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import pytest
from timeline_support import clock, expected, full, rows, run_plan

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.envelope import Metadata, NewEvent, RecordedEvent, StreamAppend
from domain.errors import InvalidInput, RuleRefused
from domain.ledger import CATALOG, LEDGER, Account
from domain.ledger.projections import LEDGER_PROJECTIONS, AuditFlags, ledger_projections
from domain.messages import Event
from domain.model import EventCatalog
from domain.ports import Snapshot
from domain.projection import Column, ProjectionState
from domain.refusals import RefusalIndex
from domain.snapshots import (
    ENCODING,
    InMemorySnapshots,
    compress_chunk,
    encode_states,
    snapshot_key,
)
from domain.timeline import ABSENT, Timeline, build_snapshots, diff_rows
from domain.upcasting import UpcasterRegistry
from store.memory import InMemoryEventStore


def _ledger(plan: Sequence[tuple[str, int, int, int, str]] = ()) -> InMemoryEventStore:
    tick = clock()
    store = InMemoryEventStore(clock=tick)
    run_plan(store, plan, tick)
    return store


PLAN = [
    ("deposit", 0, 0, 50_000, "alice"),
    ("transfer", 0, 1, 20_000, "bob"),
    ("withdraw", 1, 0, 90_000, "bob"),  # refused: beyond the limit
    ("freeze", 2, 0, 1, "ops"),
    ("deposit", 2, 0, 100, "alice"),  # refused: frozen
    ("unfreeze", 2, 0, 1, "ops"),
    ("deposit", 2, 0, 1_500_000, "alice"),  # large, and just after the unfreeze
    ("transfer", 0, 3, 100, "bob"),  # refused: across currencies
    ("withdraw", 0, 0, 40_000, "alice"),  # into the overdraft
]


# --- upcasting ----------------------------------------------------------------------------


class Noted(Event):
    """A test event whose v1 had `text`, renamed `note` in v2."""

    type_name: ClassVar[str] = "Noted"
    schema_version: ClassVar[int] = 2
    note: str


class Notes:
    """A projection reading the v2 field."""

    name = "notes"
    title = "Notes"
    key_title = "stream"
    columns: Sequence[Column] = (Column("note", "Note"),)

    def initial(self) -> ProjectionState:
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        if event.type != "Noted":
            return ()
        state.rows[event.stream_id] = {"note": event.data["note"]}
        return (event.stream_id,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        return (row_key,)


def test_old_schema_versions_are_upcast_on_every_read_path() -> None:
    upcasters = UpcasterRegistry()

    @upcasters.register("Noted", 1)
    def _rename(data: dict[str, Any]) -> dict[str, Any]:
        return {"note": data["text"]}

    catalog = EventCatalog([Noted], upcasters)
    store = InMemoryEventStore(clock=StepClock())
    for index, (version, data) in enumerate([(1, {"text": "old"}), (2, {"note": "new"})]):
        store.append(
            [
                StreamAppend(
                    f"note-{index}", "note", 0, (NewEvent("Noted", data, version, f"e{index}"),)
                )
            ],
            Metadata(actor="t", command_id=f"c{index}", command_type="note"),
        )
    timeline = Timeline(store, [Notes()], catalog, cadence=1)
    assert timeline.state_at(2)["notes"].rows == {
        "note-0": {"note": "old"},
        "note-1": {"note": "new"},
    }
    cursor = timeline.cursor(0)
    cursor.step(1)
    assert cursor.states["notes"].rows == {"note-0": {"note": "old"}}
    assert cursor.event is not None and cursor.event.data == {"note": "old"}
    assert cursor.event.schema_version == 2
    assert timeline.lineage("notes", "note-0") == [1]
    assert [e.data for e in timeline.events()] == [{"note": "old"}, {"note": "new"}]


# --- aggregates, time, refusals -------------------------------------------------------------


def test_aggregate_at_folds_one_stream_to_a_version_or_a_position() -> None:
    store = _ledger(PLAN)
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG)
    latest = timeline.aggregate_at(LEDGER, "account-a1")
    assert isinstance(latest.state, Account)
    # Opened, +500.00, -200.00 sent to a2, -400.00 into the overdraft (the transfer to
    # the JPY account was refused).
    assert latest.state.balance == 500_00 - 200_00 - 400_00
    assert latest.version == 4
    second = timeline.aggregate_at(LEDGER, "account-a1", 2)
    assert (second.version, second.state.balance) == (2, 500_00)
    early = timeline.aggregate_at(LEDGER, "account-a1", position=second.position - 1)
    assert early.version == 1 and early.state.status == "open"
    never = timeline.aggregate_at(LEDGER, "account-zz")
    assert (never.version, never.position, never.state) == (0, 0, Account())
    with pytest.raises(InvalidInput, match="no aggregate"):
        timeline.aggregate_at(LEDGER, "widget-1")


def test_position_at_accepts_any_iso_time() -> None:
    store = _ledger(PLAN)
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG)
    events = store.read_all()
    third = events[2].recorded_at
    assert timeline.position_at(third) == 3
    assert timeline.position_at(third.replace("Z", "+00:00")) == 3
    assert timeline.position_at("2020-01-01") == 0
    assert timeline.position_at("2100-01-01T00:00") == len(events)
    with pytest.raises(ValueError, match="not an ISO time"):
        timeline.position_at("yesterday")


def test_refusals_count_from_the_position_they_were_refused_at() -> None:
    store = _ledger(PLAN)
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG)
    refusals = sorted(store.refusals(), key=lambda r: r.id)
    assert [r.actor for r in refusals] == ["bob", "alice", "bob"]
    first = refusals[0].at_position
    before = timeline.state_at(first - 1)["actor_activity"].rows["bob"]
    at = timeline.state_at(first)["actor_activity"].rows["bob"]
    assert (before["refusals"], at["refusals"]) == (0, 1)
    assert timeline.state_at(first, refusals=False)["actor_activity"].rows["bob"]["refusals"] == 0
    # A refusal recorded later shows up on the next read.
    bus = CommandBus(store, LEDGER, clock=StepClock("2026-06-01T00:00:00Z"), ids=SequentialIds())
    with pytest.raises(InvalidInput):
        bus.execute_fields("deposit", {"account_id": "a1", "amount": "-1"}, actor="carol")
    with pytest.raises(RuleRefused, match="beyond"):
        bus.execute_fields("withdraw", {"account_id": "a2", "amount": "999999"}, actor="carol")
    head = store.head().position
    assert timeline.state_at(head)["actor_activity"].rows["carol"]["refusals"] == 1


def test_refusal_index_pages_through_everything_new() -> None:
    store = _ledger(PLAN * 30)
    index = RefusalIndex()
    assert index.refresh(store)
    assert index.count == len(store.refusals())
    assert not index.refresh(store), "nothing new the second time"
    head = store.head().position
    assert index.tallies(head) == {actor: tally for actor, tally in _brute(store, head).items()}


def _brute(store: InMemoryEventStore, position: int) -> dict[str, Any]:
    from timeline_support import tallies

    return tallies(store, position)


# --- snapshots ---------------------------------------------------------------------------


def test_snapshots_are_keyed_by_the_projection_definitions() -> None:
    default = snapshot_key(LEDGER_PROJECTIONS)
    assert snapshot_key(ledger_projections()) == default
    assert snapshot_key(ledger_projections(large_amounts={"EUR": 1})) != default
    assert snapshot_key(LEDGER_PROJECTIONS[:2]) != default
    store = _ledger(PLAN)
    snapshots = InMemorySnapshots()
    assert build_snapshots(store, LEDGER_PROJECTIONS, snapshots, CATALOG, cadence=2) > 0
    stricter = ledger_projections(large_amounts={"EUR": 1})
    timeline = Timeline(store, stricter, CATALOG, snapshots, cadence=2)
    head = store.head().position
    assert full(timeline.state_at(head)) == full(expected(store, head, stricter))
    stale = len(snapshots.positions(default))
    assert stale > 0
    assert timeline.discard_stale_snapshots() == stale
    assert snapshots.positions(default) == []


def test_a_snapshot_of_another_history_is_never_used() -> None:
    store = _ledger(PLAN)
    snapshots = InMemorySnapshots()
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, snapshots, cadence=4)
    empty = ProjectionState()
    forged = {p.name: empty for p in LEDGER_PROJECTIONS}
    manifest, chunks = encode_states(forged)
    stored = {d: compress_chunk(c) for d, c in chunks.items()}
    snapshots.save(Snapshot(timeline.key, 8, "f" * 64, ENCODING, manifest), stored)
    head = store.head().position
    assert full(timeline.state_at(head)) == full(expected(store, head))


def test_a_read_only_snapshot_store_does_not_fail_reads() -> None:
    class Refusing(InMemorySnapshots):
        def save(self, snapshot: Snapshot, chunks: Mapping[str, bytes]) -> None:
            raise InvalidInput("read-only")

    store = _ledger(PLAN)
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, Refusing(), cadence=1)
    head = store.head().position
    assert full(timeline.state_at(head)) == full(expected(store, head))
    assert not timeline.save_snapshots, "it stops trying after a few refusals"


# --- diffs, lineage, cursor --------------------------------------------------------------


def test_diff_names_fields_old_and_new() -> None:
    store = _ledger(PLAN)
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG)
    diff = timeline.diff(5, 6, names=["account_balances"])
    assert list(diff.projections) == ["account_balances"]
    changed = diff.projections["account_balances"].changed
    [(key, fields)] = changed.items()
    assert set(fields) >= {"balance", "version", "last_activity"}
    as_json = diff.to_json_dict()
    assert as_json["a"] == 5 and as_json["b"] == 6
    assert as_json["projections"]["account_balances"]["changed"][key]["balance"]["old"] == (
        fields["balance"].old
    )
    odd = diff_rows({"k": {"x": 1, "y": 2}}, {"k": {"x": 1}})
    assert odd.changed["k"]["y"].new is ABSENT
    assert odd.apply_to({"k": {"x": 1, "y": 2}}) == {"k": {"x": 1}}
    assert odd.to_json_dict()["changed"]["k"]["y"] == {"old": 2, "new": None}
    with pytest.raises(InvalidInput, match="unknown projection"):
        timeline.diff(0, 1, names=["nope"])


def test_lineage_rejects_unknown_projections_and_finds_nothing_for_unknown_rows() -> None:
    store = _ledger(PLAN)
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG)
    with pytest.raises(InvalidInput, match="known projections: account_balances"):
        timeline.lineage("balances", "a1")
    assert timeline.lineage("account_balances", "nobody") == []
    assert timeline.lineage("daily_activity", "1999-01-01 EUR") == []
    assert timeline.lineage("actor_activity", "alice")[-1] == 5  # her first deposit


def test_a_cursor_follows_a_growing_history() -> None:
    store = _ledger(PLAN)
    timeline = Timeline(store, LEDGER_PROJECTIONS, CATALOG, cadence=3)
    head = store.head().position
    cursor = timeline.cursor()
    assert cursor.position == head
    assert cursor.step(1).position == head, "the head is the end"
    assert cursor.seek(-5).position == 0
    assert cursor.event is None
    assert rows(cursor.states) == rows(expected(store, 0))
    cursor.seek(head)
    later = StepClock("2026-06-01T00:00:00Z")
    run_plan(store, [("deposit", 0, 0, 100, "alice")], later, open_accounts=False)
    assert cursor.refresh() == store.head().position > head
    move = cursor.step(1)
    assert move.position == head + 1
    assert rows(cursor.states) == rows(expected(store, head + 1))
    with pytest.raises(InvalidInput):
        timeline.cursor(0, window=1)


def test_bad_positions_and_settings_are_refused() -> None:
    store = _ledger()
    with pytest.raises(InvalidInput, match="0 or more"):
        Timeline(store, LEDGER_PROJECTIONS).state_at(-1)
    with pytest.raises(InvalidInput, match="cadence"):
        Timeline(store, LEDGER_PROJECTIONS, cadence=0)
    with pytest.raises(InvalidInput, match="unique"):
        Timeline(store, [AuditFlags(), AuditFlags()])
