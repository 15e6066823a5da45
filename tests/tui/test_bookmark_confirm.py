"""Bookmarks: adding one confirms it by name; forgetting one (palette or anywhere) asks first."""

from __future__ import annotations

from textual.command import CommandPalette
from tui_support import make_app, settle, type_into, wait_for

from tui.bootstrap import Workspace
from tui.screens.bookmark import BookmarkScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.main import MainScreen

SIZE = (120, 36)


def _said(screen: MainScreen, text: str) -> bool:
    return any(text in str(n.message) for n in screen.app._notifications)


async def test_adding_a_bookmark_confirms_it_by_name(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        screen.go(77)
        await settle(pilot)
        await pilot.press("b")
        await wait_for(pilot, lambda: isinstance(app.screen, BookmarkScreen))
        await type_into(pilot, "#bookmark-name", "before the audit")
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(screen.bookmarks))
        assert _said(screen, "Bookmarked “before the audit” at #77")


async def _forget_from_the_palette(pilot, name: str) -> ConfirmScreen:  # type: ignore[no-untyped-def]
    await pilot.press("ctrl+p")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandPalette))
    await pilot.press(*f"forget bookmark {name}")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
    dialog = pilot.app.screen
    assert isinstance(dialog, ConfirmScreen)
    await wait_for(pilot, lambda: bool(dialog.query("#answer-cancel")) and bool(dialog.focused))
    return dialog


async def test_forgetting_a_bookmark_asks_first_and_enter_alone_keeps_it(
    workspace: Workspace,
) -> None:
    workspace.store.set_bookmark("payday", 200, actor="tester")
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        await wait_for(pilot, lambda: bool(screen.bookmarks))
        # Escape: nothing happens.
        await _forget_from_the_palette(pilot, "payday")
        await pilot.press("escape")
        await settle(pilot)
        assert [b.name for b in workspace.store.bookmarks()] == ["payday"]
        # Enter at once presses Cancel (it has the focus): still nothing.
        dialog = await _forget_from_the_palette(pilot, "payday")
        assert dialog.query_one("#answer-cancel").has_focus
        await pilot.press("enter")
        await settle(pilot)
        assert [b.name for b in workspace.store.bookmarks()] == ["payday"]
        # "Forget it": gone, and said so.
        await _forget_from_the_palette(pilot, "payday")
        await pilot.click("#answer-forget")
        await wait_for(pilot, lambda: not screen.bookmarks, what="the bookmark to go")
        assert workspace.store.bookmarks() == []
        assert _said(screen, "Forgot the bookmark “payday”")
