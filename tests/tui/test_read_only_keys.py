"""Read-only: `c` is not offered in the footer, and pressing it says why."""

from __future__ import annotations

from pathlib import Path

from textual.widgets._footer import FooterKey
from tui_support import make_app, open_test_workspace, settle, wait_for

from tui.screens.command_form import CommandFormScreen


async def test_read_only_hides_c_and_says_why_when_pressed(demo_db: Path) -> None:
    workspace = open_test_workspace(demo_db, read_only=True)
    try:
        app = make_app(workspace)
        async with app.run_test(size=(200, 40)) as pilot:
            screen = await settle(pilot)
            await pilot.pause(0.1)
            actions = {key.action for key in screen.query(FooterKey)}
            assert "command" not in actions
            assert "app.help" in actions
            await pilot.press("c")
            await wait_for(pilot, lambda: bool(app._notifications), what="a notice")
            notices = [str(n.message) for n in app._notifications]
            assert any("read-only" in n for n in notices), notices
            assert not isinstance(app.screen, CommandFormScreen)
    finally:
        workspace.close()


async def test_c_opens_the_form_when_writable(demo_db: Path) -> None:
    workspace = open_test_workspace(demo_db)
    try:
        app = make_app(workspace)
        async with app.run_test(size=(200, 40)) as pilot:
            screen = await settle(pilot)
            await pilot.pause(0.1)
            assert "command" in {key.action for key in screen.query(FooterKey)}
            await pilot.press("c")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandFormScreen), what="form")
    finally:
        workspace.close()
