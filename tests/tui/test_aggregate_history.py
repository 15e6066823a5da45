"""Aggregate history (`a`) writes the state as the panels do: grouped money, human field
names, the stream named once in the title, unchanging fields on one line."""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import DataTable, Label
from tui_support import main_screen, make_app, settle, wait_for

from domain.ledger.money import grouped_amount
from tui.bootstrap import Workspace
from tui.screens.aggregate import AggregateScreen


async def open_history(pilot: Pilot[None], stream: str) -> AggregateScreen:
    """`a` on `stream`, once its steps are loaded."""
    app = pilot.app
    main_screen(pilot).open_stream(stream)
    await wait_for(pilot, lambda: isinstance(app.screen, AggregateScreen))
    history = app.screen
    assert isinstance(history, AggregateScreen)
    await wait_for(pilot, lambda: bool(history.steps))
    return history


async def test_aggregate_history_formats_the_state(workspace: Workspace) -> None:
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        streams = [s.stream_id for s in workspace.store.streams()]
        stream = next(s for s in streams if s.startswith("account-jpy"))
        history = await open_history(pilot, stream)
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


async def test_the_what_column_fits_the_dialog_and_keeps_amounts_whole(
    workspace: Workspace,
) -> None:
    """At 80x24 the summary ("What") ends inside the dialog, cut between words to the
    room the columns before it leave (`171.25 …`, never `171.25 EU`)."""
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        stream = next(s.stream_id for s in workspace.store.streams() if "eur" in s.stream_id)
        history = await open_history(pilot, stream)
        table = history.query_one(DataTable)
        await pilot.pause(0.05)
        titles = [str(column.label) for column in table.columns.values()]
        assert titles[-2:] == ["What", "Actor"]
        cut = 0
        for step in history.steps:
            what = str(table.get_row(str(step.event.position))[-2])
            full = screen.session.queries.summary(step.event)
            if what != full:
                cut += 1
                kept = what.removesuffix("…").rstrip()
                assert what.endswith("…") and full.startswith(kept)
                assert kept == "" or full[len(kept)] == " ", (what, full)
        assert cut, "at 80 columns some summaries have to be cut"
