"""Toasts stand above the scrubber and the footer, at every size."""

from __future__ import annotations

import pytest
from test_snapshot_sizes import SIZE_IDS, SIZES
from textual.widgets._toast import Toast
from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace
from tui.widgets.scrubber import TimelineScrubber


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_a_toast_never_covers_the_scrubber(
    workspace: Workspace, size: tuple[int, int]
) -> None:
    app = make_app(workspace)
    async with app.run_test(size=size, notifications=True) as pilot:
        screen = await settle(pilot)
        app.notify("Recorded 1 event(s) at #601, a long enough message to wrap at 80 columns")
        await wait_for(pilot, lambda: bool(screen.query(Toast)))
        await pilot.pause(0.05)
        scrubber = screen.query_one(TimelineScrubber).region
        for toast in screen.query(Toast):
            assert not toast.region.overlaps(scrubber), (toast.region, scrubber)
