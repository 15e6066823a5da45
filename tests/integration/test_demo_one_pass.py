"""`eventscope demo` plays its generator once, and writes exactly what the two-pass
writer of 2026-12-06 (main at 48a5660) wrote: the same events, hashes, head, commands
and refusals, for both domains, at a fixed `--end`.

The golden digests below were computed with that code (`--end 2026-03-01T18:00Z`,
5,000 events): a change to the generator, the time shift or the load that changes a
single stored byte fails here.
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
        "056612b605c0e53d2cf945507bc54df69f8c76c663efdc2207b4ad2f3205ed24",
        "a9bb0df81876de74939b423dfdd6b2ed83f2a69c5906fd6ccf16677ba969d294",
    ),
    ("inventory", 3): (
        5000,
        "6997e8e638b8a9483477ac27fef96c5736c888ff630f48a4c3de3129bfc2c093",
        "34f14e7b973ce7a08d8e294fd06e87adc71862a532397806f31a112af3a6d51a",
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
def test_demo_writes_the_same_bytes_as_the_two_pass_writer(
    cli: Cli, db: Path, domain: str, seed: int
) -> None:
    result = cli(
        "--domain", domain, "demo", "--events", "5000", "--seed", str(seed),
        "--end", "2026-03-01T18:00Z", "--no-open",
    )  # fmt: skip
    assert result.code == 0, result.err
    assert stored_digest(db) == GOLDEN[domain, seed]
