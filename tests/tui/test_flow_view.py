"""The flow view (`f`): a command's CQRS pipeline, stage by stage, lit as each completes.

Commands from the form, refusals, commands from another process (a second store on
the same file), the history of flows, the past, and the projector delay's states.
No timing is asserted: the tests wait for the app's state.
"""

from __future__ import annotations

import pytest
from flow_support import ALL_LIT, HOLD_MS, REFUSED, open_account, open_flow, run_form, wait_for_flow
from tui_support import (
    TEST_CLOCK_START,
    main_screen,
    make_app,
    open_test_workspace,
    settle,
    wait_for,
)

from domain.clock import SequentialIds, StepClock
from domain.errors import RuleRefused
from domain.ledger.demo import write_demo
from tui.bootstrap import Workspace, open_workspace
from tui.controllers.projector_delay import set_projector_delay
from tui.screens.flow import FlowScreen
from tui.screens.main import MainScreen

SIZE = (120, 36)


async def test_a_deposit_from_the_form_lights_every_stage(workspace: Workspace) -> None:
    account = open_account(workspace)
    head = workspace.store.head().position
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_form(pilot, "deposit", account_id=account, amount="12.34", reference="flow")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        view = await open_flow(pilot)
        await wait_for_flow(pilot, view, "deposit", ALL_LIT)
        flow = view.flow
        assert flow is not None and flow.accepted and flow.actor == "tester"
        assert [e.position for e in flow.events] == [head + 1]
        assert flow.events[0].type == "MoneyDeposited"
        assert flow.fields["amount"] == "12.34"
        assert account in {d.key for d in flow.changes["account_balances"]}
        assert flow.handler != "" and "no handler" not in flow.handler
        assert account in str(view.query_one("#flow-rows").render())


async def test_a_refused_command_shows_its_reason_and_appends_nothing(
    workspace: Workspace,
) -> None:
    account = open_account(workspace)
    head = workspace.store.head().position
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await run_form(pilot, "withdraw", account_id=account, amount="99999999.00")
        await wait_for(pilot, lambda: len(workspace.store.refusals(limit=1)) == 1)
        await pilot.press("escape")
        await settle(pilot)
        view = await open_flow(pilot)
        await wait_for_flow(pilot, view, "withdraw", REFUSED)
        flow = view.flow
        assert flow is not None and not flow.accepted and flow.reason
        assert flow.events == () and workspace.store.head().position == head
        assert "refused" in str(view.query_one("#flow-stage-1-body").render())


async def test_a_command_from_another_process_shows_in_an_open_flow_view(
    workspace: Workspace,
) -> None:
    account = open_account(workspace)
    writer = open_test_workspace(workspace.db_path)
    app = make_app(workspace, verify=False)
    try:
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot)
            view = await open_flow(pilot)
            await wait_for(pilot, lambda: view.flow is not None)
            writer.bus.execute_fields(
                "deposit", {"account_id": account, "amount": "5.00"}, actor="other-process"
            )
            await wait_for_flow(pilot, view, "deposit", ALL_LIT)
            assert view.flow is not None and view.flow.actor == "other-process"
            # ... and a refusal from there is a flow too.
            with pytest.raises(RuleRefused):
                writer.bus.execute_fields(
                    "withdraw", {"account_id": "nobody-here", "amount": "1.00"}, actor="other"
                )
            await wait_for_flow(pilot, view, "withdraw", REFUSED)
    finally:
        writer.close()


async def test_the_history_steps_back_and_the_past_shows_the_cursors_command(
    workspace: Workspace,
) -> None:
    account = open_account(workspace)
    head = workspace.store.head().position
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        workspace.bus.execute_fields(
            "deposit", {"account_id": account, "amount": "1.00"}, actor="a"
        )
        await settle(pilot)
        view = await open_flow(pilot)
        await wait_for(pilot, lambda: view.flow is not None and view.flow.last == head + 1)
        await pilot.press("left")
        await wait_for(pilot, lambda: view.flow is not None and view.flow.last <= head)
        assert view.picked is not None
        await pilot.press("right")
        await wait_for(pilot, lambda: view.flow is not None and view.flow.last == head + 1)
        await pilot.press("l")
        assert view.picked is None
        await pilot.press("escape")
        main = main_screen(pilot)
        main.go(300)
        await settle(pilot)
        view = await open_flow(pilot)
        await wait_for(
            pilot, lambda: view.flow is not None and 300 in [e.position for e in view.flow.events]
        )
        assert "In the past" in str(view.query_one("#flow-where").render())


async def test_the_projector_delay_shows_the_lag_then_the_read_model_arriving(
    workspace: Workspace,
) -> None:
    account = open_account(workspace)
    head = workspace.store.head().position
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        main = await settle(pilot)
        set_projector_delay(main, HOLD_MS)
        await run_form(pilot, "deposit", account_id=account, amount="7.00")
        await wait_for(pilot, lambda: isinstance(app.screen, MainScreen))
        read_side = main.session.read_side
        assert read_side is not None
        await wait_for(pilot, lambda: read_side.delay.holding and main.head == head + 1)
        # Recorded at once; the read models wait.
        assert workspace.store.head().position == head + 1
        assert read_side.status().checkpoint == head
        status = main.query_one("#status").view  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: status.lag == 1 and status.updating_to == head + 1)
        assert str(main.query_one("#panels").border_subtitle).startswith("updating…")
        view = await open_flow(pilot)
        await wait_for_flow(pilot, view, "deposit", ["done", "done", "done", "waiting", "waiting"])
        set_projector_delay(main, 0)
        await wait_for_flow(pilot, view, "deposit", ALL_LIT)
        assert read_side.status().checkpoint == head + 1
        assert not str(main.query_one("#panels").border_subtitle)


async def test_the_palette_sets_the_projector_delay_and_opens_the_flow(
    workspace: Workspace,
) -> None:
    app = make_app(workspace, verify=False)
    async with app.run_test(size=SIZE) as pilot:
        main = await settle(pilot)
        read_side = main.session.read_side
        assert read_side is not None and read_side.delay.ms == 0
        for text, done in [
            ("Projector delay: 3 s", lambda: read_side.delay.ms == 3000),
            ("Projector delay: off", lambda: read_side.delay.ms == 0),
            ("CQRS flow", lambda: isinstance(app.screen, FlowScreen)),
        ]:
            await pilot.press("ctrl+p")
            await pilot.pause(0.2)
            await pilot.press(*text)
            await pilot.pause(0.5)
            await pilot.press("enter")
            await wait_for(pilot, done, what=text)


async def test_the_flow_view_runs_on_the_in_memory_store() -> None:
    memory = open_workspace(
        "memory:", actor="tester", clock=StepClock(TEST_CLOCK_START), ids=SequentialIds("ui")
    )
    try:
        write_demo(memory.store, 300, 7)
        account = open_account(memory)
        app = make_app(memory, verify=False)
        async with app.run_test(size=SIZE) as pilot:
            await settle(pilot, timeout=15)
            view = await open_flow(pilot)
            memory.bus.execute_fields(
                "deposit", {"account_id": account, "amount": "3.00"}, actor="m"
            )
            await wait_for_flow(pilot, view, "deposit", ALL_LIT)
            assert view.flow is not None and view.flow.actor == "m"
    finally:
        memory.close()
