"""Where the demo's bulk load spends its time as the file grows (issue 14, point 5).

Run on demand (this is not a test)::

    nice -n -15 .venv/bin/python bench/bench_demo_load.py --events 3000000 --folder /tmp/x

It writes the demo history the way `eventscope demo` does (generated in a child
process, `tui.cli.demo_feed.history_in_child`, loaded here by `append_bulk` in one
transaction) into a fresh file, and prints, for every `--every` events, the wall time
and this process's CPU per event (the loader; the child's CPU is given at the end), and the
bytes this process read and wrote (`/proc/self/io`: pages spilled to the WAL and read
back). Then the phases after the rows: each secondary index rebuilt, the commit, the
checkpoint; then the file's tables and indexes by size (`dbstat`).

`--cache-mib` overrides the load's page cache (`store.sqlite.bulk`'s own choice when
not given), so that runs can be compared in the same session.
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.envelope import PendingEvent, Refusal
from domain.ledger.demo import generate_demo
from store.sqlite import SqliteEventStore, bulk
from tui.cli.demo_feed import history_in_child

END = datetime(2026, 12, 1, tzinfo=UTC)


def io_bytes() -> tuple[int, int]:
    """(read, written) bytes of this process's read/write calls."""
    fields = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(fields["rchar"]), int(fields["wchar"])


def marked(
    items: Iterator[PendingEvent | Refusal], every: int, total: int
) -> Iterator[PendingEvent | Refusal]:
    """Pass the items on, printing a line of figures every `every` events."""
    done = 0
    wall, cpu = time.perf_counter(), time.process_time()
    read, written = io_bytes()
    print(f"{'events':>11} {'wall µs/ev':>10} {'CPU µs/ev':>9} {'read MB':>8} {'written MB':>10}")
    for item in items:
        yield item
        if type(item) is PendingEvent:
            done += 1
            if done % every == 0 or done == total:
                now, now_cpu = time.perf_counter(), time.process_time()
                now_read, now_written = io_bytes()
                count = every if done % every == 0 else done % every
                print(
                    f"{done:>11,} {(now - wall) / count * 1e6:>10.1f} "
                    f"{(now_cpu - cpu) / count * 1e6:>9.1f} "
                    f"{(now_read - read) / 1e6:>8.0f} {(now_written - written) / 1e6:>10.0f}",
                    flush=True,
                )
                wall, cpu, read, written = now, now_cpu, now_read, now_written


def timed_phases() -> None:
    """Print the time of the commands rows' copy, of each index rebuild and of the checkpoint."""
    rebuild = bulk.Loading._rebuild_index
    checkpoint = bulk.Loading._checkpoint

    def timed_rebuild(self: Any, conn: sqlite3.Connection, sql: str) -> None:
        start = time.perf_counter()
        rebuild(self, conn, sql)
        name = sql.split()[3] if sql.startswith("CREATE UNIQUE") else sql.split()[2]
        print(f"  index {name}: {time.perf_counter() - start:.1f} s", flush=True)

    def timed_checkpoint(self: Any, *args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        result = checkpoint(self, *args, **kwargs)
        print(f"  checkpoint: {time.perf_counter() - start:.1f} s", flush=True)
        return result

    deferred = getattr(bulk, "DeferredCommands", None)  # None: main before 2026-12-06
    if deferred is not None:
        flush = deferred.flush

        def timed_flush(self: Any) -> None:
            start = time.perf_counter()
            flush(self)
            print(f"  commands in key order: {time.perf_counter() - start:.1f} s", flush=True)

        deferred.flush = timed_flush
    bulk.Loading._rebuild_index = timed_rebuild  # type: ignore[method-assign]
    bulk.Loading._checkpoint = timed_checkpoint  # type: ignore[method-assign]


def sizes(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        try:
            rows = conn.execute(
                "SELECT name, count(*), sum(pgsize) FROM dbstat GROUP BY name "
                "ORDER BY sum(pgsize) DESC LIMIT 12"
            ).fetchall()
        except sqlite3.OperationalError:
            print("(no dbstat in this SQLite)")
            return
    for name, pages, size in rows:
        print(f"  {name:<28} {pages:>10,} pages {size / 1e6:>9.0f} MB")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--every", type=int, default=1_000_000, help="events per line")
    parser.add_argument("--folder", type=Path, required=True, help="where the file goes")
    parser.add_argument("--cache-mib", type=int, default=None, help="the load's page cache")
    parser.add_argument("--keep", action="store_true", help="keep the database file")
    parser.add_argument("--sizes", action="store_true", help="print table sizes (dbstat)")
    args = parser.parse_args(argv)
    if args.cache_mib is not None:
        bulk.BULK_CACHE_KIB = args.cache_mib * 1024
    timed_phases()
    args.folder.mkdir(parents=True, exist_ok=True)
    path = args.folder / f"demo-load-{os.getpid()}.db"
    print(f"{args.events:,} events, seed {args.seed}, into {path}; {sys.version.split()[0]}, "
          f"SQLite {sqlite3.sqlite_version}; uptime: {os.getloadavg()}")  # fmt: skip
    store = SqliteEventStore(path, create=True)
    try:
        start = time.perf_counter()
        cpu = time.process_time()
        history = history_in_child(generate_demo, args.events, args.seed, END)
        with closing(history) as items:
            head = store.append_bulk(marked(items, args.every, args.events))
        wall = time.perf_counter() - start
        child = resource.getrusage(resource.RUSAGE_CHILDREN)
        print(
            f"loaded {head.position:,} events in {wall:.1f} s wall, "
            f"{time.process_time() - cpu:.1f} s CPU of this process, "
            f"{child.ru_utime + child.ru_stime:.1f} s of the generating child "
            f"({wall / head.position * 1e6:.1f} µs/event wall); load now {os.getloadavg()}"
        )
    finally:
        store.close()
    if args.sizes:
        sizes(path)
    if not args.keep:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
