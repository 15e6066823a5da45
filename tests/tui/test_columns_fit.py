"""Columns that fit: widths from the content, the least important columns hide first, a
number is never cut, keys made of shown values stay hidden, no scrolling into nothing."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.geometry import Region
from textual.pilot import Pilot
from tui_support import make_app, settle

from domain.projection import KIND_PRIORITY, Column
from tui.bootstrap import Workspace
from tui.widgets.column_fit import GAP, MIN_TEXT, WIDE, cut, fit_columns, key_columns, narrowest
from tui.widgets.projection_table import ProjectionTable

SIZES = [(80, 24), (120, 36), (200, 60)]
NUMBER = re.compile(r"^[+\-\N{MINUS SIGN}]?#?\d{1,3}(,\d{3})*(\.\d+)?( [A-Z]{3})?$")


# -- the rule, pure


@given(
    st.lists(
        st.tuples(st.integers(1, 40), st.booleans(), st.integers(1, 5)), min_size=1, max_size=10
    ),
    st.integers(10, 220),
)
def test_fitted_columns_keep_numbers_whole_and_hide_the_least_important_first(
    columns: list[tuple[int, bool, int]], available: int
) -> None:
    widths = [w for w, _, _ in columns]
    numeric = [n for _, n, _ in columns]
    ranks = [r for _, _, r in columns]
    floors = [narrowest("money" if n else "text", w) for w, n, _ in columns]
    fitted = fit_columns(widths, floors, ranks, available)
    shown = [i for i, _ in fitted]
    assert shown == sorted(shown) and shown
    for i, width in fitted:
        assert width <= widths[i]
        assert width == widths[i] if numeric[i] else width >= min(widths[i], MIN_TEXT)
    width = dict(fitted)
    for i in width:  # a cut column was the least important and widest that could give way
        if width[i] < widths[i]:
            for j in width:
                if width[j] > floors[j]:
                    assert (
                        ranks[j] > ranks[i]
                        or width[j] <= WIDE
                        or (ranks[j] == ranks[i] and width[i] >= width[j] - 1)
                        or width[i] >= width[j] - 1
                    )
    drawn = 1 + sum(w for _, w in fitted) + GAP * (len(fitted) - 1)
    if len(fitted) > 1:
        assert drawn <= available
    hidden = set(range(len(columns))) - set(shown)
    if hidden:  # nothing shown matters less than what was hidden
        assert min(ranks[i] for i in shown) >= max(ranks[i] for i in hidden) or len(shown) == 1
    else:  # nothing hid while it all fitted: text is cut only when it had to be
        assert all(w == widths[i] for i, w in fitted) or drawn == available


def test_a_cut_time_loses_whole_units_and_a_cut_text_ends_with_an_ellipsis() -> None:
    assert cut("2026-06-01 09:30:12", 19, "time") == "2026-06-01 09:30:12"
    assert cut("2026-06-01 09:30:12", 15, "time") == "2026-06-01 09…"
    assert cut("2026-06-01 09:30:12", 11, "time") == "2026-06-01…"
    assert cut("Mori Dental Clinic", 10, "text") == "Mori Dent…"
    assert cut("1,816,904", 4, "money") == "1,816,904"


def test_a_column_priority_comes_from_its_kind_unless_given() -> None:
    assert Column("invariant", "Invariant", "status").rank == KIND_PRIORITY["status"]
    assert Column("balance", "Balance", "money").rank > Column("day", "Day", "date").rank
    assert Column("day", "Day", "date").rank > Column("owner", "Owner").rank
    assert Column("owner", "Owner", priority=9).rank == 9


def test_a_key_made_of_shown_values_is_hidden_and_an_other_key_is_shown() -> None:
    columns = [Column("day", "Day", "date"), Column("currency", "Cur"), Column("n", "N", "int")]
    row = {"day": "2026-06-01", "currency": "EUR", "n": 3}
    assert key_columns("2026-06-01 EUR", row, columns) == (0, 1)
    flags = [Column("position", "#", "int"), Column("flag", "Flag"), Column("account_id", "A")]
    flag = {"position": 123, "flag": "large", "account_id": "eur-00001"}
    assert key_columns("0000000123:large:eur-00001", flag, flags) == (0, 1, 2)
    assert key_columns("eur-00001", {"account_id": "eur-00001"}, flags) == (2,)
    assert key_columns("order-17", row, columns) is None


# -- the app, at every size


def shown_titles(header: str) -> list[str]:
    return [t for t in re.split(r" {2,}", header.strip()) if t]


async def check_panels(pilot: Pilot[None]) -> None:
    """Every panel at this size: whole numbers, an always-shown status, no empty scroll."""
    screen = await settle(pilot)
    for tab in range(1, len(screen.query(ProjectionTable)) + 1):
        await pilot.press(str(tab))
        await pilot.pause(0.05)
        table = screen.query_one("ProjectionPanels").active_table  # type: ignore[attr-defined]
        assert isinstance(table, ProjectionTable)
        await pilot.pause(0.05)
        if not table.row_count:
            continue
        width = table.scrollable_content_region.width
        layout = table._fit(width)
        drawn = 1 + sum(w for _, w in layout) + GAP * (len(layout) - 1)
        assert table.virtual_size.width == drawn, "the scroll width is the drawn width"
        assert drawn <= width or len(layout) == 1, table.projection
        region = table.scrollable_content_region
        strips = table.render_lines(Region(0, 0, region.width, region.height))
        lines = ["".join(segment.text for segment in strip) for strip in strips]
        assert len(shown_titles(lines[0])) == len(layout), lines[0]
        by_title = {c.title: c for c in table.columns}
        statuses = [c.title for c in table.columns if c.kind == "status"]
        for status in statuses:  # a status (Invariant, Status, Flag) is never hidden
            assert status in table.shown_titles, (table.projection, width)
        top = round(table.scroll_y)
        for y, line in enumerate(lines[1:], start=1):
            index = top + y - 1
            if index >= table.row_count:
                break
            row = table._rows[table._order[index]]
            tokens = set(re.split(r" {2,}", line.strip()))
            for title in table.shown_titles:
                column = by_title.get(title)
                if column is None or not column.numeric:
                    continue
                value = column.format(row)
                if value:
                    assert NUMBER.match(value), value
                    assert value in tokens, f"{title} {value!r} cut in {line!r}"


@pytest.mark.parametrize("size", SIZES, ids=[f"{w}x{h}" for w, h in SIZES])
async def test_no_number_is_cut_at_any_size(
    domain_workspace: Workspace, size: tuple[int, int]
) -> None:
    app = make_app(domain_workspace)
    async with app.run_test(size=size) as pilot:
        await check_panels(pilot)
        screen = await settle(pilot)
        screen.go(300)
        await settle(pilot)
        await check_panels(pilot)


async def test_internal_keys_stay_hidden(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(200, 60)) as pilot:
        screen = await settle(pilot)
        names = [p.name for p in screen.session.projections]
        for tab, name in enumerate(names, start=1):
            await pilot.press(str(tab))
            await pilot.pause(0.05)
            table = screen.query_one(f"#table-{name}", ProjectionTable)
            # At 200 columns every column fits, and no key column comes before them.
            assert table.shown_titles == [c.title for c in table.columns], name
        totals = screen.query_one("#table-ledger_totals", ProjectionTable)
        assert "Invariant" in totals.shown_titles


async def test_the_least_important_columns_hide_in_a_narrow_terminal(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        await pilot.press("5")
        await pilot.pause(0.05)
        totals = screen.query_one("#table-ledger_totals", ProjectionTable)
        shown = totals.shown_titles
        assert shown[0] == "Cur" and shown[-1] == "Invariant"
        assert len(shown) < len(totals.columns), "something had to give at 80 columns"
        assert totals.max_scroll_x == 0


async def test_v_shows_the_whole_row_with_what_was_cut_or_hidden(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        await pilot.press("4")
        await pilot.pause(0.05)
        flags = screen.query_one("#table-audit_flags", ProjectionTable)
        key = flags.selected_key
        assert key is not None
        row = flags._rows[key]
        detail = flags.row_detail()
        assert detail is not None
        for column in flags.columns:  # every cell in full, the hidden ones too
            if column.format(row):
                assert f"{column.title}  {column.format(row)}" in detail.split(" · ")
        app.clear_notifications()
        await pilot.press("v")
        await pilot.pause(0.05)
        assert [n.message for n in app._notifications] == [detail]
