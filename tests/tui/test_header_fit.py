"""The header keeps the cursor's position and the head whole at every width."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tui.derived_check import DerivedStatus
from tui.format import position_text
from tui.services.types import ChainStatus
from tui.widgets.status_bar import StatusBar, StatusView


@settings(max_examples=60, deadline=None)
@given(
    width=st.sampled_from([50, 60, 80, 100, 120, 200]),
    head=st.integers(min_value=1, max_value=10_000_000),
    data=st.data(),
    name=st.text(alphabet="abcdefghij.-_", min_size=1, max_size=80),
)
def test_the_position_and_the_head_are_never_cut(
    width: int, head: int, data: st.DataObject, name: str
) -> None:
    position = data.draw(st.integers(min_value=0, max_value=head))
    bar = StatusBar()
    bar.view = StatusView(
        db_name=name,
        live=False,
        position=position,
        time="2026-02-18T13:53:51.000000Z",
        head=head,
        chain=ChainStatus("ok"),
        derived=DerivedStatus("ok", position=head),
        actor="ops:someone-long",
    )
    text = bar._content(width).plain
    assert len(text) <= width
    assert f"AT {position_text(position)}" in text, text
    assert f"of {position_text(head)}" in text, text
    assert "chain ✓" in text  # the chain's verdict stays
