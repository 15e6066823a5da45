"""The reliability harness's common parts: the domains' workloads, the audit of a file,
processes.

Shared by `tests/integration/test_reliability_*.py` (quick sizes) and
`bench/reliability/run.py` (large sizes), through `kill_support`, `contention_support`,
`tamper_support`, `bad_input_support` and `fuzz_support`, so both prove the same things
the same way. Every check raises AssertionError with a message naming what broke; the
figures that come back are what the bench prints.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import random
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from cli_support import CliResult
from harness_stores import (
    AnyStore,
    Target,
    add_json_extract,
    is_postgres,
    open_store,
    raw_connection,
)

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.envelope import GENESIS_HASH
from domain.inventory import INVENTORY
from domain.inventory.projections import INVENTORY_PROJECTIONS
from domain.ledger import LEDGER
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.model import DomainModel
from domain.projection import Projection, StateMap, fold
from store.hashchain import canonical_row, chain_hash
from store.projector import Projector
from tui.cli import main as cli_main

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
HANG_GUARD = 120.0
"""Seconds after which a wait is declared hung (never a timing assertion)."""

ACCOUNTS: dict[str, str] = {
    "e1": "EUR",
    "e2": "EUR",
    "e3": "EUR",
    "e4": "EUR",
    "y1": "JPY",
    "y2": "JPY",
}
"""Six shared accounts in two currencies; transfers stay within a currency."""
OPENING_FUNDS = "500"
LEDGER_EVENTS: dict[str, tuple[str, ...]] = {
    "open_account": ("AccountOpened",),
    "deposit": ("MoneyDeposited",),
    "withdraw": ("MoneyWithdrawn",),
    "transfer": ("TransferSent", "TransferReceived"),
}
"""The events each ledger command type the harness runs must record, in order."""
SKUS: tuple[str, ...] = ("BOLT-M8", "NUT-M8", "GLV-M")
WAREHOUSES: tuple[str, ...] = ("ams", "rtm", "ber")
"""Three shared SKUs; the first two warehouses are stocked at setup, `ber` is opened by
the first receipt, move or count there (a command of three events)."""
OPENING_STOCK = 500
_OPENED = "StockLocationOpened"
INVENTORY_EVENTS: dict[str, tuple[str, ...]] = {
    "register_product": ("ProductRegistered",),
    "receive_stock": ("StockReceived",),
    "ship_stock": ("StockShipped",),
    "move_stock": ("StockMovedOut", "StockMovedIn"),
    "adjust_stock": ("StockAdjusted",),
}
"""The events each inventory command type records, after a `StockLocationOpened` when it
is the first stock of the product at a warehouse (not for `ship_stock`)."""
LOCKED = "database is locked"


def subprocess_env() -> dict[str, str]:
    """The environment for the harness's processes: the repo and this folder importable."""
    path = os.pathsep.join([str(ROOT), str(HERE)])
    env = {**os.environ, "PYTHONPATH": path}
    for name in ("EVENTSCOPE_KEY", "EVENTSCOPE_KEY_FILE", "EVENTSCOPE_DB"):
        env.pop(name, None)
    return env


def run_cli(*args: str) -> CliResult:
    """`eventscope ARGS...` in this process, its stdout and stderr captured.

    Anything but a clean exit code (an exception escaping `main`) propagates, so a
    traceback a user would see fails the caller.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli_main(list(args))
    return CliResult(code, out.getvalue(), err.getvalue())


# -- the ledger every suite works on ------------------------------------------------------


def _create(db: Target, domain: str, key: bytes | None, synchronous: str) -> AnyStore:
    """A new store at `db` (a SQLite file or a PostgreSQL database) for `domain`."""
    if is_postgres(db):
        add_json_extract(str(db))
    return open_store(db, create=True, domain=domain, key=key, synchronous=synchronous)


def create_ledger(db: Target, *, key: bytes | None = None, synchronous: str = "FULL") -> None:
    """A new database with the six shared accounts opened and funded (12 events)."""
    store = _create(db, "ledger", key, synchronous)
    try:
        bus = CommandBus(store, LEDGER, ids=SequentialIds("setup"))
        for n, (account, currency) in enumerate(ACCOUNTS.items()):
            fields = {"account_id": account, "owner": f"Owner {account}", "currency": currency}
            bus.execute_fields("open_account", fields, actor="setup", command_id=f"setup-o{n}")
            bus.execute_fields(
                "deposit",
                {"account_id": account, "amount": OPENING_FUNDS},
                actor="setup",
                command_id=f"setup-d{n}",
            )
    finally:
        store.close()


def create_inventory(db: Target, *, key: bytes | None = None, synchronous: str = "FULL") -> None:
    """A new inventory with the three shared SKUs registered and stocked at `ams` and
    `rtm`: 15 events (each SKU registered before its first receipt, and each receipt
    opening its warehouse first), so position 6 is a receipt, as in the ledger a deposit."""
    store = _create(db, "inventory", key, synchronous)
    try:
        bus = CommandBus(store, INVENTORY, ids=SequentialIds("setup"))
        for warehouse in WAREHOUSES[:2]:
            for n, sku in enumerate(SKUS):
                fields: dict[str, object] = {"sku": sku, "name": f"Thing {sku}", "unit": "each"}
                if warehouse == WAREHOUSES[0]:
                    command_id = f"setup-p{n}"
                    bus.execute_fields(
                        "register_product", fields, actor="setup", command_id=command_id
                    )
                fields = {"sku": sku, "warehouse": warehouse, "quantity": OPENING_STOCK}
                fields["supplier_ref"] = "DN-setup"
                command_id = f"setup-{warehouse}-{n}"
                bus.execute_fields("receive_stock", fields, actor="setup", command_id=command_id)
    finally:
        store.close()


def random_command(rng: random.Random) -> tuple[str, dict[str, str]]:
    """A deposit, withdrawal or transfer on the shared accounts (half are transfers).

    Amounts are sized so that some withdrawals and transfers are refused for funds.
    """
    account = rng.choice(list(ACCOUNTS))
    currency = ACCOUNTS[account]
    amount = str(rng.randint(1, 200)) if currency == "JPY" else f"{rng.randint(1, 20000) / 100:.2f}"
    roll = rng.random()
    if roll < 0.3:
        return "deposit", {"account_id": account, "amount": amount}
    if roll < 0.5:
        return "withdraw", {"account_id": account, "amount": amount}
    peers = [a for a, c in ACCOUNTS.items() if c == currency and a != account]
    return "transfer", {"from_account": account, "to_account": rng.choice(peers), "amount": amount}


def random_inventory_command(rng: random.Random) -> tuple[str, dict[str, object]]:
    """A receipt, shipment, move (about half) or stock-take on the shared SKUs.

    Quantities are sized so that some shipments and moves are refused for stock, and
    now and then a discontinuation is tried (refused: the product holds stock).
    """
    sku = rng.choice(SKUS)
    warehouse = rng.choice(WAREHOUSES)
    quantity = rng.randint(1, 300)
    roll = rng.random()
    if roll < 0.2:
        fields: dict[str, object] = {"warehouse": warehouse, "supplier_ref": "DN-1"}
        return "receive_stock", {"sku": sku, "quantity": quantity, **fields}
    if roll < 0.4:
        fields = {"warehouse": warehouse, "order_ref": "SO-1"}
        return "ship_stock", {"sku": sku, "quantity": quantity, **fields}
    if roll < 0.9:
        other = rng.choice([w for w in WAREHOUSES if w != warehouse])
        fields = {"from_warehouse": warehouse, "to_warehouse": other}
        return "move_stock", {"sku": sku, "quantity": quantity, **fields}
    if roll < 0.98:
        fields = {"warehouse": warehouse, "counted": rng.randint(1, 400), "reason": "count"}
        return "adjust_stock", {"sku": sku, **fields}
    return "discontinue_product", {"sku": sku, "reason": "delisted"}


# -- what differs between the domains the harness runs for ---------------------------------


Rows = list[tuple[Any, ...]]
"""One command's event rows: position, event_id, stream_id, stream_type, version, type,
schema_version, recorded_at, data, metadata, prev_hash, hash."""


def _check_ledger_group(command_id: str, command_type: str, events: Rows) -> bool:
    """A ledger command's events; True for a transfer (both halves, checked)."""
    types = tuple(row[5] for row in events)
    expected = LEDGER_EVENTS.get(command_type)
    assert types == expected, f"command {command_id} ({command_type}) recorded {types}"
    if command_type != "transfer":
        return False
    sent, received = (json.loads(row[8]) for row in events)
    assert sent == received, f"transfer {command_id}: halves differ"
    assert events[0][2] == f"account-{sent['from_account']}"
    assert events[1][2] == f"account-{sent['to_account']}"
    return True


def _check_inventory_group(command_id: str, command_type: str, events: Rows) -> bool:
    """An inventory command's events; True for a move (both halves, checked)."""
    types = tuple(row[5] for row in events)
    label = f"command {command_id} ({command_type}) recorded {types}"
    if command_type == "discontinue_product":
        assert types[-1:] == ("ProductDiscontinued",), label
        assert all(t == "StockLocationClosed" for t in types[:-1]), label
        return False
    expected = INVENTORY_EVENTS.get(command_type)
    assert expected is not None, label
    opened = types[:1] == (_OPENED,) and command_type not in ("register_product", "ship_stock")
    core = events[1:] if opened else events
    assert tuple(row[5] for row in core) == expected, label
    data = [json.loads(row[8]) for row in events]
    if opened:
        assert events[0][2] == f"product-{data[0]['sku']}", label
    if command_type != "move_stock":
        return False
    out, moved_in = data[-2:]
    assert out == moved_in, f"move {command_id}: halves differ"
    assert out["from_warehouse"] != out["to_warehouse"], f"move {command_id}: to itself"
    assert core[0][2] == f"stock-{out['sku']}@{out['from_warehouse']}", label
    assert core[1][2] == f"stock-{out['sku']}@{out['to_warehouse']}", label
    if opened:
        assert data[0]["warehouse"] == out["to_warehouse"], label
    return True


def check_ledger_invariants(states: StateMap) -> None:
    """Per currency the sum of balances is deposits minus withdrawals; no overdraft passed."""
    for currency, row in states["ledger_totals"].rows.items():
        assert row["invariant"] == "holding", f"{currency}: {row}"
        assert row["balances"] == row["deposited"] - row["withdrawn"], f"{currency}: {row}"
    for account, row in states["account_balances"].rows.items():
        assert row["balance"] >= -row["overdraft_limit"], f"{account} is overdrawn: {row}"


def check_inventory_invariants(states: StateMap) -> None:
    """Per SKU received - shipped + adjustments == on hand, nothing in transit, and no
    warehouse below zero."""
    for sku, row in states["stock_invariant"].rows.items():
        assert row["invariant"] == "holding", f"{sku}: {row}"
        assert row["in_transit"] == 0, f"{sku}: {row}"
        expected = row["received"] - row["shipped"] + row["adjusted"]
        assert row["on_hand"] == expected, f"{sku}: {row}"
    for location, row in states["stock_levels"].rows.items():
        assert row["on_hand"] >= 0, f"{location} is below zero: {row}"


def _raw_ledger_check(conn: sqlite3.Connection, states: StateMap) -> None:
    """Balances and per-currency sums recomputed from the raw rows with SQL alone."""
    rows = conn.execute(
        "SELECT stream_id, type, json_extract(data, '$.amount'), "
        "json_extract(data, '$.currency') FROM events WHERE json_extract(data, '$.amount') "
        "IS NOT NULL"
    ).fetchall()
    balances: dict[str, int] = {}
    deposited: dict[str, int] = {}
    withdrawn: dict[str, int] = {}
    for stream_id, kind, amount, currency in rows:
        account = stream_id.removeprefix("account-")
        sign = 1 if kind in ("MoneyDeposited", "TransferReceived") else -1
        balances[account] = balances.get(account, 0) + sign * amount
        if kind == "MoneyDeposited":
            deposited[currency] = deposited.get(currency, 0) + amount
        elif kind == "MoneyWithdrawn":
            withdrawn[currency] = withdrawn.get(currency, 0) + amount
    shown = {k: row["balance"] for k, row in states["account_balances"].rows.items()}
    assert shown == balances, f"balances {shown} != raw sums {balances}"
    for currency in set(ACCOUNTS.values()):
        in_currency = sum(b for a, b in balances.items() if ACCOUNTS[a] == currency)
        net = deposited.get(currency, 0) - withdrawn.get(currency, 0)
        assert in_currency == net, f"{currency}: balances {in_currency} != in - out {net}"
        assert states["ledger_totals"].rows[currency]["balances"] == in_currency


_STOCK_SIGN = {"StockReceived": 1, "StockMovedIn": 1, "StockShipped": -1, "StockMovedOut": -1}


def _raw_inventory_check(conn: sqlite3.Connection, states: StateMap) -> None:
    """Stock per warehouse and the per-SKU sums recomputed from the raw rows alone."""
    rows = conn.execute(
        "SELECT stream_id, type, json_extract(data, '$.quantity'), "
        "json_extract(data, '$.counted'), json_extract(data, '$.difference') FROM events "
        "WHERE stream_id LIKE 'stock-%' ORDER BY position"
    ).fetchall()
    levels: dict[str, int] = {}
    flows: dict[str, int] = {}
    for stream_id, kind, quantity, counted, difference in rows:
        location = stream_id.removeprefix("stock-")
        sku = location.partition("@")[0]
        if kind == "StockAdjusted":
            levels[location] = counted
            flows[sku] = flows.get(sku, 0) + difference
        elif kind in _STOCK_SIGN:
            levels[location] = levels.get(location, 0) + _STOCK_SIGN[kind] * quantity
            if kind in ("StockReceived", "StockShipped"):
                flows[sku] = flows.get(sku, 0) + _STOCK_SIGN[kind] * quantity
    shown = {k: row["on_hand"] for k, row in states["stock_levels"].rows.items()}
    assert shown == levels, f"stock levels {shown} != raw sums {levels}"
    for sku, net in flows.items():
        on_hand = sum(n for location, n in levels.items() if location.startswith(f"{sku}@"))
        assert on_hand == net, f"{sku}: on hand {on_hand} != received - shipped + adjusted {net}"
        assert states["stock_invariant"].rows[sku]["on_hand"] == on_hand


@dataclass(frozen=True)
class Workload:
    """A domain the reliability harness runs for: its setup, traffic and checks."""

    name: str
    model: DomainModel
    projections: Sequence[Projection]
    create: Callable[..., None]
    """`create(db, key=..., synchronous=...)`: the shared setup, as the suites start it."""
    setup_commands: int
    random_command: Callable[[random.Random], tuple[str, dict[str, Any]]]
    check_group: Callable[[str, str, Rows], bool]
    """Checks one command's events (AssertionError if wrong); True for a two-sided one."""
    check_invariants: Callable[[StateMap], None]
    check_raw: Callable[[sqlite3.Connection, StateMap], None]
    shared: str
    """What the writers share, for the bench's lines."""
    pairs: str
    """What the two-sided commands are called."""


LEDGER_WORKLOAD = Workload(
    "ledger",
    LEDGER,
    LEDGER_PROJECTIONS,
    create_ledger,
    2 * len(ACCOUNTS),
    random_command,
    _check_ledger_group,
    check_ledger_invariants,
    _raw_ledger_check,
    f"{len(ACCOUNTS)} shared accounts",
    "transfers",
)
INVENTORY_WORKLOAD = Workload(
    "inventory",
    INVENTORY,
    INVENTORY_PROJECTIONS,
    create_inventory,
    len(SKUS) * 3,
    random_inventory_command,
    _check_inventory_group,
    check_inventory_invariants,
    _raw_inventory_check,
    f"{len(SKUS)} shared SKUs x {len(WAREHOUSES)} warehouses",
    "moves",
)
WORKLOADS: dict[str, Workload] = {w.name: w for w in (LEDGER_WORKLOAD, INVENTORY_WORKLOAD)}
"""By domain name (what the harness's processes are told)."""


# -- the audit of a database file ---------------------------------------------------------


@dataclass
class AuditFigures:
    """What one audit saw."""

    head: int = 0
    commands: int = 0
    pairs: int = 0
    """Two-sided commands (transfers, moves), each with both halves."""


class StoreAudit:
    """Checks a database file with plain sqlite3 (a PostgreSQL database with plain
    psycopg), independently of eventscope's reads.

    Each `check` covers the whole file's structure (SQLite: `PRAGMA integrity_check`; positions
    1..head without gaps, unique event ids) and the events added since the last check:
    every command's events adjacent, complete (a transfer or a move has both halves,
    equal, on the right streams; see `Workload.check_group`) and matching its
    `commands` row, and the hash chain recomputed from the last checked head. With
    `full=True` the product's own `verify` walks the whole chain as well; the bench
    uses it every few cycles, the tests every time.
    """

    def __init__(
        self, db: Target, workload: Workload = LEDGER_WORKLOAD, *, key: bytes | None = None
    ) -> None:
        self.db = db
        self.workload = workload
        self.key = key
        self.checked = 0
        self.head_hash = GENESIS_HASH
        self.last_at = ""
        self.versions: dict[str, int] = {}
        self.commands: set[str] = set()
        self.pairs = 0

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        # Read-write, as the next writer would open it: a crashed writer's WAL is
        # recovered here, exactly as eventscope would recover it. On PostgreSQL one
        # REPEATABLE READ snapshot, so every query of the audit sees the same rows.
        with raw_connection(self.db, HANG_GUARD) as conn:
            begin = "BEGIN ISOLATION LEVEL REPEATABLE READ" if is_postgres(self.db) else "BEGIN"
            conn.execute(begin)
            yield conn
            conn.execute("COMMIT")

    def check(
        self,
        *,
        acked: Mapping[str, Sequence[int]] | None = None,
        refused: Iterable[str] = (),
        absent: Iterable[str] = (),
        full: bool = True,
    ) -> AuditFigures:
        """Audit the file; `acked` commands must hold exactly these positions, `refused`
        ones a refusals row and no events, `absent` ones nothing at all."""
        with self._connection() as conn:
            if not is_postgres(self.db):  # the server checks its own pages
                result = conn.execute("PRAGMA integrity_check").fetchall()
                assert result == [("ok",)], f"integrity_check: {result}"
            count, low, high, ids = conn.execute(
                "SELECT count(*), min(position), max(position), count(DISTINCT event_id) "
                "FROM events"
            ).fetchone()
            head = high or 0
            assert count == head and (low or 1) == 1, (
                f"positions are not 1..{head} without gaps: {count} events, {low}..{high}"
            )
            assert ids == count, f"{count - ids} duplicated event ids"
            assert head >= self.checked, f"the head went back from {self.checked} to {head}"
            self._check_new_events(conn, head)
            self._check_commands(conn, acked or {}, refused, absent)
        if full:
            with open_store(self.db, key=self.key, read_only=True) as store:
                report = store.verify()
            assert report.ok, f"verify: {report.message}"
            assert report.head.hash == self.head_hash
        return AuditFigures(head=head, commands=len(self.commands), pairs=self.pairs)

    def _check_new_events(self, conn: sqlite3.Connection, head: int) -> None:
        rows = conn.execute(
            "SELECT position, event_id, stream_id, stream_type, version, type, schema_version, "
            "recorded_at, data, metadata, prev_hash, hash FROM events WHERE position > ? "
            "ORDER BY position",
            (self.checked,),
        ).fetchall()
        groups: list[tuple[str, str, list[tuple[Any, ...]]]] = []
        for row in rows:
            self._check_link(row)
            metadata = json.loads(row[9])
            command_id = metadata["command_id"]
            if groups and groups[-1][0] == command_id:
                groups[-1][2].append(row)
                continue
            assert command_id not in self.commands, (
                f"command {command_id} has events apart from each other (again at {row[0]})"
            )
            self.commands.add(command_id)
            groups.append((command_id, metadata["command_type"], [row]))
        for command_id, command_type, events in groups:
            self._check_group(conn, command_id, command_type, events)
        self.checked = head

    def _check_link(self, row: tuple[Any, ...]) -> None:
        """The chain, recomputed from its definition (independently of `verify`)."""
        position, _, stream_id, _, version = row[:5]
        assert position == self.checked + 1, f"position {self.checked + 1} is missing"
        expected_version = self.versions.get(stream_id, 0) + 1
        assert version == expected_version, (
            f"position {position}: {stream_id} version {version}, expected {expected_version}"
        )
        assert row[10] == self.head_hash, f"position {position}: prev_hash does not link"
        digest = chain_hash(self.head_hash, canonical_row(row), self.key)
        assert digest == row[11], f"position {position}: hash does not match its contents"
        self.versions[stream_id] = version
        self.checked, self.head_hash, self.last_at = position, digest, row[7]

    def _check_group(
        self,
        conn: sqlite3.Connection,
        command_id: str,
        command_type: str,
        events: list[tuple[Any, ...]],
    ) -> None:
        """One command's events: all of them, in order, and its commands row."""
        self.pairs += self.workload.check_group(command_id, command_type, events)
        row = conn.execute(
            "SELECT first_position, last_position FROM commands WHERE command_id = ?",
            (command_id,),
        ).fetchone()
        span = (events[0][0], events[-1][0])
        assert row == span, f"command {command_id}: commands row {row}, events at {span}"

    def _check_commands(
        self,
        conn: sqlite3.Connection,
        acked: Mapping[str, Sequence[int]],
        refused: Iterable[str],
        absent: Iterable[str],
    ) -> None:
        (rows,) = conn.execute("SELECT count(*) FROM commands").fetchone()
        assert rows == len(self.commands), (
            f"{rows} commands rows but {len(self.commands)} commands recorded events"
        )
        for command_id, positions in acked.items():
            row = conn.execute(
                "SELECT first_position, last_position FROM commands WHERE command_id = ?",
                (command_id,),
            ).fetchone()
            assert row is not None, f"acknowledged command {command_id} is lost"
            assert row == (positions[0], positions[-1]), (
                f"acknowledged command {command_id} was at {list(positions)}, now at {row}"
            )
        for command_id in refused:
            found = conn.execute(
                "SELECT count(*) FROM refusals WHERE command_id = ?", (command_id,)
            ).fetchone()[0]
            assert found == 1, f"refused command {command_id} has {found} refusals rows"
            assert command_id not in self.commands, f"refused command {command_id} has events"
        for command_id in absent:
            assert command_id not in self.commands, f"command {command_id} should have no events"


def final_states_check(
    db: Target, workload: Workload = LEDGER_WORKLOAD, *, key: bytes | None = None
) -> tuple[int, StateMap]:
    """The read models a (re)started projector catches up to must equal a full replay.

    Waits (hang guard only) for the lease a killed projector may still hold to lapse.
    Returns (the checkpoint found before this catch-up, the replayed states).
    """
    from projector_support import assert_same_states, persisted

    with open_store(db, key=key) as store:
        projections = workload.projections
        projector = Projector(store, projections, workload.model.catalog, lease_seconds=5)
        try:
            resumed_from = projector.checkpoint()
            head = store.head().position
            deadline = time.monotonic() + HANG_GUARD
            while True:
                status = projector.catch_up()
                if status.role == "leader" and status.checkpoint == head:
                    break
                assert time.monotonic() < deadline, f"projector never caught up: {status}"
                time.sleep(0.05)
            replay = fold(projections, store.iter_all())
            assert_same_states(persisted(projector), replay)
        finally:
            projector.close()
    workload.check_invariants(replay)
    return resumed_from, replay


# -- processes ------------------------------------------------------------------------------


class LineReader:
    """Reads a child's stdout lines on a thread, so waits can have a hang guard."""

    def __init__(self, stream: TextIO) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: TextIO) -> None:
        for line in stream:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def drain(self) -> list[str]:
        """Every line up to the end of the stream (call once the process has ended)."""
        lines: list[str] = []
        while (line := self.lines.get(timeout=HANG_GUARD)) is not None:
            lines.append(line)
        return lines

    def next(self, what: str, timeout: float = HANG_GUARD) -> str:
        try:
            line = self.lines.get(timeout=timeout)
        except queue.Empty:
            raise AssertionError(f"no {what} after {timeout:.0f}s") from None
        if line is None:
            raise AssertionError(f"the process ended before its {what}")
        return line


def start_script(script: str, *args: str) -> subprocess.Popen[str]:
    """A support module of this folder as a script in a new process, talking over pipes."""
    return subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        env=subprocess_env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_all(processes: Iterable[subprocess.Popen[str]]) -> None:
    """Kill what is still running (after a failure) and reap everything."""
    for process in processes:
        if process.poll() is None:
            process.kill()
        with contextlib.suppress(subprocess.TimeoutExpired, ValueError):
            process.communicate(timeout=30)


def check_against_raw_events(
    db: Target, states: StateMap, workload: Workload = LEDGER_WORKLOAD
) -> None:
    """The read models recomputed from the raw rows with SQL alone (balances and
    per-currency sums; stock levels and per-SKU sums)."""
    with raw_connection(db, HANG_GUARD) as conn:
        workload.check_raw(conn, states)
