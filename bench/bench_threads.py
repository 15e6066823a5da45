"""In-process concurrency: threads appending one-event commands through one store.

Run on demand (this is not a test)::

    .venv/bin/python bench/bench_threads.py --threads 1 8 32 --events 1600 --synchronous FULL

For each thread count, eventscope (one `SqliteEventStore`, one `CommandBus` per thread,
each thread depositing into its own account, so no expected-version conflicts) and the
eventsourcing library (one `Application` on its SQLite module, each thread saving its own
aggregate) each write `--events` events into fresh files at the same `synchronous`
setting. Their order alternates every round (`--rounds`); the ratio is taken within a
round. Printed: events/s, latency p50 and p99 per command (or `save()`), commits per
second of eventscope (group commit: a commit covers many appends), its appends per
group commit and the 1-minute load.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

# Runs as a script: bench/ is on sys.path (for bench_write), the project is installed.
from bench_write import (
    ACTOR,
    CURRENCY,
    es_account_type,
    es_environment,
    median,
    patch_es_synchronous,
    percentile,
)

from domain.bus import CommandBus
from domain.ledger import LEDGER
from store.sqlite import SYNCHRONOUS_MODES, SqliteEventStore

Result = tuple[float, list[float]]
"""(wall seconds for all events, per-operation latencies in seconds)."""
GROUPS: dict[int, list[float]] = {}
"""Appends per group commit of eventscope, by thread count (one figure per run)."""


def run_threads(threads: int, per_thread: int, op: Callable[[int, int], None]) -> Result:
    """Run `op(thread, i)` `per_thread` times on each of `threads` threads, started together."""
    latencies: list[list[float]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []
    start = threading.Barrier(threads + 1)

    def work(index: int) -> None:
        start.wait()
        clock = time.perf_counter
        mine = latencies[index]
        try:
            for i in range(per_thread):
                began = clock()
                op(index, i)
                mine.append(clock() - began)
        except BaseException as exc:
            errors.append(exc)

    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    wall = time.perf_counter() - began
    if errors:
        raise errors[0]
    return wall, [x for xs in latencies for x in xs]


def run_eventscope(path: Path, synchronous: str, threads: int, per_thread: int) -> Result:
    """Deposits through one store, one bus per thread, one account per thread."""
    store = SqliteEventStore.init(path, synchronous=synchronous)
    buses = [CommandBus(store, LEDGER) for _ in range(threads)]
    for index, bus in enumerate(buses):
        bus.execute_fields(
            "open_account",
            {"account_id": f"acc-{index:03d}", "owner": "Owner", "currency": CURRENCY},
            actor=ACTOR,
        )

    def deposit(index: int, i: int) -> None:
        buses[index].execute_fields(
            "deposit",
            {"account_id": f"acc-{index:03d}", "amount": "12.34", "reference": f"inv {i}"},
            actor=ACTOR,
        )

    writers = store._writers  # the bench reads the queue's counters
    groups, appends = writers.groups, writers.grouped_appends
    try:
        return run_threads(threads, per_thread, deposit)
    finally:
        done = writers.groups - groups
        GROUPS.setdefault(threads, []).append((writers.grouped_appends - appends) / max(1, done))
        store.close()


def run_eventsourcing(path: Path, synchronous: str, threads: int, per_thread: int) -> Result:
    """One-event `save()`s through one Application, one aggregate per thread."""
    from eventsourcing.application import Application

    patch_es_synchronous(synchronous)
    with es_environment(path):
        app: Application[Any] = Application()
    account_type = es_account_type()
    aggregates = [account_type(f"acc-{i:03d}", "Owner", CURRENCY) for i in range(threads)]
    app.save(*aggregates)

    def save(index: int, i: int) -> None:
        aggregate = aggregates[index]
        aggregate.deposit(f"acc-{index:03d}", 1234, CURRENCY, f"inv {i}")
        app.save(aggregate)

    try:
        return run_threads(threads, per_thread, save)
    finally:
        app.close()


def summary(results: Sequence[Result], events: int) -> tuple[float, float, float]:
    """Median events/s, and p50 and p99 latency in µs over every round's operations."""
    rates = [events / wall for wall, _ in results]
    latencies = [x for _, xs in results for x in xs]
    return median(rates), percentile(latencies, 0.5) * 1e6, percentile(latencies, 0.99) * 1e6


def one_round(
    base: Path,
    synchronous: str,
    threads: int,
    per_thread: int,
    round_no: int,
    ours: list[Result],
    theirs: list[Result],
) -> None:
    """Both runs of one round, in an order that flips every round."""
    steps = [
        lambda: ours.append(
            run_eventscope(base.with_suffix(".es.db"), synchronous, threads, per_thread)
        ),
        lambda: theirs.append(
            run_eventsourcing(base.with_suffix(".lib.db"), synchronous, threads, per_thread)
        ),
    ]
    for step in steps if round_no % 2 == 0 else steps[::-1]:
        step()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 8, 32])
    parser.add_argument("--events", type=int, default=1600, help="events per run (all threads)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--synchronous", choices=SYNCHRONOUS_MODES, default="FULL")
    parser.add_argument("--dir", type=Path, default=None, help="where the files go (a temp dir)")
    parser.add_argument(
        "--skip-eventsourcing",
        action="store_true",
        help="eventscope alone (for A/B runs of two eventscope versions)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run every thread count, print one table."""
    args = parse_args(argv)
    load_start = os.getloadavg()[0]
    lines = [
        f"threads bench: {args.events} one-event appends per run, {args.rounds} rounds, "
        f"synchronous={args.synchronous}, WAL, {os.cpu_count()} cpus",
        f"{'threads':>7} | {'eventscope ev/s':>15} {'p50 us':>8} {'p99 us':>8} | "
        f"{'eventsourcing ev/s':>18} {'p50 us':>8} {'p99 us':>8} | ratio (paired median)",
    ]
    lines_groups: list[str] = []
    with tempfile.TemporaryDirectory(dir=args.dir) as folder:
        for threads in args.threads:
            per_thread = max(1, args.events // threads)
            events = per_thread * threads
            ours: list[Result] = []
            theirs: list[Result] = []
            for round_no in range(args.rounds):
                base = Path(folder) / f"t{threads}-r{round_no}"
                if args.skip_eventsourcing:
                    ours.append(run_eventscope(base, args.synchronous, threads, per_thread))
                else:
                    one_round(base, args.synchronous, threads, per_thread, round_no, ours, theirs)
                print(f"  {threads} threads, round {round_no + 1} done", file=sys.stderr)
            rate, p50, p99 = summary(ours, events)
            lines_groups.append(f"{threads}: {median(GROUPS.get(threads, [])):.1f}")
            if not theirs:
                lines.append(f"{threads:>7} | {rate:>15,.0f} {p50:>8,.0f} {p99:>8,.0f} |")
                continue
            ratio = median(
                [
                    theirs_wall / ours_wall
                    for (ours_wall, _), (theirs_wall, _) in zip(ours, theirs, strict=True)
                ]
            )
            lib_rate, lib_p50, lib_p99 = summary(theirs, events)
            lines.append(
                f"{threads:>7} | {rate:>15,.0f} {p50:>8,.0f} {p99:>8,.0f} | "
                f"{lib_rate:>18,.0f} {lib_p50:>8,.0f} {lib_p99:>8,.0f} | {ratio:.2f}x"
            )
    groups = ", ".join(lines_groups)
    lines.append(f"eventscope appends per group commit (median of rounds), by threads: {groups}")
    lines.append(
        f"load average (1 min): {load_start:.1f} at start, {os.getloadavg()[0]:.1f} at end"
    )
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
