"""Random valid ledger histories for the timeline's tests, and the oracle they check against.

Histories are written by the real command bus and handlers into a real store, so
every event is one the rules would record, refusals included. The oracle is the
definition itself: fold the first P events from scratch, then overlay the refusals
recorded while the head was at or before P, counted by brute force.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from hypothesis import strategies as st

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.errors import DomainError
from domain.ledger import LEDGER
from domain.ledger.projections import LEDGER_PROJECTIONS
from domain.ports import EventStore
from domain.projection import Projection, Row, StateMap, fold
from domain.refusals import MergesRefusals, RefusalTally

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
