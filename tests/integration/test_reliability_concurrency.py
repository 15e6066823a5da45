"""Concurrent writer processes on shared accounts (BRIEF §10).

K=4 writer processes each run M=500 deposits, withdrawals and transfers through the
real command bus on six shared accounts, while `eventscope project --follow` keeps the
read models and a reader process runs `log`, `state` and `verify`. Conflicts must be
retried or end in a clean conflict error; nothing is lost or duplicated; the read
models equal a full replay; per currency, balances == deposited - withdrawn; and no
`database is locked` ever reaches a user. The same runs for the inventory with K=3 x
M=150 receipts, shipments, stock-takes and moves (about half) between warehouses on
three shared SKUs: a move has both halves or neither, and per SKU received - shipped +
adjustments == on hand. `bench/reliability/run.py` runs larger sizes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from contention_support import run_contention
from reliability_support import INVENTORY_WORKLOAD, LEDGER_WORKLOAD, Workload

SIZES = {"ledger": (4, 500), "inventory": (3, 150)}
"""Writers x commands per domain (the inventory's a quick sample of the same harness)."""


@pytest.mark.parametrize("workload", [LEDGER_WORKLOAD, INVENTORY_WORKLOAD], ids=lambda w: w.name)
def test_contended_writers_lose_nothing_and_replay_equals_the_read_models(
    workload: Workload, tmp_path: Path
) -> None:
    writers, commands = SIZES[workload.name]
    db = tmp_path / f"{workload.name}.db"
    figures = run_contention(db, writers, commands, seed=7, workload=workload)
    print(figures.line())
    assert figures.ok + figures.refused + figures.exhausted == writers * commands
    assert figures.ok > 0 and figures.retries > 0  # the writers really did contend
