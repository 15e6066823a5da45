"""`--theme`: dark by default (the snapshots' look), light-contrast for a projector."""

from __future__ import annotations

from tui_support import settle

from tui.app import open_app
from tui.bootstrap import Workspace
from tui.themes import LIGHT_CONTRAST


async def test_light_contrast_is_black_on_white(workspace: Workspace) -> None:
    app = open_app(workspace, verify=False, theme="light-contrast")
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.theme == LIGHT_CONTRAST
        assert not app.current_theme.dark
        style = app.screen.rich_style
        assert style.color is not None and style.bgcolor is not None
        assert (style.color.get_truecolor().hex, style.bgcolor.get_truecolor().hex) == (
            "#000000",
            "#ffffff",
        )


async def test_dark_is_the_default(workspace: Workspace) -> None:
    app = open_app(workspace, verify=False)
    async with app.run_test(size=(120, 36)) as pilot:
        await settle(pilot)
        assert app.theme == "textual-dark"
