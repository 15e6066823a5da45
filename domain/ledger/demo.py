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
import heapq
import itertools
import math
import random
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from domain.clock import parse_time
from domain.demo_pool import WeightedPool
from domain.envelope import Head, PendingEvent, Refusal
from domain.errors import InvalidInput
from domain.ledger.commands import (
    CloseAccount,
    Deposit,
    FreezeAccount,
    OpenAccount,
    SetOverdraftLimit,
    Transfer,
    UnfreezeAccount,
    Withdraw,
)
from domain.ledger.demo_ledger import DemoLedger
from domain.ledger.demo_names import (
    BUSINESSES,
    CITIES,
    EMPLOYERS,
    FIRST_NAMES,
    LAST_NAMES,
    MERCHANTS,
)
from domain.ledger.money import CURRENCIES, format_amount
from domain.messages import Command

DEFAULT_START = "2026-01-05T08:00:00Z"
"""A Monday morning: the day the demo bank goes live on eventscope."""

EVENTS_PER_ACCOUNT = 300
"""About one account per this many events (at least `MIN_ACCOUNTS`)."""
MIN_ACCOUNTS = 20
EVENTS_PER_DAY = 4000
"""About this many events per simulated day, within `MIN_DAYS`..`MAX_DAYS` days."""
MIN_DAYS = 60
MAX_DAYS = 300

TELLERS = ("alice", "bob", "carol")
ACTORS = (
    *TELLERS,
    "migration",
    "payroll-bot",
    "standing-orders",
    "card-gateway",
    "atm-network",
    "mobile-app",
    "online-banking",
    "clearing-house",
    "fraud-monitor",
    "ops:dana",
    "ops:erik",
)
"""Everyone who acts in the demo history."""

_SECOND = 1_000_000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR

MINOR_PER_EURO = {"EUR": 100, "USD": 108, "GBP": 86, "CHF": 96, "JPY": 160}
"""Minor units per euro, so one set of euro-like amounts reads right in every currency."""
_CURRENCY_WEIGHTS = (34, 26, 15, 11, 14)  # in CURRENCIES order: EUR, USD, GBP, CHF, JPY
_SHOPS: dict[str, list[str]] = {
    c: [f"{m} {city}" for m in MERCHANTS[c] for city in CITIES[c]] for c in CURRENCIES
}
_CLEARING = {"EUR": "SEPA", "USD": "ACH", "GBP": "Faster Payments", "CHF": "SIC", "JPY": "Zengin"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Relative traffic per hour (UTC): quiet nights, a lunchtime peak, an evening tail.
_WEEKDAY_HOURS = (
    0.15, 0.1, 0.07, 0.05, 0.05, 0.1, 0.3, 0.7, 1.2, 1.5, 1.6, 1.7,
    2.0, 1.8, 1.5, 1.5, 1.6, 1.7, 1.6, 1.3, 1.0, 0.7, 0.45, 0.25,
)  # fmt: skip
_WEEKEND_HOURS = (
    0.3, 0.2, 0.12, 0.08, 0.06, 0.06, 0.1, 0.2, 0.4, 0.7, 1.0, 1.2,
    1.3, 1.3, 1.2, 1.1, 1.0, 1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4,
)  # fmt: skip
_DAY_WEIGHTS = (1.0, 1.0, 1.0, 1.05, 1.2, 0.55, 0.35)  # Monday .. Sunday
_EVENTS_PER_SLOT = 1.25  # transfers write two events, refusals none
_TRANSFER_NOTES = (
    "dinner", "rent share", "birthday present", "holiday", "thanks!", "savings",
    "concert tickets", "groceries", "car repair", "loan repayment", "wedding gift",
)  # fmt: skip
_FREEZE_REASONS = (
    "KYC documents expired", "customer reported card stolen", "court order 2026/113",
    "returned mail: address unknown",
)  # fmt: skip
_UNFREEZE_REASONS = (
    "customer identity confirmed", "documents received", "new card issued",
    "false alarm: customer was travelling", "court order lifted",
)  # fmt: skip
_CLOSE_REASONS = (
    "customer request", "moved abroad", "switched to another bank", "duplicate account",
    "estate settled",
)  # fmt: skip


def _cumulative(weights: tuple[float, ...]) -> list[float]:
    return list(itertools.accumulate(weights))


_WEEKDAY_CUM = _cumulative(_WEEKDAY_HOURS)
_WEEKEND_CUM = _cumulative(_WEEKEND_HOURS)
_CURRENCY_CUM = _cumulative(tuple(float(w) for w in _CURRENCY_WEIGHTS))


@dataclass(slots=True)
class _Profile:
    """How an account's holder behaves: the demo's bookkeeping, not ledger state."""

    account_id: str
    currency: str
    owner: str
    business: bool
    copies: int
    """How often it sits in the pools: some customers use their account far more."""
    salary: int
    """Monthly salary in minor units (0: none)."""
    employer: str
    rent: int
    card: str
    """How the card shows on statements: `card *1234 `."""
    landlord: str = ""


Action = Callable[..., None]


class _DemoHistory:
    """Plans simulated days and plays their actions through a `DemoLedger`, in time order."""

    def __init__(self, events: int, seed: int, start: str, check_every: int) -> None:
        self.target = events
        self.rng = random.Random(seed)
        self.ledger = DemoLedger(random.Random(self.rng.getrandbits(64)), check_every=check_every)
        moment = parse_time(start)
        self.first_day = moment.date()
        self.start_us = (
            moment.hour * _HOUR + moment.minute * _MINUTE + moment.second * _SECOND
        ) + moment.microsecond
        self.accounts_total = max(MIN_ACCOUNTS, events // EVENTS_PER_ACCOUNT)
        self.days = min(MAX_DAYS, max(MIN_DAYS, events // EVENTS_PER_DAY))
        self.id_width = max(5, len(str(self.accounts_total)))
        self.profiles: dict[str, _Profile] = {}
        self.active = WeightedPool()
        """Accounts that act and are acted on: open, not frozen, not being closed."""
        self.by_currency: dict[str, WeightedPool] = {c: WeightedPool() for c in CURRENCIES}
        self.businesses: dict[str, WeightedPool] = {c: WeightedPool() for c in CURRENCIES}
        self.frozen: list[str] = []
        self.closing: set[str] = set()
        """Accounts being closed or closed: scheduled follow-ups leave them alone."""
        self.closed: list[str] = []
        self.opened = 0
        self.queue: list[tuple[int, int, Action, tuple[Any, ...]]] = []
        self.sequence = itertools.count()
        self.day = -1
        self.day_end = 0
        self.now_us = 0
        self._prefix = (-1, "")
        self._weights = [
            _DAY_WEIGHTS[(self.first_day + timedelta(days=d)).weekday()] for d in range(self.days)
        ]
        self._weight_left = sum(self._weights)
        self._openings = self._plan_openings()

    # -- time --------------------------------------------------------------------------
    def _time_text(self, at_us: int) -> str:
        """`at_us` (microseconds since day 0's midnight) as `format_time` writes it."""
        day, rest = divmod(at_us, _DAY)
        if self._prefix[0] != day:
            self._prefix = (day, (self.first_day + timedelta(days=day)).isoformat() + "T")
        seconds, micros = divmod(rest, _SECOND)
        hours, seconds = divmod(seconds, 3600)
        minutes, seconds = divmod(seconds, 60)
        return f"{self._prefix[1]}{hours:02d}:{minutes:02d}:{seconds:02d}.{micros:06d}Z"

    def _at(self, at_us: int, action: Action, *args: Any) -> None:
        heapq.heappush(self.queue, (at_us, next(self.sequence), action, args))

    def _hour(self) -> int:
        return (self.now_us % _DAY) // _HOUR

    # -- the main loop -----------------------------------------------------------------
    def run(self) -> Iterator[PendingEvent | Refusal]:
        """Play the history until exactly `target` events were recorded."""
        ledger = self.ledger
        out = ledger.out
        queue = self.queue
        while ledger.position < self.target:
            while not queue or queue[0][0] >= self.day_end:
                self._plan_day(self.day + 1)
            at_us, _, action, args = heapq.heappop(queue)
            # Follow-ups are only ever scheduled ahead, so time never goes back.
            if at_us > self.now_us:
                self.now_us = at_us
            ledger.recorded_at = self._time_text(self.now_us)
            action(*args)
            if out:
                yield from out
                out.clear()

    @property
    def _room(self) -> int:
        """How many more events may be recorded."""
        return self.target - self.ledger.position

    def _plan_openings(self) -> dict[int, int]:
        """How many accounts tellers open on each day, after the go-live migration."""
        later = self.accounts_total - self._migrated_count()
        weekdays = [
            d
            for d in range(1, max(2, self.days * 3 // 4))
            if (self.first_day + timedelta(days=d)).weekday() < 5
        ]
        counts: dict[int, int] = {}
        for _ in range(later):
            day = weekdays[int(self.rng.random() * len(weekdays))]
            counts[day] = counts.get(day, 0) + 1
        return counts

    def _migrated_count(self) -> int:
        return max(1, math.ceil(self.accounts_total * 0.35))

    def _plan_day(self, day: int) -> None:
        """Schedule one simulated day: its fixed jobs, then random traffic to its budget.

        The budget is the events still due, shared by weight among the days left, so
        a day that fell short (refusals, skipped slots) is made up by the next ones.
        """
        self.day = day
        start = day * _DAY
        self.day_end = start + _DAY
        today = self.first_day + timedelta(days=day)
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
        if day < self.days:
            budget = self._room * self._weights[day] / self._weight_left
            self._weight_left -= self._weights[day]
        else:  # the planned span is over but events are still due: keep going
            budget = float(self._room)
        slots = max(0, round((budget - planned) / _EVENTS_PER_SLOT))
        earliest = self.start_us if day == 0 else 0
        rng = self.rng
        hours = rng.choices(
            range(24), cum_weights=_WEEKEND_CUM if weekday >= 5 else _WEEKDAY_CUM, k=slots
        )
        tables = self._tables
        for hour in hours:
            offset = hour * _HOUR + int(rng.random() * _HOUR)
            if offset < earliest:
                continue
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
            for _ in range(_poisson(self.rng, rate)):
                at = self._business_time() if office else int(self.rng.random() * _DAY)
                if start + at >= self.start_us:
                    self._at(start + at, action)
                    planned += 1
        return planned

    def _business_time(self) -> int:
        """A time of day within business hours (08:30-17:30)."""
        return int(8.5 * _HOUR) + int(self.rng.random() * 9 * _HOUR)

    def _next_business_time(self, at_us: int) -> int:
        """`at_us`, or the next weekday morning if it falls outside business hours."""
        day, rest = divmod(at_us, _DAY)
        while True:
            weekday = (self.first_day + timedelta(days=day)).weekday()
            if weekday < 5 and 8 * _HOUR <= rest < 18 * _HOUR:
                return day * _DAY + rest
            if weekday < 5 and rest < 8 * _HOUR:
                return day * _DAY + 8 * _HOUR + int(self.rng.random() * 2 * _HOUR)
            day, rest = day + 1, 0

    # -- accounts ----------------------------------------------------------------------
    def _new_profile(self) -> _Profile:
        rng = self.rng
        self.opened += 1
        currency = rng.choices(CURRENCIES, cum_weights=_CURRENCY_CUM)[0]
        account_id = f"{currency.lower()}-{self.opened:0{self.id_width}d}"
        business = rng.random() < 0.12
        if business:
            owner = rng.choice(BUSINESSES[currency])
        else:
            owner = f"{rng.choice(FIRST_NAMES[currency])} {rng.choice(LAST_NAMES[currency])}"
        salaried = not business and rng.random() < 0.78
        salary = self._euros(currency, min(15000.0, rng.lognormvariate(8.07, 0.35)))
        pays_rent = salaried and rng.random() < 0.45
        return _Profile(
            account_id=account_id,
            currency=currency,
            owner=owner,
            business=business,
            copies=4 if business else 1 + int(4 * rng.random() ** 2),
            salary=salary if salaried else 0,
            employer=rng.choice(EMPLOYERS[currency]),
            rent=int(salary * rng.uniform(0.22, 0.35)) if pays_rent else 0,
            card=f"card *{rng.randrange(10000):04d} ",
        )

    def _euros(self, currency: str, euros: float) -> int:
        """A euro-like amount in `currency`'s minor units (JPY: whole yen), at least 1."""
        return max(1, int(euros * MINOR_PER_EURO[currency]))

    def _initial_limit(self, profile: _Profile) -> int:
        r = self.rng.random()
        if profile.business:
            return self._euros(profile.currency, 5000) if r < 0.6 else 0
        if r < 0.7:
            return 0
        return self._euros(profile.currency, self.rng.choice((250, 500, 1000, 2000)))

    def _activate(self, account_id: str) -> None:
        profile = self.profiles[account_id]
        self.active.add(account_id, profile.copies)
        self.by_currency[profile.currency].add(account_id, profile.copies)
        if profile.business:
            self.businesses[profile.currency].add(account_id)

    def _deactivate(self, account_id: str) -> None:
        profile = self.profiles[account_id]
        self.active.remove(account_id)
        self.by_currency[profile.currency].remove(account_id)
        self.businesses[profile.currency].remove(account_id)

    def _open(self, actor: str, profile: _Profile, correlation_id: str = "") -> str | None:
        command = OpenAccount(
            account_id=profile.account_id,
            owner=profile.owner,
            currency=profile.currency,
            overdraft_limit=format_amount(self._initial_limit(profile), profile.currency),
        )
        command_id = self.ledger.execute(actor, command, correlation_id)
        if command_id is not None:
            self.profiles[profile.account_id] = profile
            self._activate(profile.account_id)
        return command_id

    def _plan_migration(self, at_us: int) -> float:
        """The go-live batch: accounts moved from the old system, with their balances."""
        count = min(self._migrated_count(), self.accounts_total)
        batch = self.ledger.new_id()
        for i in range(count):
            self._at(at_us + i * 40_000, self._migrate_one, batch)
        return 2.0 * count

    def _migrate_one(self, batch: str) -> None:
        profile = self._new_profile()
        command_id = self._open("migration", profile, batch)
        if command_id is not None:
            euros = self.rng.lognormvariate(7.3, 1.1) * (4 if profile.business else 1)
            amount = self._euros(profile.currency, euros)
            reference = "opening balance (migrated)"
            args = ("migration", profile.account_id, amount, reference, "internal", batch)
            self._at(self.now_us + 10_000, self._deposit_after, *args, command_id)

    def _open_by_teller(self) -> None:
        if self.opened >= self.accounts_total:
            return
        teller = self.rng.choice(TELLERS)
        profile = self._new_profile()
        command_id = self._open(teller, profile)
        if command_id is not None:
            amount = self._euros(profile.currency, self.rng.uniform(50, 1500))
            args = (teller, profile.account_id, amount, "initial deposit", "branch", command_id)
            later = self.now_us + 2 * _MINUTE + int(self.rng.random() * 10 * _MINUTE)
            self._at(later, self._deposit_after, *args, command_id)

    def _deposit_after(
        self,
        actor: str,
        account_id: str,
        amount: int,
        reference: str,
        channel: str,
        correlation_id: str,
        causation_id: str,
    ) -> None:
        """A deposit that an earlier command led to (opening balances)."""
        if self._room >= 1:
            self.ledger.deposit(
                actor, account_id, amount, reference, correlation_id, causation_id, channel=channel
            )

    def _pick(self, pool: WeightedPool) -> str | None:
        """An account from `pool` (busier holders are in it more often), or None."""
        return pool.pick(self.rng)

    def _other(self, account_id: str) -> str | None:
        """Another active account of the same currency, or None if there is none."""
        pool = self.by_currency[self.profiles[account_id].currency]
        if len(pool) < 2:
            return None
        for _ in range(4):
            other = pool.choice(self.rng)
            if other != account_id:
                return other
        return None

    def _affordable(self, account_id: str, amount: int) -> int:
        """`amount`, or less when the account cannot pay it (0: skip).

        Now and then the full amount is kept anyway: the attempt is then refused by the
        overdraft rule, as a real card terminal declines it.
        """
        available = self.ledger.available(account_id)
        if amount <= available or self.rng.random() < 0.05:
            return amount
        if available <= 0:
            return 0
        return 1 + int(self.rng.random() * available)

    # -- everyday traffic ----------------------------------------------------------------
    def _card(self, account_id: str | None = None) -> None:
        """A card payment; `account_id` for a scheduled attempt on a particular account."""
        rng = self.rng
        if account_id is None:
            account_id = self._pick(self.active)
            if account_id is None:
                return
        elif account_id in self.closing:
            return
        profile = self.profiles[account_id]
        currency = profile.currency
        if rng.random() < 0.06:  # a flight, a laptop, a sofa
            euros = math.exp(rng.gauss(6.3, 0.6))
        else:
            euros = math.exp(rng.gauss(3.3, 0.9))
        amount = self._affordable(account_id, self._euros(currency, euros))
        if amount:
            shops = _SHOPS[currency]
            reference = profile.card + shops[int(rng.random() * len(shops))]
            self.ledger.withdraw("card-gateway", account_id, amount, reference)

    def _atm(self) -> None:
        account_id = self._pick(self.active)
        if account_id is None:
            return
        currency = self.profiles[account_id].currency
        euros = self.rng.choice((20, 50, 50, 100, 100, 200, 300))
        amount = self._affordable(account_id, self._euros(currency, euros))
        if amount:
            reference = "ATM " + self.rng.choice(CITIES[currency])
            self.ledger.withdraw("atm-network", account_id, amount, reference)

    def _transfer(self) -> None:
        if self._room < 2:
            self._card()
            return
        source = self._pick(self.active)
        target = None if source is None else self._other(source)
        if source is None or target is None:
            self._card()
            return
        rng = self.rng
        if self.profiles[target].business:
            reference = f"invoice {rng.randrange(1, 99999):05d}"
            euros = math.exp(rng.gauss(5.0, 1.0))
        else:
            reference = _TRANSFER_NOTES[int(rng.random() * len(_TRANSFER_NOTES))]
            euros = math.exp(rng.gauss(4.0, 1.1))
        amount = self._affordable(source, self._euros(self.profiles[source].currency, euros))
        if amount:
            actor = "online-banking" if rng.random() < 0.35 else "mobile-app"
            self.ledger.transfer(actor, source, target, amount, reference)

    def _teller_deposit(self) -> None:
        account_id = self._pick(self.active)
        if account_id is not None:
            currency = self.profiles[account_id].currency
            amount = self._euros(currency, math.exp(self.rng.gauss(5.6, 1.0)))
            reference = self.rng.choice(
                ("cash deposit", f"cheque {self.rng.randrange(1, 99999):06d}", "coins")
            )
            self.ledger.deposit(
                self.rng.choice(TELLERS), account_id, amount, reference, channel="branch"
            )

    def _teller_withdraw(self) -> None:
        account_id = self._pick(self.active)
        if account_id is not None:
            currency = self.profiles[account_id].currency
            wanted = self._euros(currency, math.exp(self.rng.gauss(5.3, 0.8)))
            amount = self._affordable(account_id, wanted)
            if amount:
                teller = self.rng.choice(TELLERS)
                self.ledger.withdraw(teller, account_id, amount, "cash at counter")

    def _self_service_deposit(self) -> None:
        """Cash paid in at a deposit machine, or a cheque photographed in the mobile app."""
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        currency = self.profiles[account_id].currency
        amount = self._euros(currency, math.exp(rng.gauss(4.6, 0.9)))
        if rng.random() < 0.5:
            reference = "cash deposit ATM " + rng.choice(CITIES[currency])
            self.ledger.deposit("atm-network", account_id, amount, reference, channel="atm")
        else:
            reference = f"mobile cheque {rng.randrange(1, 999999):06d}"
            self.ledger.deposit("mobile-app", account_id, amount, reference, channel="online")

    def _clearing_in(self) -> None:
        """An incoming payment from another bank: refunds, tax, family."""
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        currency = self.profiles[account_id].currency
        source = rng.choice(
            (f"refund {rng.choice(MERCHANTS[currency])}", "tax refund", "insurance claim",
             f"payment from {rng.choice(BUSINESSES[currency])}", "family support")
        )  # fmt: skip
        amount = self._euros(currency, math.exp(rng.gauss(5.0, 1.2)))
        reference = f"{_CLEARING[currency]} {source}"
        self.ledger.deposit("clearing-house", account_id, amount, reference, channel="transfer")

    def _settlement(self) -> None:
        """Yesterday's card takings paid out to a business."""
        currency = self.rng.choices(CURRENCIES, cum_weights=_CURRENCY_CUM)[0]
        account_id = self._pick(self.businesses[currency])
        if account_id is not None:
            amount = self._euros(currency, math.exp(self.rng.gauss(7.0, 0.8)))
            yesterday = (self.first_day + timedelta(days=self.day - 1)).isoformat()
            reference = f"card settlement {yesterday}"
            self.ledger.deposit("card-gateway", account_id, amount, reference, channel="card")

    def _large_deposit(self) -> None:
        """The kind of deposit auditors look at twice."""
        account_id = self._pick(self.active)
        if account_id is not None:
            currency = self.profiles[account_id].currency
            amount = self._euros(currency, self.rng.uniform(40_000, 400_000))
            reference = self.rng.choice(
                ("property sale proceeds", "inheritance", "annual bonus", "sale of business")
            )
            self.ledger.deposit("carol", account_id, amount, reference, channel="branch")

    # -- salaries and rents ------------------------------------------------------------
    def _plan_payroll(self, at_us: int, today: date) -> float:
        """Salaries for everyone employed, in one run that shares a correlation id."""
        run = self.ledger.new_id()
        month = f"{_MONTHS[today.month - 1]} {today.year}"
        count = 0
        for account_id in self.active.ids():
            if self.profiles[account_id].salary:
                self._at(at_us + count * 150_000, self._pay_salary, account_id, month, run)
                count += 1
        return float(count)

    def _pay_salary(self, account_id: str, month: str, run: str) -> None:
        profile = self.profiles[account_id]
        if account_id not in self.closing and self._room >= 1:
            reference = f"salary {month} {profile.employer}"
            self.ledger.deposit(
                "payroll-bot", account_id, profile.salary, reference, run, channel="payroll"
            )

    def _plan_rents(self, at_us: int, today: date) -> float:
        """Standing orders paying rent to a landlord, on the month's first weekday."""
        run = self.ledger.new_id()
        month = f"{_MONTHS[today.month - 1]} {today.year}"
        count = 0
        for account_id in self.active.ids():
            if self.profiles[account_id].rent:
                self._at(at_us + count * 200_000, self._pay_rent, account_id, month, run)
                count += 1
        return 2.0 * count

    def _pay_rent(self, account_id: str, month: str, run: str) -> None:
        profile = self.profiles[account_id]
        if account_id in self.closing or self._room < 2:
            return
        landlords = self.businesses[profile.currency]
        if profile.landlord not in landlords:
            landlord = self._pick(landlords)
            if landlord is None:
                return
            profile.landlord = landlord
        if profile.rent > self.ledger.available(account_id) and self.rng.random() > 0.3:
            return  # most tenants top up in time; for the rest the order is refused
        reference = f"rent {month}"
        self.ledger.transfer(
            "standing-orders", account_id, profile.landlord, profile.rent, reference, run
        )

    # -- operations --------------------------------------------------------------------
    def _change_limit(self) -> None:
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        account = self.ledger.account(account_id)
        currency = account.currency
        if account.overdraft_limit == 0 or rng.random() < 0.4:
            limit = self._euros(currency, rng.choice((250, 500, 1000, 2000, 3000)))
        else:
            limit = 0 if rng.random() < 0.5 else account.overdraft_limit // 2
        owed = -account.balance
        if limit < owed and rng.random() > 0.15:
            limit = owed  # ops lowers a limit only to what is owed (now and then they forget)
        if limit == account.overdraft_limit:
            return
        command = SetOverdraftLimit(account_id=account_id, limit=format_amount(limit, currency))
        self.ledger.execute(rng.choice(("ops:erik", "ops:erik", *TELLERS)), command)

    def _freeze(self) -> None:
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        currency = self.profiles[account_id].currency
        if 8 <= self._hour() < 18 and rng.random() < 0.6:
            actor = "ops:dana"
            reason = rng.choice(_FREEZE_REASONS)
        else:
            actor = "fraud-monitor"
            city = rng.choice(CITIES[currency])
            reason = f"unusual card activity: {rng.randrange(3, 9)} declined attempts in {city}"
        command = FreezeAccount(account_id=account_id, reason=reason)
        command_id = self.ledger.execute(actor, command)
        if command_id is None:
            return
        self._deactivate(account_id)
        self.frozen.append(account_id)
        # The card keeps being tried while frozen; the rules refuse those attempts.
        for _ in range(rng.randrange(0, 3)):
            self._at(self.now_us + int(rng.uniform(5, 300) * _MINUTE), self._card, account_id)
        later = self._next_business_time(self.now_us + int(rng.uniform(2, 72) * _HOUR))
        self._at(later, self._unfreeze, account_id, command_id)

    def _unfreeze(self, account_id: str, freeze_id: str) -> None:
        if self._room < 1:
            return
        reason = self.rng.choice(_UNFREEZE_REASONS)
        command = UnfreezeAccount(account_id=account_id, reason=reason)
        if self.ledger.execute("ops:dana", command, freeze_id, freeze_id) is None:
            return
        self.frozen.remove(account_id)
        self._activate(account_id)
        # Relieved, the customer pays for something straight away (audit flags this).
        soon = self.now_us + int(self.rng.uniform(2, 20) * _MINUTE)
        self._at(soon, self._card, account_id)

    def _close(self) -> None:
        """Close an account: sweep its balance to zero first, then close it at zero."""
        account_id = self._pick(self.active)
        if account_id is None or self._room < 3 or self.profiles[account_id].business:
            return
        rng = self.rng
        teller = rng.choice(TELLERS)
        # Out of the pools first, so nothing moves money in before the close.
        self._deactivate(account_id)
        self.closing.add(account_id)
        balance = self.ledger.account(account_id).balance
        target = self._other(account_id)
        sweep: str | None = ""
        if balance > 0 and target is not None:
            reference = f"closing balance of {account_id}"
            sweep = self.ledger.transfer(teller, account_id, target, balance, reference)
        elif balance > 0:
            sweep = self.ledger.withdraw(teller, account_id, balance, "closing payout")
        elif balance < 0:
            reference = "overdraft settled before closing"
            sweep = self.ledger.deposit(teller, account_id, -balance, reference, channel="branch")
        command = CloseAccount(account_id=account_id, reason=rng.choice(_CLOSE_REASONS))
        if sweep:
            later = self.now_us + int(rng.uniform(1, 8) * _MINUTE)
            self._at(later, self._finish_close, teller, command, sweep)
        elif sweep is not None:
            self._finish_close(teller, command, "")

    def _finish_close(self, teller: str, command: CloseAccount, sweep_id: str) -> None:
        if self._room >= 1 and self.ledger.execute(teller, command, sweep_id, sweep_id):
            self.closed.append(command.account_id)

    # -- mistakes the rules refuse -------------------------------------------------------
    def _mistake(self) -> None:
        """An attempt a rule refuses, the way people and systems get things wrong."""
        account_id = self._pick(self.active)
        if account_id is None:
            return
        rng = self.rng
        account = self.ledger.account(account_id)
        currency = account.currency
        actor = rng.choice(TELLERS)
        kind = rng.randrange(9)
        weekday = (self.first_day + timedelta(days=self.day)).weekday()
        if kind in (1, 3, 4, 5) and not (weekday < 5 and 8 <= self._hour() < 18):
            kind = 8  # the branch is closed: only machines make mistakes now
        command: Command
        if kind == 0:  # a transfer to an account in another currency
            others = [c for c in CURRENCIES if c != currency and self.by_currency[c]]
            if not others:
                return
            actor = "mobile-app"
            command = Transfer(
                from_account=account_id,
                to_account=self.by_currency[rng.choice(others)].choice(rng),
                amount=format_amount(self._euros(currency, 50), currency),
                reference="holiday money",
            )
        elif kind == 1 and self.closed:  # a deposit to an account closed since
            closed = self.ledger.account(rng.choice(self.closed))
            command = Deposit(
                account_id=closed.account_id,
                amount=format_amount(
                    self._euros(closed.currency, rng.choice((20, 50, 100, 250))), closed.currency
                ),
                channel="branch",
                reference="cash deposit",
            )
        elif kind == 2:  # a typo in the target account id
            actor = "online-banking"
            command = Transfer(
                from_account=account_id,
                to_account=account_id + str(rng.randrange(10)),
                amount=format_amount(self._euros(currency, 25), currency),
                reference="invoice",
            )
        elif kind == 3 and account.balance != 0:  # closing before the balance is zero
            command = CloseAccount(account_id=account_id, reason="customer request")
        elif kind == 4:  # opening an id that is taken
            first, last = rng.choice(FIRST_NAMES[currency]), rng.choice(LAST_NAMES[currency])
            command = OpenAccount(account_id=account_id, owner=f"{first} {last}", currency=currency)
        elif kind == 5:  # unfreezing what is not frozen
            actor = "ops:dana"
            command = UnfreezeAccount(account_id=account_id, reason="customer called")
        elif kind == 6 and self.frozen:  # a transfer into a frozen account
            actor = "mobile-app"
            frozen = self.ledger.account(rng.choice(self.frozen))
            if frozen.currency != currency:
                return
            command = Transfer(
                from_account=account_id,
                to_account=frozen.account_id,
                amount=format_amount(self._euros(currency, 30), currency),
                reference="birthday present",
            )
        else:  # a withdrawal beyond the overdraft limit, at the counter, ATM or a shop
            actor = rng.choice((actor, "atm-network", "card-gateway"))
            over = max(account.available, 0) + self._euros(currency, rng.uniform(5, 2000))
            command = Withdraw(
                account_id=account_id,
                amount=format_amount(over, currency),
                reference="cash"
                if actor != "card-gateway"
                else "card " + rng.choice(_SHOPS[currency]),
            )
        self.ledger.execute(actor, command)


def _poisson(rng: random.Random, rate: float) -> int:
    """A Poisson-distributed count with mean `rate` (Knuth's method; rates here are small)."""
    limit, count, product = math.exp(-rate), 0, rng.random()
    while product > limit:
        count += 1
        product *= rng.random()
    return count


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
