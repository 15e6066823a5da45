"""The per-actor refusal tallies (`domain.refusals.RefusalIndex`): exact at any position,
however the refusals arrive (in one read, topped up in batches, out of position order
as an odd import records them)."""

from __future__ import annotations

from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from domain.envelope import RefusalMark
from domain.refusals import RefusalIndex, RefusalTally

ACTORS = ("alice", "bob", "carol")

marks_lists = st.lists(
    st.tuples(
        st.integers(0, 30),  # at_position
        st.sampled_from(ACTORS),
        st.integers(0, 50),  # a second of the recorded time (clocks may go back)
    ),
    max_size=40,
).map(
    lambda rows: [
        RefusalMark(i, at, actor, f"2026-01-01T00:00:{second:02d}.000000Z")
        for i, (at, actor, second) in enumerate(rows, start=1)
    ]
)


def _counted(marks: list[RefusalMark], position: int) -> dict[str, RefusalTally]:
    by_actor: dict[str, list[RefusalMark]] = {}
    for mark in marks:
        if mark.at_position <= position:
            by_actor.setdefault(mark.actor, []).append(mark)
    return {
        actor: RefusalTally(
            len(found), min(m.recorded_at for m in found), max(m.recorded_at for m in found)
        )
        for actor, found in by_actor.items()
    }


@settings(max_examples=200, deadline=None)
@given(marks=marks_lists, cuts=st.lists(st.integers(0, 40), max_size=4))
def test_refusal_tallies_match_a_count_however_the_refusals_arrive(
    marks: list[RefusalMark], cuts: list[int]
) -> None:
    index = RefusalIndex()
    bounds = [0, *sorted(cuts), len(marks)]
    for start, end in pairwise(bounds):
        index.add(marks[start:end])
    assert index.count == len(marks)
    for position in range(-1, 32):
        assert index.tallies(position) == _counted(marks, position)
