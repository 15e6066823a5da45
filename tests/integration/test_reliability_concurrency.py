"""Concurrent writer processes on shared accounts (BRIEF §10).

K=4 writer processes each run M=500 deposits, withdrawals and transfers through the
real command bus on six shared accounts, while `eventscope project --follow` keeps the
read models and a reader process runs `log`, `state` and `verify`. Conflicts must be
retried or end in a clean conflict error; nothing is lost or duplicated; the read
models equal a full replay; per currency, balances == deposited - withdrawn; and no
`database is locked` ever reaches a user. `bench/reliability/run.py` runs larger sizes.
"""

from __future__ import annotations

from pathlib import Path

from contention_support import run_contention

WRITERS = 4
COMMANDS = 500


def test_contended_writers_lose_nothing_and_replay_equals_the_read_models(
    tmp_path: Path,
) -> None:
    figures = run_contention(tmp_path / "ledger.db", WRITERS, COMMANDS, seed=7)
    print(figures.line())
    assert figures.ok + figures.refused + figures.exhausted == WRITERS * COMMANDS
    assert figures.ok > 0 and figures.retries > 0  # the writers really did contend
