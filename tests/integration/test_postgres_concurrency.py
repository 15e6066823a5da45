"""Concurrent writer processes on shared accounts, on PostgreSQL: positions 1..N with no
hole, nothing lost or duplicated, the chain verifies, and a follower that records every
position it reads, in order, never skips one (readers never see N+1 before N)."""

from __future__ import annotations

import json
import os

import pytest
from postgres_contention import create_ledger
from postgres_server import PostgresServer
from reliability_support import start_script, stop_all
from test_postgres_commit_mode import set_commit_mode

from store.postgres.store import PostgresEventStore

WRITERS, COMMANDS = (
    int(part) for part in os.environ.get("EVENTSCOPE_PG_CONTENTION", "4x60").split("x")
)
"""4 writer processes x 60 commands in the normal run; the issue's size is
`EVENTSCOPE_PG_CONTENTION=8x300` (about 4.5 min on a loaded 2-core machine)."""


@pytest.mark.slow
@pytest.mark.parametrize("commit_mode", ["auto", "shared"])
def test_writers_on_shared_accounts_leave_no_gap_and_the_follower_skips_none(
    postgres_server: PostgresServer, commit_mode: str
) -> None:
    """`commit_mode`: the database's `eventscope.commit_mode` (store/postgres/commit_mode.py):
    the default, where each writer chooses its path, and every append through shared
    commits."""
    url = postgres_server.database()
    create_ledger(url)
    set_commit_mode(url, commit_mode)
    follower = start_script("postgres_contention.py", "follower", url)
    writers = [
        start_script("postgres_contention.py", "writer", url, str(k), str(COMMANDS), str(100 + k))
        for k in range(WRITERS)
    ]
    processes = [follower, *writers]
    try:
        for process in processes:
            assert process.stdout is not None and process.stdin is not None
            assert process.stdout.readline().strip() == "ready", process.stderr
        for process in processes:
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = []
        for process in writers:
            out, err = process.communicate(timeout=1800)
            assert process.returncode == 0, err
            results.append(json.loads(out.splitlines()[-1]))
        assert follower.stdin is not None
        follower.stdin.write("stop\n")
        follower.stdin.flush()
        out, err = follower.communicate(timeout=600)
        assert follower.returncode == 0, err
        followed = json.loads(out.splitlines()[-1])
    finally:
        stop_all(processes)

    assert [error for result in results for error in result["errors"]] == []
    assert sum(r["ok"] + r["refused"] + r["exhausted"] for r in results) == WRITERS * COMMANDS
    # After a conflict the bus decides under the append lock: no command runs out of retries.
    assert [r["exhausted"] for r in results] == [0] * WRITERS
    store = PostgresEventStore(url)
    try:
        head = store.head().position
        report = store.verify()
        assert report.ok, report.message
        positions = [e.position for e in store.iter_all()]
        assert positions == list(range(1, head + 1))
        for result in results:  # every acknowledged command is recorded, exactly there
            for command_id, acked in result["acked"].items():
                assert store.positions_by_command(command_id) == acked
        acked_events = sum(len(p) for r in results for p in r["acked"].values())
        setup_events = 2 * 6
        assert head == setup_events + acked_events
    finally:
        store.close()
    assert followed["skips"] == []
    assert followed["seen"] == list(range(setup_events + 1, head + 1))
