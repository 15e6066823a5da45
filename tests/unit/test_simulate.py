"""Live traffic: real bus, in-memory store, a fake sleep and clock (no real waiting)."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.errors import InvalidInput
from domain.ledger import LEDGER
from domain.ledger.demo import write_demo
from domain.ledger.simulate import (
    SimAccount,
    SimulationStep,
    discover_accounts,
    run_simulation,
    traffic,
)
from store.memory import InMemoryEventStore


class FakeTime:
    """`monotonic` and `sleep` over a number that only sleeping moves."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _bus(store: InMemoryEventStore) -> CommandBus:
    return CommandBus(store, LEDGER, clock=StepClock(), ids=SequentialIds("sim"))


def _store() -> InMemoryEventStore:
    return InMemoryEventStore(clock=StepClock())


def test_an_empty_store_gets_starter_accounts_then_paced_traffic() -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    stats = run_simulation(
        _bus(store), store, 20, 10, seed=1, clock_sleep=clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    setup = [s for s in steps if s.index < 0]
    paced = [s for s in steps if s.index >= 0]
    assert stats.opened == stats.accounts == 10  # two per currency
    assert len(setup) == 20 and all(s.outcome == "ok" for s in setup)
    assert [s.index for s in paced] == list(range(200))
    # paced at 20 a second: the last command was due 199/20 s after the start
    assert clock.now == pytest.approx(100.0 + 199 / 20)
    assert stats.elapsed == pytest.approx(199 / 20)
    assert stats.commands == len(steps) == 220
    assert stats.ok + stats.refused + stats.conflicts + stats.invalid == stats.commands
    assert stats.ok > 100 and stats.refused > 5
    assert stats.conflicts == stats.invalid == 0
    assert stats.events == store.head().position
    assert len(store.refusals()) == stats.refused
    assert sum(stats.by_type.values()) == stats.commands
    assert store.verify().ok


def test_refusals_are_the_rules_own_words() -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    run_simulation(
        _bus(store), store, 50, 20, seed=2, clock_sleep=clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    refused = {s.command.type_name: s.detail for s in steps if s.outcome == "refused"}
    kept = {r.reason for r in store.refusals()}
    assert set(refused.values()) <= kept
    reasons = " ".join(kept)
    assert "beyond its overdraft limit" in reasons
    assert "transfers must stay in one currency" in reasons or "does not exist" in reasons
    types = Counter(s.command.type_name for s in steps if s.outcome == "ok")
    assert {"withdraw", "deposit", "transfer", "freeze_account", "unfreeze_account"} <= set(types)


def test_existing_accounts_are_discovered_and_used() -> None:
    store, clock = _store(), FakeTime()
    write_demo(store, 3000, seed=4)
    accounts = discover_accounts(store)
    closed = {e.stream_id for e in store.read_all() if e.type == "AccountClosed"}
    opened = {e.stream_id for e in store.read_all() if e.type == "AccountOpened"}
    assert {f"account-{a.account_id}" for a in accounts} == opened - closed
    head = store.head().position
    steps: list[SimulationStep] = []
    stats = run_simulation(
        _bus(store), store, 10, 5, seed=4, clock_sleep=clock.sleep,
        monotonic=clock.monotonic, on_result=steps.append,
    )  # fmt: skip
    assert stats.opened == 0 and stats.commands == 50
    assert store.head().position == head + stats.events
    known = {a.account_id for a in accounts}
    payloads = [s.command.payload() for s in steps]
    used = {p.get("account_id") or p["from_account"] for p in payloads}
    assert used <= known


def test_discovery_samples_big_stores_and_skips_closed_accounts() -> None:
    store = _store()
    write_demo(store, 3000, seed=4)
    closed = {e.data["account_id"] for e in store.read_all() if e.type == "AccountClosed"}
    assert closed
    sample = discover_accounts(store, limit=5, seed=9)
    assert len(sample) == 5
    assert not closed & {a.account_id for a in sample}
    assert sample == discover_accounts(store, limit=5, seed=9)
    assert all(a.currency in ("EUR", "USD", "GBP", "CHF", "JPY") for a in sample)


def test_traffic_is_deterministic_and_varied() -> None:
    accounts = [SimAccount("a1", "EUR"), SimAccount("a2", "EUR"), SimAccount("b1", "JPY")]
    first = list(itertools.islice(traffic(5, accounts), 500))
    assert first == list(itertools.islice(traffic(5, accounts), 500))
    assert first != list(itertools.islice(traffic(6, accounts), 500))
    actors = {actor for actor, _ in first}
    assert {"card-gateway", "atm-network", "mobile-app", "ops:dana"} <= actors
    kinds = Counter(command.type_name for _, command in first)
    assert kinds["withdraw"] > kinds["freeze_account"] > 0
    assert kinds["unfreeze_account"] > 0


def test_traffic_unfreezes_accounts_found_frozen() -> None:
    accounts = [SimAccount("a1", "EUR", frozen=True), SimAccount("a2", "EUR")]
    first = list(itertools.islice(traffic(1, accounts), 40))
    assert any(
        c.type_name == "unfreeze_account" and c.account_id == "a1"  # type: ignore[attr-defined]
        for _, c in first
    )


def test_open_ended_run_stops_when_asked_or_on_ctrl_c() -> None:
    store, clock = _store(), FakeTime()
    bus = _bus(store)
    seen: list[SimulationStep] = []
    stats = run_simulation(
        bus, store, 5, None, seed=3, clock_sleep=clock.sleep, monotonic=clock.monotonic,
        on_result=seen.append, stop=lambda: len([s for s in seen if s.index >= 0]) >= 30,
    )  # fmt: skip
    assert stats.commands - 20 == 30

    deadline = clock.now + 10

    def interrupted(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now > deadline:
            raise KeyboardInterrupt

    stats = run_simulation(
        bus, store, 5, None, seed=3, clock_sleep=interrupted, monotonic=clock.monotonic
    )
    assert stats.opened == 0 and 45 <= stats.commands <= 55  # ~10 s at 5 a second
    assert clock.now > deadline


def test_a_late_run_does_not_sleep_or_burst() -> None:
    """When commands take longer than the pace, the run never sleeps a negative time."""
    store = _store()
    clock = FakeTime()

    def slow_clock() -> float:
        clock.now += 0.5  # every reading finds the run half a second later
        return clock.now

    stats = run_simulation(
        _bus(store), store, 10, 2, seed=1, clock_sleep=clock.sleep, monotonic=slow_clock
    )
    # 20 commands were due in 2 s, but readings at +0.5, +1.0 and +1.5 s send three and
    # the one at +2.0 s ends the run: a slow store cannot stretch the duration.
    assert stats.commands - 20 == 3
    assert clock.sleeps == []


@pytest.mark.parametrize(
    ("rate", "duration", "message"),
    [
        (0, 1, "rate must be more than 0"),
        (-1, 1, "rate"),
        (1, -1, "duration must be 0 or more"),
        (1, float("inf"), "finite"),
        (float("inf"), 1, "rate"),
        (float("nan"), 1, "rate"),
        (1, float("nan"), "duration"),
    ],
)
def test_bad_rate_or_duration_is_invalid_input(rate: float, duration: float, message: str) -> None:
    store = _store()
    with pytest.raises(InvalidInput, match=message):
        run_simulation(_bus(store), store, rate, duration, seed=1)
    assert store.head().position == 0


def test_traffic_needs_an_account() -> None:
    with pytest.raises(InvalidInput, match="at least one account"):
        traffic(1, [])


def test_a_tiny_rate_sleeps_in_slices_instead_of_overflowing() -> None:
    """At 1e-300 commands a second the second command is due in 1e300 s: sleeping that
    at once is an OverflowError; the run sleeps a minute at a time until Ctrl+C."""
    store, clock = _store(), FakeTime()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if len(clock.sleeps) == 3:
            raise KeyboardInterrupt

    stats = run_simulation(
        _bus(store), store, 1e-300, None, seed=1, clock_sleep=sleep, monotonic=clock.monotonic
    )
    assert stats.commands - 20 == 1
    assert clock.sleeps == [60.0, 60.0, 60.0]
