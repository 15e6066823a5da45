"""The Refusals tab: Enter opens a refusal whole, the tab counts them and loads older
ones on demand, and a move back in time keeps the newest refusal there in view."""

from __future__ import annotations

import pytest
from rich.console import Console
from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace
from tui.screens.main import MainScreen
from tui.screens.refusal import RefusalScreen, refusal_table
from tui.services.types import REFUSALS
from tui.widgets.projection_panels import ProjectionPanels
from tui.widgets.refusal_panel import RefusalCount, RefusalTable, count_line

SIZE = (120, 36)


async def _refusals_tab(screen: MainScreen) -> RefusalTable:
    panels = screen.query_one(ProjectionPanels)
    panels.select_tab(len(panels.names) - 1)
    table = screen.query_one(f"#table-{REFUSALS}", RefusalTable)
    return table


async def test_enter_opens_the_refusal_whole_and_g_goes_there(workspace: Workspace) -> None:
    newest = workspace.store.refusals(limit=1)[0]
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        table = await _refusals_tab(screen)
        await wait_for(pilot, lambda: app.focused is table and table.row_count > 0)
        assert table.selected_key == str(newest.id)
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, RefusalScreen))
        detail = app.screen
        assert isinstance(detail, RefusalScreen)
        shown = str(detail.query_one("#refusal-detail").render())
        text = app.export_screenshot()
        for part in (newest.actor, newest.command_type, f"#{newest.at_position:,}"):
            assert part in text
        # The whole reason, however long: the grid folds it rather than cutting it.
        assert newest.reason.split()[-1] in text
        assert shown  # the detail rendered
        for name in newest.command:
            assert name in text
        await pilot.press("g")
        screen = await settle(pilot)
        assert isinstance(app.screen, MainScreen)
        assert screen.target == newest.at_position


async def test_the_tab_counts_refusals_and_loads_older_ones_on_demand(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tui.services.stepping.REFUSAL_ROWS", 2)
    total = len(workspace.store.refusals())
    assert total > 4, "the demo should refuse a few commands"
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        table = await _refusals_tab(screen)
        # The tab gives its table the focus a moment after it is shown: keys go there then.
        await wait_for(pilot, lambda: app.focused is table and table.row_count == 2)
        count = screen.query_one(RefusalCount)
        assert f"2 of {total} refusals" in str(count.render())
        await pilot.press("down", "down")  # past the last row: older ones come
        await wait_for(pilot, lambda: table.row_count == 4, what="older refusals")
        assert f"4 of {total} refusals" in str(count.render())
        assert table.cursor == 1  # the cursor stayed on the row it was on


async def test_going_back_keeps_the_newest_refusal_there_in_view(workspace: Workspace) -> None:
    refusals = sorted(workspace.store.refusals(), key=lambda r: (r.at_position, r.id))
    middle = refusals[len(refusals) // 2]
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        table = await _refusals_tab(screen)
        await wait_for(pilot, lambda: app.focused is table and table.row_count > 0)
        await pilot.press(*["down"] * len(refusals))  # look at the oldest rows first
        assert table.cursor == table.row_count - 1
        screen.go(middle.at_position)
        screen = await settle(pilot)
        newest_there = max(
            (r for r in refusals if r.at_position <= middle.at_position),
            key=lambda r: (r.at_position, r.id),
        )
        assert table.row_count == sum(1 for r in refusals if r.at_position <= middle.at_position)
        assert round(table.scroll_y) == 0
        assert table.cursor == 0
        assert table.selected_key == str(newest_there.id)
        count = str(screen.query_one(RefusalCount).render())
        assert f"up to #{middle.at_position:,}" in count


def test_the_count_line_says_what_is_shown_and_what_exists() -> None:
    assert count_line(0, 0, 0) == "no refusals before the first event"
    assert count_line(500, 7012, 99_800).startswith("500 of 7,012 refusals up to #99,800")
    assert "loads older" in count_line(500, 7012, 99_800)
    assert "loads older" not in count_line(3, 3, 10)
    assert count_line(1, 1, 10).startswith("1 of 1 refusal up")


async def test_a_refused_amount_reads_with_its_account_s_currency(workspace: Workspace) -> None:
    """The detail writes a typed `1047.76` as the log does (`1,047.76 EUR`), the
    currency taken from the command's account as of the refusal."""
    from domain.ledger.money import money_text, parse_amount
    from tui.controllers.refusals import open_refusal

    refused = [r for r in workspace.store.refusals(limit=500) if "amount" in r.command]
    assert refused, "the demo refuses some amounts"
    refusal = next(r for r in refused if "account_id" in r.command)
    account = refusal.command["account_id"]
    currency = workspace.timeline.aggregate_at(
        workspace.domain.model, f"account-{account}", position=refusal.at_position
    ).state.currency
    typed = refusal.command["amount"]
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        open_refusal(screen, str(refusal.id))
        await wait_for(pilot, lambda: isinstance(app.screen, RefusalScreen))
        detail = app.screen
        assert isinstance(detail, RefusalScreen) and detail.readable is not None
        expected = money_text(parse_amount(typed, currency), currency)
        assert detail.readable["amount"] == expected
        console = Console(width=100, record=True)
        console.print(refusal_table(detail.refusal, detail.readable))  # what the dialog shows
        text = console.export_text()
        lines = [line.split() for line in text.splitlines()]
        assert ["amount", *expected.split()] in lines, text
