"""SVG snapshots of the main screen of both domains at 80x24, 120x36 and 200x60, live
and in the past, and of the help with a filter typed.

Regenerate with `pytest tests/tui/test_snapshot_sizes.py --snapshot-update`, then look
at the SVGs in `__snapshots__/` before committing them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from tui_support import make_app, settle, steady_log, wait_for

from tui.bootstrap import Workspace
from tui.screens.help import HelpScreen

SnapCompare = Callable[..., bool]
SIZES = [(80, 24), (120, 36), (200, 60)]
SIZE_IDS = [f"{w}x{h}" for w, h in SIZES]


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_main_screen_live_at_size(
    snap_compare: SnapCompare, domain_workspace: Workspace, size: tuple[int, int]
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await steady_log(pilot)

    app = make_app(domain_workspace)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_main_screen_in_the_past_at_size(
    snap_compare: SnapCompare, domain_workspace: Workspace, size: tuple[int, int]
) -> None:
    """At #301 after stepping back from #302, on the second panel."""

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = await settle(pilot)
        screen.go(302)
        await settle(pilot)
        await pilot.press("left", "2")
        await settle(pilot)
        await steady_log(pilot)

    app = make_app(domain_workspace)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_help_with_a_filter_at_size(
    snap_compare: SnapCompare, workspace: Workspace, size: tuple[int, int]
) -> None:
    """`?` then `mark`: only the keys whose key or description says so."""

    async def run_before(pilot: Pilot[Any]) -> None:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, HelpScreen))
        await pilot.press(*"mark")
        await pilot.pause(0.1)

    assert snap_compare(make_app(workspace), terminal_size=size, run_before=run_before)
