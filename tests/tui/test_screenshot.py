"""The palette's Screenshot saves into the current folder, whatever ~/Downloads is."""

from __future__ import annotations

from pathlib import Path

import pytest
from tui_support import make_app, settle, wait_for

from tui.bootstrap import Workspace


async def test_a_screenshot_lands_in_the_current_folder(
    workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shots = tmp_path / "here"
    shots.mkdir()
    monkeypatch.chdir(shots)
    monkeypatch.setenv("HOME", str(tmp_path / "no-such-home"))  # no ~/Downloads at all
    app = make_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        app.deliver_screenshot()
        await wait_for(pilot, lambda: any(shots.glob("*.svg")), what="the screenshot file")
        await wait_for(pilot, lambda: bool(app._notifications), what="the notice")
        notices = " ".join(str(n.message) for n in app._notifications)
        assert str(shots) in notices
    svg = next(shots.glob("*.svg")).read_text()
    assert svg.startswith("<svg")
