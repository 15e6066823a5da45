"""PostgreSQL benchmark: the command path, concurrent writer processes, bulk load (issue 11).

    .venv/bin/pip install -e '.[bench,postgres]'
    .venv/bin/python bench/bench_postgres.py                     # a throwaway server
    .venv/bin/python bench/bench_postgres.py --commands 600 --writers 1 4 16 --rounds 3
    .venv/bin/python bench/bench_postgres.py --profile           # round trips of one command
    .venv/bin/python bench/bench_postgres.py --main --bulk 0     # + main's append path, A/B
    .venv/bin/python bench/bench_postgres.py --writers 16 --bulk 0 --patience 20  # lock patience
    .venv/bin/python bench/bench_postgres.py --writers 16 --bulk 0 --commit-mode shared  # a path
    nice -n -15 .venv/bin/python bench/bench_postgres.py --writers 1 4 16 --commands 300 \
        --rounds 2 --bulk 0 --main                               # the README's run F

Everything runs on one throwaway server started here (tests/support/postgres_server.py,
with `durable=True`: fsync and synchronous_commit on, as shipped), each figure beside its
baseline measured in the same run, in alternating pairs (the order flips every round),
and the median of `--rounds` is printed with its range. Each case gets a fresh database.
Rates count from the moment every process of a case is ready (a barrier: process
start-up and setup are not timed) to the last one's end:

1. own streams, 1, 4 and 16 writer processes, the same work shape on both sides: each
   process writes deposits to its own 20 accounts (eventscope: `CommandBus.execute` with
   a command id: load, decide, append under the advisory lock, hash chain, Merkle tree,
   idempotency row) against the eventsourcing library's PostgreSQL recorder doing
   one-event `Application.save()`s on the process's own 20 aggregates. Total commands/s,
   the p99 latency of one command, and the errors that reached a writer.
2. shared accounts (eventscope only: the peer has no such rule): the same processes all
   deposit to 6 shared accounts, so their decisions race; after a conflict (`retries`)
   the bus decides again under the append lock (`locked`: `exclusive_appends`), and a
   command that still conflicts after 5 retries is an error that reached its writer.

The eventscope writers take the database's `eventscope.commit_mode` (`auto`: each writer
chooses its path, store/postgres/commit_mode.py), or `--commit-mode`'s; `shared path` is
the share of their appends that went through shared commits.
`--main` adds main's path beside each eventscope row, in the same alternating rounds:
each append one call of `eventscope_append`, one commit (and one WAL flush) each
(`shared_commits = False`), where eventscope now lets concurrent writers share one
commit (store/postgres/group_commit.py). `appends/commit` is how many appends one
commit held: the count of appends over the count of commits (each shared append knows
its commit's size b; the commits are the sum of 1/b), 1 on main's path. `lock` is the
append lock's hold as the writer sees it, from the
server granting it (`eventscope_append` returns that time) to the writer receiving the
committed result (so the commit's WAL flush and the reply are inside): median and p99.
`1/rate` is the serial time per command: with every append under one lock, throughput
is 1 / (lock hold), so the two should be close at 16 writers.
3. bulk load: `append_bulk` of a demo history (the `demo` command's path) and the import
   of its export (`import`'s path: replayed through the domain's rules, then loaded), each
   against a raw `COPY` of the very same rows into a fresh database of the same schema,
   and the import's client CPU per event (all its threads, and the second process a
   large import replays the rules in: `store/transfer/replay_process.py`).

`--profile` counts the round trips of one deposit (tests/support/round_trips.py: the
client's Sync, Flush and Query messages) and times `append` alone, one writer.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import multiprocessing
import os
import signal
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from postgres_server import PostgresServer, start_server  # noqa: E402
from round_trips import RoundTripRelay  # noqa: E402

from domain.bus import CommandBus  # noqa: E402
from domain.clock import SequentialIds  # noqa: E402
from domain.envelope import AppendResult, Metadata, NewEvent, StreamAppend  # noqa: E402
from domain.errors import ConcurrencyConflict, DomainError  # noqa: E402
from domain.ledger import LEDGER  # noqa: E402
from domain.ledger.demo import generate_demo  # noqa: E402
from domain.ledger.description import LEDGER_DOMAIN  # noqa: E402
from store.postgres.base import CHAIN_COLUMNS  # noqa: E402
from store.postgres.store import PostgresEventStore  # noqa: E402
from store.transfer.export import export_history  # noqa: E402
from store.transfer.importer import import_history  # noqa: E402

SHARED_ACCOUNTS = 6
OWN_ACCOUNTS = 20


def p99(values: list[float]) -> float:
    """The 99th percentile of `values` (seconds)."""
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else float("nan")


class CountingStore(PostgresEventStore):
    """The store, counting the conflicts its appends raised (each one a bus retry), the
    locked decisions, and how long each append's lock was held (grant to reply)."""

    conflicts = 0
    locked = 0
    inside = False

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.holds: list[float] = []
        self.batches: list[int] = []
        self.shared_paths = 0

    def append(self, streams: Any, metadata: Metadata) -> AppendResult:
        self.last_lock_grant = None
        if self.shared_commits and self.commits.shared() and not self.inside:
            self.shared_paths += 1
        try:
            result = super().append(streams, metadata)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise
        if self.last_lock_grant is not None and not self.inside:
            self.holds.append(time.time() - self.last_lock_grant)
        self.batches.append(1 if self.inside or not self.shared_commits else self.last_batch)
        return result

    @contextlib.contextmanager
    def exclusive_appends(self) -> Iterator[None]:
        """Counted; the appends inside are left out of `holds` (the block holds the
        lock from before its reads: their grant time is not the block's)."""
        self.locked += 1
        self.inside = True
        try:
            with super().exclusive_appends():
                yield
        finally:
            self.inside = False


def open_accounts(bus: CommandBus, prefix: str, accounts: int) -> None:
    for i in range(accounts):
        fields = {"account_id": f"{prefix}{i}", "owner": f"Owner {i}", "currency": "EUR"}
        bus.execute_fields("open_account", fields, actor="bench", command_id=f"open-{prefix}{i}")


# -- writer processes -------------------------------------------------------------------------

Result = tuple[list[float], int, int, float, float, list[float], int, list[int], int]
"""A writer's latencies (s), errors that reached it, retries, when it started and ended,
its appends' lock holds (s), its locked decisions, the size of each append's
commit (appends it held), and how many appends took the shared path."""

_barrier: Any = None


def _ready(barrier: Any) -> None:
    global _barrier
    _barrier = barrier


PATIENCE_VARIABLE = "EVENTSCOPE_BENCH_LOCK_PATIENCE"
"""How `--patience` reaches the writer processes (spawned: they inherit the environment)."""
MODE_VARIABLE = "EVENTSCOPE_BENCH_COMMIT_MODE"
"""How `--commit-mode` reaches the writer processes."""


def eventscope_writer(args: tuple[str, int, int, bool, bool]) -> Result:
    """`commands` deposits through the bus, on this process's own accounts or the shared
    ones; `main`: main's path (each append its own commit)."""
    url, index, commands, shared, main = args
    store = CountingStore(url)
    bus = CommandBus(store, LEDGER, ids=SequentialIds(f"w{index}"))
    store.shared_commits = not main
    patience = os.environ.get(PATIENCE_VARIABLE)
    if patience is not None:  # `--patience`: this session's eventscope.lock_patience
        store._pg.execute("SELECT set_config('eventscope.lock_patience', %s, false)", (patience,))
    mode = os.environ.get(MODE_VARIABLE)
    if mode is not None:  # `--commit-mode`: this session's eventscope.commit_mode
        store.commits.mode = mode
    prefix, accounts = ("s", SHARED_ACCOUNTS) if shared else (f"w{index}-", OWN_ACCOUNTS)
    if not shared:
        open_accounts(bus, prefix, accounts)
    store.conflicts = store.locked = 0
    store.holds.clear()
    store.batches.clear()
    store.shared_paths = 0
    latencies: list[float] = []
    errors = 0
    _barrier.wait()
    began = time.time()
    for n in range(commands):
        fields = {"account_id": f"{prefix}{(n * 7 + index) % accounts}", "amount": "1.00"}
        start = time.perf_counter()
        try:
            bus.execute_fields("deposit", fields, actor=f"w{index}", command_id=f"w{index}-{n}")
        except DomainError:
            errors += 1  # a conflict after every retry, or anything else: it reached the writer
        latencies.append(time.perf_counter() - start)
    ended = time.time()
    store.close()
    return (
        latencies,
        errors,
        store.conflicts,
        began,
        ended,
        store.holds,
        store.locked,
        store.batches,
        store.shared_paths,
    )


def es_environment(server: PostgresServer, database: str) -> dict[str, str]:
    return {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": database,
        "POSTGRES_HOST": "127.0.0.1",
        "POSTGRES_PORT": str(server.port),
        "POSTGRES_USER": server.user,
        "POSTGRES_PASSWORD": "unused",  # the throwaway server trusts local connections
    }


def es_tables(environment: dict[str, str]) -> None:
    """Create the eventsourcing recorder's tables (its first `Application()` does)."""
    os.environ.update(environment)
    from eventsourcing.application import Application

    Application().close()


def es_writer(args: tuple[dict[str, str], int, int]) -> Result:
    """`commands` one-event saves on this process's own 20 aggregates."""
    environment, index, commands = args
    os.environ.update(environment)
    from eventsourcing.application import Application
    from eventsourcing.domain import Aggregate, event

    class Account(Aggregate):
        @event("Opened")
        def __init__(self, owner: str) -> None:
            self.balance = 0

        @event("MoneyDeposited")
        def deposit(self, amount: int, reference: str) -> None:
            self.balance += amount

    app: Application[Any] = Application()
    aggregates = [Account(f"w{index}-{i}") for i in range(OWN_ACCOUNTS)]
    app.save(*aggregates)
    latencies: list[float] = []
    errors = 0
    _barrier.wait()
    began = time.time()
    for n in range(commands):
        aggregate = aggregates[n % len(aggregates)]
        start = time.perf_counter()
        try:
            aggregate.deposit(100, f"ref {n}")
            app.save(aggregate)
        except Exception:  # counted: an error that reached the writer
            errors += 1
        latencies.append(time.perf_counter() - start)
    ended = time.time()
    app.close()
    return latencies, errors, 0, began, ended, [], 0, [], 0


Case = tuple[float, float, int, int, list[float], int, float, float]
"""commands/s, p99 (ms), errors, retries, lock holds (s), locked decisions, appends per
commit (0: not measured), the share of appends that took the shared path."""


def run_processes(worker: Callable[[Any], Result], jobs: list[Any]) -> Case:
    """Run `jobs` in parallel processes that start their timed work together."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(len(jobs))
    with context.Pool(len(jobs), initializer=_ready, initargs=(barrier,)) as pool:
        results = pool.map(worker, jobs)
    latencies = [value for result in results for value in result[0]]
    elapsed = max(r[4] for r in results) - min(r[3] for r in results)
    batches = [b for result in results for b in result[7] if b > 0]
    commits = sum(1 / b for b in batches)
    return (
        len(latencies) / elapsed,
        p99(latencies) * 1000,
        sum(r[1] for r in results),
        sum(r[2] for r in results),
        [hold for result in results for hold in result[5]],
        sum(r[6] for r in results),
        len(batches) / commits if commits else 0.0,
        sum(r[8] for r in results) / max(1, len(batches)),
    )


def eventscope_case(
    server: PostgresServer, writers: int, commands: int, shared: bool, main: bool = False
) -> Case:
    url = server.database()
    store = PostgresEventStore(url, create=True, domain="ledger")
    if shared:
        open_accounts(CommandBus(store, LEDGER, ids=SequentialIds("setup")), "s", SHARED_ACCOUNTS)
    store.close()
    jobs = [(url, k, commands, shared, main) for k in range(writers)]
    return run_processes(eventscope_writer, jobs)


def es_case(server: PostgresServer, writers: int, commands: int) -> Case:
    environment = es_environment(server, server.database().rsplit("/", 1)[1])
    es_tables(environment)  # once, here: 16 processes creating them at once collide
    environment["CREATE_TABLE"] = "false"
    return run_processes(es_writer, [(environment, k, commands) for k in range(writers)])


def median_case(cases: list[Case]) -> str:
    rates = [c[0] for c in cases]
    line = (
        f"{statistics.median(rates):7.0f}/s [{min(rates):.0f}-{max(rates):.0f}], "
        f"p99 {statistics.median(c[1] for c in cases):6.1f} ms, "
        f"errors {sum(c[2] for c in cases)}"
    )
    per_commit = [c[6] for c in cases if c[6]]
    if per_commit:
        line += f", appends/commit {statistics.median(per_commit):.2f}"
        line += f", shared path {statistics.median(c[7] for c in cases):.0%}"
    holds = [hold for case in cases for hold in case[4]]
    if len(holds) > 1:
        line += (
            f", lock {statistics.median(holds) * 1000:.2f} ms (p99 {p99(holds) * 1000:.1f}), "
            f"1/rate {1000 / statistics.median(rates):.2f} ms"
        )
    return line


def shared_line(label: str, cases: list[Case], commands: int) -> str:
    retries = [c[3] for c in cases]
    locked = [c[5] for c in cases]
    return (
        f"{label} {median_case(cases)}, retries {statistics.median(retries):.0f} "
        f"[{min(retries)}-{max(retries)}], locked {statistics.median(locked):.0f} "
        f"per {commands} commands"
    )


def writers_rows(server: PostgresServer, options: argparse.Namespace, have_es: bool) -> None:
    for writers in options.writers:
        got: dict[str, list[Case]] = {}
        ratios: list[float] = []
        arms = ["ours", "peer", "main"] if options.main else ["ours", "peer"]
        if not have_es:
            arms.remove("peer")
        for round_ in range(options.rounds):
            order = arms if round_ % 2 == 0 else arms[::-1]
            this: dict[str, Case] = {}
            for which in order:
                if which == "peer":
                    this[which] = es_case(server, writers, options.commands)
                else:
                    main = which == "main"
                    this[which] = eventscope_case(server, writers, options.commands, False, main)
                    shared = eventscope_case(server, writers, options.commands, True, main)
                    got.setdefault(f"{which} shared", []).append(shared)
                got.setdefault(which, []).append(this[which])
            if have_es:
                ratios.append(this["ours"][0] / this["peer"][0])
        line = f"{writers:>2} writer(s), own streams: eventscope {median_case(got['ours'])}"
        if have_es:
            line += f" | eventsourcing {median_case(got['peer'])}"
            line += (
                f" | ratio {statistics.median(ratios):.2f}x [{min(ratios):.2f}-{max(ratios):.2f}]"
            )
        print(line, flush=True)
        if options.main:
            print(f"{writers:>2} writer(s), own streams: main's path {median_case(got['main'])}")
        total = writers * options.commands
        label = f"{writers:>2} writer(s), {SHARED_ACCOUNTS} shared accounts:"
        print(shared_line(f"{label} eventscope", got["ours shared"], total), flush=True)
        if options.main:
            print(shared_line(f"{label} main's path", got["main shared"], total), flush=True)


# -- bulk load --------------------------------------------------------------------------------


def raw_copy(server: PostgresServer, rows: list[tuple[Any, ...]]) -> float:
    """Rows/s of a raw `COPY` of `rows` into a fresh database of the same schema."""
    import psycopg

    url = server.database()
    PostgresEventStore(url, create=True).close()
    with psycopg.connect(url) as conn:
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY events ({CHAIN_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        return len(rows) / (time.perf_counter() - start)


def bulk_rows(server: PostgresServer, events: int, rounds: int) -> None:
    items = list(generate_demo(events, 7))
    demo: list[float] = []
    imported: list[float] = []
    raw: list[float] = []
    client: list[float] = []  # the import's process time (all its threads), µs an event
    for round_ in range(rounds):
        url = server.database()
        store = PostgresEventStore(url, create=True, domain="ledger")
        start = time.perf_counter()
        head = store.append_bulk(items)
        demo.append(head.position / (time.perf_counter() - start))
        rows = [tuple(row) for row in store.iter_chain_rows()]
        exported = io.BytesIO()
        export_history(store, exported)
        store.close()
        target = PostgresEventStore(server.database(), create=True, domain="ledger")
        copy_first = round_ % 2 == 1
        if copy_first:
            raw.append(raw_copy(server, rows))
        start, cpu = time.perf_counter(), client_cpu()
        result = import_history(
            target, io.BytesIO(exported.getvalue()), domain=LEDGER_DOMAIN, actor="bench"
        )
        imported.append(result.events / (time.perf_counter() - start))
        client.append((client_cpu() - cpu) / result.events * 1e6)
        target.close()
        if not copy_first:
            raw.append(raw_copy(server, rows))
    copy_rate = statistics.median(raw)
    for name, rates in (("demo: append_bulk", demo), ("import (replay + load)", imported)):
        ratios = [rate / base for rate, base in zip(rates, raw, strict=True)]
        print(
            f"bulk load of {events:,} events, {name}: {statistics.median(rates):,.0f} events/s "
            f"| raw COPY {copy_rate:,.0f} rows/s | {statistics.median(ratios):.0%} of COPY "
            f"[{min(ratios):.0%}-{max(ratios):.0%}]",
            flush=True,
        )
    print(
        f"import: client CPU {statistics.median(client):.1f} µs an event "
        f"[{min(client):.1f}-{max(client):.1f}] (all its threads and its replay child; "
        "the server's not counted)",
        flush=True,
    )


def client_cpu() -> float:
    """This process's CPU time (all its threads) and its children's that have ended
    (an import's replay child is waited for before `import_history` returns)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


# -- profile ----------------------------------------------------------------------------------


def profile(server: PostgresServer, commands: int) -> None:
    """Round trips per deposit, and the time of `append` alone (one writer)."""
    relay = RoundTripRelay("127.0.0.1", server.port)
    try:
        store = PostgresEventStore(relay.url(server.database()), create=True, domain="ledger")
        bus = CommandBus(store, LEDGER, ids=SequentialIds("p"))
        open_accounts(bus, "p", 1)
        trips: list[int] = []
        for n in range(commands):
            relay.reset()
            fields = {"account_id": "p0", "amount": "1.00"}
            bus.execute_fields("deposit", fields, actor="p", command_id=f"p{n}")
            trips.append(relay.count)
        appends: list[float] = []
        for n in range(commands):
            version = store.stream_version("p-x")
            metadata = Metadata(actor="p", command_id=f"x{n}", command_type="deposit")
            event = NewEvent("E", {"n": n}, event_id=f"x{n}")
            append = StreamAppend("p-x", "account", version, (event,))
            start = time.perf_counter()
            store.append([append], metadata)
            appends.append(time.perf_counter() - start)
        store.close()
    finally:
        relay.close()
    print(
        f"one deposit through the bus: {statistics.median(trips)} round trips (median of "
        f"{commands}; 1 before the transaction: the command id lookup); append alone: "
        f"{statistics.median(appends) * 1000:.2f} ms median, through a relay"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=600, help="commands per writer")
    parser.add_argument("--writers", type=int, nargs="*", default=[1, 4, 16])
    parser.add_argument("--rounds", type=int, default=3, help="alternating pairs per case")
    parser.add_argument(
        "--bulk", type=int, default=100_000, help="events in the bulk load (0: none)"
    )
    parser.add_argument("--profile", action="store_true", help="count one command's round trips")
    parser.add_argument(
        "--main",
        action="store_true",
        help="also run main's path (each append its own commit) in the same rounds",
    )
    parser.add_argument(
        "--commit-mode",
        choices=["auto", "shared", "each"],
        help="the writers' eventscope.commit_mode (default: the database's, auto; "
        "store/postgres/commit_mode.py)",
    )
    parser.add_argument(
        "--patience",
        help="the writers' eventscope.lock_patience in ms (default: the database's, "
        "store/postgres/group_commit.py LOCK_PATIENCE_MS)",
    )
    options = parser.parse_args()
    if options.patience is not None:
        os.environ[PATIENCE_VARIABLE] = options.patience
    if options.commit_mode is not None:
        os.environ[MODE_VARIABLE] = options.commit_mode
    print(f"load average at start: {os.getloadavg()[0]:.1f}", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stop the server on kill too
    server = start_server(durable=True)
    try:
        if options.profile:
            profile(server, 50)
        try:
            import eventsourcing.postgres  # noqa: F401

            have_es = True
        except ImportError:
            have_es = False
            print("eventsourcing[postgres] is not installed: its baselines are skipped")
        writers_rows(server, options, have_es)
        if options.bulk:
            bulk_rows(server, options.bulk, options.rounds)
    finally:
        server.stop()
    print(f"load average at end: {os.getloadavg()[0]:.1f}", flush=True)


if __name__ == "__main__":
    main()
