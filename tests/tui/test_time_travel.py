"""Moving through time: steps, jumps, go-to, live, marks and the diff, lineage."""

from __future__ import annotations

from textual.widgets import DataTable, Input, Static
from tui_support import make_app, settle, type_into, wait_for

from tui.bootstrap import Workspace
from tui.screens.diff import DiffScreen
from tui.screens.goto import GotoScreen
from tui.screens.lineage import LineageScreen
from tui.widgets.event_log import EventLog
from tui.widgets.inspector import EventInspector
from tui.widgets.projection_panels import ProjectionPanels
from tui.widgets.scrubber import TimelineScrubber
from tui.widgets.status_bar import StatusBar

SIZE = (120, 36)


async def test_opens_live_at_the_head(workspace: Workspace) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.live and screen.frame is not None
        assert screen.frame.position == head
        assert screen.query_one(EventLog).selected == head
        assert screen.query_one(EventInspector).event.position == head  # type: ignore[union-attr]
        assert screen.query_one(StatusBar).view.live
        assert screen.checks.chain.state == "ok"
        rows = screen.frame.rows["account_balances"]
        assert rows, "the balances panel has accounts"


async def test_step_back_and_forward_highlights_what_changed(workspace: Workspace) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await pilot.press("left")
        screen = await settle(pilot)
        assert not screen.live
        assert screen.frame is not None and screen.frame.position == head - 1
        assert screen.query_one(StatusBar).view.position == head - 1
        await pilot.press("right")
        screen = await settle(pilot)
        frame = screen.frame
        assert frame is not None and frame.position == head and frame.since == head - 1
        # The event at the head changed some account, and that row is highlighted.
        event = frame.event
        assert event is not None
        changes = frame.changes_for("account_balances")
        assert changes.changed or changes.added
        changed_key = next(iter({*changes.changed, *changes.added}))
        assert changed_key in event.stream_id
        assert screen.query_one(EventLog).selected == head
        assert not screen.live  # stepping to the head is not following it


async def test_jumps_home_end_and_live(workspace: Workspace) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home")
        screen = await settle(pilot)
        assert screen.frame is not None and screen.frame.position == 0
        assert all(not rows for rows in screen.frame.rows.values())
        await pilot.press("shift+right")
        screen = await settle(pilot)
        assert screen.target == 100
        await pilot.press("pagedown")
        screen = await settle(pilot)
        assert screen.target == min(head, 1100)
        await pilot.press("shift+left", "shift+left")
        screen = await settle(pilot)
        assert screen.target == min(head, 1100) - 200
        await pilot.press("end")
        screen = await settle(pilot)
        assert screen.target == head and not screen.live
        await pilot.press("home", "l")
        screen = await settle(pilot)
        assert screen.live and screen.target == head


async def test_a_held_key_never_queues_stale_replays(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home", *["right"] * 15)
        screen = await settle(pilot)
        assert screen.target == 15 and screen.frame is not None and screen.frame.position == 15


async def test_go_to_a_position_and_a_time(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _goto(pilot, "#250")
        screen = await settle(pilot)
        assert screen.target == 250
        event = workspace.store.read_all(after=299, to=300)[0]
        await _goto(pilot, event.recorded_at[:19])
        screen = await settle(pilot)
        # A time typed to the second goes to the last event at or before it.
        assert screen.target == workspace.store.position_at(event.recorded_at[:19] + "Z")
        assert 0 < screen.target <= 300
        await _goto(pilot, "-50")
        screen = await settle(pilot)
        assert screen.target == workspace.store.position_at(event.recorded_at[:19] + "Z") - 50


async def test_go_to_bad_input_shows_why_and_stays_open(workspace: Workspace) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _goto(pilot, "tuesday")
        await wait_for(
            pilot, lambda: "not an ISO time" in str(app.screen.query_one("#goto-error").render())
        )
        assert isinstance(app.screen, GotoScreen)
        app.screen.query_one(Input).value = str(head + 5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: "past the last event" in _text(app.screen, "#goto-error"))
        await pilot.press("escape")
        screen = await settle(pilot)
        assert screen.live and screen.target == head


async def test_marks_a_and_b_open_a_field_level_diff(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _goto(pilot, "200")
        await settle(pilot)
        await pilot.press("m")
        await _goto(pilot, "400")
        await settle(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen))
        diff_screen = app.screen
        await wait_for(pilot, lambda: bool(diff_screen.query("#diff-account_balances")))
        expected = app.main.session.queries.diff(200, 400)
        table = diff_screen.query_one("#diff-account_balances", DataTable)
        changed_fields = sum(
            len(d.fields) if d.kind == "changed" else 1 for d in expected.rows["account_balances"]
        )
        assert table.row_count == changed_fields > 0
        assert "rows differ" in _text(diff_screen, "#diff-summary")
        await pilot.press("b")  # go to B
        screen = await settle(pilot)
        assert screen.target == 400
        assert screen.mark_pair.marks == {"A": 200, "B": 400}


async def test_lineage_of_a_row_lists_its_events_and_jumps(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        table = screen.query_one(ProjectionPanels).active_table
        assert table is not None and table.projection == "account_balances"
        table.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen))
        lineage = app.screen
        assert isinstance(lineage, LineageScreen)
        await wait_for(pilot, lambda: bool(lineage.query("#lineage-table")))
        key = lineage.key
        assert lineage.steps and all(key in s.event.stream_id for s in lineage.steps)
        assert lineage.steps[0].before is None  # the first event created the row
        rows = lineage.query_one(DataTable)
        rows.move_cursor(row=0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.target == lineage.steps[0].event.position


async def test_inspector_links_jump_to_the_other_half_of_a_transfer(workspace: Workspace) -> None:
    sent = next(e for e in workspace.store.iter_all() if e.type == "TransferSent")
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await _goto(pilot, str(sent.position))
        screen = await settle(pilot)
        inspector = screen.query_one(EventInspector)
        assert inspector._related is not None
        other = [p for p in inspector._related.same_command if p != sent.position]
        assert other == [sent.position + 1]
        screen.action_jump(other[0])
        screen = await settle(pilot)
        assert screen.frame is not None and screen.frame.event is not None
        assert screen.frame.event.type == "TransferReceived"


async def _goto(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    """Press g, type `text`, press enter."""
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, GotoScreen))
    await type_into(pilot, "#goto-input", text)
    await pilot.press("enter")


def _text(screen: object, selector: str) -> str:
    widget = screen.query_one(selector, Static)  # type: ignore[attr-defined]
    return str(widget.render())


async def test_click_and_drag_on_the_scrubber(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        scrubber = screen.query_one(TimelineScrubber)
        axis = scrubber.axis
        assert axis is not None and sum(axis.counts) == workspace.store.head().position
        await pilot.click(TimelineScrubber, offset=(11, 0))  # padding 1: bucket 10
        screen = await settle(pilot)
        assert not screen.live and screen.target == axis.position_in(10)
        await pilot.mouse_down(TimelineScrubber, offset=(31, 0))
        await pilot.hover(TimelineScrubber, offset=(61, 0))
        await pilot.mouse_up(TimelineScrubber, offset=(61, 0))
        screen = await settle(pilot)
        assert screen.target == axis.position_in(60)
        assert scrubber._column(screen.target) == 60
