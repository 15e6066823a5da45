"""The flow view's stages: they light up in order, and only when they have completed."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from domain.envelope import RecordedEvent
from tui.services.flow import CommandFlow, FlowKey, FlowProgress, stages

LIT = ("done", "refused")


def event(position: int) -> RecordedEvent:
    return RecordedEvent(
        position, f"e{position}", "account-a", "account", 1, "MoneyDeposited", 1, {}, {}, "", "", ""
    )


def flow(last: int, count: int, refused: bool) -> CommandFlow:
    events = () if refused else tuple(event(p) for p in range(last - count + 1, last + 1))
    return CommandFlow(
        key=FlowKey(last, int(refused)),
        command_type="deposit",
        fields={"amount": "1.00"},
        actor="ann",
        command_id="c1",
        recorded_at="2026-06-01T09:00:00.000000Z",
        handler="deposit",
        reason="no" if refused else "",
        events=events,
    )


progress = st.builds(
    FlowProgress,
    head=st.integers(0, 200),
    checkpoint=st.one_of(st.none(), st.integers(0, 200)),
    shown=st.one_of(st.none(), st.integers(0, 200)),
    delay_ms=st.integers(0, 60_000),
)


@given(st.integers(3, 150), st.integers(1, 3), st.booleans(), progress)
def test_stages_light_up_in_order(
    last: int, count: int, refused: bool, where: FlowProgress
) -> None:
    found = [s.state for s in stages(flow(last, count, refused), where)]
    assert len(found) == 5
    lit = [state in LIT for state in found]
    assert lit == sorted(lit, reverse=True)  # every lit stage comes before every unlit one
    if refused:
        assert found == ["done", "refused", "skipped", "skipped", "skipped"]


@given(st.integers(3, 150), st.integers(1, 3), progress)
def test_the_read_models_are_lit_only_once_the_projector_passed_the_command(
    last: int, count: int, where: FlowProgress
) -> None:
    found = stages(flow(last, count, False), where)
    if where.checkpoint is not None:
        assert (found[3].state == "done") == (where.checkpoint >= last)
        shown = where.shown is None or where.shown >= last
        assert (found[4].state == "done") == (where.checkpoint >= last and shown)
