"""Search the state: the textual-free search (properties), and ctrl+f in the app."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from textual.widgets import DataTable
from tui_support import make_app, settle, type_into, wait_for

from domain.projection import Column, ProjectionState, Row
from tui.bootstrap import Workspace
from tui.screens.find import FindScreen
from tui.services.state_search import search_state
from tui.widgets.cell_table import CellTable

SIZE = (120, 36)


def _money(value: Any, row: Mapping[str, Any]) -> str:
    return f"{value / 100:,.2f}"


class _Accounts:
    """A small projection of the shape the domains use: text, money and a status."""

    name = "accounts"
    title = "Accounts"
    key_title = "account"
    columns = (
        Column("owner", "Owner"),
        Column("balance", "Balance", "money", _money),
        Column("status", "Status", "status"),
    )

    def initial(self) -> ProjectionState:
        return ProjectionState()

    def apply(self, state: ProjectionState, event: Any) -> tuple[str, ...]:
        return ()

    def lineage_streams(self, row_key: str) -> None:
        return None


ACCOUNTS = _Accounts()
ROWS = st.dictionaries(
    st.from_regex(r"acc-[0-9]{1,3}", fullmatch=True),
    st.fixed_dictionaries(
        {
            "owner": st.text(st.characters(codec="utf-8", categories=["L", "Zs"]), max_size=12),
            "balance": st.integers(-(10**9), 10**9),
            "status": st.sampled_from(["open", "frozen", "closed"]),
        }
    ),
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(rows=ROWS, data=st.data())
def test_any_part_of_a_shown_cell_finds_that_cell(
    rows: dict[str, Row], data: st.DataObject
) -> None:
    cells = [
        (key, column, column.format(row))
        for key, row in rows.items()
        for column in ACCOUNTS.columns
        if column.format(row).strip()
    ]
    if not cells:
        return
    key, column, text = data.draw(st.sampled_from(cells), label="cell")
    start = data.draw(st.integers(0, len(text) - 1), label="start")
    end = data.draw(st.integers(start + 1, len(text)), label="end")
    query = text[start:end]
    if not query.strip():
        return
    found = search_state([ACCOUNTS], {"accounts": rows}, query, limit=10_000)
    assert (key, column.name) in {(m.key, m.field) for m in found.matches}
    # Every match holds the query (ignoring case; numbers also ignore separators).
    for match in found.matches:
        folded = match.text.casefold()
        plain = query.strip().casefold()
        digits = plain.replace(",", "").replace(" ", "")
        assert plain in folded or digits in folded.replace(",", "").replace(" ", "")


def test_an_amount_without_separators_finds_the_formatted_cell() -> None:
    rows = {"acc-1": {"owner": "Ann", "balance": 144136, "status": "open"}}
    found = search_state([ACCOUNTS], {"accounts": rows}, "1441.36")
    assert [(m.key, m.field, m.text) for m in found.matches] == [("acc-1", "balance", "1,441.36")]
    # A text column is matched as text: "1441" is not in "Ann".
    assert search_state([ACCOUNTS], {"accounts": rows}, "ann").total == 1
    assert search_state([ACCOUNTS], {"accounts": rows}, "   ").total == 0


def test_the_list_is_capped_and_says_how_many_there_were() -> None:
    rows = {f"acc-{n}": {"owner": "Ann", "balance": n, "status": "open"} for n in range(50)}
    found = search_state([ACCOUNTS], {"accounts": rows}, "open", limit=10)
    assert found.total == 50 and len(found.matches) == 10 and found.truncated
    # In the panel's order: acc-2 before acc-10.
    assert [m.key for m in found.matches[:3]] == ["acc-0", "acc-1", "acc-2"]


def test_a_row_key_no_cell_shows_is_found_as_the_row() -> None:
    rows = {"acc-77": {"owner": "Bo", "balance": 1, "status": "open"}}
    found = search_state([ACCOUNTS], {"accounts": rows}, "acc-77")
    assert [(m.key, m.field) for m in found.matches] == [("acc-77", None)]


async def test_ctrl_f_finds_an_owner_and_jumps_to_the_cell(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        screen = await settle(pilot)
        screen.go(300)
        screen = await settle(pilot)
        assert screen.frame is not None
        rows = screen.frame.rows["account_balances"]
        key = sorted(rows)[-1]
        owner = rows[key]["owner"]
        await pilot.press("2")  # start on another panel: the jump must switch back
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindScreen))
        await type_into(pilot, "#find-query", owner)
        find = app.screen
        assert isinstance(find, FindScreen)
        await wait_for(pilot, lambda: find.result is not None and find.result.query == owner)
        assert find.result is not None
        chosen = next(
            n
            for n, m in enumerate(find.result.matches)
            if (m.projection, m.key, m.field) == ("account_balances", key, "owner")
        )
        await pilot.press("down")
        table = find.query_one("#find-table", DataTable)
        assert table.has_focus
        table.move_cursor(row=chosen)
        await pilot.press("enter")
        screen = await settle(pilot)
        assert app.screen is screen and screen.target == 300  # the cursor stays in time
        panel = screen.query_one("#table-account_balances", CellTable)
        await wait_for(pilot, lambda: panel.selected_key == key and panel.chosen_field == "owner")
        # ctrl+f again opens on the same text.
        await pilot.press("ctrl+f")
        await wait_for(pilot, lambda: isinstance(app.screen, FindScreen))
        assert app.screen.query_one("#find-query").value == owner  # type: ignore[attr-defined]


async def test_the_palette_offers_find_in_state(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause(0.2)
        await pilot.press(*"find in state", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, FindScreen))
