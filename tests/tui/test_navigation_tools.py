"""Filter, bookmarks, autoplay, live updates from another writer, help, palette, history."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from textual.widgets import DataTable
from tui_support import make_app, open_test_workspace, settle, type_into, wait_for

from tui.bootstrap import Workspace
from tui.screens.aggregate import AggregateScreen
from tui.screens.bookmark import BookmarkScreen
from tui.screens.filter import FilterScreen
from tui.screens.help import HelpScreen, key_text
from tui.screens.main import MainScreen
from tui.services.types import EventFilter
from tui.widgets.event_log import EventLog
from tui.widgets.scrubber import TimelineScrubber

SIZE = (120, 36)
ROOT = Path(__file__).resolve().parents[2]


async def test_filter_applies_to_the_log_and_to_stepping(workspace: Workspace) -> None:
    transfers = [e.position for e in workspace.store.iter_all() if e.type == "TransferSent"]
    assert len(transfers) > 3
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash")
        await wait_for(pilot, lambda: isinstance(app.screen, FilterScreen))
        await type_into(pilot, "#filter-type", "TransferSent")
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.live_watch.filter == EventFilter(type="TransferSent")
        log = screen.query_one(EventLog)
        assert len(log.index) == len(transfers)
        assert list(log.index.positions or []) == transfers
        await pilot.press("home")
        screen = await settle(pilot)
        assert screen.target == transfers[0]
        await pilot.press("right", "right")
        screen = await settle(pilot)
        assert screen.target == transfers[2]
        await pilot.press("left")
        screen = await settle(pilot)
        assert screen.target == transfers[1]
        # Clearing the filter brings every event back.
        screen.apply_filter(EventFilter())
        screen = await settle(pilot)
        assert len(screen.query_one(EventLog).index) == workspace.store.head().position


async def test_glob_and_text_filters(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        screen.apply_filter(EventFilter(type="Transfer*"))
        screen = await settle(pilot)
        index = screen.query_one(EventLog).index
        types = {e.type for e in workspace.store.iter_all() if e.position in set(index.positions)}
        assert types == {"TransferSent", "TransferReceived"}
        screen.apply_filter(EventFilter(text="salary"))
        screen = await settle(pilot)
        matched = list(screen.query_one(EventLog).index.positions or [])
        assert matched
        assert all(
            "salary" in str(e.data).lower()
            for e in workspace.store.iter_all()
            if e.position in set(matched)
        )


async def test_bookmark_is_kept_and_shown_on_the_scrubber(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        app.main.go(123)
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BookmarkScreen))
        await type_into(pilot, "#bookmark-name", "audit start")
        await pilot.press("enter")
        screen = await settle(pilot)
        await wait_for(pilot, lambda: bool(screen.bookmarks))
        assert [(b.name, b.position) for b in screen.bookmarks] == [("audit start", 123)]
        scrubber = screen.query_one(TimelineScrubber)
        assert [b.position for b in scrubber.bookmarks] == [123]
        await pilot.press("l")
        await settle(pilot)
        assert "◆" in scrubber.render_line(1).text  # where the cursor no longer hides it
        screen.go(screen.bookmarks[0].position)
        screen = await settle(pilot)
        assert screen.target == 123


async def test_a_bookmark_needs_a_name(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BookmarkScreen))
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "needs a name" in str(app.screen.query_one("#bookmark-error").render())
        )
        assert isinstance(app.screen, BookmarkScreen)


async def test_autoplay_starts_moves_forward_and_stops(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("home", "space")
        screen = app.main
        assert screen.autoplay.playing
        for _ in range(3):
            await pilot.press("plus")  # 10 -> 20 -> 50 -> 100 events/s
        assert screen.autoplay.speed == 100
        await wait_for(pilot, lambda: screen.target >= 30, what="autoplay to move")
        await wait_for(pilot, lambda: screen.frame is not None and screen.frame.position > 0)
        await pilot.press("space")
        assert not screen.autoplay.playing
        stopped_at = screen.target
        await pilot.pause(0.3)
        assert screen.target == stopped_at
        await pilot.press("minus")
        assert screen.autoplay.speed == 50


async def test_autoplay_pauses_at_the_end(workspace: Workspace) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        screen.go(head - 5)
        await settle(pilot)
        await pilot.press("space")
        await wait_for(pilot, lambda: not screen.autoplay.playing, what="autoplay to reach the end")
        assert screen.target == head


async def test_events_from_another_process_appear_quickly(workspace: Workspace) -> None:
    head = workspace.store.head().position
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        code = (
            "from tui.cli import main; import sys; "
            f"sys.exit(main(['--db', {str(workspace.db_path)!r}, '--actor', 'other', "
            "'exec', 'open_account', 'account_id=zz-live-1', 'owner=Other Process', "
            "'currency=EUR']))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        # How soon it is seen is a figure for bench/, not a test (it failed under load).
        await wait_for(
            pilot,
            lambda: screen.frame is not None and screen.frame.position == head + 1,
            what="the other process's event",
        )
        assert "zz-live-1" in screen.frame.rows["account_balances"]  # type: ignore[union-attr]
        assert screen.live


async def test_help_lists_every_key(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        described = {d for _, rows in help_screen.sections for _, d in rows}
        listed = {k for _, rows in help_screen.sections for k, _ in rows}
        main = next(s for s in app.screen_stack if isinstance(s, MainScreen))
        for binding in MainScreen.BINDINGS:
            if binding.action.startswith("select_tab"):  # type: ignore[union-attr]
                continue
            if main.check_action(binding.action, ()) is False:  # type: ignore[union-attr]
                # A key bound twice (c, space): the meaning it has now is listed instead.
                assert key_text(binding.key) in listed  # type: ignore[union-attr]
                continue
            assert binding.description in described  # type: ignore[union-attr]
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_aggregate_history_shows_states_and_jumps(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        stream = screen.frame.event.stream_id  # type: ignore[union-attr]
        await pilot.press("a")
        await wait_for(pilot, lambda: isinstance(app.screen, AggregateScreen))
        history = app.screen
        assert isinstance(history, AggregateScreen)
        await wait_for(pilot, lambda: bool(history.steps))
        assert history.stream == stream
        assert [s.event.version for s in history.steps] == list(range(1, len(history.steps) + 1))
        assert history.steps[-1].state["balance"] is not None
        table = history.query_one(DataTable)
        table.move_cursor(row=0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.target == history.steps[0].event.position


async def test_palette_jumps_to_a_position(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press("#", "4", "2")
        await pilot.pause(0.5)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.target == 42


async def test_small_terminal_keeps_the_essentials(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        assert screen.has_class("-narrow")
        assert not screen.query_one("#inspector").display
        await pilot.press("i")
        await pilot.pause()
        assert screen.query_one("#inspector").display
        assert not screen.query_one("#log").display


async def test_space_while_live_plays_on_from_the_present(workspace: Workspace) -> None:
    head = workspace.store.head().position
    writer = open_test_workspace(workspace.db_path)
    app = make_app(workspace)
    try:
        async with app.run_test(size=SIZE) as pilot:
            screen = await settle(pilot)
            assert screen.live
            await pilot.press("space")
            await pilot.pause(0.3)
            assert screen.autoplay.playing
            assert screen.target == head  # not back to the start
            writer.bus.execute_fields(
                "open_account",
                {"account_id": "zz-play-1", "owner": "Played Live", "currency": "EUR"},
                actor="other",
            )
            await wait_for(pilot, lambda: screen.target == head + 1, what="the new event to play")
            assert screen.autoplay.playing  # waits for the next one
            await pilot.press("space")
            assert not screen.autoplay.playing
    finally:
        writer.close()
