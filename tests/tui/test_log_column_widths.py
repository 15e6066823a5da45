"""The event log's columns keep their widths while the reader moves through history.

Older pages may hold longer stream ids, event types or actors than the pages read
first; the table must not widen (and jump sideways) as they arrive. The stream and
actor columns fit the first page read (`first_page_widths`), within their caps.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tui_support import make_app, open_test_workspace, settle

from domain.ledger.description import LEDGER_DOMAIN
from tui.bootstrap import open_workspace
from tui.format import position_text
from tui.widgets.event_log import EventLog
from tui.widgets.log_columns import log_columns, longest_type

SHORT_ACTOR = "ann"
LONG_ACTOR = "standing-orders-batch"
LONG_ACCOUNT = "a-much-longer-account-identifier-0001"


def write_history(path: Path) -> None:
    """Short names first and last, long ones (stream, type, actor) only in the middle.

    The app opens live at the end, so the pages it reads first hold short names only;
    the long ones come into view when the reader moves back into the middle.
    """
    created = open_workspace(path, create=True, domain="ledger", synchronous="OFF")
    try:
        bus = created.bus

        def run(command: str, fields: dict[str, str], actor: str = SHORT_ACTOR) -> None:
            bus.execute_fields(command, fields, actor=actor)

        run("open_account", {"account_id": "a1", "owner": "Ann", "currency": "EUR"})
        for i in range(193):
            run("deposit", {"account_id": "a1", "amount": f"{i + 1}.00"})
        long_fields = {"account_id": LONG_ACCOUNT, "owner": "Bob", "currency": "EUR"}
        run("open_account", long_fields, LONG_ACTOR)
        for i in range(10):
            run("set_overdraft_limit", {"account_id": LONG_ACCOUNT, "limit": f"{i + 1}00.00"})
            run("deposit", {"account_id": LONG_ACCOUNT, "amount": "5.00"}, LONG_ACTOR)
        for i in range(250):
            run("deposit", {"account_id": "a1", "amount": f"{i + 1}.50"})
    finally:
        created.close()


def header(log: EventLog) -> str:
    """The log's title line as drawn: where each column starts and ends."""
    return "".join(segment.text for segment in log.render_line(0))


@pytest.mark.parametrize("size", [(80, 24), (120, 36), (200, 60)])
async def test_the_log_columns_keep_their_widths_while_moving_through_history(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    path = tmp_path / "widths.db"
    write_history(path)
    workspace = open_test_workspace(path)
    try:
        app = make_app(workspace, verify=False)
        async with app.run_test(size=size) as pilot:
            screen = await settle(pilot)
            log = screen.query_one(EventLog)
            assert log.display, "the log is on screen"
            first = header(log)
            headers = {first}
            seen_long = set()
            keys = ["home"] + ["shift+right"] * 5 + ["pageup", "end", "home", "pagedown"]
            for key in keys:
                await pilot.press(key)
                await settle(pilot)
                headers.add(header(log))
                for y in range(1, log.scrollable_content_region.height):
                    event = log._event_at_row(round(log.scroll_y) + y - 1)
                    if event is not None and event.actor == LONG_ACTOR:
                        seen_long.add(key)
                        # Wider than its column: cut with an ellipsis, never widening it.
                        line = "".join(segment.text for segment in log.render_line(y))
                        assert event.stream_id not in line and "account-a" in line
                        assert "…" in line
            assert seen_long, "the moves brought the long names into view"
            assert headers == {first}
    finally:
        workspace.close()


LEDGER_TYPES = LEDGER_DOMAIN.model.catalog.types


@given(
    width=st.integers(min_value=0, max_value=400),
    head=st.integers(min_value=0, max_value=10**9),
    other=st.integers(min_value=0, max_value=10**9),
)
def test_the_log_columns_change_only_with_the_width_or_the_heads_digits(
    width: int, head: int, other: int
) -> None:
    columns = log_columns(width, head, longest_type(LEDGER_TYPES))
    if len(position_text(max(head, 1))) == len(position_text(max(other, 1))):
        assert log_columns(width, other, longest_type(LEDGER_TYPES)) == columns
    # Every column holds its title; the type column never exceeds the longest type.
    assert columns.position >= len("pos")
    assert columns.time in (0, 14, 19)
    assert columns.stream >= len("stream") and columns.actor >= len("actor")
    assert len("type") <= columns.type <= max(map(len, LEDGER_TYPES))


@given(
    width=st.integers(min_value=0, max_value=400),
    fitted=st.tuples(st.integers(0, 80), st.integers(0, 40)),
)
def test_fitted_columns_stay_within_their_caps_and_titles(
    width: int, fitted: tuple[int, int]
) -> None:
    capped = log_columns(width, 1, longest_type(LEDGER_TYPES))
    columns = log_columns(width, 1, longest_type(LEDGER_TYPES), fitted)
    assert len("stream") <= columns.stream <= capped.stream
    assert len("actor") <= columns.actor <= capped.actor
    assert columns.stream == min(capped.stream, max(6, fitted[0]))
    assert (columns.position, columns.time, columns.type) == (
        capped.position,
        capped.time,
        capped.type,
    )
