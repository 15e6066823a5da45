"""Write-path benchmark: commands, raw sqlite3 and eventsourcing, bulk load (brief §9).

Run on demand (this is not a test)::

    .venv/bin/python bench/bench_write.py --commands 3000 --bulk 200000 --synchronous FULL

One run measures, at ONE `synchronous` setting, in WAL mode, into fresh files:

1. the command path: deposits (one event each) and a share of transfers (two events,
   reported apart) through `domain.bus.CommandBus` on `SqliteEventStore`;
2. raw sqlite3, one `BEGIN; INSERT; COMMIT` per event into the same `events` schema,
   with the same JSON shapes and a sha256 chain computed per event;
3. the eventsourcing library's one-event `Application.save()` on its SQLite module;
4. bulk: `SqliteEventStore.append_bulk` against raw `executemany` of the very same rows
   in one transaction (and, for information, raw `executemany` with the indexes
   dropped and rebuilt, which is what `append_bulk` does into an empty store).

Measurements 1-3 run side by side on their own files, interleaved in blocks of about
`--block` events whose order flips every block; measurement 4 flips its order every
round. Each runs `--rounds` (`--bulk-rounds`) times and every goal ratio is taken within
a round (paired), so drift on a shared, noisy machine largely cancels out. Medians are
reported, with the range. See bench/README.md for what each figure means.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import io
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

import orjson

# Runs as a script: bench/ is on sys.path (for ledger_history), the project is installed.
from ledger_history import ledger_history
from wal_pages import COMMITS, command_pages, runner_pages

from domain.bus import CommandBus
from domain.clock import format_time
from domain.envelope import PendingEvent
from domain.ledger import LEDGER
from store.sqlite import SYNCHRONOUS_MODES, SqliteEventStore

ACTOR = "bench"
CURRENCY = "EUR"
GENESIS = "0" * 64
CHAIN_COLUMNS = (
    "position, event_id, stream_id, stream_type, version, type, schema_version, "
    "recorded_at, data, metadata, prev_hash, hash"
)
INSERT_EVENT = f"INSERT INTO events ({CHAIN_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"

Row = tuple[Any, ...]


# -- small helpers -----------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    """The median of `values` (NaN when empty)."""
    return statistics.median(values) if values else float("nan")


def version_of(distribution: str) -> str:
    """The installed version of a distribution, or `-` when it is missing."""
    try:
        return importlib_metadata.version(distribution)
    except importlib_metadata.PackageNotFoundError:
        return "-"


def journal_mode(path: Path) -> str:
    """The journal mode stored in the database file at `path`."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return str(conn.execute("PRAGMA journal_mode").fetchone()[0])


def payload_bytes(path: Path) -> tuple[float, float]:
    """Average stored bytes of `data` and of `metadata` per event in the file at `path`."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        row = conn.execute("SELECT avg(length(data)), avg(length(metadata)) FROM events").fetchone()
    return float(row[0] or 0), float(row[1] or 0)


def new_store(path: Path, synchronous: str) -> SqliteEventStore:
    """A fresh eventscope database (schema, WAL) at `path`."""
    return SqliteEventStore.init(path, synchronous=synchronous)


def fresh_schema(path: Path) -> None:
    """Create an empty eventscope database at `path` (the schema the raw baselines use)."""
    new_store(path, "FULL").close()


def raw_connection(path: Path, synchronous: str) -> sqlite3.Connection:
    """A plain autocommit sqlite3 connection at the given synchronous setting, in WAL."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous}")
    return conn


# -- the workloads ------------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """The commands one round of the command path runs, decided up front."""

    accounts: list[str]
    commands: list[tuple[str, dict[str, Any]]]
    """(command type, raw fields), in the order they run: deposits and transfers mixed."""


def make_workload(commands: int, transfers: int, accounts: int, seed: int) -> Workload:
    """`commands` deposits and `transfers` transfers over `accounts` accounts, shuffled."""
    rng = random.Random(seed)
    ids = [f"acc-{i:03d}" for i in range(accounts)]
    work: list[tuple[str, dict[str, Any]]] = []
    for i in range(commands):
        work.append(
            (
                "deposit",
                {
                    "account_id": rng.choice(ids),
                    "amount": f"{rng.randint(1, 500_000) / 100:.2f}",
                    "reference": f"invoice 2026-{i:06d} / customer payment",
                },
            )
        )
    for i in range(transfers):
        source, target = rng.sample(ids, 2)
        work.append(
            (
                "transfer",
                {
                    "from_account": source,
                    "to_account": target,
                    "amount": f"{rng.randint(1, 5_000) / 100:.2f}",
                    "reference": f"rent 2026-{i:06d}",
                },
            )
        )
    rng.shuffle(work)
    return Workload(ids, work)


def raw_event_rows(count: int, accounts: int, seed: int) -> list[tuple[str, dict[str, Any]]]:
    """(stream id, data) of `count` deposit-shaped events for the raw baseline."""
    rng = random.Random(seed)
    rows = []
    for i in range(count):
        account = f"acc-{rng.randrange(accounts):03d}"
        data = {
            "account_id": account,
            "amount": rng.randint(1, 500_000),
            "currency": CURRENCY,
            "reference": f"invoice 2026-{i:06d} / customer payment",
        }
        rows.append((f"account-{account}", data))
    return rows


# -- 1. the command path --------------------------------------------------------------------


def blocks_of(items: Sequence[Any], block: int, blocks: int) -> Sequence[Any]:
    """Block number `block` of `blocks` nearly equal slices of `items`."""
    size = len(items)
    return items[size * block // blocks : size * (block + 1) // blocks]


class CommandRunner:
    """The command path: `CommandBus.execute_fields` on a fresh `SqliteEventStore`.

    Opening the accounts and giving them an opening balance is set-up, not timed. Each
    command is timed on its own, so deposits and transfers are reported apart.
    """

    name = "commands"

    def __init__(self, path: Path, synchronous: str, work: Workload) -> None:
        self.path = path
        self.work = work
        self.store = new_store(path, synchronous)
        self.bus = CommandBus(self.store, LEDGER)
        self.deposit: list[float] = []
        self.transfer: list[float] = []
        self.deposit_cpu = 0.0
        """Thread CPU seconds of the deposits (the rest of their wall time is waiting)."""
        self.transfer_cpu = 0.0
        for account in work.accounts:
            self.bus.execute_fields(
                "open_account",
                {"account_id": account, "owner": f"Owner of {account}", "currency": CURRENCY},
                actor=ACTOR,
            )
            self.bus.execute_fields(
                "deposit",
                {"account_id": account, "amount": "100000.00", "reference": "opening balance"},
                actor=ACTOR,
            )

    def run(self, block: int, blocks: int) -> None:
        """Run block `block` of `blocks` of the workload's commands."""
        execute = self.bus.execute_fields
        clock = time.perf_counter
        cpu = time.thread_time
        for kind, fields in blocks_of(self.work.commands, block, blocks):
            start = clock()
            cpu_start = cpu()
            execute(kind, fields, actor=ACTOR)
            cpu_used = cpu() - cpu_start
            elapsed = clock() - start
            if kind == "deposit":
                self.deposit.append(elapsed)
                self.deposit_cpu += cpu_used
            else:
                self.transfer.append(elapsed)
                self.transfer_cpu += cpu_used

    def close(self) -> None:
        """Close what the runner opened."""
        self.store.close()


# -- 2. raw sqlite3, one transaction per event ------------------------------------------------


class RawSingleRunner:
    """Raw sqlite3: per event, build the row (JSON, sha256 chain) and BEGIN/INSERT/COMMIT.

    The schema is eventscope's (created by the store, then closed); the rows have the
    ledger's deposit shape and metadata, so the bytes written are comparable.
    """

    name = "raw"

    def __init__(
        self, path: Path, synchronous: str, events: list[tuple[str, dict[str, Any]]]
    ) -> None:
        self.path = path
        self.events = events
        fresh_schema(path)
        self.conn = raw_connection(path, synchronous)
        self.versions: dict[str, int] = {}
        self.prev = GENESIS
        self.position = 0
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def run(self, block: int, blocks: int) -> None:
        """Insert block `block` of `blocks` of the events, one transaction each."""
        conn = self.conn
        dumps = orjson.dumps
        sort = orjson.OPT_SORT_KEYS
        sha256 = hashlib.sha256
        versions = self.versions
        prev = self.prev
        position = self.position
        cpu_start = time.thread_time()
        start = time.perf_counter()
        for stream_id, data in blocks_of(self.events, block, blocks):
            command_id = str(uuid.uuid4())
            meta = {
                "actor": ACTOR,
                "command_id": command_id,
                "command_type": "deposit",
                "correlation_id": command_id,
                "causation_id": command_id,
            }
            position += 1
            version = versions.get(stream_id, 0) + 1
            versions[stream_id] = version
            head = (
                position,
                str(uuid.uuid4()),
                stream_id,
                "account",
                version,
                "MoneyDeposited",
                1,
                format_time(datetime.now(UTC)),
                dumps(data, option=sort).decode(),
                dumps(meta, option=sort).decode(),
            )
            digest = sha256(prev.encode() + dumps(head)).hexdigest()
            conn.execute("BEGIN")
            conn.execute(INSERT_EVENT, (*head, prev, digest))
            conn.execute("COMMIT")
            prev = digest
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.thread_time() - cpu_start
        self.prev = prev
        self.position = position

    def close(self) -> None:
        """Close what the runner opened."""
        self.conn.close()


# -- 3. the eventsourcing library -----------------------------------------------------------


@contextlib.contextmanager
def es_environment(path: Path) -> Iterator[None]:
    """Point the eventsourcing library at a SQLite file through its environment variables."""
    keys = ("PERSISTENCE_MODULE", "SQLITE_DBNAME")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ["PERSISTENCE_MODULE"] = "eventsourcing.sqlite"
    os.environ["SQLITE_DBNAME"] = str(path)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


_ES_PATCHED: dict[str, str] = {}


def patch_es_synchronous(synchronous: str) -> None:
    """Make every connection eventsourcing's SQLite pool opens use `synchronous`.

    eventsourcing 9.x (`eventsourcing/sqlite.py`, `SQLiteConnectionPool._create_connection`)
    connects with `isolation_level=None`, switches the file to WAL, and sets no other
    pragma, so its connections run at SQLite's compiled default (FULL here). The
    setting is per connection, so the pool's connection factory is wrapped to set it.
    """
    from eventsourcing.sqlite import SQLiteConnectionPool

    _ES_PATCHED["synchronous"] = synchronous
    if "original" in _ES_PATCHED:
        return
    original = SQLiteConnectionPool._create_connection
    _ES_PATCHED["original"] = "patched"

    def create_connection(self: SQLiteConnectionPool) -> Any:
        connection = original(self)
        connection._sqlite_conn.execute(f"PRAGMA synchronous = {_ES_PATCHED['synchronous']}")
        return connection

    SQLiteConnectionPool._create_connection = create_connection  # type: ignore[method-assign]


_ES_TYPES: dict[str, Any] = {}


def es_account_type() -> Any:
    """The eventsourcing aggregate used by the benchmark (defined once: topics are global)."""
    if "account" not in _ES_TYPES:
        from eventsourcing.domain import Aggregate, event

        class BenchAccount(Aggregate):
            """An account with the same deposit payload as the ledger's MoneyDeposited."""

            @event("Opened")
            def __init__(self, account_id: str, owner: str, currency: str) -> None:
                self.account_id = account_id
                self.owner = owner
                self.currency = currency
                self.balance = 0

            @event("MoneyDeposited")
            def deposit(self, account_id: str, amount: int, currency: str, reference: str) -> None:
                self.balance += amount

        _ES_TYPES["account"] = BenchAccount
    return _ES_TYPES["account"]


class EventsourcingRunner:
    """eventsourcing's `Application.save()` of one new event at a time, on its SQLite module.

    The aggregates are created and saved up front (untimed) and stay in memory, so a
    timed step is: trigger one event on an aggregate, `save()` it.
    """

    name = "eventsourcing"

    def __init__(
        self,
        path: Path,
        synchronous: str,
        events: list[tuple[str, dict[str, Any]]],
        accounts: int,
    ) -> None:
        from eventsourcing.application import Application

        self.path = path
        self.events = events
        patch_es_synchronous(synchronous)
        with es_environment(path):
            self.app: Application[Any] = Application()
        account_type = es_account_type()
        self.aggregates = {
            f"account-acc-{i:03d}": account_type(f"acc-{i:03d}", f"Owner {i}", CURRENCY)
            for i in range(accounts)
        }
        self.app.save(*self.aggregates.values())
        self.seconds = 0.0
        self.cpu_seconds = 0.0

    def run(self, block: int, blocks: int) -> None:
        """Save block `block` of `blocks` of the events, one `save()` each."""
        aggregates = self.aggregates
        save = self.app.save
        cpu_start = time.thread_time()
        start = time.perf_counter()
        for stream_id, data in blocks_of(self.events, block, blocks):
            aggregate = aggregates[stream_id]
            aggregate.deposit(**data)
            save(aggregate)
        self.seconds += time.perf_counter() - start
        self.cpu_seconds += time.thread_time() - cpu_start

    def pragmas(self) -> tuple[int, str]:
        """(PRAGMA synchronous, journal_mode) as the library's writer connection sees them."""
        datastore = self.app.recorder.datastore  # type: ignore[attr-defined]
        with datastore.get_connection(commit=True) as conn:
            sqlite_conn = conn._sqlite_conn
            return (
                int(sqlite_conn.execute("PRAGMA synchronous").fetchone()[0]),
                str(sqlite_conn.execute("PRAGMA journal_mode").fetchone()[0]),
            )

    def close(self) -> None:
        """Close what the runner opened."""
        self.app.close()


# -- 4. bulk -----------------------------------------------------------------------------


def run_bulk(path: Path, synchronous: str, events: list[PendingEvent]) -> float:
    """Seconds for `append_bulk(events)` into a fresh store (opening it is not timed)."""
    store = new_store(path, synchronous)
    try:
        start = time.perf_counter()
        store.append_bulk(events)
        elapsed = time.perf_counter() - start
    finally:
        store.close()
    return elapsed


def read_rows(path: Path) -> list[Row]:
    """Every stored event row of the file at `path`, in position order."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        return conn.execute(f"SELECT {CHAIN_COLUMNS} FROM events ORDER BY position").fetchall()


def run_raw_bulk(path: Path, synchronous: str, rows: list[Row], *, rebuild: bool) -> float:
    """Seconds for raw `executemany` of `rows` in one transaction into the same schema.

    With `rebuild`, the events table's indexes are dropped first and rebuilt before the
    commit (timed too).
    """
    fresh_schema(path)
    conn = raw_connection(path, synchronous)
    try:
        start = time.perf_counter()
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
        elapsed = time.perf_counter() - start
    finally:
        conn.close()
    return elapsed


# -- the run ----------------------------------------------------------------------------------


@dataclass
class Results:
    """Every round's figures (rates are per second)."""

    deposit_rate: list[float] = field(default_factory=list)
    deposit_us: list[float] = field(default_factory=list)
    deposit_cpu_us: list[float] = field(default_factory=list)
    transfer_rate: list[float] = field(default_factory=list)
    transfer_us: list[float] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    raw_rate: list[float] = field(default_factory=list)
    raw_us: list[float] = field(default_factory=list)
    raw_cpu_us: list[float] = field(default_factory=list)
    es_rate: list[float] = field(default_factory=list)
    es_cpu_us: list[float] = field(default_factory=list)
    es_vs_raw: list[float] = field(default_factory=list)
    load: list[float] = field(default_factory=list)
    bulk_rate: list[float] = field(default_factory=list)
    raw_bulk_rate: list[float] = field(default_factory=list)
    raw_rebuild_rate: list[float] = field(default_factory=list)
    vs_es: list[float] = field(default_factory=list)
    vs_raw: list[float] = field(default_factory=list)
    bulk_vs_raw: list[float] = field(default_factory=list)
    bulk_vs_rebuild: list[float] = field(default_factory=list)
    notes: dict[str, str] = field(default_factory=dict)


def wal_page_counts(folder: Path, args: argparse.Namespace) -> str:
    """WAL pages per one-event commit of each path (see bench/wal_pages.py)."""
    events = raw_event_rows(COMMITS, 5, seed=1)
    counts = [f"command {command_pages(folder / 'pages-cmd.db', args.synchronous):.2f}"]
    raw = RawSingleRunner(folder / "pages-raw.db", args.synchronous, events)
    counts.append(f"raw insert {runner_pages(raw, raw.path, len(events)):.2f}")
    if not args.skip_eventsourcing:
        es = EventsourcingRunner(folder / "pages-es.db", args.synchronous, events, 5)
        counts.append(f"eventsourcing save() {runner_pages(es, es.path, len(events)):.2f}")
    return ", ".join(counts)


def ordered(round_no: int, steps: list[tuple[str, Callable[[], None]]]) -> list[str]:
    """Run `steps` forwards on even rounds and backwards on odd ones; returns the order."""
    sequence = steps if round_no % 2 == 0 else steps[::-1]
    for _, step in sequence:
        step()
    return [name for name, _ in sequence]


def one_event_round(round_no: int, folder: Path, args: argparse.Namespace, results: Results) -> str:
    """One round of measurements 1-3; appends to `results`, returns how it ran.

    The three run side by side on their own files, in blocks of about `args.block`
    events: block by block, forwards then backwards (and starting the other way on odd
    rounds), so a burst of disk latency from a neighbour hits all of them alike.
    """
    work = make_workload(args.commands, args.transfers, args.accounts, seed=round_no)
    raw_events = raw_event_rows(args.commands, args.accounts, seed=round_no)
    commands = CommandRunner(folder / "commands.db", args.synchronous, work)
    raw = RawSingleRunner(folder / "raw.db", args.synchronous, raw_events)
    runners: list[CommandRunner | RawSingleRunner | EventsourcingRunner] = [commands, raw]
    es: EventsourcingRunner | None = None
    if not args.skip_eventsourcing:
        es = EventsourcingRunner(folder / "es.db", args.synchronous, raw_events, args.accounts)
        runners.append(es)
    blocks = max(1, -(-args.commands // args.block))
    try:
        for block in range(blocks):
            sequence = runners if (block + round_no) % 2 == 0 else runners[::-1]
            for runner in sequence:
                runner.run(block, blocks)
        es_pragmas = es.pragmas() if es is not None else None
    finally:
        for runner in runners:
            runner.close()

    deposit_s = sum(commands.deposit)
    deposit_rate = len(commands.deposit) / deposit_s
    deposit_us = deposit_s / len(commands.deposit) * 1e6
    results.deposit_rate.append(deposit_rate)
    results.deposit_us.append(deposit_us)
    results.deposit_cpu_us.append(commands.deposit_cpu / len(commands.deposit) * 1e6)
    if commands.transfer:
        transfer_s = sum(commands.transfer)
        results.transfer_rate.append(len(commands.transfer) / transfer_s)
        results.transfer_us.append(transfer_s / len(commands.transfer) * 1e6)
    results.latencies.extend(commands.deposit)
    raw_us = raw.seconds / len(raw_events) * 1e6
    results.raw_rate.append(1e6 / raw_us)
    results.raw_us.append(raw_us)
    results.raw_cpu_us.append(raw.cpu_seconds / len(raw_events) * 1e6)
    results.vs_raw.append(deposit_us / raw_us)
    results.notes["cmd_bytes"] = "data {:.0f} B + metadata {:.0f} B".format(
        *payload_bytes(commands.path)
    )
    results.notes["raw_bytes"] = "data {:.0f} B + metadata {:.0f} B".format(
        *payload_bytes(raw.path)
    )
    results.notes["journal"] = ", ".join(
        f"{runner.name} {journal_mode(runner.path)}" for runner in runners
    )
    if es is not None and es_pragmas is not None:
        es_rate = len(raw_events) / es.seconds
        results.es_rate.append(es_rate)
        results.es_cpu_us.append(es.cpu_seconds / len(raw_events) * 1e6)
        results.es_vs_raw.append(es.seconds / raw.seconds)
        results.vs_es.append(deposit_rate / es_rate)
        results.notes["es"] = (
            f"PRAGMA synchronous={es_pragmas[0]} (0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA), "
            f"journal_mode={es_pragmas[1]}"
        )
    names = " | ".join(runner.name for runner in runners)
    return f"{blocks} blocks of ~{args.commands // blocks} events, alternating ({names})"


def bulk_round(
    round_no: int,
    folder: Path,
    args: argparse.Namespace,
    events: list[PendingEvent],
    results: Results,
    rows: list[Row] | None,
) -> list[Row]:
    """One round of measurement 4, in alternating order; returns the rows loaded."""
    got: dict[str, float] = {}
    loaded: dict[str, list[Row]] = {}
    if rows is not None:
        loaded["rows"] = rows

    def bulk() -> None:
        got["bulk"] = run_bulk(folder / "bulk.db", args.synchronous, events)
        if "rows" not in loaded:
            loaded["rows"] = read_rows(folder / "bulk.db")

    def raw() -> None:
        got["raw"] = run_raw_bulk(
            folder / "raw_bulk.db", args.synchronous, loaded["rows"], rebuild=False
        )

    def rebuild() -> None:
        got["rebuild"] = run_raw_bulk(
            folder / "raw_rebuild.db", args.synchronous, loaded["rows"], rebuild=True
        )

    if "rows" not in loaded:
        bulk()  # the first round must produce the rows before the raw loads can use them
        steps = [("raw executemany", raw), ("raw + rebuild", rebuild)]
        order = ["append_bulk", *ordered(round_no, steps)]
    else:
        steps = [("append_bulk", bulk), ("raw executemany", raw), ("raw + rebuild", rebuild)]
        order = ordered(round_no, steps)
    count = len(events)
    results.bulk_rate.append(count / got["bulk"])
    results.raw_bulk_rate.append(count / got["raw"])
    results.raw_rebuild_rate.append(count / got["rebuild"])
    results.bulk_vs_raw.append(got["raw"] / got["bulk"])
    results.bulk_vs_rebuild.append(got["rebuild"] / got["bulk"])
    results.notes["bulk_journal"] = ", ".join(
        f"{name} {journal_mode(folder / f'{name}.db')}"
        for name in ("bulk", "raw_bulk", "raw_rebuild")
    )
    results.notes["bulk_bytes"] = "data {:.0f} B + metadata {:.0f} B".format(
        *payload_bytes(folder / "bulk.db")
    )
    for name in ("bulk.db", "raw_bulk.db", "raw_rebuild.db"):
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                (folder / f"{name}{suffix}").unlink()
    print(f"  bulk round {round_no + 1}: {' -> '.join(order)}", file=sys.stderr, flush=True)
    return loaded["rows"]


# -- reporting -------------------------------------------------------------------------------


def spread(values: Sequence[float], fmt: str) -> str:
    """`median [min-max]` of `values`, each formatted with `fmt`."""
    if not values:
        return "-"
    return f"{format(median(values), fmt)} [{format(min(values), fmt)}-{format(max(values), fmt)}]"


def percentile(values: Sequence[float], q: float) -> float:
    """The `q` quantile (0..1) of `values` (nearest rank)."""
    ordered_values = sorted(values)
    index = min(len(ordered_values) - 1, max(0, round(q * (len(ordered_values) - 1))))
    return ordered_values[index]


def verdict(ok: bool) -> str:
    """PASS or MISS."""
    return "PASS" if ok else "MISS"


def report(args: argparse.Namespace, results: Results, bulk_events: int) -> str:
    """The results as a compact table, with the goals' ratios and verdicts."""
    out = io.StringIO()
    # Issue 14: at FULL the fsync floor caps any schema near the library's one-index
    # table, so the goal is parity there and 1.3x at NORMAL (and OFF).
    es_goal = 1.0 if args.synchronous in ("FULL", "EXTRA") else 1.3

    def line(text: str = "") -> None:
        out.write(text + "\n")

    def row(label: str, rate: str, us: str = "", cpu: list[float] | None = None) -> None:
        cpu_text = f"{median(cpu):.0f}" if cpu else ""
        line(f"{label:<46} {rate:>28} {us:>18} {cpu_text:>7}".rstrip())

    es_version = version_of("eventsourcing")
    line(
        f"eventscope write benchmark   synchronous={args.synchronous}   journal_mode=WAL   "
        f"SQLite {sqlite3.sqlite_version}   Python {platform.python_version()}   "
        f"{os.cpu_count()} cores"
    )
    line(
        f"rounds={args.rounds} (1-3 interleaved in blocks of ~{args.block}, 4 alternating), "
        "medians [min-max]; "
        f"{args.commands} deposits + {args.transfers} transfers over {args.accounts} accounts, "
        f"bulk {bulk_events:,} events"
    )
    if results.load:
        line(
            "load average (1 min) during the run: "
            + " / ".join(f"{value:.1f}" for value in results.load)
            + (" -- busy machine: expect noisy figures" if max(results.load) > 1.5 else "")
        )
    line()
    line(f"{'measurement':<46} {'per second':>28} {'us per op':>18} {'cpu us':>7}")
    line("-" * 102)
    row(
        "1. command path: deposit (1 event)",
        spread(results.deposit_rate, ",.0f") + " cmd",
        spread(results.deposit_us, ".0f"),
        results.deposit_cpu_us,
    )
    if results.latencies:
        lat = results.latencies
        row(
            "   deposit latency p50 / p90 / p99 (us)",
            "",
            f"{percentile(lat, 0.5) * 1e6:.0f} / {percentile(lat, 0.9) * 1e6:.0f} / "
            f"{percentile(lat, 0.99) * 1e6:.0f}",
        )
    if results.transfer_rate:
        row(
            "1. command path: transfer (2 events)",
            spread(results.transfer_rate, ",.0f") + " cmd",
            spread(results.transfer_us, ".0f"),
        )
        row("   = events/s", spread([r * 2 for r in results.transfer_rate], ",.0f") + " ev")
    row(
        "2. raw sqlite3: 1 transaction per event",
        spread(results.raw_rate, ",.0f") + " ev",
        spread(results.raw_us, ".0f"),
        results.raw_cpu_us,
    )
    if results.es_rate:
        row(
            f"3. eventsourcing {es_version}: 1-event save()",
            spread(results.es_rate, ",.0f") + " ev",
            spread([1e6 / r for r in results.es_rate], ".0f"),
            results.es_cpu_us,
        )
    if results.bulk_rate:
        row("4. bulk: store.append_bulk", spread(results.bulk_rate, ",.0f") + " ev")
        row(
            "4. raw sqlite3: executemany, 1 transaction",
            spread(results.raw_bulk_rate, ",.0f") + " ev",
        )
        row(
            "   (info) raw executemany + index rebuild",
            spread(results.raw_rebuild_rate, ",.0f") + " ev",
        )
    line()
    line(
        f"{'goal (paired ratios, per round)':<58} {'median [min-max]':>22}  {'target':>8}  verdict"
    )
    line("-" * 102)
    if results.vs_es:
        value = median(results.vs_es)
        line(
            f"{'commands/s / eventsourcing save()/s':<58} {spread(results.vs_es, '.2f'):>22}  "
            f"{'>= ' + str(es_goal):>8}  {verdict(value >= es_goal)}"
        )
    value = median(results.vs_raw)
    line(
        f"{'us per command / us per raw 1-txn event':<58} {spread(results.vs_raw, '.2f'):>22}  "
        f"{'<= 1.2':>8}  {verdict(value <= 1.2)}"
    )
    if results.bulk_vs_raw:
        value = median(results.bulk_vs_raw)
        line(
            f"{'append_bulk ev/s / raw executemany ev/s':<58} "
            f"{spread(results.bulk_vs_raw, '.2f'):>22}  {'>= 0.5':>8}  {verdict(value >= 0.5)}"
        )
        line(
            f"{'(info) append_bulk / raw executemany + index rebuild':<58} "
            f"{spread(results.bulk_vs_rebuild, '.2f'):>22}"
        )
    if results.es_vs_raw:
        ratio = median(results.es_vs_raw)
        line(
            f"{'(info) us per eventsourcing save / us per raw event':<58} "
            f"{spread(results.es_vs_raw, '.2f'):>22}"
        )
        line(
            f"       so '>= {es_goal}x eventsourcing' needs a command in <= "
            f"{ratio / es_goal:.2f}x the raw time (the other goal allows 1.20x)"
        )
    line()
    for key, label in (
        ("cmd_bytes", "stored per command-path event"),
        ("raw_bytes", "stored per raw event"),
        ("bulk_bytes", "stored per bulk event"),
        ("journal", "journal modes (one-event files)"),
        ("bulk_journal", "journal modes (bulk files)"),
        ("es", "eventsourcing connection"),
        ("wal_pages", "WAL pages per one-event commit"),
    ):
        if key in results.notes:
            line(f"{label + ':':<34} {results.notes[key]}")
    return out.getvalue()


def profile_commands(args: argparse.Namespace, folder: Path) -> str:
    """cProfile of one command-path round: the top functions by cumulative time."""
    work = make_workload(args.commands, args.transfers, args.accounts, seed=99)
    runner = CommandRunner(folder / "profile.db", args.synchronous, work)
    profiler = cProfile.Profile()
    try:
        profiler.enable()
        runner.run(0, 1)
        profiler.disable()
    finally:
        runner.close()
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats(45)
    stats.sort_stats("tottime").print_stats(25)
    return text.getvalue()


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line, with defaults filled in."""
    parser = argparse.ArgumentParser(
        description="eventscope write-path benchmark (commands, raw sqlite3, eventsourcing, bulk)."
    )
    parser.add_argument(
        "--commands", type=int, default=3000, help="deposit commands per round (default 3000)"
    )
    parser.add_argument(
        "--transfers",
        type=int,
        default=None,
        help="transfer commands per round, mixed in (default: a fifth of --commands)",
    )
    parser.add_argument("--accounts", type=int, default=100, help="accounts (default 100)")
    parser.add_argument(
        "--bulk",
        type=int,
        default=200_000,
        help="events of the bulk load (default 200000; 0 skips it)",
    )
    parser.add_argument(
        "--block",
        type=int,
        default=50,
        help="events per block when interleaving measurements 1-3 (default 50)",
    )
    parser.add_argument("--rounds", type=int, default=5, help="rounds per measurement (default 5)")
    parser.add_argument(
        "--bulk-rounds", type=int, default=3, help="rounds of the bulk load (default 3)"
    )
    parser.add_argument(
        "--synchronous",
        type=str.upper,
        choices=SYNCHRONOUS_MODES,
        default="FULL",
        help="PRAGMA synchronous for every measurement (default FULL)",
    )
    parser.add_argument(
        "--dir", type=Path, default=None, help="where the temporary databases go (default: TMPDIR)"
    )
    parser.add_argument(
        "--skip-eventsourcing", action="store_true", help="do not measure the eventsourcing library"
    )
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also print a cProfile of one command-path round (not part of the figures)",
    )
    args = parser.parse_args(argv)
    if args.transfers is None:
        args.transfers = args.commands // 5
    if args.commands < 1 or args.rounds < 1 or args.accounts < 2 or args.block < 1:
        parser.error("--commands, --rounds and --block must be >= 1, --accounts >= 2")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run every measurement, print the table; 2 when eventsourcing is missing."""
    args = parse_args(argv)
    if not args.skip_eventsourcing and version_of("eventsourcing") == "-":
        print(
            "eventsourcing is not installed: pip install -e '.[bench]' (or --skip-eventsourcing)",
            file=sys.stderr,
        )
        return 2
    base = Path(tempfile.mkdtemp(prefix="eventscope-bench-write-", dir=args.dir))
    results = Results()
    started = time.perf_counter()
    try:
        results.load.append(os.getloadavg()[0])
        for round_no in range(args.rounds):
            folder = base / f"one-{round_no}"
            folder.mkdir()
            how = one_event_round(round_no, folder, args, results)
            print(f"  round {round_no + 1}: {how}", file=sys.stderr, flush=True)
            shutil.rmtree(folder)
        events: list[PendingEvent] = []
        if args.bulk > 0:
            events = list(ledger_history(args.bulk, accounts=max(100, args.bulk // 40)))
            rows: list[Row] | None = None
            for round_no in range(args.bulk_rounds):
                folder = base / f"bulk-{round_no}"
                folder.mkdir()
                rows = bulk_round(round_no, folder, args, events, results, rows)
                shutil.rmtree(folder)
        pages = base / "pages"
        pages.mkdir()
        results.notes["wal_pages"] = wal_page_counts(pages, args)
        results.load.append(os.getloadavg()[0])
        print(report(args, results, len(events)))
        print(
            f"(run took {time.perf_counter() - started:.0f} s; temporary files in {base}, removed)"
        )
        if args.profile:
            print(profile_commands(args, base))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
