"""Aggregate history (`a`) writes the state as the panels do: grouped money, human field
names, the stream named once in the title, unchanging fields on one line."""

from __future__ import annotations

from textual.widgets import DataTable, Label
from tui_support import make_app, settle, wait_for

from domain.ledger.money import grouped_amount
from tui.bootstrap import Workspace
from tui.screens.aggregate import AggregateScreen


async def test_aggregate_history_formats_the_state(workspace: Workspace) -> None:
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        streams = [s.stream_id for s in workspace.store.streams()]
        stream = next(s for s in streams if s.startswith("account-jpy"))
        screen.open_stream(stream)
        await wait_for(pilot, lambda: isinstance(app.screen, AggregateScreen))
        history = app.screen
        assert isinstance(history, AggregateScreen)
        await wait_for(pilot, lambda: bool(history.steps))
        table = history.query_one(DataTable)
        titles = [str(column.label) for column in table.columns.values()]
        assert "Balance" in titles and "balance" not in titles
        assert "Owner" not in titles  # it never changes: on the line above instead
        for step in history.steps[-3:]:
            row = table.get_row(str(step.event.position))
            balance = grouped_amount(step.state["balance"], "JPY")
            assert str(row[titles.index("Balance")]) == balance
        title = str(history.query_one(".dialog-title", Label).render())
        assert title.count(stream) == 1
        summary = str(history.query_one("#aggregate-summary").render())
        assert f"Owner {history.steps[-1].state['owner']}" in summary
        assert "Currency JPY" in summary
