"""The app's facade without Textual: log index, time axis, frames, diffs, lineage."""

from __future__ import annotations

from array import array

import pytest

from domain.errors import InvalidInput
from domain.timeline import Timeline, diff_rows
from tui.bootstrap import Workspace, app_session
from tui.services import stepping
from tui.services.frames import RowChanges, compare_rows, row_diffs
from tui.services.types import EventFilter, LogIndex, TimeAxis


def test_unfiltered_index_maps_rows_to_positions() -> None:
    index = LogIndex(head=10)
    assert len(index) == 10
    assert index.position_of(0) == 1
    assert index.index_at_or_before(5) == 4
    assert index.step(5, -10) == 0 and index.step(5, 100) == 10
    assert (index.first(), index.last()) == (0, 10)


def test_filtered_index_steps_between_matches() -> None:
    index = LogIndex(head=50, filter=EventFilter(type="X"), positions=array("q", [3, 7, 20]))
    assert index.step(7, 1) == 20 and index.step(7, -1) == 3
    assert index.step(10, -1) == 7  # between rows: back is the row before
    assert index.step(10, 1) == 20
    assert index.step(1, -1) == 3 and index.step(40, 5) == 20
    assert index.contains(7) and not index.contains(8)
    assert (index.first(), index.last()) == (3, 20)


def test_filter_label_and_truth() -> None:
    assert not EventFilter()
    assert EventFilter(type="Transfer*", actor="ann").describe() == "type=Transfer* actor=ann"


def test_filters_are_applied_by_the_store(workspace: Workspace) -> None:
    session = app_session(workspace, project=False)
    events = workspace.store.read_all()
    for event_filter, keep in (
        (EventFilter(type="Transfer*"), lambda e: e.type.startswith("Transfer")),
        (EventFilter(stream="account-eur-0000?"), lambda e: e.stream_id[:-1] == "account-eur-0000"),
        (EventFilter(text="REFUND"), lambda e: "refund" in str(e.data).lower()),
    ):
        index = session.queries.log_index(event_filter)
        assert list(index.positions or ()) == [e.position for e in events if keep(e)]
        assert len(index) > 0, event_filter
        page = session.queries.log_page(index, 0, 64)
        assert [e.position for e in page] == list(index.positions or ())[:64]


def test_time_axis_buckets() -> None:
    axis = TimeAxis("a", "b", (0, 0, 5, 5, 9))
    assert axis.counts == [0, 5, 0, 4]
    assert axis.bucket_of(3) == 1 and axis.bucket_of(9) == 3 and axis.bucket_of(0) == 0
    assert axis.position_in(1) == 5 and axis.position_in(99) == 9


def test_compare_and_diff_rows() -> None:
    before = {"a": {"x": 1, "y": 2}, "b": {"x": 1}, "acc-10": {"x": 0}}
    after = {"a": {"x": 1, "y": 3}, "c": {"x": 5}, "acc-10": {"x": 0}}
    changes = compare_rows(before, after)
    assert changes.added == {"c"} and changes.removed == {"b"}
    assert changes.changed == {"a": frozenset({"y"})}
    assert compare_rows(before, after, keys=["a"]).changed == {"a": frozenset({"y"})}
    kinds = [(d.key, d.kind, d.fields) for d in row_diffs(diff_rows(before, after))]
    assert kinds == [("a", "changed", ("y",)), ("b", "removed", ()), ("c", "added", ())]


def test_frames_equal_the_timeline_state_wherever_the_cursor_goes(workspace: Workspace) -> None:
    session = app_session(workspace)
    timeline = Timeline(workspace.store, session.projections, workspace.domain.model.catalog)
    head = workspace.store.head().position
    for position in (head, 10, 333, 332, 334, 0, head - 1, 51, 52):
        frame = session.frames.frame_at(position)
        expected = timeline.state_at(position)
        for projection in session.projections:
            assert frame.rows[projection.name] == expected[projection.name].rows, position


@pytest.mark.parametrize("keep_rows", [0, 10**9], ids=["cursor-dropped", "cursor-kept"])
def test_frames_stay_exact_when_a_jump_drops_or_keeps_a_big_cursor(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, keep_rows: int
) -> None:
    monkeypatch.setattr(stepping, "KEEP_CURSOR_ROWS", keep_rows)
    session = app_session(workspace, project=False)
    timeline = Timeline(workspace.store, session.projections, workspace.domain.model.catalog)
    head = workspace.store.head().position
    last = session.frames.frame_at(300)
    for position, rest in ((301, False), (600, True), (601, False), (302, False), (303, True)):
        frame = session.frames.frame_at(position)
        if rest:
            session.frames.prepare_steps(position)
        expected = timeline.state_at(min(position, head))
        for projection in session.projections:
            name = projection.name
            assert frame.rows[name] == expected[name].rows, (position, name)
            found = frame.changes.get(name)
            wanted = compare_rows(last.rows[name], frame.rows[name])
            assert _changes(found) == _changes(wanted), (position, name)
        last = frame


def _changes(changes: RowChanges | None) -> tuple[object, ...]:
    if not changes:
        return ()
    return (changes.added, changes.removed, dict(changes.changed))


def test_frames_report_what_changed_since_the_last(workspace: Workspace) -> None:
    session = app_session(workspace)
    first = session.frames.frame_at(100)
    assert first.since is None and first.position == 100
    step = session.frames.frame_at(101)
    assert step.since == 100 and step.event is not None and step.event.position == 101
    assert any(step.changes.values())
    back = session.frames.frame_at(100)
    assert back.rows == first.rows
    # The frame handed to the UI never changes when the session moves on.
    snapshot = {n: {k: dict(r) for k, r in rows.items()} for n, rows in back.rows.items()}
    session.frames.frame_at(400)
    assert back.rows == snapshot


def test_resolve_target(workspace: Workspace) -> None:
    session = app_session(workspace)
    head = workspace.store.head().position
    assert session.queries.resolve_target("#12", 0) == 12
    assert (
        session.queries.resolve_target("+5", 10) == 15
        and session.queries.resolve_target("-50", 10) == 0
    )
    event = workspace.store.read_all(after=99, to=100)[0]
    assert session.queries.resolve_target(event.recorded_at, 0) >= 100
    with pytest.raises(InvalidInput, match="past the last event"):
        session.queries.resolve_target(str(head + 1), 0)
    with pytest.raises(InvalidInput, match="not an ISO time"):
        session.queries.resolve_target("yesterday", 0)
    with pytest.raises(InvalidInput, match="out of range"):  # before year 1 in UTC
        session.queries.resolve_target("0001-01-01T00:00+01:00", 0)
    with pytest.raises(InvalidInput):
        session.queries.resolve_target("  ", 0)


def test_lineage_and_aggregate_history(workspace: Workspace) -> None:
    session = app_session(workspace)
    frame = session.frames.frame_at(workspace.store.head().position)
    key = next(iter(frame.rows["account_balances"]))
    steps = session.queries.lineage("account_balances", key)
    assert steps[0].before is None and steps[-1].after == frame.rows["account_balances"][key]
    stream = f"account-{key}"
    history = session.queries.aggregate_history(stream)
    assert [s.event.stream_id for s in history] == [stream] * len(history)
    assert history[-1].state["balance"] == frame.rows["account_balances"][key]["balance"]
    with pytest.raises(InvalidInput):
        session.queries.aggregate_history("account-nope")


def test_related_events_and_hash_status(workspace: Workspace) -> None:
    session = app_session(workspace)
    sent = next(e for e in workspace.store.iter_all() if e.type == "TransferSent")
    related = session.queries.related(sent)
    assert related.same_command == (sent.position, sent.position + 1)
    status = session.queries.hash_status(sent)
    assert status.linked is True and status.verified is True
    assert session.chain.chain_status().state == "ok"


def test_bookmarks_in_the_session(workspace: Workspace) -> None:
    session = app_session(workspace)
    session.marks.add_bookmark("  start  ", 5)
    session.marks.add_bookmark("later", 50)
    assert [(b.name, b.position) for b in session.marks.bookmarks()] == [
        ("start", 5),
        ("later", 50),
    ]
    session.marks.remove_bookmark("start")
    assert [b.name for b in session.marks.bookmarks()] == ["later"]
    with pytest.raises(InvalidInput):
        session.marks.add_bookmark(" ", 1)
