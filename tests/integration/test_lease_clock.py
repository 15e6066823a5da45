"""A projector lease written by a clock far ahead freezes no other projector, and a
follower notices a clean release without waiting for the old lease to lapse."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from projector_support import (
    FakeClock,
    assert_same_states,
    demo_items,
    ledger_projector,
    new_store,
    persisted,
    replayed,
)

from store import SqliteEventStore
from store.projector import ProjectorBusy
from tui.cli import main

THIRTY_YEARS = 30 * 365 * 86_400.0


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteEventStore]:
    store = new_store(tmp_path / "ledger.db")
    store.append_bulk(demo_items(300))
    yield store
    store.close()


def test_a_lease_from_a_clock_30_years_ahead_blocks_no_other_projector(
    store: SqliteEventStore,
) -> None:
    clock = FakeClock()
    ahead = FakeClock(clock.now + THIRTY_YEARS)
    skewed = ledger_projector(store, owner_id="skewed", lease_seconds=10, clock=ahead)
    other = ledger_projector(store, owner_id="other", lease_seconds=10, clock=clock)
    assert skewed.catch_up().role == "leader"

    status = other.catch_up()

    assert (status.role, status.lease_owner) == ("leader", "other")
    assert_same_states(persisted(other), replayed(store))
    other.rebuild()  # and rebuild is not refused either
    assert skewed.catch_up().role == "follower"  # the skewed one lost it, writes nothing


def test_a_live_lease_within_its_duration_still_blocks(store: SqliteEventStore) -> None:
    clock = FakeClock()
    holder = ledger_projector(store, owner_id="holder", lease_seconds=10, clock=clock)
    other = ledger_projector(store, owner_id="other", lease_seconds=10, clock=clock)
    assert holder.catch_up().role == "leader"
    clock.advance(1)
    assert other.catch_up().role == "follower"
    with pytest.raises(ProjectorBusy):
        other.rebuild()


def test_cli_rebuild_is_not_refused_by_a_lease_from_the_future(tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    store = new_store(db)
    store.append_bulk(demo_items(200))
    skewed = ledger_projector(store, owner_id="skewed", clock=lambda: time.time() + THIRTY_YEARS)
    assert skewed.catch_up().role == "leader"  # and then it hangs, or its host is gone

    assert main(["--db", str(db), "rebuild"]) == 0
    assert main(["--db", str(db), "project"]) == 0
    store.close()


def test_a_follower_notices_a_clean_release_within_a_quarter_lease(
    store: SqliteEventStore,
) -> None:
    clock = FakeClock()
    one = ledger_projector(store, owner_id="one", lease_seconds=20, clock=clock)
    two = ledger_projector(store, owner_id="two", lease_seconds=20, clock=clock)
    assert one.catch_up().role == "leader"
    assert two.catch_up().role == "follower"
    one.close()  # a clean stop: the lease row is deleted

    clock.advance(4)
    assert two.catch_up().role == "follower"  # it has not looked again yet
    clock.advance(1.5)  # a quarter of 20 s since it looked: it looks, and takes it
    assert two.catch_up().role == "leader"


def test_a_long_lease_from_a_good_clock_is_not_taken_for_a_skewed_one(
    store: SqliteEventStore,
) -> None:
    clock = FakeClock()
    long = ledger_projector(store, owner_id="long", lease_seconds=60, clock=clock)
    short = ledger_projector(store, owner_id="short", lease_seconds=10, clock=clock)
    assert long.catch_up().role == "leader"
    clock.advance(30)  # 30 s left of its 60, three times the other's whole lease

    assert short.catch_up().role == "follower"
    with pytest.raises(ProjectorBusy):
        short.rebuild()
