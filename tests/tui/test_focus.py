"""Focus follows the panel shown: after `1`-`9`, `[` or `]`, up/down and enter work at once."""

from __future__ import annotations

import pytest
from tui_support import make_app, settle

from tui.bootstrap import Workspace
from tui.widgets.projection_panels import ProjectionPanels
from tui.widgets.projection_table import ProjectionTable


@pytest.mark.parametrize(
    "keys", [["2"], ["right_square_bracket"], ["3", "left_square_bracket"], ["6"]]
)
async def test_the_panel_shown_has_focus(workspace: Workspace, keys: list[str]) -> None:
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settle(pilot)
        await pilot.press("tab")  # move focus away from the panels first
        await pilot.press(*keys)
        await pilot.pause()
        await pilot.pause()
        active = screen.query_one(ProjectionPanels).active_table
        assert active is not None
        assert app.focused is active
        assert isinstance(app.focused, ProjectionTable)
        before = active.cursor
        await pilot.press("down")
        await pilot.pause()
        assert active.cursor == min(before + 1, max(0, active.row_count - 1))


async def test_the_command_form_has_no_invisible_tab_stop(workspace: Workspace) -> None:
    from textual.widgets import Select

    app = make_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await pilot.pause()
        form = app.screen
        selector = form.query_one(Select)
        selector.focus()
        await pilot.pause()
        visited = []
        for _ in range(8):
            await pilot.press("tab")
            await pilot.pause()
            focused = app.focused
            assert focused is not None
            visited.append(focused.id or type(focused).__name__)
        # Every tab stop is a field or a button: something a person can see and use.
        stops = ("run", "cancel", "command-type")
    assert all(v.startswith("input-") or v in stops for v in visited), visited
