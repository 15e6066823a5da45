"""Simulated live traffic, the domain-free part: send commands at a steady pace, count outcomes.

A domain's `run_simulation` finds (or creates) what its traffic acts on, builds an
endless stream of (actor, command) pairs, and hands it to `run_paced`, which sends
them through the real `CommandBus` at `rate` commands a second. Every command's fate
is a `SimulationStep` (ok, refused, conflict or invalid), reported to `on_result` as
it happens and counted in `SimulationStats`. Time is injected (`pace`,
`monotonic`) so tests need no real waiting.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from domain.bus import CommandBus
from domain.envelope import AppendResult, RecordedEvent, StreamSummary
from domain.errors import ConcurrencyConflict, InvalidInput, RuleRefused
from domain.messages import Command

Outcome = Literal["ok", "refused", "conflict", "invalid"]

OnResult = Callable[["SimulationStep"], None]
"""Called with each step as soon as its command was sent."""


class StreamSource(Protocol):
    """What discovery reads from a store to find what traffic may act on (both bundled
    stores have it)."""

    def streams(
        self, prefix: str = "", *, after: str = "", limit: int = 100
    ) -> list[StreamSummary]: ...

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, to_version: int | None = None
    ) -> list[RecordedEvent]: ...


def stream_sample(
    store: StreamSource, prefix: str, *, limit: int, seed: int
) -> list[StreamSummary]:
    """Every stream whose id starts with `prefix`, by id; a seeded shuffle of them when
    there are more than `limit` (walk it until enough usable ones are found)."""
    summaries: list[StreamSummary] = []
    after = ""
    while True:
        page = store.streams(prefix, after=after, limit=1000)
        summaries += page
        if len(page) < 1000:
            break
        after = page[-1].stream_id
    if len(summaries) > limit:
        summaries = random.Random(seed).sample(summaries, len(summaries))
    return summaries


@dataclass(frozen=True, slots=True)
class SimulationStep:
    """One command the simulation sent and what became of it."""

    index: int
    """0, 1, 2... for paced commands; negative for the setup before them."""
    actor: str
    command: Command
    outcome: Outcome
    detail: str
    """The refusal or error message, or the positions recorded."""
    result: AppendResult | None = None

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "actor": self.actor,
            "type": self.command.type_name,
            "command": self.command.payload(),
            "outcome": self.outcome,
            "detail": self.detail,
        }


@dataclass
class SimulationStats:
    """What a simulation did, by outcome. Domains may subclass it to add their counts."""

    ok: int = 0
    refused: int = 0
    conflicts: int = 0
    invalid: int = 0
    events: int = 0
    """Events recorded by the commands that succeeded."""
    elapsed: float = 0.0
    """Seconds from the first paced command to the end, by the injected clock."""
    by_type: dict[str, int] = field(default_factory=dict)

    @property
    def commands(self) -> int:
        """Every command sent: ok + refused + conflicts + invalid."""
        return self.ok + self.refused + self.conflicts + self.invalid

    def add(self, step: SimulationStep) -> None:
        """Count one step."""
        if step.outcome == "ok":
            self.ok += 1
            self.events += len(step.result.positions) if step.result else 0
        elif step.outcome == "refused":
            self.refused += 1
        elif step.outcome == "conflict":
            self.conflicts += 1
        else:
            self.invalid += 1
        name = step.command.type_name
        self.by_type[name] = self.by_type.get(name, 0) + 1

    def to_json_dict(self) -> dict[str, Any]:
        return {
            "commands": self.commands,
            "ok": self.ok,
            "refused": self.refused,
            "conflicts": self.conflicts,
            "invalid": self.invalid,
            "events": self.events,
            "elapsed": round(self.elapsed, 3),
            "by_type": dict(sorted(self.by_type.items())),
        }


def send(bus: CommandBus, index: int, actor: str, command: Command) -> SimulationStep:
    """Run one command through the bus and say what became of it.

    Refusals are recorded by the bus itself. A conflict is what is left after the
    bus's own retries (another writer kept changing the same streams).
    """
    try:
        result = bus.execute(command, actor=actor)
    except RuleRefused as refused:
        return SimulationStep(index, actor, command, "refused", refused.message)
    except ConcurrencyConflict as conflict:
        return SimulationStep(index, actor, command, "conflict", conflict.message)
    except InvalidInput as invalid:
        return SimulationStep(index, actor, command, "invalid", invalid.message)
    positions = result.positions
    detail = f"#{positions[0]}" + (f"-#{positions[-1]}" if len(positions) > 1 else "")
    return SimulationStep(index, actor, command, "ok", detail, result)


class Setup:
    """Commands sent before the paced traffic (indexes -1, -2, ...), each counted and reported."""

    def __init__(self, bus: CommandBus, stats: SimulationStats, on_result: OnResult | None):
        self.bus = bus
        self.stats = stats
        self.on_result = on_result
        self.steps: list[SimulationStep] = []

    def run(self, actor: str, command: Command) -> SimulationStep:
        """Send one setup command now (not paced)."""
        step = send(self.bus, -1 - len(self.steps), actor, command)
        self.steps.append(step)
        self.stats.add(step)
        if self.on_result is not None:
            self.on_result(step)
        return step


_LONGEST_SLEEP = 60.0
"""Seconds one pause may last (`time.sleep(1e300)` is an OverflowError)."""


def check_pace(rate: float, duration: float | None) -> None:
    """Refuse a rate that is not positive, a negative duration, or either one infinite
    (before any work). An open-ended run is `duration=None`, never infinity."""
    if not 0 < rate < math.inf:
        raise InvalidInput(f"rate must be more than 0 commands a second, got {rate}")
    if duration is not None and not 0 <= duration < math.inf:
        raise InvalidInput(
            f"duration must be 0 or more seconds and finite, got {duration} "
            "(leave it out to run until Ctrl+C)"
        )


def _never() -> bool:
    return False


def run_paced(
    bus: CommandBus,
    traffic: Iterable[tuple[str, Command]],
    stats: SimulationStats,
    rate: float,
    duration: float | None,
    *,
    pace: Callable[[float], None],
    monotonic: Callable[[], float],
    on_result: OnResult | None = None,
    stop: Callable[[], bool] | None = None,
) -> SimulationStats:
    """Send `traffic` through `bus` at `rate` commands a second for `duration` seconds.

    The run ends after `duration` seconds even when the store is too slow for `rate`.
    `duration` None runs until `stop()` returns True (the CLI sets it on Ctrl+C).
    Command i is due `i / rate` seconds after the start; the run waits until then
    with `pace(seconds)` (which may return early: the wait is measured again with
    `monotonic`, and `stop` is asked), and does not wait when it is late, so a slow
    store lowers the rate rather than piling up. Time is injected: this module
    never sleeps. Steps are counted into `stats`, which is returned with `elapsed` set.
    """
    check_pace(rate, duration)
    total = None if duration is None else int(rate * duration)
    started = monotonic()
    stopped = stop if stop is not None else _never
    for index, (actor, command) in enumerate(traffic):
        if (total is not None and index >= total) or stopped():
            break
        now = monotonic()
        if duration is not None and now - started >= duration:
            break  # a store slower than the rate: the duration still ends the run
        wait = started + index / rate - now
        while wait > 0 and not stopped():  # in slices: at a tiny rate one wait overflows
            pace(min(wait, _LONGEST_SLEEP))
            wait = started + index / rate - monotonic()
        if stopped():
            break
        step = send(bus, index, actor, command)
        stats.add(step)
        if on_result is not None:
            on_result(step)
    stats.elapsed = monotonic() - started
    return stats
