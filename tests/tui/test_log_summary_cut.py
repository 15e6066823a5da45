"""The log's summary column is cut between words: an amount is whole or not there."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from tui_support import make_app, settle

from tui.bootstrap import Workspace
from tui.widgets.column_fit import cut_words
from tui.widgets.event_log import EventLog

WORDS = st.lists(
    st.one_of(
        st.from_regex(r"[+-]?\d{1,3}(,\d{3})*\.\d\d [A-Z]{3}", fullmatch=True),
        st.from_regex(r"[a-z\-→·]{1,12}", fullmatch=True),
    ),
    min_size=1,
    max_size=8,
)


@given(WORDS, st.integers(min_value=0, max_value=80))
def test_a_cut_summary_fits_and_keeps_whole_words(words: list[str], width: int) -> None:
    text = " ".join(words)
    shown = cut_words(text, width)
    assert cell_len(shown) <= width
    if cell_len(text) <= width:
        assert shown == text
        return
    assert shown.endswith("…") or width == 0
    kept = shown.removesuffix("…").rstrip()
    if " " in text[: max(0, width - 1)].rstrip():
        # Cut at a space: what is kept is whole words of the text, in order.
        assert text.startswith(kept) and (kept == "" or text[len(kept)] == " ")
    elif re.match(r"[+-]?[0-9]", text):
        assert kept == ""  # a first word that is an amount: whole or not at all


def test_an_amount_first_is_not_shown_in_part() -> None:
    assert cut_words("+20,420 JPY to jpy-00160", 7) == "…"
    assert cut_words("+20,420 JPY to jpy-00160", 9) == "+20,420 …"
    assert cut_words("account-jpy-00160-and-more", 8) == "account…"  # not an amount


async def test_no_amount_in_the_log_is_cut_at_80_columns(workspace: Workspace) -> None:
    app = make_app(workspace)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await settle(pilot)
        log = screen.query_one(EventLog)
        await pilot.pause(0.05)
        checked = 0
        for y in range(1, log.scrollable_content_region.height):
            event = log._event_at_row(round(log.scroll_y) + y - 1)
            if event is None:
                continue
            summary = log._summaries.get(event.position, "")
            texts = [seg.text for seg in log.render_line(y) if seg.text.strip()]
            shown = texts[-1] if texts else ""
            if shown.endswith("…"):
                kept = shown.removesuffix("…").rstrip()
                # Whole words of the summary: an amount is never shown in part.
                assert summary.startswith(kept) and summary[len(kept)] == " ", (kept, summary)
                checked += 1
        assert checked, "at 80 columns some summaries are cut"
