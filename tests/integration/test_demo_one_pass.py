"""`eventscope demo` plays its generator once (the history knows its last time before it
is played, `domain.demo_engine.DemoRun`), in a child process that feeds the load, and
writes the same bytes for the same seed and `--end` on every run, for both domains.

The golden digests below were computed on 2026-12-06 (branch demogen2) when the
generator's end started to follow from its parameters: the last command is stamped at
the end of the planned days, and the last planned day plans a surplus. The history
before its last day is the one main's two-pass writer wrote (48a5660); the last day
changed on purpose. `--end 2026-03-01T18:00Z`, 5,000 events: a change to the
generator, the time shift, the feed or the load that changes one stored byte fails here.
"""

from __future__ import annotations

import contextlib
import hashlib
import sqlite3
from pathlib import Path

import pytest
from cli_support import Cli

GOLDEN = {
    # domain, seed: (head position, head hash, digest of events + commands + refusals)
    ("ledger", 7): (
        5000,
        "4179f2f14effaef2f3edfdb232363536e1a7412c78d55d0cd2e0c88faca6aa6f",
        "2a0a9065738e20a381081e71c8d589e00bf413816319bd61ff55c8b75a0d75a9",
    ),
    ("inventory", 3): (
        5000,
        "e5204e0339a248f8aa3dbbaceeacde863dc16572e0b9f80783f2b1dc3eb23056",
        "6b3ef3bb6c1677006c1de454e31cc5a00008ffb10f93917fd31055d1d97d671d",
    ),
}


def stored_digest(db: Path) -> tuple[int, str, str]:
    """The head and one SHA-256 over every row of events, commands and refusals."""
    digest = hashlib.sha256()
    with contextlib.closing(sqlite3.connect(db)) as conn:
        position, head = conn.execute(
            "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1"
        ).fetchone()
        for query in (
            "SELECT * FROM events ORDER BY position",
            "SELECT * FROM commands ORDER BY first_position, command_id",
            "SELECT * FROM refusals ORDER BY id",
        ):
            for row in conn.execute(query):
                digest.update(repr(row).encode())
    return position, head, digest.hexdigest()


@pytest.mark.parametrize(("domain", "seed"), sorted(GOLDEN))
def test_demo_writes_the_golden_bytes_for_a_seed_and_end(
    cli: Cli, db: Path, domain: str, seed: int
) -> None:
    result = cli(
        "--domain", domain, "demo", "--events", "5000", "--seed", str(seed),
        "--end", "2026-03-01T18:00Z", "--no-open",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert stored_digest(db) == GOLDEN[domain, seed]
