"""Demo-data benchmark: generating the ledger history, and loading it into SQLite.

Run on demand (this is not a test)::

    .venv/bin/python bench/bench_demo.py --events 1000000 --synchronous FULL

Into fresh files, in WAL mode, all at ONE `synchronous` setting, it measures:

1. generation alone: `generate_demo(N)` streamed and dropped (wall and CPU time);
2. `append_bulk` alone: the same events, generated beforehand into memory, loaded
   into a fresh `SqliteEventStore` (the refusals are set aside);
3. raw sqlite3 `executemany` of the very same rows (read back from 2, so the JSON
   and hashes are identical) into the same schema in one transaction; and the same
   with the events table's indexes dropped and rebuilt around it, which is what
   `append_bulk` does into an empty store;
4. generation + load: `write_demo(store, N)`, events and refusals together;
5. what `eventscope demo` adds: its history ends now (`domain.demo_timing.ending_at`;
   one generation pass, since the history knows its last time before it is played;
   main before 2026-12-06 played it twice), generated and loaded in one process;
6. the same history as `eventscope demo` now writes it: generated in a child process
   (`tui.cli.demo_feed.history_in_child`) while this one loads, so wall time can fall
   below the CPU time; CPU is given for both processes. Rows 5 and 6 alternate in
   pairs (`--pairs`), and the medians are printed.

The ratios that matter: 2 / 3 (the brief's bulk-load goal: at least 50% of raw
`executemany`) and 4 against 1 (how much loading adds to generating).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import platform
import resource
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from domain.demo_timing import ending_at
from domain.envelope import PendingEvent, Refusal
from domain.ledger.demo import generate_demo, write_demo
from store.sqlite import SYNCHRONOUS_MODES, SqliteEventStore
from tui.cli.demo_feed import history_in_child

CHAIN_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, type, schema_version, "
    "recorded_at, data, metadata, prev_hash, hash"
)
INSERT_EVENT = f"INSERT INTO events ({CHAIN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"


def timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result) of `action()`, with the GC collected first."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    result = action()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def new_store(path: Path, synchronous: str) -> SqliteEventStore:
    """A fresh eventscope database (schema, WAL) at `path`."""
    return SqliteEventStore.init(path, synchronous=synchronous)


def stream_only(events: int, seed: int) -> int:
    """Generate and drop; how many items (events and refusals) came out."""
    count = 0
    for _ in generate_demo(events, seed):
        count += 1
    return count


def load_events(path: Path, synchronous: str, events: list[PendingEvent]) -> float:
    """Seconds for `append_bulk(events)` into a fresh store (opening it is not timed)."""
    store = new_store(path, synchronous)
    try:
        wall, _, _ = timed(lambda: store.append_bulk(events))
    finally:
        store.close()
    return wall


def read_rows(path: Path) -> list[tuple[Any, ...]]:
    """Every stored event row of the file at `path`, in position order."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT {CHAIN_COLUMNS} FROM events ORDER BY position").fetchall()


def raw_load(path: Path, synchronous: str, rows: list[tuple[Any, ...]], *, rebuild: bool) -> float:
    """Seconds for raw `executemany` of `rows` in one transaction into a fresh schema."""
    new_store(path, synchronous).close()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA synchronous = {synchronous}")

        def load() -> None:
            conn.execute("BEGIN")
            indexes: list[str] = []
            if rebuild:
                found = conn.execute(
                    "SELECT name, sql FROM sqlite_master "
                    "WHERE type = 'index' AND tbl_name = 'events' AND sql IS NOT NULL"
                ).fetchall()
                for name, sql in found:
                    conn.execute(f'DROP INDEX "{name}"')
                    indexes.append(sql)
            conn.executemany(INSERT_EVENT, rows)
            for sql in indexes:
                conn.execute(sql)
            conn.execute("COMMIT")

        wall, _, _ = timed(load)
    finally:
        conn.close()
    return wall


def write_demo_into(path: Path, synchronous: str, events: int, seed: int) -> tuple[float, int]:
    """Seconds for `write_demo` into a fresh store, and the refusals it kept."""
    store = new_store(path, synchronous)
    try:
        wall, _, _ = timed(lambda: write_demo(store, events, seed))
        kept = len(store.refusals())
    finally:
        store.close()
    return wall, kept


def write_ending_now(path: Path, synchronous: str, events: int, seed: int) -> tuple[float, float]:
    """(wall, CPU) seconds for the history of `eventscope demo`: ending now, loaded."""
    store = new_store(path, synchronous)
    end = datetime.now(UTC)
    try:
        wall, cpu, _ = timed(lambda: store.append_bulk(ending_at(generate_demo, events, seed, end)))
    finally:
        store.close()
    return wall, cpu


def write_from_child(
    path: Path, synchronous: str, events: int, seed: int
) -> tuple[float, float, float]:
    """(wall, this process's CPU, the child's CPU) seconds for row 6: `eventscope
    demo`'s history generated in a child process and loaded here, into a fresh store."""
    store = new_store(path, synchronous)
    end = datetime.now(UTC)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    try:
        wall, cpu, _ = timed(
            lambda: store.append_bulk(history_in_child(generate_demo, events, seed, end))
        )
    finally:
        store.close()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    child = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
    return wall, cpu, child


def rate(events: int, seconds: float) -> str:
    return f"{events / seconds:>10,.0f} ev/s" if seconds > 0 else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--synchronous", default="FULL", choices=SYNCHRONOUS_MODES)
    parser.add_argument("--folder", type=Path, default=None, help="where the files go (temp)")
    parser.add_argument("--keep", action="store_true", help="keep the database files")
    parser.add_argument("--pairs", type=int, default=1, help="alternating pairs of rows 5 and 6")
    args = parser.parse_args(argv)
    n, sync = args.events, args.synchronous
    folder = Path(tempfile.mkdtemp(prefix="bench-demo-", dir=args.folder))
    print(
        f"eventscope demo bench: {n:,} events, seed {args.seed}, synchronous={sync}, WAL, "
        f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, "
        f"{platform.machine()}, files in {folder}"
    )
    try:
        gen_wall, gen_cpu, items = timed(lambda: stream_only(n, args.seed))
        print(
            f"1. generate_demo (streamed)        {gen_wall:8.2f} s  {rate(n, gen_wall)}"
            f"   (CPU {gen_cpu:.2f} s, {n / gen_cpu:,.0f} ev/s; {items - n:,} refusals)"
        )

        def materialise() -> list[PendingEvent]:
            return [e for e in generate_demo(n, args.seed) if not isinstance(e, Refusal)]

        _, _, events = timed(materialise)
        bulk = load_events(folder / "bulk.db", sync, events)
        del events
        print(f"2. append_bulk (events in memory)   {bulk:8.2f} s  {rate(n, bulk)}")

        rows = read_rows(folder / "bulk.db")
        raw = raw_load(folder / "raw.db", sync, rows, rebuild=False)
        rebuilt = raw_load(folder / "raw-rebuild.db", sync, rows, rebuild=True)
        del rows
        print(f"3. raw executemany, one transaction {raw:8.2f} s  {rate(n, raw)}")
        print(f"   raw, indexes dropped + rebuilt   {rebuilt:8.2f} s  {rate(n, rebuilt)}")

        both, kept = write_demo_into(folder / "demo.db", sync, n, args.seed)
        print(
            f"4. write_demo (generate + load)    {both:8.2f} s  {rate(n, both)}"
            f"   ({kept:,} refusals kept)"
        )
        one: list[tuple[float, float]] = []
        two: list[tuple[float, float, float]] = []
        for pair in range(args.pairs):
            one.append(write_ending_now(folder / f"demo-now-{pair}.db", sync, n, args.seed))
            two.append(write_from_child(folder / f"demo-child-{pair}.db", sync, n, args.seed))
            (folder / f"demo-now-{pair}.db").unlink()
            (folder / f"demo-child-{pair}.db").unlink()
            print(
                f"   pair {pair + 1}: one process {one[-1][0]:.2f} s (CPU {one[-1][1]:.2f} s), "
                f"child + loader {two[-1][0]:.2f} s (CPU {two[-1][1]:.2f} + {two[-1][2]:.2f} s)"
            )
        shifted = statistics.median(w for w, _ in one)
        shifted_cpu = statistics.median(c for _, c in one)
        print(
            f"5. in one process (ends now)       {shifted:8.2f} s  {rate(n, shifted)}"
            f"   (CPU {shifted_cpu:.2f} s; 10M at this rate: {shifted * 1e7 / n / 60:.0f} min)"
        )
        fed = statistics.median(w for w, _, _ in two)
        loader = statistics.median(c for _, c, _ in two)
        child = statistics.median(c for _, _, c in two)
        print(
            f"6. generated in a child process     {fed:8.2f} s  {rate(n, fed)}"
            f"   (CPU loader {loader:.2f} s + child {child:.2f} s; wall {fed / shifted:.2f}x row 5;"
            f" 10M at this rate: {fed * 1e7 / n / 60:.0f} min)"
        )
        print(
            f"append_bulk is {raw / bulk:.0%} of raw executemany's speed "
            f"({rebuilt / bulk:.0%} of raw with the index rebuild); "
            f"loading adds {both / gen_wall - 1:.0%} to generating"
        )
    finally:
        if args.keep:
            print(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
