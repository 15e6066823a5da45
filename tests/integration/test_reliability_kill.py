"""Kill -9 during appends, repeated (BRIEF §10): nothing acknowledged is lost, nothing is
half-recorded, positions stay gap-free, the chain verifies, and a restarted projector
equals a full replay.

A writer process runs deposits, withdrawals and transfers through the real command bus
on a `SqliteEventStore` at `synchronous=FULL`, printing (flushed) each command id once
its call returned, and projecting now and then. It is SIGKILLed 20-150 ms after it
starts, 50 times, each time restarted on the same file; after every kill the file is
audited (see `reliability_support.LedgerAudit`). Each new writer first retries the
command that was in flight at the kill, with its command id, as a client without an
answer would: it must be recorded exactly once. `bench/reliability/run.py` runs 1000.
"""

from __future__ import annotations

from pathlib import Path

from kill_support import kill_cycles

CYCLES = 50


def test_kill_minus_nine_during_appends_loses_nothing_acknowledged(tmp_path: Path) -> None:
    figures = kill_cycles(tmp_path / "ledger.db", tmp_path, CYCLES, seed=20261126)
    print(figures.line())
    assert figures.cycles == CYCLES
    assert figures.killed == CYCLES  # every writer was still writing when killed
    assert figures.acknowledged > 0  # the kills landed among real appends
    assert figures.committed_unacknowledged <= figures.killed
    assert figures.retried_duplicate + figures.retried_new > 0  # crashes left work in flight
    assert figures.transfers > 0
