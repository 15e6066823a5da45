"""Live traffic, the contract every domain's simulation keeps: real bus, in-memory
store, an injected pace and clock (no real waiting), parametrised over the domains."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from domain.bus import CommandBus
from domain.clock import SequentialIds, StepClock
from domain.description import DomainDescription
from domain.errors import InvalidInput
from domain.inventory.description import INVENTORY_DOMAIN
from domain.inventory.simulate import STARTER_PRODUCTS
from domain.ledger.description import LEDGER_DOMAIN
from domain.simulation import SimulationStats, SimulationStep
from store.memory import InMemoryEventStore

SETUP = {"ledger": 20, "inventory": 3 * len(STARTER_PRODUCTS)}
"""Commands each domain sends, unpaced, to give an empty store something to act on."""


class FakeTime:
    """`monotonic` and `pace` over a number that only pacing moves."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture(params=[LEDGER_DOMAIN, INVENTORY_DOMAIN], ids=lambda d: d.name)
def domain(request: pytest.FixtureRequest) -> DomainDescription:
    return request.param  # type: ignore[no-any-return]


def _store() -> InMemoryEventStore:
    return InMemoryEventStore(clock=StepClock())


def _run(
    domain: DomainDescription,
    store: InMemoryEventStore,
    rate: float,
    duration: float | None,
    seed: int,
    pace: Callable[[float], None] | None = None,
    monotonic: Callable[[], float] | None = None,
    **options: object,
) -> SimulationStats:
    assert domain.simulate is not None
    clock = FakeTime()
    bus = CommandBus(store, domain.model, clock=StepClock(), ids=SequentialIds("sim"))
    stats: SimulationStats = domain.simulate(
        bus,
        store,
        rate,
        duration,
        seed,
        pace or clock.sleep,
        monotonic=monotonic or clock.monotonic,
        **options,
    )
    return stats


def test_an_empty_store_gets_setup_commands_then_paced_traffic(domain: DomainDescription) -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    stats = _run(domain, store, 20, 10, 1, clock.sleep, clock.monotonic, on_result=steps.append)
    setup = [s for s in steps if s.index < 0]
    paced = [s for s in steps if s.index >= 0]
    assert len(setup) == SETUP[domain.name] and all(s.outcome == "ok" for s in setup)
    assert [s.index for s in paced] == list(range(200))
    # paced at 20 a second: the last command was due 199/20 s after the start
    assert clock.now == pytest.approx(100.0 + 199 / 20)
    assert stats.elapsed == pytest.approx(199 / 20)
    assert stats.commands == len(steps) == SETUP[domain.name] + 200
    assert stats.ok + stats.refused + stats.conflicts + stats.invalid == stats.commands
    assert stats.ok > 100 and stats.refused > 3
    assert stats.conflicts == stats.invalid == 0
    assert stats.events == store.head().position
    assert len(store.refusals()) == stats.refused
    assert sum(stats.by_type.values()) == stats.commands
    assert set(stats.to_json_dict()) >= {"commands", "ok", "refused", "events", "by_type"}
    assert paced[0].to_json_dict()["type"] == paced[0].command.type_name
    assert store.verify().ok


def test_refusals_are_the_rules_own_words(domain: DomainDescription) -> None:
    store, clock = _store(), FakeTime()
    steps: list[SimulationStep] = []
    _run(domain, store, 50, 20, 2, clock.sleep, clock.monotonic, on_result=steps.append)
    kept = {r.reason for r in store.refusals()}
    assert kept and {s.detail for s in steps if s.outcome == "refused"} <= kept


def test_an_open_ended_run_ends_when_stop_says_so(domain: DomainDescription) -> None:
    """`stop` is how Ctrl+C ends a run (the CLI sets it): a wait in progress ends too."""
    store, clock = _store(), FakeTime()
    seen: list[SimulationStep] = []
    stats = _run(
        domain, store, 5, None, 3, clock.sleep, clock.monotonic,
        on_result=seen.append, stop=lambda: len([s for s in seen if s.index >= 0]) >= 30,
    )  # fmt: skip
    assert stats.commands - SETUP[domain.name] == 30

    deadline = clock.now + 10
    pressed: list[bool] = []

    def pace(seconds: float) -> None:
        clock.sleep(seconds)
        if clock.now > deadline:
            pressed.append(True)  # Ctrl+C during a wait

    stats = _run(domain, store, 5, None, 3, pace, clock.monotonic, stop=lambda: bool(pressed))
    assert 45 <= stats.commands <= 55  # ~10 s at 5 a second, nothing set up again
    assert clock.now > deadline and len(pressed) == 1


def test_a_late_run_does_not_wait_or_burst(domain: DomainDescription) -> None:
    """When commands take longer than the pace, the run never waits a negative time."""
    store, clock = _store(), FakeTime()

    def slow_clock() -> float:
        clock.now += 0.5  # every reading finds the run half a second later
        return clock.now

    stats = _run(domain, store, 10, 2, 1, clock.sleep, slow_clock)
    # 20 commands were due in 2 s, but readings at +0.5, +1.0 and +1.5 s send three and
    # the one at +2.0 s ends the run: a slow store cannot stretch the duration.
    assert stats.commands - SETUP[domain.name] == 3
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
def test_bad_rate_or_duration_is_invalid_input(
    domain: DomainDescription, rate: float, duration: float, message: str
) -> None:
    store = _store()
    with pytest.raises(InvalidInput, match=message):
        _run(domain, store, rate, duration, 1)
    assert store.head().position == 0


def test_a_tiny_rate_waits_in_slices_instead_of_overflowing(domain: DomainDescription) -> None:
    """At 1e-300 commands a second the second command is due in 1e300 s: sleeping that
    at once is an OverflowError; the run waits a minute at a time until stopped."""
    store, clock = _store(), FakeTime()
    stats = _run(
        domain, store, 1e-300, None, 1, clock.sleep, clock.monotonic,
        stop=lambda: len(clock.sleeps) == 3,
    )  # fmt: skip
    assert stats.commands - SETUP[domain.name] == 1
    assert clock.sleeps == [60.0, 60.0, 60.0]
