"""The whole app on the in-memory store (`--db memory:`) and on PostgreSQL
(`--db postgresql://…`): the app needs only the roles.

Step, diff, lineage, a command and a refusal, with the projector writing read models
into the same store.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from textual.widgets import DataTable, Input, Select
from tui_support import TEST_CLOCK_START, make_app, settle, wait_for

from domain.clock import SequentialIds, StepClock
from domain.ledger.demo import write_demo
from store.memory import InMemoryEventStore
from store.postgres.store import PostgresEventStore
from tui.bootstrap import Workspace, open_workspace
from tui.screens.command_form import CommandFormScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.diff import DiffScreen
from tui.screens.goto import GotoScreen
from tui.screens.lineage import LineageScreen
from tui.widgets.projection_panels import ProjectionPanels

SIZE = (120, 36)


@pytest.fixture(params=["memory", "postgres"])
def memory_workspace(request: pytest.FixtureRequest) -> Iterator[Workspace]:
    db = "memory:"
    if request.param == "postgres":  # the throwaway server (tests/conftest.py)
        db = request.getfixturevalue("postgres_server").database()
    ws = open_workspace(
        db,
        actor="tester",
        clock=StepClock(TEST_CLOCK_START),
        ids=SequentialIds("ui"),
        create=True,
    )
    write_demo(ws.store, 600, 7)
    yield ws
    ws.close()


async def _goto(pilot, text: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("g")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, GotoScreen))
    pilot.app.screen.query_one(Input).value = text
    await pilot.press("enter")


def _open_account(ws: Workspace) -> str:
    for key, row in ws.timeline.state_at(ws.store.head().position)["account_balances"].rows.items():
        if row.get("status") == "open":
            return key
    raise AssertionError("the demo has no open account")


async def _submit(pilot, command: str, **values: str) -> None:  # type: ignore[no-untyped-def]
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandFormScreen | ConfirmScreen))
    if isinstance(pilot.app.screen, ConfirmScreen):  # in the past: "Return to live" first
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandFormScreen))
    form = pilot.app.screen
    form.query_one("#command-type", Select).value = command
    await wait_for(pilot, lambda: form.fields_of == command)
    # The form opens on the command used last: wait for the chosen command's own fields.
    fields = {f"input-{name}" for name in form.command.model_fields}
    await wait_for(
        pilot, lambda: {w.id for w in form.query("#fields Input, #fields Select")} == fields
    )
    for name, value in values.items():
        form.query_one(f"#input-{name}", Input).value = value
    await pilot.pause()
    await pilot.press("ctrl+s")


async def test_the_app_runs_whole_on_the_in_memory_store(memory_workspace: Workspace) -> None:
    ws = memory_workspace
    assert isinstance(ws.store, InMemoryEventStore | PostgresEventStore) and ws.db_path is None
    head = ws.store.head().position
    app = make_app(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        assert screen.frame is not None and screen.frame.position == head
        assert screen.frame.rows["account_balances"]

        await pilot.press("left")  # step
        screen = await settle(pilot)
        assert screen.frame is not None and screen.frame.position == head - 1

        await _goto(pilot, "200")  # diff A..B
        await settle(pilot)
        await pilot.press("m")
        await _goto(pilot, "400")
        await settle(pilot)
        await pilot.press("m")
        await wait_for(pilot, lambda: isinstance(app.screen, DiffScreen))
        diff = app.screen
        await wait_for(pilot, lambda: bool(diff.query("#diff-account_balances")))
        assert diff.query_one("#diff-account_balances", DataTable).row_count > 0
        await pilot.press("escape")

        screen = await settle(pilot)  # lineage of a row
        table = screen.query_one(ProjectionPanels).active_table
        assert table is not None
        table.focus()
        await pilot.press("down", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, LineageScreen))
        lineage = app.screen
        assert isinstance(lineage, LineageScreen)
        await wait_for(pilot, lambda: bool(lineage.steps))
        assert all(lineage.key in s.event.stream_id for s in lineage.steps)
        await pilot.press("escape")

        account = _open_account(ws)
        await _submit(pilot, "deposit", account_id=account, amount="5.00", reference="memory")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandFormScreen))
        await wait_for(pilot, lambda: ws.store.head().position == head + 1, what="the deposit")

        refusals = len(ws.store.refusals())
        await _submit(pilot, "withdraw", account_id=account, amount="99999999.00", reference="x")
        await wait_for(pilot, lambda: len(ws.store.refusals()) == refusals + 1, what="refusal")
        assert ws.store.head().position == head + 1  # a refusal records no event
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandFormScreen))

        # The in-app projector keeps the read models in the same in-memory store.
        with ws.projector() as projector:
            assert projector.checkpoint() == head + 1
