"""Deterministic demo history for the ledger: months of plausible banking, by the rules.

`generate_demo(events, seed)` yields `PendingEvent`s (for the store's bulk path) and
`Refusal`s (for its audit table) in the order they happened. Every command is
decided by the ledger's rules over an in-memory view of the accounts (`DemoLedger`:
the real handlers, with a checked shortcut for plain money movements), so every
event is one the rules would have recorded at that point, and every refusal carries
the reason the rules give. The same seed always yields the same history, byte for
byte: all randomness comes from one `random.Random(seed)` and time is simulated.
A million events take about 20 s of CPU.

The story, so the app's panels and scrubber have something to show:
- a migration batch opens a first set of accounts with their opening balances; tellers
  (alice, bob, carol) open the rest on weekdays, each with an initial deposit;
- days have business hours, busy lunchtimes, quiet nights and quieter weekends;
- card payments and ATM withdrawals at any hour, transfers from the mobile app and
  online banking, incoming payments from the clearing house, card settlements for
  businesses, cash paid in at deposit machines and cheques paid in with the app;
- every deposit says how it came in (`channel`): `branch` for tellers, `payroll` for
  salaries, `transfer` from the clearing house, `card` for settlements, `atm` and
  `online` for self-service, `internal` for the migrated opening balances;
- `payroll-bot` pays salaries on the last weekday of each month and `standing-orders`
  pays rents on the first, in bursts that share a correlation id;
- `fraud-monitor` and `ops:dana` freeze accounts (card attempts on them are refused)
  and unfreeze them later; `ops:erik` changes overdraft limits, which accounts then use;
- closures sweep the remaining balance out first, then close at zero;
- now and then a mistake a rule refuses: an overdraft beyond the limit, a transfer
  across currencies, a deposit to a closed account, a typo in an account id...
"""

from __future__ import annotations

import bisect
import functools
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import date, timedelta
from typing import Protocol

from domain.demo_engine import Action, poisson
from domain.envelope import Head, PendingEvent, Refusal
from domain.errors import InvalidInput
from domain.ledger.demo_oversight import _Oversight
from domain.ledger.demo_setting import (
    _DAY,
    _EVENTS_PER_SLOT,
    _HOUR,
    _WEEKDAY_CUM,
    _WEEKEND_CUM,
    ACTORS,
    DEFAULT_START,
    TELLERS,
)

__all__ = ["ACTORS", "DEFAULT_START", "TELLERS", "DemoStore", "generate_demo", "write_demo"]


class _DemoHistory(_Oversight):
    """Plans simulated days and plays their actions through a `DemoLedger`, in time order."""

    def _plan_day(self, day: int) -> None:
        """Schedule one simulated day: its fixed jobs, then random traffic to its budget.

        The budget is the events still due, shared by weight among the days left, so
        a day that fell short (refusals, skipped slots) is made up by the next ones.
        """
        start = self._begin_day(day)
        today = self._date(day)
        weekday = today.weekday()
        planned = 0.0
        if day == 0:
            planned += self._plan_migration(self.start_us)
        for _ in range(self._openings.get(day, 0)):
            self._at(start + self._business_time(), self._open_by_teller)
            planned += 2
        if weekday < 5 and _is_last_weekday(today):
            planned += self._plan_payroll(start + 5 * _HOUR, today)
        if weekday < 5 and day > 0 and _is_first_weekday(today):
            planned += self._plan_rents(start + 4 * _HOUR, today)
        planned += self._plan_operations(start, weekday)
        slots = max(0, round((self._budget(day) - planned) / _EVENTS_PER_SLOT))
        rng = self.rng
        tables = self._tables
        for hour, offset in self._slots(day, slots, _WEEKDAY_CUM, _WEEKEND_CUM):
            bounds, actions = tables[0 if weekday < 5 and 8 <= hour < 18 else 1 if hour >= 7 else 2]
            action = actions[bisect.bisect(bounds, rng.random() * bounds[-1])]
            self._at(start + offset, action)

    @functools.cached_property
    def _tables(self) -> list[tuple[list[float], list[Action]]]:
        """What happens in a random slot: business hours, evenings and weekends, nights."""
        business = (
            (40, self._card), (6, self._atm), (23, self._transfer), (8, self._teller_deposit),
            (3, self._teller_withdraw), (9, self._clearing_in), (3.5, self._settlement),
            (0.2, self._large_deposit), (0.9, self._mistake), (2, self._self_service_deposit),
        )  # fmt: skip
        evening = (
            (55, self._card), (9, self._atm), (28, self._transfer), (0.5, self._mistake),
            (2.5, self._self_service_deposit),
        )  # fmt: skip
        night = (
            (62, self._card), (6, self._atm), (16, self._transfer), (0.35, self._mistake),
            (0.5, self._self_service_deposit),
        )  # fmt: skip
        tables = []
        for table in (business, evening, night):
            bounds = list(itertools.accumulate(weight for weight, _ in table))
            tables.append((bounds, [action for _, action in table]))
        return tables

    def _plan_operations(self, start: int, weekday: int) -> float:
        """Freezes, limit changes and closures: a share of the accounts, not of the traffic.

        Back-office work happens in business hours on weekdays; the fraud monitor
        freezes at any hour, any day.
        """
        accounts = len(self.active)
        jobs: list[tuple[float, Action, bool]] = [(accounts * 0.0002 + 0.03, self._freeze, False)]
        if weekday < 5:
            jobs += [
                (accounts * 0.0003 + 0.05, self._freeze, True),
                (accounts * 0.0015 + 0.15, self._change_limit, True),
                (accounts * 0.0004 + 0.08, self._close, True),
            ]
        planned = 0.0
        for rate, action, office in jobs:
            for _ in range(poisson(self.rng, rate)):
                at = self._business_time() if office else int(self.rng.random() * _DAY)
                if start + at >= self.start_us:
                    self._at(start + at, action)
                    planned += 1
        return planned


def _is_last_weekday(today: date) -> bool:
    following = today + timedelta(days=1)
    while following.weekday() >= 5:
        following += timedelta(days=1)
    return following.month != today.month


def _is_first_weekday(today: date) -> bool:
    previous = today - timedelta(days=1)
    while previous.weekday() >= 5:
        previous -= timedelta(days=1)
    return previous.month != today.month


def generate_demo(
    events: int, seed: int, start: str = DEFAULT_START, *, check_every: int = 64
) -> Iterator[PendingEvent | Refusal]:
    """A realistic ledger history of exactly `events` events, the same for the same seed.

    Yields `PendingEvent`s and `Refusal`s in the order they happened. Positions are not
    assigned: the n-th `PendingEvent` yielded takes position n in an empty store, and a
    refusal's `at_position` counts the events yielded before it. `recorded_at` starts
    at `start` (an ISO time, UTC) and never goes back.
    """
    if events < 0:
        raise InvalidInput(f"events must be 0 or more, got {events}")
    history = _DemoHistory(events, seed, start, check_every)
    return history.run()


class DemoStore(Protocol):
    """What `write_demo` needs from a store (both bundled stores have it)."""

    def head(self) -> Head: ...

    def append_bulk(self, events: Iterable[PendingEvent | Refusal]) -> Head: ...


Progress = Callable[[int, int], None]
"""`progress(done, total)`, in events."""

PROGRESS_EVERY = 10_000
"""How many events pass between two progress calls."""


def write_demo(
    store: DemoStore,
    events: int,
    seed: int,
    progress: Progress | None = None,
    *,
    start: str = DEFAULT_START,
) -> Head:
    """Generate a demo history into an empty `store` in one bulk load; returns the head.

    Refusals travel in the same load: the store keeps each at the head as of its
    place in the sequence, which is exactly when it was refused in the history.
    `progress(done, total)` is called every `PROGRESS_EVERY` events and once at the end.
    """
    already = store.head().position
    if already:
        raise InvalidInput(
            f"the database already holds {already} events; demo data goes into an empty one "
            "(choose a new --db)"
        )
    head = store.append_bulk(_reporting(generate_demo(events, seed, start), events, progress))
    if progress is not None:
        progress(events, events)
    return head


def _reporting(
    history: Iterator[PendingEvent | Refusal], total: int, progress: Progress | None
) -> Iterator[PendingEvent | Refusal]:
    if progress is None:
        yield from history
        return
    done = 0
    for item in history:
        yield item
        if type(item) is PendingEvent:
            done += 1
            if done % PROGRESS_EVERY == 0:
                progress(done, total)
