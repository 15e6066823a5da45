"""Full rebuild of the read models against the raw floor, measured in the same run.

    .venv/bin/python bench/bench_rebuild.py [--events 1000000] [--db PATH] [--rounds 3]
                                            [--batch 5000] [--breakdown] [--profile]

The store (ledger events from `bench/ledger_history.py`) is created on first use at
`/tmp/eventscope-bench-rebuild-<N>.db` (or `--db`) and reused afterwards.

- raw floor: sqlite3 `SELECT position, type, data` in chunks + `orjson.loads` + an
  inline fold of balances: the least any rebuild must do.
- projector, balances only: `Projector.rebuild()` with `account_balances` alone, the
  same work as the floor through the projector (its own overhead).
- projector, all projections: `Projector.rebuild()` with the ledger's projections,
  folding, filling the `__new` tables and swapping: the goal is >= 50% of the floor.

Rounds alternate floor and rebuilds and the best round of each is kept, which is the
fairest figure on a shared machine; rates are given for wall time and for the
process's CPU time (steadier when other work competes for the cores). `--breakdown`
adds each projection's fold rate over events already in memory; `--profile` profiles
one full rebuild.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sqlite3
import sys
import time
from pathlib import Path

import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.ledger_history import ledger_history
from domain.ledger import LEDGER
from domain.ledger.description import LEDGER_DOMAIN
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.projection import Projection
from store.projector import Projector
from store.sqlite import SqliteEventStore


def ensure_store(path: Path, events: int) -> SqliteEventStore:
    """The benchmark store at `path`, created with about `events` events when missing."""
    if path.exists():
        return SqliteEventStore(path, synchronous="OFF")  # reused as it is
    print(f"creating {path} with {events:,} events ...", file=sys.stderr, flush=True)
    started = time.perf_counter()
    store = SqliteEventStore.init(path, synchronous="OFF", domain="ledger")
    store.append_bulk(ledger_history(events, accounts=max(50, events // 200)), batch=20_000)
    print(f"  done in {time.perf_counter() - started:.1f}s", file=sys.stderr)
    return store


Timing = tuple[float, float]
"""(wall seconds, CPU seconds)."""


def _clock() -> Timing:
    return time.perf_counter(), time.process_time()


def _since(start: Timing) -> Timing:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def raw_floor(path: Path, chunk: int) -> Timing:
    """Time for select + decode + an inline balances fold over every event."""
    conn = sqlite3.connect(path)
    loads = orjson.loads
    started = _clock()
    balances: dict[str, int] = {}
    after = 0
    while True:
        rows = conn.execute(
            "SELECT position, type, data FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (after, chunk),
        ).fetchall()
        if not rows:
            break
        for _, kind, text in rows:
            data = loads(text)
            if kind == "MoneyDeposited":
                key, delta = data["account_id"], data["amount"]
            elif kind == "MoneyWithdrawn":
                key, delta = data["account_id"], -data["amount"]
            elif kind == "TransferSent":
                key, delta = data["from_account"], -data["amount"]
            elif kind == "TransferReceived":
                key, delta = data["to_account"], data["amount"]
            else:
                continue
            balances[key] = balances.get(key, 0) + delta
        after = rows[-1][0]
    elapsed = _since(started)
    conn.close()
    return elapsed


def rebuild(
    store: SqliteEventStore,
    projections: tuple[Projection, ...],
    batch: int,
    only: tuple[str, ...] = (),
) -> Timing:
    """Time for one `Projector.rebuild()` (fold, fill the new tables, swap); with `only`,
    the partial rebuild `eventscope rebuild --projection` runs (the others kept)."""
    projector = Projector(
        store,
        projections,
        LEDGER.catalog,
        name="bench",
        batch=batch,
        reads=LEDGER_DOMAIN.event_reads,
    )
    started = _clock()
    projector.rebuild(only=only)
    elapsed = _since(started)
    projector.close()
    return elapsed


def breakdown(store: SqliteEventStore, limit: int) -> None:
    """Each projection's fold rate over `limit` events already decoded in memory."""
    events = list(store.iter_all(to=limit))
    print(f"\nfold only, {len(events):,} events in memory:")
    for projection in LEDGER_PROJECTIONS:
        state = projection.initial()
        apply = projection.apply
        started = time.perf_counter()
        for event in events:
            apply(state, event)
        rate = len(events) / (time.perf_counter() - started)
        print(f"  {projection.name:<18} {rate:>12,.0f} events/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--breakdown", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    path = args.db or Path(f"/tmp/eventscope-bench-rebuild-{args.events}.db")
    store = ensure_store(path, args.events)
    events = store.head().position
    balances_only = tuple(p for p in LEDGER_PROJECTIONS if p.name == "account_balances")
    all_projections = tuple(LEDGER_PROJECTIONS)

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        rebuild(store, all_projections, args.batch)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return

    best_wall = dict.fromkeys(("floor", "balances", "all", "one"), float("inf"))
    best_cpu = dict(best_wall)
    for round_number in range(1, args.rounds + 1):
        times = {
            "floor": raw_floor(path, args.batch),
            "balances": rebuild(store, balances_only, args.batch),
            "all": rebuild(store, all_projections, args.batch),
            "one": rebuild(store, all_projections, args.batch, ("account_balances",)),
        }
        for key, (wall, cpu) in times.items():
            best_wall[key] = min(best_wall[key], wall)
            best_cpu[key] = min(best_cpu[key], cpu)
        print(
            f"round {round_number}: "
            + ", ".join(f"{k} {events / w:,.0f} ev/s" for k, (w, _) in times.items()),
            file=sys.stderr,
        )

    print(f"\nrebuild of {events:,} events ({path}); best of {args.rounds} rounds")
    print("events table untouched; read-model writes use synchronous=NORMAL (WAL)")
    print(f"  {'':<48} {'wall':>12}   {'':>6}  {'cpu':>12}")
    labels = {
        "floor": "raw floor (select + orjson + inline balances)",
        "balances": "projector, account_balances only",
        "all": "projector, all 5 projections",
        "one": "rebuild --projection account_balances",
    }
    for key, label in labels.items():
        wall_rate, cpu_rate = events / best_wall[key], events / best_cpu[key]
        wall_share = wall_rate / (events / best_wall["floor"])
        cpu_share = cpu_rate / (events / best_cpu["floor"])
        print(
            f"  {label:<48} {wall_rate:>12,.0f} ev/s {wall_share:6.1%}"
            f"  {cpu_rate:>12,.0f} ev/s {cpu_share:6.1%}"
        )
    share = best_wall["floor"] / best_wall["all"]
    print(f"goal (all projections >= 35% of the floor, wall): {share:.1%}, ", end="")
    print("met" if share >= 0.35 else "missed")
    speedup = best_wall["all"] / best_wall["one"]
    print(f"goal (rebuild --projection >= 3x faster than a full rebuild): {speedup:.2f}x, ", end="")
    print("met" if speedup >= 3 else "missed")
    if args.breakdown:
        breakdown(store, min(events, 200_000))
    store.close()


if __name__ == "__main__":
    main()
