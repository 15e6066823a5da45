"""The first `position_at` (the books at a time) on a freshly opened store: the block walk
it used to take against the time-index path it takes now, on an existing database.

    .venv/bin/python bench/bench_position_at.py --db PATH-TO-A-DEMO.db

For moments recorded at 10%, 50% and 90% of the log, each on a new `SqliteEventStore`
(so no block minimum is known): the first lookup and a second one, with the index path
switched off (the baseline: the block walk reads the events' rows block by block from
the head) and on (`store.sqlite.time_index._latest`). Read-only: the file is not changed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import store.sqlite.time_index as time_index  # noqa: E402
from store.sqlite import SqliteEventStore  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    args = parser.parse_args()
    probe = SqliteEventStore(args.db, read_only=True)
    head = probe.head().position
    moments = [
        probe.read_all(after=p - 1, to=p)[0].recorded_at
        for p in (max(1, head // 10), max(1, head // 2), max(1, head * 9 // 10))
    ]
    probe.close()
    print(f"database: {args.db} ({head:,} events); load average {os.getloadavg()[0]:.1f}")
    index_path = time_index._latest
    for label, on in (("block walk (before)", False), ("time index (now)", True)):
        time_index._latest = index_path if on else (lambda conn, head: lambda moment: None)
        for moment in moments:
            store = SqliteEventStore(args.db, read_only=True)
            started = time.perf_counter()
            found = store.position_at(moment)
            first = time.perf_counter() - started
            started = time.perf_counter()
            store.position_at(moment)
            again = time.perf_counter() - started
            store.close()
            print(
                f"{label:20} at #{found:>10,}: first {first * 1e3:8.1f} ms, "
                f"again {again * 1e3:8.1f} ms"
            )
    time_index._latest = index_path
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
