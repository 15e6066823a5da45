"""The ledger demo's everyday traffic: payments, cash, transfers, salaries, rents."""

from __future__ import annotations

import math
from datetime import date, timedelta

from domain.ledger.demo_accounts import _Accounts
from domain.ledger.demo_names import (
    BUSINESSES,
    CITIES,
    MERCHANTS,
)
from domain.ledger.demo_setting import (
    _CLEARING,
    _CURRENCY_CUM,
    _MONTHS,
    _SHOPS,
    _TRANSFER_NOTES,
    TELLERS,
)
from domain.ledger.money import CURRENCIES


class _Traffic(_Accounts):
    """Everyday money: cards, cash, transfers, clearing, settlements, payroll and rent."""

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
