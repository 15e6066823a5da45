"""Field blame in the app: Enter on a cell, Enter in the diff view, and the jump to an event."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import DataTable
from tui_support import make_app, settle, wait_for

from domain.timeline import field_blame
from tui.bootstrap import Workspace
from tui.screens.blame import BlameScreen
from tui.screens.diff import DiffScreen
from tui.screens.lineage import LineageScreen
from tui.widgets.cell_table import CellTable
from tui.widgets.projection_panels import ProjectionPanels

SIZE = (120, 36)


def _column_index(table: CellTable, field: str) -> int:
    return [c.name for c in table.columns].index(field) + (1 if table._show_key else 0)


async def _to_balance_cell(pilot: Pilot[Any]) -> CellTable:
    """The first account's Balance cell, reached with `.` as a user would."""
    screen = await settle(pilot)
    table = screen.query_one("#table-account_balances", CellTable)
    table.focus()
    target = _column_index(table, "balance")
    while table.column != target:
        await pilot.press("full_stop")
    return table


async def test_enter_on_a_balance_cell_blames_that_field_and_jumps(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        table = await _to_balance_cell(pilot)
        key = table.selected_key
        assert key is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BlameScreen))
        blame = app.screen
        assert isinstance(blame, BlameScreen)
        await wait_for(pilot, lambda: bool(blame.query("#blame-table")), 10)
        wanted = field_blame(workspace.timeline, "account_balances", key, "balance")
        assert [line.position for line in blame.lines] == [e.event.position for e in wanted]
        assert len(wanted) >= 2
        # Each line: value before → after as the column shows money, who and which command.
        last = blame.lines[-1]
        assert last.before != last.after
        assert "," in last.after or "." in last.after
        assert last.command and last.actor
        # Enter on a line goes to its event.
        dt = blame.query_one("#blame-table", DataTable)
        dt.move_cursor(row=0)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert screen.target == wanted[0].event.position


async def test_enter_on_the_key_column_or_no_column_keeps_the_row_lineage(
    workspace: Workspace,
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        table = screen.query_one("#table-account_balances", CellTable)
        table.focus()
        assert table.column is None
        await pilot.press("enter")  # no column chosen: the row's lineage, as always
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("full_stop")  # the first column: the account id, the row's key
        assert table.column == 0 and table.chosen_field is None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen))
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("full_stop", "comma", "comma")  # `,` stops at the first column
        assert table.column == 0


async def test_enter_on_a_changed_field_in_the_diff_blames_it_between_a_and_b(
    workspace: Workspace,
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        screen.go(200)
        await settle(pilot)
        await pilot.press("m")
        screen.go(400)
        await settle(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen))
        diff = app.screen
        assert isinstance(diff, DiffScreen)
        await wait_for(pilot, lambda: bool(diff.query("#diff-account_balances")), 10)
        table = diff.query_one("#diff-account_balances", DataTable)
        line, (projection, key, field) = next(
            (k, v) for k, v in diff.changed_cells.items() if v[2] == "balance"
        )
        table.move_cursor(row=table.get_row_index(line))
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BlameScreen))
        blame = app.screen
        assert isinstance(blame, BlameScreen)
        await wait_for(pilot, lambda: bool(blame.query("#blame-table")), 10)
        positions = [line.position for line in blame.lines]
        assert positions and all(200 < p <= 400 for p in positions)
        everything = field_blame(workspace.timeline, projection, key, field)
        assert positions == [e.event.position for e in everything if 200 < e.event.position <= 400]
        await pilot.press("enter")  # jumps: both dialogs close
        screen = await settle(pilot)
        assert screen.target == positions[-1]  # the cursor starts on the newest up to B


async def test_blame_works_on_every_domains_first_panel(domain_workspace: Workspace) -> None:
    app = make_app(domain_workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        panels = screen.query_one(ProjectionPanels)
        table = panels.active_table
        assert isinstance(table, CellTable)
        table.focus()
        # `.` until the cursor stands on a field (not the row's key), as a user would.
        for _ in range(len(table.columns) + 1):
            await pilot.press("full_stop")
            if table.chosen_field is not None:
                break
        field, key = table.chosen_field, table.selected_key
        assert field is not None and key is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BlameScreen))
        blame = app.screen
        assert isinstance(blame, BlameScreen)
        await wait_for(pilot, lambda: blame.lines != [] or bool(blame.query("#blame-summary")))
        await wait_for(pilot, lambda: not blame.query("LoadingIndicator"), 10)
        wanted = field_blame(domain_workspace.timeline, table.projection, key, field)
        assert [line.position for line in blame.lines] == [e.event.position for e in wanted]
        assert wanted  # the row exists, so some event set the field
