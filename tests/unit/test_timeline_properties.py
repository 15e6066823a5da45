"""Properties of the timeline over random valid histories (real bus, in-memory store).

Each property compares the engine (snapshots, tails, journals, diffs, fast paths)
with the plain definition in `timeline_support.expected`: fold the first P events.
Snapshots are taken every few events so every path is exercised in small histories.

Every property runs for each domain (`timeline_support.CASES`: the ledger, whose
actor panel overlays refusals, and the inventory, whose rows move between
warehouse streams), with fewer examples per domain so the pair costs about what
one domain did. Lineage also proves each projection's `apply` return value and
`lineage_streams`.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from timeline_support import CASES, TimelineCase, case_id, expected, full, rows

from domain.ports import EventStore
from domain.snapshots import (
    ENCODING,
    ChunkCache,
    InMemorySnapshots,
    compress_chunk,
    decode_states,
    encode_states,
)
from domain.timeline import Timeline, changed_keys

SETTINGS = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
"""Per domain (the ledger alone had 30, the inventory's own file 40)."""

each_domain = pytest.mark.parametrize("case", CASES, ids=case_id)


def _timeline(
    case: TimelineCase, store: EventStore, cadence: int = 3, chunk_rows: int = 2
) -> Timeline:
    # Two rows a chunk: even small states then share chunks between snapshots.
    return Timeline(
        store,
        case.projections,
        case.catalog,
        InMemorySnapshots(),
        cadence=cadence,
        chunk_rows=chunk_rows,
    )


@each_domain
@SETTINGS
@given(plan=st.data(), cadence=st.integers(1, 7))
def test_state_at_is_the_fold_of_the_first_p_events(
    case: TimelineCase, plan: st.DataObject, cadence: int
) -> None:
    store = case.history(plan.draw(case.plans, label="plan"))
    timeline = _timeline(case, store, cadence)
    head = store.head().position

    def truth(position: int) -> Any:
        return full(expected(store, position, case.projections))

    for position in range(head + 1):
        assert full(timeline.state_at(position)) == truth(position)
    # Past the head is the head; and the replays above left snapshots on the grid.
    assert full(timeline.state_at(head + 5)) == truth(head)
    assert timeline.snapshots.positions(timeline.key) == list(range(cadence, head + 1, cadence))


@each_domain
@SETTINGS
@given(cadence=st.integers(1, 5), data=st.data())
def test_snapshot_plus_tail_equals_a_full_replay(
    case: TimelineCase, cadence: int, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"))
    timeline = _timeline(case, store, cadence)
    written = timeline.build_snapshots()
    head = store.head().position
    assert written == head // cadence
    assert timeline.build_snapshots() == 0, "a second build finds nothing missing"
    plain = Timeline(store, case.projections, case.catalog, cadence=10**9, save_snapshots=False)
    position = data.draw(st.integers(0, head))
    assert full(timeline.state_at(position)) == full(plain.state_at(position))
    # The encoding round-trips exactly, with and without a chunk cache.
    states = plain.state_at(position, refusals=False)
    manifest, chunks = encode_states(states, data.draw(st.sampled_from([1, 3, 256])))
    stored = {d: compress_chunk(c) for d, c in chunks.items()}
    cache = ChunkCache(data.draw(st.sampled_from([0, 5, 10_000])))
    for _ in range(3):
        decoded = decode_states(ENCODING, manifest, lambda ds: {d: stored[d] for d in ds}, cache)
        assert full(decoded) == full(states)
        for state in decoded.values():  # what was decoded is the caller's own
            state.rows.clear()
            state.aux.clear()


@each_domain
@SETTINGS
@given(data=st.data())
def test_stepping_matches_state_at_and_reports_the_changed_rows(
    case: TimelineCase, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"))
    timeline = _timeline(case, store, cadence=data.draw(st.integers(1, 6), label="cadence"))
    head = store.head().position
    truth = [rows(expected(store, p, case.projections)) for p in range(head + 1)]
    # Tiny windows make the cursor slide its journal and rebuild it all the time.
    window = data.draw(st.sampled_from([2, 3, 5, 4096]), label="window")
    seek_journal = data.draw(st.sampled_from([1, 2, 512]), label="seek_journal")
    start = data.draw(st.integers(0, head), label="start")
    cursor = timeline.cursor(start, window=window, seek_journal=seek_journal)
    assert rows(cursor.states) == truth[cursor.position]
    moves = data.draw(
        st.lists(
            st.one_of(st.sampled_from([1, -1, 1, -1, 2, -3]), st.integers(-head - 2, head + 2)),
            max_size=25,
        ),
        label="moves",
    )
    for delta in moves:
        before = cursor.position
        move = cursor.step(delta)
        after = max(0, min(head, before + delta))
        assert (move.previous, move.position, cursor.position) == (before, after, after)
        assert rows(cursor.states) == truth[after]
        assert (move.event.position if move.event else 0) == after
        wanted = {
            name: keys
            for name in truth[after]
            if (keys := changed_keys(truth[before][name], truth[after][name]))
        }
        assert move.changed == wanted


@each_domain
@SETTINGS
@given(data=st.data())
def test_a_diff_applied_to_the_state_at_a_gives_the_state_at_b(
    case: TimelineCase, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"))
    timeline = _timeline(case, store)
    head = store.head().position
    a = data.draw(st.integers(0, head), label="a")
    b = data.draw(st.integers(0, head), label="b")
    diff = timeline.diff(a, b)
    assert diff.apply_to(timeline.state_at(a)) == rows(timeline.state_at(b))
    before, after = rows(timeline.state_at(a)), rows(timeline.state_at(b))
    for name, part in diff.projections.items():  # the whole rows the CLI formats
        assert part.rows == {k: (before[name][k], after[name][k]) for k in part.changed}
    assert diff.empty == (rows(timeline.state_at(a)) == rows(timeline.state_at(b)))
    for name, projection_diff in diff.projections.items():
        for key, fields in projection_diff.changed.items():
            assert fields, f"{name}/{key} is listed as changed with no field changed"


@each_domain
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_lineage_is_exactly_the_positions_where_the_row_changed(
    case: TimelineCase, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"))
    timeline = _timeline(case, store)
    head = store.head().position
    pure = [rows(expected(store, p, case.projections, refusals=False)) for p in range(head + 1)]
    for projection in case.projections:
        name = projection.name
        keys = set().union(*(states[name] for states in pure))
        for key in sorted(keys):
            wanted = [
                p
                for p in range(head, 0, -1)
                if pure[p - 1][name].get(key) != pure[p][name].get(key)
            ]
            assert timeline.lineage(name, key) == wanted, (name, key)
            # The steps the app shows: the row before and after each change, oldest first.
            steps = timeline.lineage_steps(name, key)
            assert [s.event.position for s in steps] == wanted[::-1]
            for step in steps:
                p = step.event.position
                assert (step.before, step.after) == (
                    pure[p - 1][name].get(key),
                    pure[p][name].get(key),
                )
                assert step.fields and all(
                    (step.before or {}).get(f) != (step.after or {}).get(f) for f in step.fields
                )
            # Up to an earlier point, only the positions up to it.
            middle = head // 2
            assert timeline.lineage(name, key, to=middle) == [p for p in wanted if p <= middle]


@each_domain
@SETTINGS
@given(data=st.data())
def test_aggregate_history_is_the_fold_of_the_stream(
    case: TimelineCase, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"))
    timeline = _timeline(case, store)
    streams = sorted({e.stream_id for e in store.iter_all()})
    assume(streams)
    stream = data.draw(st.sampled_from(streams), label="stream")
    events = [e for e in store.iter_all() if e.stream_id == stream]
    aggregate = case.model.aggregate_for(events[0].stream_type)
    state, states = aggregate.initial(), []
    for recorded in events:
        event = case.model.catalog.decode(recorded.type, recorded.schema_version, recorded.data)
        state = aggregate.evolve(state, event)
        states.append(state)
    history = timeline.aggregate_history(case.model, stream)
    assert [h.event for h in history] == events
    assert [h.state for h in history] == states
    assert [(h.version, h.position) for h in history] == [(e.version, e.position) for e in events]
    version = data.draw(st.integers(0, len(events)), label="version")
    at = timeline.aggregate_at(case.model, stream, version)
    assert at.state == (states[version - 1] if version else aggregate.initial())


@each_domain
@SETTINGS
@given(data=st.data())
def test_refusals_at_a_point_are_those_recorded_by_then(
    case: TimelineCase, data: st.DataObject
) -> None:
    store = case.history(data.draw(case.plans, label="plan"))
    timeline = _timeline(case, store)
    head = store.head().position
    limit = data.draw(st.sampled_from([1, 3, 500]), label="limit")

    def wanted(position: int) -> list[Any]:
        every = sorted(store.refusals(), key=lambda r: (r.at_position, r.id), reverse=True)
        return [r for r in every if r.at_position <= position][:limit]

    positions = data.draw(st.lists(st.integers(0, head + 2), max_size=8), label="positions")

    def count(position: int) -> int:
        return sum(r.at_position <= position for r in store.refusals())

    for position in positions:  # before the log is loaded: the store answers
        assert list(timeline.refusals_at(position, limit)) == wanted(position)
        assert timeline.refusal_log.count_at(position) == count(position)
    timeline.refusal_log.load()
    for position in [*positions, head]:
        assert list(timeline.refusals_at(position, limit)) == wanted(position)
        assert timeline.refusal_log.count_at(position) == count(position)
