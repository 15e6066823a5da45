"""Kill -9 during appends, repeated (BRIEF §10): nothing acknowledged is lost, nothing is
half-recorded, positions stay gap-free, the chain verifies, and a restarted projector
equals a full replay; for both domains (ledger and inventory), on SQLite and on
PostgreSQL.

A writer process runs deposits, withdrawals and transfers (for the inventory: receipts,
shipments, moves between warehouses and stock-takes) through the real command bus
on a `SqliteEventStore` at `synchronous=FULL`, printing (flushed) each command id once
its call returned, and projecting now and then. It is SIGKILLed 20-150 ms after it
starts, 50 times (15 for the inventory), each time restarted on the same file; after
every kill the file is audited (see `reliability_support.StoreAudit`). Each new
writer first retries the command that was in flight at the kill, with its command id,
as a client without an answer would: it must be recorded exactly once.
`bench/reliability/run.py` runs 1000.

On PostgreSQL the same harness runs on a fresh database of the throwaway server (the
audits read it with plain psycopg, `harness_stores`): a killed client's transaction
is rolled back by the server, which releases the append lock; the killed projector's
lease is taken over once it lapses.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from harness_stores import Target
from kill_support import kill_cycles
from reliability_support import INVENTORY_WORKLOAD, LEDGER_WORKLOAD, Workload

CYCLES = {("sqlite", "ledger"): 50, ("sqlite", "inventory"): 15}
"""Kills per store and domain: the inventory's writers run the same harness, a quick
sample; PostgreSQL a smaller one (`POSTGRES_CYCLES`), its writers start slower."""
POSTGRES_CYCLES = {"ledger": 25, "inventory": 10}
POSTGRES_DELAY_MS = (100, 600)
"""A PostgreSQL writer connects and reads its aggregates over the network: it gets a
longer life before its kill, so the kills land among appends (not while opening)."""


@pytest.mark.parametrize("store", ["sqlite", "postgres"])
@pytest.mark.parametrize("workload", [LEDGER_WORKLOAD, INVENTORY_WORKLOAD], ids=lambda w: w.name)
def test_kill_minus_nine_during_appends_loses_nothing_acknowledged(
    workload: Workload, store: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    db: Target
    delay_ms = (20, 150)
    if store == "postgres":
        cycles, delay_ms = POSTGRES_CYCLES[workload.name], POSTGRES_DELAY_MS
        db = request.getfixturevalue("postgres_url")
    else:
        cycles = CYCLES[(store, workload.name)]
        db = tmp_path / f"{workload.name}.db"
    figures = kill_cycles(db, tmp_path, cycles, seed=20261126, delay_ms=delay_ms, workload=workload)
    print(figures.line())
    assert figures.cycles == cycles
    assert figures.killed == cycles  # every writer was still writing when killed
    assert figures.acknowledged > 0  # the kills landed among real appends
    assert figures.committed_unacknowledged <= figures.killed
    assert figures.retried_duplicate + figures.retried_new > 0  # crashes left work in flight
    assert figures.pairs > 0  # transfers / moves, each with both halves
