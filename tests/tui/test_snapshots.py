"""SVG snapshots of the main screens (fixed size, clock, ids and seed; no blinking).

Regenerate with `pytest tests/tui/test_snapshots.py --snapshot-update`, then look at
the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from tui_support import make_app, settle, steady_log, type_into, wait_for

from tui.bootstrap import Workspace
from tui.screens.command_form import CommandFormScreen
from tui.screens.diff import DiffScreen
from tui.screens.help import HelpScreen

SnapCompare = Callable[..., bool]


def test_main_screen_live(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """Live at the head: header LIVE, panels, log tail, inspector, scrubber."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)

    assert snap_compare(make_app(workspace), terminal_size=(120, 36), run_before=run_before)


def test_main_screen_in_the_past(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """AT #301 after stepping back from #302: the undone event marked, the changed row lit."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await settle(pilot)
        screen.go(302)
        await settle(pilot)
        await pilot.press("left")
        await settle(pilot)

    assert snap_compare(make_app(workspace), terminal_size=(120, 36), run_before=run_before)


def test_main_screen_small_terminal(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """80x24: the inspector gives way to the panels and the log."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await settle(pilot)
        screen.go(150)
        await settle(pilot)
        await pilot.press("right")
        await settle(pilot)

    assert snap_compare(make_app(workspace), terminal_size=(80, 24), run_before=run_before)


def test_main_screen_large_terminal(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """200x60: wider log columns, the whole inspector, more rows."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await settle(pilot)
        screen.go(420)
        await settle(pilot)

    assert snap_compare(make_app(workspace), terminal_size=(200, 60), run_before=run_before)


def test_diff_view(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """Marks A=#200 and B=#400: field-level changes of the balances."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await settle(pilot)
        screen.go(200)
        await settle(pilot)
        await pilot.press("m")
        screen.go(400)
        await settle(pilot)
        await steady_log(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, DiffScreen))
        diff = pilot.app.screen
        await wait_for(pilot, lambda: bool(diff.query("#diff-account_balances")))
        table = diff.query_one("#diff-account_balances", DataTable)
        # Drawn, not paused for: the table has its rows and the focus.
        await wait_for(pilot, lambda: table.row_count > 0 and table.has_focus)
        pilot.app.clear_notifications()
        await pilot.pause(0.05)

    assert snap_compare(make_app(workspace), terminal_size=(120, 36), run_before=run_before)


def test_command_form_with_errors(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """A deposit with a bad account id and a negative amount, after ctrl+s."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandFormScreen))
        form = pilot.app.screen
        assert isinstance(form, CommandFormScreen)
        form.query_one("#command-type").value = "deposit"  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: form.fields_of == "deposit")
        await type_into(pilot, "#input-account_id", "Bad Id")
        await type_into(pilot, "#input-amount", "-5")
        await pilot.press("ctrl+s")
        # The outcome drawn, not paused for: the line under the fields names the errors.
        general = form.query_one("#form-error", Static)
        await wait_for(pilot, lambda: "Fix the fields" in str(general.render()))

    assert snap_compare(make_app(workspace), terminal_size=(100, 30), run_before=run_before)


def test_help_screen(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """Every key, grouped."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        keys = pilot.app.screen
        # Drawn, not paused for: the filter has the focus and the list has its size.
        await wait_for(
            pilot,
            lambda: (
                keys.query_one("#help-filter").has_focus
                and keys.query_one("#help-list").size.height > 10
            ),
        )
        await pilot.pause(0.05)

    assert snap_compare(make_app(workspace), terminal_size=(100, 40), run_before=run_before)
