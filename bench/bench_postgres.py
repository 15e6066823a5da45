"""PostgreSQL benchmark: the command path, concurrent writer processes, bulk load (issue 11).

    .venv/bin/pip install -e '.[bench,postgres]'
    .venv/bin/python bench/bench_postgres.py                     # a throwaway server
    .venv/bin/python bench/bench_postgres.py --commands 2000 --writers 1 4 16

Everything runs on one throwaway server started here (tests/support/postgres_server.py,
with `durable=True`: fsync and synchronous_commit on, as shipped), each figure beside its
baseline measured in the same run. Rates count from the first command any process sent
to the last one's end (process start-up and setup are not timed):

1. one writer: `CommandBus.execute` of deposits on 20 accounts (load, decide, append
   under the advisory lock, hash chain, Merkle tree, idempotency row), against the
   eventsourcing library's PostgreSQL recorder doing one-event `Application.save()`s;
2. 1, 4 and 16 writer processes on 6 shared accounts: total commands/s and the p99
   latency of one command, errors that reached a writer, against eventsourcing's
   recorder at the same concurrency (each process saves to its own aggregates);
3. bulk load: `append_bulk` of a demo history, against a raw `COPY` of the same rows into
   a table of the same schema.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "support"))

from postgres_server import PostgresServer, start_server  # noqa: E402

from domain.bus import CommandBus  # noqa: E402
from domain.clock import SequentialIds  # noqa: E402
from domain.errors import ConcurrencyConflict, DomainError, RuleRefused  # noqa: E402
from domain.ledger import LEDGER  # noqa: E402
from domain.ledger.demo import generate_demo  # noqa: E402
from store.postgres.base import CHAIN_COLUMNS  # noqa: E402
from store.postgres.store import PostgresEventStore  # noqa: E402


def p99(values: list[float]) -> float:
    """The 99th percentile of `values` (seconds)."""
    return statistics.quantiles(values, n=100)[98] if len(values) > 1 else float("nan")


def open_accounts(url: str, accounts: int) -> None:
    store = PostgresEventStore(url, create=True, domain="ledger")
    bus = CommandBus(store, LEDGER, ids=SequentialIds("setup"))
    for i in range(accounts):
        fields = {"account_id": f"a{i}", "owner": f"Owner {i}", "currency": "EUR"}
        bus.execute_fields("open_account", fields, actor="bench", command_id=f"open-{i}")
    store.close()


# -- eventscope writers ---------------------------------------------------------------------


Result = tuple[list[float], int, float, float]
"""A writer's latencies (s), errors that reached it, and when it started and ended."""


def eventscope_writer(args: tuple[str, int, int, int]) -> Result:
    """`commands` deposits through the bus; returns latencies, errors, start, end."""
    url, index, commands, accounts = args
    store = PostgresEventStore(url)
    bus = CommandBus(store, LEDGER, ids=SequentialIds(f"w{index}"))
    latencies: list[float] = []
    errors = 0
    began = time.time()
    for n in range(commands):
        fields = {"account_id": f"a{(n * 7 + index) % accounts}", "amount": "1.00"}
        start = time.perf_counter()
        try:
            bus.execute_fields("deposit", fields, actor=f"w{index}", command_id=f"w{index}-{n}")
        except (ConcurrencyConflict, RuleRefused):
            pass  # retried by the bus, then given up: a refusal, not an error
        except DomainError:
            errors += 1
        latencies.append(time.perf_counter() - start)
    ended = time.time()
    store.close()
    return latencies, errors, began, ended


# -- the eventsourcing library's recorder ---------------------------------------------------


def es_environment(server: PostgresServer, database: str) -> None:
    os.environ.update(
        PERSISTENCE_MODULE="eventsourcing.postgres",
        POSTGRES_DBNAME=database,
        POSTGRES_HOST="127.0.0.1",
        POSTGRES_PORT=str(server.port),
        POSTGRES_USER=server.user,
        POSTGRES_PASSWORD="unused",  # the throwaway server trusts local connections
    )


def es_tables() -> None:
    """Create the eventsourcing recorder's tables (its first `Application()` does)."""
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
    aggregates = [Account(f"w{index}-{i}") for i in range(20)]
    app.save(*aggregates)
    latencies: list[float] = []
    began = time.time()
    for n in range(commands):
        aggregate = aggregates[n % len(aggregates)]
        start = time.perf_counter()
        aggregate.deposit(100, f"ref {n}")
        app.save(aggregate)
        latencies.append(time.perf_counter() - start)
    ended = time.time()
    app.close()
    return latencies, 0, began, ended


def run_processes(
    worker: Callable[[Any], Result], jobs: list[Any]
) -> tuple[float, list[float], int]:
    """Run `jobs` in parallel processes; (commands/s, latencies, errors)."""
    with multiprocessing.get_context("spawn").Pool(len(jobs)) as pool:
        results = pool.map(worker, jobs)
    latencies = [value for result in results for value in result[0]]
    elapsed = max(r[3] for r in results) - min(r[2] for r in results)
    return len(latencies) / elapsed, latencies, sum(result[1] for result in results)


# -- bulk load ------------------------------------------------------------------------------


def bulk(server: PostgresServer, events: int) -> tuple[float, float]:
    """(events/s through append_bulk, events/s of a raw COPY of the same rows)."""
    import psycopg

    url = server.database()
    store = PostgresEventStore(url, create=True, domain="ledger")
    items = list(generate_demo(events, 7))
    start = time.perf_counter()
    head = store.append_bulk(items)
    ours = head.position / (time.perf_counter() - start)
    rows = [tuple(row) for row in store.iter_chain_rows()]
    store.close()
    copy_url = server.database()
    PostgresEventStore(copy_url, create=True).close()
    with psycopg.connect(copy_url) as conn:
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY events ({CHAIN_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        raw = len(rows) / (time.perf_counter() - start)
    return ours, raw


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--commands", type=int, default=600, help="commands per writer")
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--bulk", type=int, default=100_000, help="events in the bulk load")
    options = parser.parse_args()
    server = start_server(durable=True)
    try:
        try:
            import eventsourcing.postgres  # noqa: F401

            have_es = True
        except ImportError:
            have_es = False
            print("eventsourcing[postgres] is not installed: its baselines are skipped")
        for writers in options.writers:
            url = server.database()
            open_accounts(url, 6 if writers > 1 else 20)
            accounts = 6 if writers > 1 else 20
            jobs = [(url, k, options.commands, accounts) for k in range(writers)]
            rate, latencies, errors = run_processes(eventscope_writer, jobs)
            line = (
                f"{writers:>2} writer(s): eventscope {rate:8.0f} commands/s, "
                f"p99 {p99(latencies) * 1000:6.1f} ms, {errors} errors"
            )
            if have_es:
                database = server.database().rsplit("/", 1)[1]
                es_environment(server, database)
                env = {k: os.environ[k] for k in os.environ if k.startswith(("POSTGRES_", "PERS"))}
                es_tables()  # once, here: 16 processes creating them at once collide
                env["CREATE_TABLE"] = "false"
                es_jobs = [(env, k, options.commands) for k in range(writers)]
                es_rate, es_latencies, _ = run_processes(es_writer, es_jobs)
                line += (
                    f" | eventsourcing {es_rate:8.0f} saves/s, p99 "
                    f"{p99(es_latencies) * 1000:6.1f} ms | ratio {rate / es_rate:4.2f}x"
                )
            print(line, flush=True)
        ours, raw = bulk(server, options.bulk)
        print(
            f"bulk load of {options.bulk:,} events: append_bulk {ours:,.0f} events/s, raw COPY "
            f"{raw:,.0f} rows/s ({ours / raw:.0%} of COPY)"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
