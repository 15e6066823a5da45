"""The ledger demo's accounts: holders, openings, the migration and who pays whom."""

from __future__ import annotations

import math
import random
from datetime import timedelta

from domain.demo_engine import DemoHistory
from domain.demo_pool import WeightedPool
from domain.ledger.commands import (
    OpenAccount,
)
from domain.ledger.demo_ledger import DemoLedger
from domain.ledger.demo_names import (
    BUSINESSES,
    EMPLOYERS,
    FIRST_NAMES,
    LAST_NAMES,
)
from domain.ledger.demo_setting import (
    _CURRENCY_CUM,
    _DAY,
    _DAY_WEIGHTS,
    _HOUR,
    _MINUTE,
    EVENTS_PER_ACCOUNT,
    EVENTS_PER_DAY,
    MAX_DAYS,
    MIN_ACCOUNTS,
    MIN_DAYS,
    MINOR_PER_EURO,
    TELLERS,
    _Profile,
)
from domain.ledger.money import CURRENCIES, format_amount


class _Accounts(DemoHistory):
    """The demo's accounts and their holders, over the shared demo loop: who opens,
    who may pay whom, and business hours. The actions come in the subclasses."""

    def __init__(self, events: int, seed: int, start: str, check_every: int) -> None:
        days = min(MAX_DAYS, max(MIN_DAYS, events // EVENTS_PER_DAY))
        super().__init__(events, seed, start, days, _DAY_WEIGHTS)
        self.ledger = DemoLedger(random.Random(self.rng.getrandbits(64)), check_every=check_every)
        self.decider = self.ledger
        self.accounts_total = max(MIN_ACCOUNTS, events // EVENTS_PER_ACCOUNT)
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
        self._openings = self._plan_openings()

    def _hour(self) -> int:
        return (self.now_us % _DAY) // _HOUR

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
