"""Helpers shared by the CLI tests (imported as a plain module: tests/ has no packages)."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


@dataclass
class CliResult:
    code: int
    out: str
    err: str

    def json(self) -> object:
        return json.loads(self.out)

    def lines(self) -> list[dict[str, object]]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]


Cli = Callable[..., CliResult]


def head_of(db: Path) -> tuple[int, str]:
    """The head (position, hash), read with plain sqlite3, independent of eventscope."""
    with contextlib.closing(sqlite3.connect(db)) as conn:  # closed: leaves no -wal behind
        row = conn.execute("SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
        found = row.fetchone()
    return (found[0], found[1]) if found else (0, "")
