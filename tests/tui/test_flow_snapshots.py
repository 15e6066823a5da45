"""SVG snapshots of the flow view (`f`): accepted, refused, from another process, and the
projector delay's "waiting" states (fixed size, clock, ids and seed; no blinking).

Regenerate with `pytest tests/tui/test_flow_snapshots.py --snapshot-update`, then look
at the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flow_support import (
    ALL_LIT,
    HOLD_MS,
    REFUSED,
    axis_at_head,
    open_account,
    open_flow,
    run_form,
    wait_for_flow,
)
from textual.pilot import Pilot
from tui_support import make_app, open_test_workspace, settle, wait_for

from tui.bootstrap import Workspace
from tui.controllers.projector_delay import set_projector_delay
from tui.screens.main import MainScreen

SnapCompare = Callable[..., bool]
SIZE = (120, 36)


def test_flow_of_an_accepted_command(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """A deposit from the form: every stage lit, the balance row before → after."""
    account = open_account(workspace)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await run_form(pilot, "deposit", account_id=account, amount="12.34", reference="flow")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        await settle(pilot)
        view = await open_flow(pilot)
        await wait_for_flow(pilot, view, "deposit", ALL_LIT)
        await axis_at_head(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.1)

    app = make_app(workspace, verify=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_flow_of_a_refused_command(snap_compare: SnapCompare, workspace: Workspace) -> None:
    """A withdrawal the rules refuse: the reason, and nothing appended."""
    account = open_account(workspace)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await run_form(pilot, "withdraw", account_id=account, amount="99999999.00")
        await wait_for(pilot, lambda: len(workspace.store.refusals(limit=1)) == 1)
        await pilot.press("escape")
        await settle(pilot)
        view = await open_flow(pilot)
        await wait_for_flow(pilot, view, "withdraw", REFUSED)
        await axis_at_head(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.1)

    app = make_app(workspace, verify=False)
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_flow_of_a_command_from_another_process(
    snap_compare: SnapCompare, workspace: Workspace
) -> None:
    """A deposit appended through a second store on the same file, seen live."""
    account = open_account(workspace)
    writer = open_test_workspace(workspace.db_path)

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        view = await open_flow(pilot)
        await wait_for(pilot, lambda: view.flow is not None)
        writer.bus.execute_fields(
            "deposit", {"account_id": account, "amount": "5.00"}, actor="other-process"
        )
        await wait_for_flow(pilot, view, "deposit", ALL_LIT)
        await settle(pilot)
        await axis_at_head(pilot)
        await pilot.pause(0.3)

    try:
        app = make_app(workspace, verify=False)
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        writer.close()


def test_flow_while_the_projector_is_held_back(
    snap_compare: SnapCompare, workspace: Workspace
) -> None:
    """--projector-delay: the command recorded, the projector and read models waiting."""
    account = open_account(workspace)

    async def run_before(pilot: Pilot[Any]) -> None:
        main = await settle(pilot)
        set_projector_delay(main, HOLD_MS)
        await run_form(pilot, "deposit", account_id=account, amount="7.00")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        view = await open_flow(pilot)
        await wait_for_flow(pilot, view, "deposit", ["done", "done", "done", "waiting", "waiting"])
        await axis_at_head(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.1)

    app = make_app(workspace, verify=False)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        if app.session.read_side is not None:
            app.session.read_side.delay.set(0)


def test_panels_while_the_projector_is_held_back(
    snap_compare: SnapCompare, workspace: Workspace
) -> None:
    """--projector-delay: the header "updating…", the panels marked, the old balance shown."""
    account = open_account(workspace)

    async def run_before(pilot: Pilot[Any]) -> None:
        main = await settle(pilot)
        set_projector_delay(main, HOLD_MS)
        await run_form(pilot, "deposit", account_id=account, amount="7.00")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, MainScreen))
        read_side = main.session.read_side
        assert read_side is not None
        await wait_for(pilot, lambda: read_side.delay.holding and main.head > 600)
        status = main.query_one("#status").view  # type: ignore[attr-defined]
        await wait_for(pilot, lambda: status.lag == 1 and status.updating_to is not None)
        await wait_for(pilot, lambda: main.query_one("#log").loaded)  # type: ignore[attr-defined]
        await axis_at_head(pilot)
        pilot.app.clear_notifications()
        await pilot.pause(0.3)

    app = make_app(workspace, verify=False)
    try:
        assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
    finally:
        if app.session.read_side is not None:
            app.session.read_side.delay.set(0)
