"""SVG snapshots of field blame, state search and the command form with an error next to
its field, at 80x24, 120x36 and 200x60, live and in the past; and, at every size, no
number those dialogs list is cut.

Regenerate with `pytest tests/tui/test_dialog_snapshots.py --snapshot-update`, then look
at the SVGs in `__snapshots__/` (rsvg-convert to PNG) before committing them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from test_columns_fit import NUMBER
from test_snapshot_sizes import SIZE_IDS, SIZES
from textual.pilot import Pilot
from textual.widgets import DataTable, Static
from tui_support import main_screen, make_app, settle, steady_log, type_into, wait_for

from tui.bootstrap import Workspace
from tui.screens.blame import BlameScreen
from tui.screens.command_form import CommandFormScreen
from tui.screens.confirm import ConfirmScreen
from tui.screens.find import FindScreen
from tui.widgets.cell_table import CellTable

SnapCompare = Callable[..., bool]
Steps = Callable[[Pilot[Any]], Awaitable[None]]

PAST = 450
"""The position the "in the past" snapshots look at (some changes after it, dimmed)."""


def screen_lines(pilot: Pilot[Any]) -> list[str]:
    """The terminal's text, line by line, as drawn now (dialogs over the main screen)."""
    strips = pilot.app.screen._compositor.render_strips()
    return ["".join(segment.text for segment in strip) for strip in strips]


async def to_the_past(pilot: Pilot[Any]) -> None:
    screen = await settle(pilot)
    screen.go(PAST)
    await settle(pilot)


async def open_balance_blame(pilot: Pilot[Any]) -> None:
    """`.` to the first account's Balance cell, then enter, as a user would."""
    screen = await settle(pilot)
    await steady_log(pilot)
    table = screen.query_one("#table-account_balances", CellTable)
    table.focus()
    while table.chosen_field != "balance":
        await pilot.press("full_stop")
    await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, BlameScreen))
    await wait_for(pilot, lambda: bool(pilot.app.screen.query("#blame-table")), 10)
    await pilot.pause(0.05)


async def find_an_amount(pilot: Pilot[Any]) -> None:
    """ctrl+f, then `5410`: an amount typed without separators."""
    await settle(pilot)
    await steady_log(pilot)
    await pilot.press("ctrl+f")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, FindScreen))
    await type_into(pilot, "#find-query", "5410")
    find = pilot.app.screen
    assert isinstance(find, FindScreen)
    await wait_for(pilot, lambda: find.result is not None and find.result.query == "5410")
    await pilot.pause(0.05)


async def form_with_an_error(pilot: Pilot[Any]) -> None:
    """`c` (in the past: "Stay here"), a deposit of -5, enter on the last field: the
    amount's error sits under the amount."""
    screen = await settle(pilot)
    await steady_log(pilot)
    await pilot.press("c")
    if not screen.live:
        await wait_for(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen))
        # "Stay here": tab only once the dialog has focused its first answer, enter once
        # the focus is on "Stay here" (a key sent earlier lands on "Return to live").
        confirm = pilot.app.screen
        await wait_for(pilot, lambda: confirm.focused is not None)
        await pilot.press("tab")
        await wait_for(pilot, lambda: getattr(confirm.focused, "id", "") == "answer-stay")
        await pilot.press("enter")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, CommandFormScreen))
    form = pilot.app.screen
    assert isinstance(form, CommandFormScreen)
    form.query_one("#command-type").value = "deposit"  # type: ignore[attr-defined]
    await wait_for(pilot, lambda: form.fields_of == "deposit")
    await type_into(pilot, "#input-amount", "-5")
    await pilot.press("ctrl+s")
    await wait_for(pilot, lambda: bool(form.query(".field-error.-shown")), what="the error")
    # Every part of the outcome drawn, not a fixed pause: the line under the fields and
    # the focus on the field to fix (the form scrolls to it when short).
    general = form.query_one("#form-error", Static)
    amount = form.query_one("#input-amount")
    await wait_for(pilot, lambda: "Fix the fields" in str(general.render()) and amount.has_focus)
    await pilot.pause(0.05)


DIALOGS: dict[str, Steps] = {
    "blame": open_balance_blame,
    "find": find_an_amount,
    "form": form_with_an_error,
}


@pytest.mark.parametrize("dialog", list(DIALOGS))
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_dialog_live_at_size(
    snap_compare: SnapCompare, workspace: Workspace, size: tuple[int, int], dialog: str
) -> None:
    assert snap_compare(make_app(workspace), terminal_size=size, run_before=DIALOGS[dialog])


@pytest.mark.parametrize("dialog", list(DIALOGS))
@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
def test_dialog_in_the_past_at_size(
    snap_compare: SnapCompare, workspace: Workspace, size: tuple[int, int], dialog: str
) -> None:
    async def run_before(pilot: Pilot[Any]) -> None:
        await to_the_past(pilot)
        await DIALOGS[dialog](pilot)

    assert snap_compare(make_app(workspace), terminal_size=size, run_before=run_before)


def visible_rows(table: DataTable[Any]) -> range:
    top = round(table.scroll_y)
    return range(top, min(table.row_count, top + table.scrollable_content_region.height - 1))


@pytest.mark.parametrize("size", SIZES, ids=SIZE_IDS)
async def test_no_number_is_cut_in_blame_or_state_search(
    workspace: Workspace, size: tuple[int, int]
) -> None:
    """Every before → after of the blame rows on screen, and every matched amount, is
    drawn whole: no `3,627.04 → 3,642.` at any size."""
    app = make_app(workspace)
    async with app.run_test(size=size) as pilot:
        await to_the_past(pilot)
        await open_balance_blame(pilot)
        blame = app.screen
        assert isinstance(blame, BlameScreen)
        table = blame.query_one("#blame-table", DataTable)
        text = "\n".join(screen_lines(pilot))
        # Every column ends inside the dialog: none clipped at its edge (the time whole).
        drawn = sum(c.get_render_width(table) for c in table.columns.values())
        assert drawn <= table.scrollable_content_region.width, (size, drawn)
        for row in visible_rows(table):
            time = str(table.get_row_at(row)[-1])
            assert time and time in text, (size, time)
        shown = visible_rows(table)
        assert len(shown) > 0
        for row in shown:
            line = blame.lines[row]
            for value in (line.before, line.after):
                if NUMBER.match(value):
                    assert f" {value} " in f" {text} ".replace("\n", " "), (size, value)
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is main_screen(pilot))
        await find_an_amount(pilot)
        find = app.screen
        assert isinstance(find, FindScreen) and find.result is not None
        assert find.result.matches
        table = find.query_one("#find-table", DataTable)
        text = "\n".join(screen_lines(pilot))
        for row in visible_rows(table):
            value = find.result.matches[row].text
            if NUMBER.match(value):
                assert value in text, (size, value)
