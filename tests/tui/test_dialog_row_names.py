"""Lineage and blame titles name a row by its human columns, never by an internal key
("Internal keys stay hidden", issue 12)."""

from __future__ import annotations

from textual.widgets import Label
from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace
from tui.screens.blame import BlameScreen
from tui.screens.lineage import LineageScreen
from tui.widgets.cell_table import CellTable
from tui.widgets.column_fit import row_name
from tui.widgets.projection_panels import ProjectionPanels


async def lineage_title(workspace: Workspace, projection: str) -> tuple[str, str, str]:
    """(title, row key, expected name) of the lineage of the first row of `projection`."""
    app = make_app(workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settle(pilot)
        panels = screen.query_one(ProjectionPanels)
        panels.select_tab(panels.names.index(projection))
        await wait_for(pilot, lambda: getattr(panels.active_table, "projection", "") == projection)
        table = panels.active_table
        assert table is not None
        await wait_for(pilot, lambda: table.selected_key is not None)
        key = table.selected_key
        assert key is not None
        table.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen))
        title = str(app.screen.query_one(".dialog-title", Label).render())
        name = row_name(table.key_title, table.columns, key, table._rows[key])
        return title, key, name


async def test_lineage_of_an_audit_flag_names_the_flag_and_account(
    workspace: Workspace,
) -> None:
    title, key, name = await lineage_title(workspace, "audit_flags")
    position, flag, account = key.split(":", 2)
    assert key not in title and "position:flag:account" not in title, title
    assert f"Flag {flag}" in title and f"Account {account}" in title, title
    assert f"#{int(position)}" in title and title.endswith(name), title


async def test_lineage_of_a_day_names_the_day_and_currency_once(workspace: Workspace) -> None:
    title, key, _ = await lineage_title(workspace, "daily_activity")
    day, currency = key.split(" ")
    assert "day · currency" not in title and key not in title, title
    assert title.endswith(f"Day {day} · Cur {currency}"), title


async def test_blame_of_a_balance_names_the_account(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(120, 36)) as pilot:
        screen = await settle(pilot)
        table = screen.query_one("#table-account_balances", CellTable)
        table.focus()
        while table.chosen_field != "balance":
            await pilot.press("full_stop")
        key = table.selected_key
        assert key is not None
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, BlameScreen))
        title = str(app.screen.query_one(".dialog-title", Label).render())
        name = row_name(table.key_title, table.columns, key, table._rows[key])
        assert f"· {name} · Balance" in title, title


def test_a_key_the_columns_do_not_show_is_named_with_its_key_title() -> None:
    from domain.ledger.projections.audit_flags import AuditFlags

    flags = AuditFlags()
    key = "0000000131:overdraft:acc-\u202e1"
    assert row_name(flags.key_title, flags.columns, key, None) == (
        "position:flag:account 0000000131:overdraft:acc-\\u202e1"
    )
    row = {"position": 131, "flag": "overdraft", "account_id": "acc-\u202e1"}
    assert row_name(flags.key_title, flags.columns, key, row) == (
        "#131 · Flag overdraft · Account acc-\\u202e1"
    )
