"""SVG snapshots of a refusal opened whole, at 80x24, 120x36 and 200x60, live and in
the past.

Regenerate with `pytest tests/tui/test_refusal_snapshots.py --snapshot-update`, then
look at the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from test_snapshot_sizes import SIZE_IDS, SIZES
from textual.pilot import Pilot
from tui_support import main_screen, make_app, settle, steady_log, wait_for

from tui.bootstrap import Workspace
from tui.screens.refusal import RefusalScreen
from tui.services.types import REFUSALS
from tui.widgets.projection_panels import ProjectionPanels

SnapCompare = Callable[..., bool]


async def open_newest_refusal(pilot: Pilot[Any]) -> None:
    screen = main_screen(pilot)
    panels = screen.query_one(ProjectionPanels)
    panels.select_tab(len(panels.names) - 1)
    table = screen.query_one(f"#table-{REFUSALS}")
    await wait_for(pilot, lambda: pilot.app.focused is table)
    await steady_log(pilot)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, RefusalScreen))
    await pilot.pause(0.1)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_refusal_detail_live_at_size(
    snap_compare: SnapCompare, workspace: Workspace, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await open_newest_refusal(pilot)

    assert snap_compare(make_app(workspace), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_refusal_detail_in_the_past_at_size(
    snap_compare: SnapCompare, workspace: Workspace, size: tuple[int, int]
) -> None:
    """At #300: the newest refusal recorded up to there."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await settle(pilot)
        screen.go(300)
        await settle(pilot)
        await open_newest_refusal(pilot)

    assert snap_compare(make_app(workspace), terminal_size=size, run_before=run_before)
