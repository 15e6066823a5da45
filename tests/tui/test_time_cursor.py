"""The time cursor (one owner of the target, the head and step-or-jump) and A/B marks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tui.controllers.cursor import TimeCursor, is_jump
from tui.controllers.marks import Marks
from tui.services.stepping import NEAR


@given(
    st.integers(0, 10_000),
    st.lists(st.tuples(st.integers(-20_000, 20_000), st.booleans()), max_size=20),
)
def test_moves_stay_within_history_and_jumps_are_far_moves(
    head: int, moves: list[tuple[int, bool]]
) -> None:
    cursor = TimeCursor()
    cursor.head = head
    for position, live in moves:
        before = cursor.target
        move = cursor.move(position, live=live)
        assert 0 <= cursor.target <= head and move.position == cursor.target
        assert cursor.live is live
        assert move.jump == (abs(cursor.target - before) > NEAR)


def test_a_step_is_near_and_a_jump_is_far() -> None:
    assert not is_jump(100, 100 + NEAR)
    assert is_jump(100, 101 + NEAR)
    assert is_jump(100 + NEAR + 1, 100)


def test_the_head_only_moves_on() -> None:
    cursor = TimeCursor()
    assert cursor.saw_head(10) and cursor.head == 10
    assert not cursor.saw_head(4) and cursor.head == 10


def test_marks_a_then_b_give_the_pair_to_diff() -> None:
    marks = Marks()
    assert marks.mark(200) is None and marks.shown() == (("A", 200),)
    assert marks.mark(400) == (200, 400)
    assert marks.shown() == (("A", 200), ("B", 400))
    assert marks.mark(50) is None and marks.marks == {"A": 50}  # a third mark starts over
    assert marks.clear() and not marks.clear()


@given(st.lists(st.one_of(st.integers(0, 1000), st.none()), max_size=30))
def test_b_is_never_marked_without_a(actions: list[int | None]) -> None:
    marks = Marks()
    for position in actions:
        if position is None:
            marks.clear()
        else:
            marks.mark(position)
        assert set(marks.marks) in (set(), {"A"}, {"A", "B"})
