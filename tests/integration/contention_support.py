"""The concurrency harness: writer processes on shared accounts, a projector daemon, a reader.

Used by `test_reliability_concurrency.py` (4 x 500 on the ledger, 3 x 150 on the
inventory) and `bench/reliability/run.py` (8 x 1,000). Run as a script it plays the
writers and the reader:

    python contention_support.py writer DB INDEX COMMANDS SEED DOMAIN
    python contention_support.py reader DB DOMAIN
"""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reliability_support import (
    HANG_GUARD,
    LEDGER_WORKLOAD,
    LOCKED,
    WORKLOADS,
    LineReader,
    StoreAudit,
    Workload,
    check_against_raw_events,
    final_states_check,
    run_cli,
    start_script,
    stop_all,
    subprocess_env,
)

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.envelope import GENESIS_HASH, AppendResult, Metadata, StreamAppend
from domain.errors import ConcurrencyConflict, DomainError, RuleRefused
from store.projector import Projector
from store.sqlite import SqliteEventStore

SCRIPT = Path(__file__).name
"""This module, as the script its processes run."""


class ConflictCounter:
    """The store, counting the conflicts its appends raise (each one a retry or a give-up)."""

    def __init__(self, store: SqliteEventStore) -> None:
        self.store = store
        self.conflicts = 0

    def append(self, streams: Sequence[StreamAppend], metadata: Metadata) -> AppendResult:
        try:
            return self.store.append(streams, metadata)
        except ConcurrencyConflict:
            self.conflicts += 1
            raise

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)


@dataclass
class ContentionFigures:
    """What contended writers, a projector daemon and a reader did."""

    writers: int = 0
    commands: int = 0
    ok: int = 0
    refused: int = 0
    exhausted: int = 0
    """Commands whose retries all met a conflict (reported to the user, nothing written)."""
    retries: int = 0
    """Conflicts met on append (each followed by a retry, or by giving up)."""
    events: int = 0
    reads: int = 0
    """`log`, `state` and `verify` runs by the reader while the writers ran."""
    workload: Workload = LEDGER_WORKLOAD

    def line(self) -> str:
        """The bench's one line."""
        return (
            f"concurrency ({self.workload.name}): {self.writers} writer processes x "
            f"{self.commands // self.writers} commands on {self.workload.shared} "
            f"(synchronous=FULL): {self.ok} ok, "
            f"{self.refused} refused by rules, {self.exhausted} conflict-exhausted, "
            f"{self.retries} conflicts retried; {self.events} events, none lost or duplicated, "
            f"no gaps; read models (projector daemon) equal a full replay; invariants (sums "
            f"per currency / per SKU) hold; {self.reads} concurrent reads; "
            "0 'database is locked' reached a user"
        )


BUSY_TIMEOUT_MS = 60_000
"""How long every process here waits for another's write lock. The promise tested is that
contention surfaces no lock error while the wait covers the machine's load: on a shared
2-core machine at load 10 a writer was seen waiting past the 5 s default
(`--busy-timeout`), which is a setting, not a lost or half-recorded command."""

PATIENCE = ("--busy-timeout", str(BUSY_TIMEOUT_MS))


def run_contention(
    db: Path,
    writers: int,
    commands: int,
    *,
    seed: int = 1,
    workload: Workload = LEDGER_WORKLOAD,
) -> ContentionFigures:
    """K writer processes x M commands on the workload's shared accounts (or SKUs and
    warehouses), with a projector daemon
    (`eventscope project --follow`) and a reader (`log`, `state`, `verify`) running.

    Checks: every writer's outcome is ok, refused by a rule or conflict-exhausted,
    and each is recorded exactly so (audit); no process ever printed `database is
    locked`; the daemon's read models equal a full replay; balances (stock levels)
    equal an independent sum of the raw events, and per currency balances ==
    deposited - withdrawn (per SKU on hand == received - shipped + adjustments).
    """
    workload.create(db)
    started: list[subprocess.Popen[str]] = []
    try:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "tui", "--db", str(db), *PATIENCE, "project", "--follow"],
            env={**subprocess_env(), "PYTHONFAULTHANDLER": "1"},
            preexec_fn=_default_sigint,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        started.append(daemon)
        assert daemon.stdout is not None
        statuses = LineReader(daemon.stdout)  # drained as it goes: a full pipe would stall it
        reader = start_script(SCRIPT, "reader", str(db), workload.name)
        started.append(reader)
        pool = [
            start_script(
                "contention_support.py",
                "writer",
                str(db),
                str(k),
                str(commands),
                str(seed * 1000 + k),
                workload.name,
            )
            for k in range(writers)
        ]
        started.extend(pool)
        for process in [reader, *pool]:
            _expect_ready(process)
        for process in [reader, *pool]:  # all at once: contention from the first command
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        results = [_finish(process, "writer") for process in pool]
        head = _head(db)
        with SqliteEventStore(db, read_only=True) as store:
            watcher = Projector(store, workload.projections, workload.model.catalog)
            caught_up = watcher.wait_for(head, timeout=HANG_GUARD)
            watcher.close()
        assert caught_up, f"the projector daemon did not reach #{head}"
        assert reader.stdin is not None
        reader.stdin.write("stop\n")
        reader.stdin.flush()
        reading = _finish(reader, "reader")
        _stop_daemon(daemon, statuses)
    finally:
        stop_all(started)
    figures = ContentionFigures(writers=writers, commands=writers * commands, workload=workload)
    acked: dict[str, list[int]] = {}
    refused: list[str] = []
    exhausted: list[str] = []
    for result in results:
        assert result["errors"] == [], result["errors"]
        assert result["ok"] + result["refused"] + result["exhausted"] == commands
        figures.ok += result["ok"]
        figures.refused += result["refused"]
        figures.exhausted += result["exhausted"]
        figures.retries += result["conflicts"]
        acked.update(result["acked"])
        refused += result["refused_ids"]
        exhausted += result["exhausted_ids"]
    assert reading["errors"] == [], reading["errors"]
    assert reading["reads"] > 0
    figures.reads = reading["reads"]
    audit = StoreAudit(db, workload)
    seen = audit.check(acked=acked, refused=refused, absent=exhausted)
    setup_commands = workload.setup_commands
    assert seen.commands == setup_commands + figures.ok, (
        f"{seen.commands} commands recorded, {setup_commands} + {figures.ok} acknowledged"
    )
    figures.events = seen.head
    _, replay = final_states_check(db, workload)
    check_against_raw_events(db, replay, workload)
    return figures


def _default_sigint() -> None:
    """In the child before exec: SIGINT as at a terminal, even if this process was
    started in the background (where shells start jobs with SIGINT ignored, and an
    ignored SIGINT would be inherited and Ctrl-C would never reach the daemon)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop_daemon(daemon: subprocess.Popen[str], statuses: LineReader) -> str:
    """Ctrl-C the projector daemon: it must stop cleanly, having shown no error.

    Returns its status lines. If it ignores SIGINT, its threads' stacks (faulthandler,
    on SIGABRT) go into the failure.
    """
    assert daemon.stderr is not None
    daemon.send_signal(signal.SIGINT)
    try:
        code = daemon.wait(timeout=HANG_GUARD)
    except subprocess.TimeoutExpired:
        daemon.send_signal(signal.SIGABRT)
        daemon.wait(timeout=HANG_GUARD)
        stacks = daemon.stderr.read()
        raise AssertionError(
            f"the projector daemon ignored SIGINT; its stacks:\n{stacks}"
        ) from None
    errors = daemon.stderr.read()
    out = "\n".join(statuses.drain())
    assert code == 0, errors
    assert LOCKED not in out + errors and "error" not in out, out + errors
    return out


def _expect_ready(process: subprocess.Popen[str]) -> None:
    """Wait for the process's `ready` (it has opened the store and waits for `go`)."""
    assert process.stdout is not None
    line = process.stdout.readline().strip()
    if line != "ready":
        process.kill()
        _, errors = process.communicate(timeout=HANG_GUARD)
        raise AssertionError(f"{process.args}: {line!r} instead of ready: {errors}")


def _finish(process: subprocess.Popen[str], role: str) -> dict[str, Any]:
    out, errors = process.communicate(timeout=HANG_GUARD * 5)
    assert process.returncode == 0, f"{role} failed: {errors}"
    assert not errors.strip(), f"{role} wrote to stderr: {errors}"
    assert LOCKED not in out, f"{role} saw '{LOCKED}'"
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _head(db: Path) -> int:
    with closing(sqlite3.connect(db)) as conn:
        return int(conn.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0])


def _writer(db: str, index: int, commands: int, seed: int, domain: str) -> None:
    """One contended writer: M commands through the real bus, outcomes counted."""
    workload = WORKLOADS[domain]
    store = SqliteEventStore(db, synchronous="FULL", busy_timeout_ms=BUSY_TIMEOUT_MS)
    counter = ConflictCounter(store)
    ids = SequentialIds(f"w{index}")
    bus = CommandBus(counter, workload.model, ids=ids)  # type: ignore[arg-type]
    rng = random.Random(seed)
    result: dict[str, Any] = {
        "ok": 0,
        "refused": 0,
        "exhausted": 0,
        "acked": {},
        "refused_ids": [],
        "exhausted_ids": [],
        "errors": [],
    }
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(commands):
        kind, fields = workload.random_command(rng)
        command_id = f"w{index}-{n}"
        try:
            appended = bus.execute_fields(kind, fields, actor=f"w{index}", command_id=command_id)
        except RuleRefused:
            result["refused"] += 1
            result["refused_ids"].append(command_id)
        except ConcurrencyConflict:
            result["exhausted"] += 1
            result["exhausted_ids"].append(command_id)
        except DomainError as exc:  # would reach a user: the test fails on any
            result["errors"].append(f"{command_id}: {exc}")
        else:
            result["ok"] += 1
            result["acked"][command_id] = list(appended.positions)
    result["conflicts"] = counter.conflicts
    store.close()
    print(json.dumps(result), flush=True)


def _state_problems(domain: str, states: dict[str, Any]) -> list[str]:
    """What `state --json` at the head must never show: an invariant not holding (a
    transfer or a move seen half-done), an account overdrawn, a warehouse below zero."""
    problems: list[str] = []
    if domain == "ledger":
        for currency, row in states["ledger_totals"].items():
            if row["invariant"] != "holding":
                problems.append(f"state showed {currency} {row['invariant']}")
        for account, row in states["account_balances"].items():
            if row["balance"] < -row["overdraft_limit"]:
                problems.append(f"state showed {account} overdrawn")
        return problems
    for sku, row in states["stock_invariant"].items():
        if row["invariant"] != "holding" or row["in_transit"]:
            problems.append(f"state showed {sku} {row['invariant']}, {row['in_transit']} moving")
    for location, row in states["stock_levels"].items():
        if row["on_hand"] < 0:
            problems.append(f"state showed {location} below zero")
    return problems


def _reader(db: str, domain: str) -> None:
    """Reads as users do while writers write: `log`, `state` (both modes), `verify`.

    Every read must succeed; `log` must continue gap-free and chain-linked from the
    last line it saw; `state` at the head must show the invariant holding (a transfer
    or a move is never seen half-done) and no account beyond its overdraft limit, no
    warehouse below zero.
    """
    print("ready", flush=True)
    sys.stdin.readline()
    stop = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.readline(), stop.set()), daemon=True).start()
    errors: list[str] = []
    reads = 0
    position, head_hash = 0, GENESIS_HASH
    while not stop.is_set() or reads == 0:
        reads += 1
        where = ("--read-only",) if reads % 2 else ()
        r = run_cli("--db", db, *PATIENCE, *where, "log", "--json", "--from", str(position + 1))
        for line in r.out.splitlines():
            event = json.loads(line)
            if event["position"] != position + 1 or event["prev_hash"] != head_hash:
                errors.append(f"log jumped from #{position} to {event['position']}")
                break
            position, head_hash = event["position"], event["hash"]
        r2 = run_cli("--db", db, *PATIENCE, *where, "state", "--json")
        if r2.code == 0:
            errors += _state_problems(domain, json.loads(r2.out))
        r3 = (
            run_cli("--db", db, *PATIENCE, "--read-only", "verify", "--json")
            if reads % 10 == 0
            else None
        )
        for result in (r, r2, r3):
            if result is not None and (result.code != 0 or result.err.strip()):
                errors.append(f"exit {result.code}: {result.err.strip()}")
    print(json.dumps({"reads": reads, "position": position, "errors": errors}), flush=True)


if __name__ == "__main__":
    role = sys.argv[1]
    if role == "writer":
        _writer(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
    elif role == "reader":
        _reader(sys.argv[2], sys.argv[3])
    else:
        raise SystemExit(f"unknown role {role!r}")
