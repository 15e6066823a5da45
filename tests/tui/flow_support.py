"""Helpers for the flow view's tests: run a form, open the view, wait for its stages."""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input
from tui_support import wait_for

from tui.bootstrap import Workspace, app_session
from tui.screens.command_form import CommandFormScreen
from tui.screens.flow import FlowScreen
from tui.services.flow import stages

HOLD_MS = 60_000
"""A delay no test outlives: the projector waits until a test sets it back to 0."""


def open_account(workspace: Workspace) -> str:
    """An open account of the demo history whose currency has cents."""
    session = app_session(workspace, project=False)
    try:
        frame = session.frames.frame_at(workspace.store.head().position)
    finally:
        session.close()
    for key, row in frame.rows["account_balances"].items():
        if row.get("status") == "open" and row.get("currency") != "JPY":
            return key
    raise AssertionError("the demo has no open account with cents")


async def run_form(pilot: Pilot[Any], command: str, **values: str) -> None:
    """Fill the command form and submit it with ctrl+s."""
    await pilot.press("c")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandFormScreen))
    form = pilot.app.screen
    assert isinstance(form, CommandFormScreen)
    form.query_one("#command-type").value = command  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: form.fields_of == command)
    fields = {f"input-{name}" for name in form.command.model_fields}
    await wait_for(
        pilot, lambda: {w.id for w in form.query("#fields Input, #fields Select")} == fields
    )
    for name, value in values.items():
        form.query_one(f"#input-{name}", Input).value = value
    await pilot.pause()
    await pilot.press("ctrl+s")


async def open_flow(pilot: Pilot[Any]) -> FlowScreen:
    await pilot.press("f")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FlowScreen), what="the flow view")
    screen = pilot.app.screen
    assert isinstance(screen, FlowScreen)
    return screen


def states(flow_screen: FlowScreen) -> list[str]:
    flow = flow_screen.flow
    assert flow is not None
    return [s.state for s in stages(flow, flow_screen.progress())]


async def wait_for_flow(
    pilot: Pilot[Any], flow_screen: FlowScreen, command_type: str, lit: list[str]
) -> None:
    """Wait until the view shows a `command_type` flow with these stage states."""

    def shown() -> bool:
        flow = flow_screen.flow
        return flow is not None and flow.command_type == command_type and states(flow_screen) == lit

    await wait_for(pilot, shown, timeout=15, what=f"a {command_type} flow lit {lit}")
    await pilot.pause(0.3)  # the view's next poll draws it


ALL_LIT = ["done"] * 5
REFUSED = ["done", "refused", "skipped", "skipped", "skipped"]


async def axis_at_head(pilot: Pilot[Any]) -> None:
    """Wait until the scrubber's axis covers the head (it is rebuilt a while after a move:
    a snapshot taken before would draw the density of the history before it)."""
    from tui_support import main_screen

    from tui.widgets.scrubber import TimelineScrubber

    main = main_screen(pilot)
    scrubber = main.query_one(TimelineScrubber)

    def covered() -> bool:
        axis = scrubber.axis
        return axis is not None and axis.head == main.head

    await wait_for(pilot, covered, timeout=15, what="the scrubber's axis at the head")
