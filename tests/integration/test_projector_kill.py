"""The projector killed (SIGKILL) in the middle of a catch-up, on SQLite and PostgreSQL.

Read models exist up to #100 (a first catch-up rebuilds them in one swap). A projector
process then folds the next 3,900 events in batches of 10 (each batch: the read models
and the checkpoint in one transaction) and is killed as soon as its first batch is
visible. Then, from another process: the checkpoint stopped between 0
and the head, the read models hold exactly the replay up to that checkpoint (no batch
half-written), the dead process still holds the lease, and a new projector takes the
lease over once it lapses, resumes from the checkpoint and ends equal to a full replay.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from harness_stores import Target, open_store
from projector_support import assert_same_states, demo_items, ledger_projector, persisted, replayed
from reliability_support import HANG_GUARD, start_script

EVENTS = 4000
FIRST = 100
LEASE_SECONDS = 1.0


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_projector_killed_mid_catch_up_leaves_a_consistent_checkpoint_and_its_lease_is_taken_over(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db: Target = (
        request.getfixturevalue("postgres_url") if kind == "postgres" else tmp_path / "ledger.db"
    )
    store = open_store(db, create=True, domain="ledger")
    try:
        history = demo_items(EVENTS)
        store.append_bulk(history[:FIRST])
        first = ledger_projector(store, owner_id="first")  # type: ignore[arg-type]
        built = first.catch_up().checkpoint
        first.close()
        store.append_bulk(history[FIRST:])
        head = store.head().position
        reader = ledger_projector(store, owner_id="reader", lease_seconds=LEASE_SECONDS)  # type: ignore[arg-type]
        child = start_script("projector_support.py", "catch-up", str(db), "10", str(LEASE_SECONDS))
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "catching up"
            deadline = time.monotonic() + HANG_GUARD
            while reader.checkpoint() == built:  # its first batch committed
                assert time.monotonic() < deadline, "the projector never committed a batch"
                time.sleep(0.002)
            child.kill()
        finally:
            child.communicate(timeout=HANG_GUARD)
        stopped = reader.checkpoint()
        assert built < stopped < head, f"killed at checkpoint {stopped} of {head}: not mid-way"
        assert_same_states(persisted(reader), replayed(store, to=stopped))  # type: ignore[arg-type]
        owner = reader.status().lease_owner
        assert owner is not None and owner.split(":")[1] == str(child.pid)

        deadline = time.monotonic() + HANG_GUARD
        while (status := reader.catch_up()).role != "leader":
            assert time.monotonic() < deadline, f"the lease was never taken over: {status}"
            time.sleep(0.05)
        while reader.checkpoint() < head:
            reader.catch_up()
        assert reader.status().lease_owner == "reader"
        assert_same_states(persisted(reader), replayed(store))  # type: ignore[arg-type]
        reader.close()
    finally:
        store.close()
