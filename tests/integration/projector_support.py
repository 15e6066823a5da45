"""Helpers for the projector tests: stores with history, expected states, a clock.

Most tests use the ledger; the domain-independent promises also run for the inventory
through a `DomainCase` (its description, random traffic and the actors sending it).

Also runnable as a script, so process tests can start real writer and projector
processes on one database file:

    python projector_support.py write DB COMMANDS SEED
    python projector_support.py follow DB LEASE_SECONDS
    python projector_support.py catch-up DB_OR_URL BATCH LEASE_SECONDS
"""

from __future__ import annotations

import functools
import random
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.description import DomainDescription
from domain.envelope import PendingEvent, Refusal
from domain.errors import RuleRefused
from domain.inventory.description import INVENTORY_DOMAIN
from domain.ledger import LEDGER
from domain.ledger.demo import generate_demo
from domain.ledger.description import LEDGER_DOMAIN
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.projection import Projection, StateMap, fold
from domain.refusals import MergesRefusals, RefusalIndex
from store.projector import Projector
from store.sqlite import SqliteEventStore

ACCOUNTS = ("a1", "a2", "a3", "b1", "b2")
CURRENCY = {"a1": "EUR", "a2": "EUR", "a3": "EUR", "b1": "JPY", "b2": "JPY"}
ACTORS = ("ann", "bob", "cyd")
SKUS = ("BOLT-M8", "NUT-M8", "GLV-M")
WAREHOUSES = ("ams", "rtm", "ber")
INVENTORY_ACTORS = ("sanne", "daan", "webshop")

RandomCommand = Callable[[random.Random], tuple[str, dict[str, object]]]


class FakeClock:
    """Seconds since the epoch that move only when told (for leases)."""

    def __init__(self, start: float = 1_800_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def new_store(path: Path) -> SqliteEventStore:
    """A fresh ledger database (synchronous OFF: tests need no durability)."""
    return SqliteEventStore.init(path, domain="ledger", synchronous="OFF")


def open_store(path: Path) -> SqliteEventStore:
    return SqliteEventStore(path, synchronous="OFF")


def demo_items(events: int, seed: int = 5) -> list[PendingEvent | Refusal]:
    """A realistic ledger history (events and refusals), to append in slices."""
    return list(generate_demo(events, seed))


def ledger_projector(
    store: SqliteEventStore,
    projections: Sequence[Projection] = LEDGER_PROJECTIONS,
    **options: object,
) -> Projector:
    return Projector(store, projections, LEDGER.catalog, **options)  # type: ignore[arg-type]


def replayed(
    store: SqliteEventStore,
    projections: Sequence[Projection] = LEDGER_PROJECTIONS,
    to: int | None = None,
) -> StateMap:
    """The states a full replay of the events (up to `to`) gives: the reference."""
    return fold(projections, store.iter_all(to=to))


def with_refusals(
    store: SqliteEventStore, states: StateMap, position: int, projections: Sequence[Projection]
) -> StateMap:
    """`states` with the refusals up to `position` overlaid, as panels show them."""
    index = RefusalIndex()
    index.refresh(store)
    tallies = index.tallies(position)
    merged = dict(states)
    for projection in projections:
        if isinstance(projection, MergesRefusals):
            merged[projection.name] = projection.merge_refusals(states[projection.name], tallies)
    return merged


def persisted(projector: Projector) -> StateMap:
    """What the projector's tables hold, exactly as folded."""
    return projector.read_models(refusals=False).states


def assert_same_states(actual: StateMap, expected: StateMap) -> None:
    """Equal states, failing with the first differing projection and row."""
    assert set(actual) == set(expected)
    for name, state in expected.items():
        got = actual[name]
        for key in sorted(set(state.rows) | set(got.rows)):
            assert got.rows.get(key) == state.rows.get(key), f"{name} row {key!r}"
        assert got.aux == state.aux, f"{name} aux"


def run_commands(
    bus: CommandBus,
    rng: random.Random,
    count: int,
    command: RandomCommand | None = None,
    actors: Sequence[str] = ACTORS,
) -> int:
    """`count` random commands (ledger ones by default); returns how many were refused.

    Rules refuse plenty of them (unopened accounts, overdrafts, frozen accounts), which
    exercises the refusal overlay as well as the folds.
    """
    command = command or random_command
    refused = 0
    for _ in range(count):
        kind, fields = command(rng)
        try:
            bus.execute_fields(kind, fields, actor=rng.choice(actors))
        except RuleRefused:
            refused += 1
    return refused


def random_command(rng: random.Random) -> tuple[str, dict[str, object]]:
    """One random (mostly valid) ledger command as (type, fields)."""
    account = rng.choice(ACCOUNTS)
    amount = str(rng.choice((1, 5, 20, 150, 12_000, 2_000_000)))
    roll = rng.random()
    if roll < 0.15:
        fields: dict[str, object] = {
            "account_id": account,
            "owner": f"Owner {account}",
            "currency": CURRENCY[account],
            "overdraft_limit": rng.choice(("0", "100")),
        }
        return "open_account", fields
    if roll < 0.40:
        return "deposit", {"account_id": account, "amount": amount}
    if roll < 0.55:
        return "withdraw", {"account_id": account, "amount": amount}
    if roll < 0.78:
        return "transfer", {
            "from_account": account,
            "to_account": rng.choice(ACCOUNTS),
            "amount": amount,
        }
    if roll < 0.84:
        return "freeze_account", {"account_id": account, "reason": "check"}
    if roll < 0.92:
        return "unfreeze_account", {"account_id": account, "reason": "cleared"}
    if roll < 0.97:
        return "set_overdraft_limit", {"account_id": account, "limit": rng.choice(("0", "500"))}
    return "close_account", {"account_id": account, "reason": "done"}


def random_inventory_command(rng: random.Random) -> tuple[str, dict[str, object]]:
    """One random (mostly valid) inventory command over a few SKUs and warehouses.

    Unregistered SKUs, shipments beyond what is on hand, moves to the same warehouse
    and discontinuing stocked products are refused by the rules.
    """
    sku = rng.choice(SKUS)
    warehouse, other = rng.choice(WAREHOUSES), rng.choice(WAREHOUSES)
    quantity = rng.choice((1, 3, 12, 40, 250))
    roll = rng.random()
    if roll < 0.12:
        return "register_product", {"sku": sku, "name": f"Thing {sku}", "unit": "each"}
    if roll < 0.40:
        fields: dict[str, object] = {"warehouse": warehouse, "supplier_ref": "DN-1"}
        return "receive_stock", {"sku": sku, "quantity": quantity, **fields}
    if roll < 0.65:
        fields = {"warehouse": warehouse, "order_ref": "SO-1"}
        return "ship_stock", {"sku": sku, "quantity": quantity, **fields}
    if roll < 0.80:
        fields = {"from_warehouse": warehouse, "to_warehouse": other}
        return "move_stock", {"sku": sku, "quantity": quantity, **fields}
    if roll < 0.95:
        fields = {"warehouse": warehouse, "counted": rng.choice((0, 5, 40)), "reason": "count"}
        return "adjust_stock", {"sku": sku, **fields}
    return "discontinue_product", {"sku": sku, "reason": "delisted"}


@functools.cache
def _demo(domain: str, events: int, seed: int) -> tuple[PendingEvent | Refusal, ...]:
    description = {"ledger": LEDGER_DOMAIN, "inventory": INVENTORY_DOMAIN}[domain]
    assert description.demo is not None
    return tuple(description.demo(events, seed))


@dataclass(frozen=True)
class DomainCase:
    """A domain the projector's domain-independent tests run for."""

    domain: DomainDescription
    random_command: RandomCommand
    actors: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.domain.name

    @property
    def projections(self) -> Sequence[Projection]:
        return self.domain.projections

    def new_store(self, path: Path) -> SqliteEventStore:
        """A fresh database of this domain (synchronous OFF)."""
        return SqliteEventStore.init(path, domain=self.name, synchronous="OFF")

    def projector(self, store: SqliteEventStore, **options: Any) -> Projector:
        return Projector(store, self.projections, self.domain.model.catalog, **options)

    def bus(self, store: SqliteEventStore, ids: str = "p") -> CommandBus:
        return CommandBus(store, self.domain.model, clock=StepClock(), ids=SequentialIds(ids))

    def history(self, events: int = 1500, seed: int = 5) -> list[PendingEvent | Refusal]:
        """The domain's demo history (events and refusals), generated once per process."""
        return list(_demo(self.name, events, seed))

    def run_commands(self, bus: CommandBus, rng: random.Random, count: int) -> int:
        return run_commands(bus, rng, count, self.random_command, self.actors)


LEDGER_CASE = DomainCase(LEDGER_DOMAIN, random_command, ACTORS)
INVENTORY_CASE = DomainCase(INVENTORY_DOMAIN, random_inventory_command, INVENTORY_ACTORS)
CASES = (LEDGER_CASE, INVENTORY_CASE)
"""Pass as `pytest.mark.parametrize("case", CASES, ids=case_id)`."""


def case_id(case: DomainCase) -> str:
    return case.name


# -- as a script: the processes of tests/integration/test_projector_processes.py ----------


def _write(db: str, commands: int, seed: int) -> None:
    store = open_store(Path(db))
    bus = CommandBus(store, LEDGER, ids=SequentialIds(f"w{seed}"))
    run_commands(bus, random.Random(seed), commands)
    store.close()


def _follow(db: str, lease_seconds: float) -> None:
    """Follow until SIGINT (a clean stop) or SIGKILL (a crash)."""
    store = open_store(Path(db))
    projector = ledger_projector(store, lease_seconds=lease_seconds, batch=50)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    print("following", flush=True)
    projector.follow(poll_interval=0.02, stop=stop)
    projector.close()
    store.close()


def _catch_up(db: str, batch: int, lease_seconds: float) -> None:
    """One catch-up in small batches on a SQLite file or a PostgreSQL URL (killed in
    the middle by tests/integration/test_projector_kill.py)."""
    from harness_stores import open_store as open_target

    store = open_target(db if db.startswith("postgresql://") else Path(db))
    projector = ledger_projector(store, lease_seconds=lease_seconds, batch=batch)  # type: ignore[arg-type]
    print("catching up", flush=True)
    projector.catch_up()
    print("caught up", flush=True)
    projector.close()
    store.close()


if __name__ == "__main__":
    if sys.argv[1] == "catch-up":
        _catch_up(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    elif sys.argv[1] == "write":
        _write(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    elif sys.argv[1] == "follow":
        _follow(sys.argv[2], float(sys.argv[3]))
    else:
        raise SystemExit(f"unknown role {sys.argv[1]!r}")
