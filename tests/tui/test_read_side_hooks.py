"""The app's hooks into its projector: the change journal, the delay, and live frames
that compare only the rows the projector says changed."""

from __future__ import annotations

import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tui_support import open_test_workspace

from domain.errors import InvalidInput
from tui.bootstrap import Workspace, app_session
from tui.services.frames import compare_rows
from tui.services.read_side_hooks import MAX_DELAY_MS, ChangeJournal, ProjectorDelay, checked_delay

# A run of batches: (size, keys changed, whether a gap precedes it: events it never saw).
batches = st.lists(
    st.tuples(st.integers(1, 5), st.sets(st.sampled_from("abcdef"), max_size=3), st.booleans()),
    max_size=12,
)


@given(batches, st.integers(0, 40), st.integers(0, 40))
def test_the_journal_names_every_changed_row_or_admits_it_cannot(
    runs: list[tuple[int, set[str], bool]], since: int, to: int
) -> None:
    journal = ChangeJournal()
    position, seen = 0, {}  # position -> keys changed by the event there (None: unseen)
    for size, keys, gap in runs:
        if gap:
            for p in range(position + 1, position + 3):
                seen[p] = None
            position += 2
        journal.add(position + 1, position + size, {"p": set(keys)})
        for p in range(position + 1, position + size + 1):
            seen[p] = keys
        position += size
    found = journal.between(since, to)
    covered = to > since and all(seen.get(p) is not None for p in range(since + 1, to + 1))
    if found is None:
        return  # never wrong: "compare everything" is always safe
    assert covered
    expected = set().union(*(seen[p] for p in range(since + 1, to + 1)))  # type: ignore[arg-type]
    assert found.get("p", set()) == expected


def test_a_batch_straddling_the_last_frame_means_compare_everything() -> None:
    journal = ChangeJournal()
    journal.add(1, 10, {"p": {"a"}})
    assert journal.between(5, 10) is None
    assert journal.between(0, 10) == {"p": {"a"}}
    assert journal.between(10, 10) is None


def test_a_delay_outside_0_to_a_minute_is_refused() -> None:
    assert checked_delay(0) == 0 and checked_delay(MAX_DELAY_MS) == MAX_DELAY_MS
    for bad in (-1, MAX_DELAY_MS + 1):
        with pytest.raises(InvalidInput, match="--projector-delay"):
            checked_delay(bad)


def test_setting_the_delay_to_zero_ends_a_hold_at_once() -> None:
    delay, stop = ProjectorDelay(MAX_DELAY_MS), threading.Event()
    holder = threading.Thread(target=delay.hold, args=(stop,))
    holder.start()
    while not delay.holding:
        threading.Event().wait(0.001)
    delay.set(0)
    holder.join(timeout=30)
    assert not holder.is_alive() and not delay.holding


def test_a_hold_ends_when_the_projector_stops() -> None:
    delay, stop = ProjectorDelay(MAX_DELAY_MS), threading.Event()
    stop.set()
    delay.hold(stop)  # returns at once: nothing to wait for
    assert not delay.holding


def test_a_live_frame_lights_exactly_the_rows_a_full_comparison_finds(
    workspace: Workspace,
) -> None:
    session = app_session(workspace)
    writer = open_test_workspace(workspace.db_path)
    try:
        read_side = session.read_side
        assert read_side is not None
        read_side.projector.catch_up()
        before = session.live_frame()
        account = next(
            k for k, r in before.rows["account_balances"].items() if r["status"] == "open"
        )
        writer.bus.execute_fields("deposit", {"account_id": account, "amount": "1.00"}, actor="w")
        read_side.projector.catch_up()  # the journal hears the batch
        assert read_side.changes.between(before.position, before.position + 1) is not None
        after = session.live_frame()
        assert after.position == before.position + 1
        for name in [p.name for p in session.projections]:
            full = compare_rows(before.rows[name], after.rows[name])
            lit = after.changes_for(name)
            assert (lit.added, lit.removed, set(lit.changed)) == (
                full.added,
                full.removed,
                set(full.changed),
            )
        assert account in after.changes_for("account_balances").changed
    finally:
        writer.close()
        session.close()
