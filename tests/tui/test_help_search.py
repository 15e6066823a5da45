"""`?` lists the keys of the screen it was pressed on, narrowed by a filter as you type."""

from __future__ import annotations

from textual.widgets import Input
from tui_support import make_app, settle, type_into, wait_for

from tui.bootstrap import Workspace
from tui.screens.command_form import CommandFormScreen
from tui.screens.help import HelpScreen
from tui.screens.main import MainScreen

SIZE = (120, 36)


def listed(screen: HelpScreen) -> list[tuple[str, str]]:
    return [row for _, rows in screen.matching() for row in rows]


async def test_help_filters_the_keys_as_you_type(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert help_screen.query_one("#help-filter", Input).has_focus
        everything = listed(help_screen)
        await pilot.press(*"bookm")
        await pilot.pause(0.05)
        narrowed = listed(help_screen)
        assert narrowed and len(narrowed) < len(everything)
        assert all("bookm" in f"{k} {d}".lower() for k, d in narrowed)
        await type_into(pilot, "#help-filter", "ctrl+p")  # a key matches too
        assert [d for k, d in listed(help_screen) if k == "ctrl+p"]
        await type_into(pilot, "#help-filter", "no such key at all")
        assert listed(help_screen) == []
        await pilot.press("escape")
        assert isinstance(app.screen, MainScreen)


async def test_help_on_a_dialog_lists_the_dialog_keys(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("c")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandFormScreen))
        app.action_help()
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        titles = [title for title, _ in help_screen.sections]
        assert titles[0] == "Command form" and titles[-1] == "Everywhere"
        descriptions = {d for _, d in listed(help_screen)}
        assert "Run" in descriptions

        def described(bindings: object) -> set[str]:
            return {str(b.description) for b in bindings}  # type: ignore[attr-defined]

        main_only = described(MainScreen.BINDINGS) - described(app.BINDINGS) - {"Run", "Cancel"}
        assert main_only and not main_only & descriptions
        await pilot.press("escape")
        assert isinstance(app.screen, CommandFormScreen)


async def test_the_palette_s_keys_entry_opens_the_app_s_help(workspace: Workspace) -> None:
    """Not Textual's key panel, which docks beside the screen and squeezes the header."""
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        keys = [c for c in app.get_system_commands(app.screen) if c.title == "Keys"]
        assert len(keys) == 1
        app.call_later(keys[0].callback)
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_help_lists_of_a_key_bound_twice_the_meaning_it_has_now(
    workspace: Workspace,
) -> None:
    """`c` (Command, or unavailable when read-only) and `space` (Play, or Pause while
    playing) are each bound twice: the help lists the one that applies now."""
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        meanings = {d for k, d in listed(help_screen) if k in ("c", "space")}
        assert meanings == {"Command", "Play"}
