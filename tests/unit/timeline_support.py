"""Random valid histories for the timeline's tests, and the oracle they check against.

Histories are written by the real command bus and handlers into a real store, so
every event is one the rules would record, refusals included. The oracle is the
definition itself: fold the first P events from scratch, then overlay the refusals
recorded while the head was at or before P, counted by brute force.

The ledger's plans drive most timeline tests; `CASES` pairs each domain (ledger,
inventory) with its plans, so the timeline's properties run for both.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.errors import DomainError
from domain.inventory import INVENTORY
from domain.inventory.projections import INVENTORY_PROJECTIONS
from domain.ledger import LEDGER
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.model import DomainModel, EventCatalog
from domain.ports import EventStore
from domain.projection import Projection, Row, StateMap, fold
from domain.refusals import MergesRefusals, RefusalTally
from store.memory import InMemoryEventStore

ACCOUNTS = ("a1", "a2", "a3", "y1")
"""Three EUR accounts and a JPY one (so transfers across currencies get refused)."""

KINDS = (
    "deposit",
    "deposit",
    "withdraw",
    "withdraw",
    "transfer",
    "transfer",
    "transfer",
    "freeze",
    "unfreeze",
    "limit",
    "close",
    "open",
)

Step = tuple[str, int, int, int, str]
"""(command kind, account index, other account index, amount in cents, actor)."""

steps = st.tuples(
    st.sampled_from(KINDS),
    st.integers(0, len(ACCOUNTS) - 1),
    st.integers(0, len(ACCOUNTS) - 1),
    # Mostly everyday amounts, sometimes at or over the large-transaction threshold.
    st.one_of(st.integers(1, 50_000), st.integers(900_000, 2_000_000)),
    st.sampled_from(("alice", "bob", "ops")),
)
plans = st.lists(steps, min_size=8, max_size=60)


def _amount(cents: int, account: str) -> str:
    if account.startswith("y"):
        return str(max(1, cents // 100))
    return f"{cents // 100}.{cents % 100:02d}"


def run_plan(
    store: EventStore, plan: Sequence[Step], clock: StepClock, *, open_accounts: bool = True
) -> None:
    """Open the accounts, then run `plan` through the real bus; refusals are kept."""
    bus = CommandBus(store, LEDGER, clock=clock, ids=SequentialIds(f"t{store.head().position}"))
    fields: dict[str, Any]
    for account in ACCOUNTS if open_accounts else ():
        currency = "JPY" if account.startswith("y") else "EUR"
        limit = "100" if currency == "EUR" else "0"
        fields = {"account_id": account, "owner": "Owner", "currency": currency}
        bus.execute_fields("open_account", {**fields, "overdraft_limit": limit}, actor="ops")
    for kind, first, second, cents, actor in plan:
        account, other = ACCOUNTS[first], ACCOUNTS[second]
        if kind == "deposit":
            name, fields = "deposit", {"account_id": account, "amount": _amount(cents, account)}
        elif kind == "withdraw":
            name, fields = "withdraw", {"account_id": account, "amount": _amount(cents, account)}
        elif kind == "transfer":
            name = "transfer"
            fields = {"from_account": account, "to_account": other,
                      "amount": _amount(cents, account)}  # fmt: skip
        elif kind == "freeze":
            name, fields = "freeze_account", {"account_id": account, "reason": "check"}
        elif kind == "unfreeze":
            name, fields = "unfreeze_account", {"account_id": account, "reason": "ok"}
        elif kind == "limit":
            name = "set_overdraft_limit"
            fields = {"account_id": account, "limit": _amount(cents // 10, account)}
        elif kind == "close":
            name, fields = "close_account", {"account_id": account, "reason": "done"}
        else:
            name = "open_account"
            fields = {"account_id": account, "owner": "Again", "currency": "EUR"}
        # Refused (and recorded) or invalid: both are part of real traffic.
        with contextlib.suppress(DomainError):
            bus.execute_fields(name, fields, actor=actor)


MakeStore = Callable[[StepClock], EventStore]
"""A fresh, empty store on that clock (the integration tests give SQLite and PostgreSQL)."""


def in_memory(tick: StepClock) -> EventStore:
    return InMemoryEventStore(clock=tick)


def ledger_history(plan: Sequence[Step], make: MakeStore = in_memory) -> EventStore:
    """A fresh store (in memory by default) holding `plan` run through the ledger's real bus."""
    tick = clock()
    store = make(tick)
    run_plan(store, plan, tick)
    return store


# --- the inventory ---------------------------------------------------------------------

SKUS = ("BOLT-M8", "NUT-M8", "GLV-M")
"""Two registered up front; the third only if a plan registers it."""
WAREHOUSES = ("ams", "rtm", "ber")

InventoryStep = tuple[str, int, int, int, int, str]
"""(command kind, SKU index, warehouse index, other warehouse index, quantity, actor)."""

INVENTORY_KINDS = (
    *("receive",) * 3,
    *("ship",) * 5,
    *("move",) * 3,
    *("adjust",) * 3,
    "register",
    *("discontinue",) * 2,
)

inventory_plans = st.lists(
    st.tuples(
        st.sampled_from(INVENTORY_KINDS),
        st.integers(0, len(SKUS) - 1),
        st.integers(0, len(WAREHOUSES) - 1),
        st.integers(0, len(WAREHOUSES) - 1),
        st.integers(0, 40),
        st.sampled_from(("sanne", "daan", "webshop")),
    ),
    min_size=10,
    max_size=60,
)


def inventory_history(plan: Sequence[InventoryStep], make: MakeStore = in_memory) -> EventStore:
    """`plan` run through the inventory's real bus; refused and invalid commands included."""
    tick = clock()
    store = make(tick)
    bus = CommandBus(store, INVENTORY, clock=tick, ids=SequentialIds("t"))
    for sku in SKUS[:2]:
        fields: dict[str, Any] = {"sku": sku, "name": "Thing", "unit": "each"}
        bus.execute_fields("register_product", fields, actor="catalog")
        fields = {"sku": sku, "warehouse": "ams", "quantity": 50, "supplier_ref": "DN"}
        bus.execute_fields("receive_stock", fields, actor="sanne")
    for kind, sku_index, w, o, quantity, actor in plan:
        sku, warehouse, other = SKUS[sku_index], WAREHOUSES[w], WAREHOUSES[o]
        fields = {"sku": sku}
        small = 1 + quantity // 4  # orders and moves take a little; zero is invalid input
        if kind == "receive":
            fields |= {"warehouse": warehouse, "quantity": quantity * 2, "supplier_ref": "DN"}
        elif kind == "ship":
            fields |= {"warehouse": warehouse, "quantity": small, "order_ref": "SO"}
        elif kind == "move":
            fields |= {"from_warehouse": warehouse, "to_warehouse": other, "quantity": small}
        elif kind == "adjust":
            # A third of the counts write the shelf off, so discontinuations can happen.
            counted = 0 if quantity < 14 else quantity
            fields |= {"warehouse": warehouse, "counted": counted, "reason": "count"}
        elif kind == "register":
            fields |= {"name": "Thing", "unit": "pair"}
        else:
            fields |= {"reason": "delisted"}
        name = {"register": "register_product", "discontinue": "discontinue_product"}.get(
            kind, f"{kind}_stock"
        )
        with contextlib.suppress(DomainError):
            bus.execute_fields(name, fields, actor=actor)
    return store


@dataclass(frozen=True)
class TimelineCase:
    """A domain whose timeline the properties check: random plans and how to run them."""

    name: str
    plans: st.SearchStrategy[list[Any]]
    history: Callable[..., EventStore]
    """`history(plan)` in memory, `history(plan, make)` in the store `make` gives."""
    projections: Sequence[Projection]
    catalog: EventCatalog
    model: DomainModel

    def __repr__(self) -> str:  # shown in hypothesis' falsifying examples
        return f"<{self.name}>"


CASES = (
    TimelineCase("ledger", plans, ledger_history, LEDGER_PROJECTIONS, LEDGER.catalog, LEDGER),
    TimelineCase(
        "inventory",
        inventory_plans,
        inventory_history,
        INVENTORY_PROJECTIONS,
        INVENTORY.catalog,
        INVENTORY,
    ),
)
"""Pass as `pytest.mark.parametrize("case", CASES, ids=case_id)`."""


def case_id(case: TimelineCase) -> str:
    return case.name


def clock() -> StepClock:
    """Twenty minutes a tick: histories cross midnight and the one-hour unfreeze window."""
    return StepClock("2026-03-01T20:00:00Z", step=timedelta(minutes=20))


def tallies(store: EventStore, position: int) -> dict[str, RefusalTally]:
    """Refusals per actor with at_position <= position, counted the slow, obvious way."""
    times: dict[str, list[str]] = {}
    for refusal in store.refusals(to_position=position):
        times.setdefault(refusal.actor, []).append(refusal.recorded_at)
    return {actor: RefusalTally(len(t), min(t), max(t)) for actor, t in times.items()}


def expected(
    store: EventStore,
    position: int,
    projections: Sequence[Projection] = LEDGER_PROJECTIONS,
    *,
    refusals: bool = True,
) -> StateMap:
    """The definition of the state at `position`: a fresh fold of the first events."""
    states = fold(projections, store.read_all(to=position))
    if refusals:
        counted = tallies(store, position)
        for projection in projections:
            if isinstance(projection, MergesRefusals):
                states[projection.name] = projection.merge_refusals(
                    states[projection.name], counted
                )
    return states


def rows(states: StateMap) -> dict[str, dict[str, Row]]:
    """Just the rows of every projection (what a cursor guarantees)."""
    return {name: state.rows for name, state in states.items()}


def full(states: StateMap) -> dict[str, tuple[dict[str, Row], dict[str, Any]]]:
    """Rows and aux of every projection."""
    return {name: (state.rows, state.aux) for name, state in states.items()}
