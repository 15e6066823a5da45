"""The inspector's payload: pretty-printed JSON, one value a line, never folded mid-value."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st
from rich.cells import cell_len
from rich.console import Console

from tui.widgets.inspector import payload_text

JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=80),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)


def rendered(data: dict[str, object], width: int) -> list[str]:
    console = Console(width=width, color_system=None)
    lines = console.render_lines(payload_text(data), console.options.update_width(width), pad=False)
    return ["".join(segment.text for segment in line) for line in lines]


@given(st.dictionaries(st.text(max_size=12), JSON_VALUES, max_size=5), st.integers(12, 80))
def test_every_json_line_stays_one_line_cut_only_at_the_edge(
    data: dict[str, object], width: int
) -> None:
    lines = rendered(data, width)
    source = json.dumps(data, indent=2, ensure_ascii=False).split("\n")
    assert len(lines) == len(source)
    for line in lines:
        assert cell_len(line) <= width


def test_a_long_string_keeps_its_line_and_ends_with_an_ellipsis() -> None:
    memo = "a very long memo that goes on and on past the edge of the panel"
    lines = rendered({"account_id": "eur-00001", "memo": memo, "amount": 1200}, 30)
    assert lines[2].startswith('  "memo": "a very') and lines[2].endswith("…")
    assert lines[3] == '  "amount": 1200'


def test_bidi_and_invisible_characters_are_shown_as_escapes() -> None:
    lines = rendered({"owner": "Eve\u202egnp.exe", "note": "a\u200bb"}, 60)
    assert "\u202e" not in "".join(lines) and "\u200b" not in "".join(lines)
    assert any("\\u202e" in line.lower() for line in lines)
