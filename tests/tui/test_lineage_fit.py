"""Lineage in a narrow terminal: what changed is in view and its amounts are whole."""

from __future__ import annotations

from textual.widgets import DataTable
from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace
from tui.screens.lineage import LineageScreen, change_text
from tui.widgets.projection_panels import ProjectionPanels


async def test_the_change_column_is_in_view_and_cut_between_words_at_80x24(
    workspace: Workspace,
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        table = screen.query_one(ProjectionPanels).active_table
        assert table is not None and table.projection == "account_balances"
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen))
        lineage = app.screen
        assert isinstance(lineage, LineageScreen)
        await wait_for(pilot, lambda: bool(lineage.query("#lineage-table")), 10)
        steps = lineage.query_one("#lineage-table", DataTable)
        await pilot.pause(0.05)
        columns = list(steps.columns.values())
        assert [str(c.label) for c in columns][:3] == ["Pos", "Time", "Change"]
        drawn = sum(c.get_render_width(steps) for c in columns[:3])
        assert drawn <= steps.scrollable_content_region.width, "Change ends inside the dialog"
        cut = 0
        for row in range(steps.row_count):
            shown = str(steps.get_row_at(row)[2])
            if shown.endswith("…"):
                cut += 1
                kept = shown.removesuffix("…").rstrip()
                full = change_text(lineage.projection, lineage.steps[row]).plain
                # Cut after a whole word: the next character of the full text is a space.
                assert full.startswith(kept) and full[len(kept)] == " ", (shown, full)
        assert cut, "at 80 columns a balance change with its version and time is cut"
