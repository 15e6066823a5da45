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
