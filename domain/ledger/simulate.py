"""Live traffic for `eventscope simulate`: several actors sending ledger commands.

`traffic(seed, accounts)` is an endless, deterministic stream of (actor, command)
pairs: card payments, ATM withdrawals, transfers, deposits, now and then a freeze
(undone a little later) or a new overdraft limit, and attempts the rules refuse
(overdrafts beyond the limit, transfers across currencies or to unknown accounts).
It does not know the balances, so the real rules decide, as they would live.

`run_simulation` runs that stream through the real `CommandBus` at a steady rate,
finding the accounts to use in the store (and opening a few if there are none).
Time is injected (`pace`, `monotonic`) so tests need no real waiting.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from domain import simulation
from domain.bus import CommandBus
from domain.envelope import RecordedEvent, StreamSummary
from domain.errors import InvalidInput
from domain.ledger.account import ACCOUNT
from domain.ledger.commands import (
    Deposit,
    FreezeAccount,
    OpenAccount,
    SetOverdraftLimit,
    Transfer,
    UnfreezeAccount,
    Withdraw,
)
from domain.ledger.demo_names import CITIES, FIRST_NAMES, LAST_NAMES, MERCHANTS
from domain.ledger.demo_setting import MINOR_PER_EURO, TELLERS
from domain.ledger.money import CURRENCIES, format_amount
from domain.messages import Command
from domain.simulation import Setup, SimulationStep, check_pace, run_paced

STARTER_ACCOUNTS_PER_CURRENCY = 2
"""How many accounts per currency a simulation opens in a store that has none."""


@dataclass(frozen=True, slots=True)
class SimAccount:
    """An account the traffic may use."""

    account_id: str
    currency: str
    frozen: bool = False


class AccountSource(Protocol):
    """What account discovery reads from a store (both bundled stores have it)."""

    def streams(
        self, prefix: str = "", *, after: str = "", limit: int = 100
    ) -> list[StreamSummary]: ...

    def read_stream(
        self, stream_id: str, *, after_version: int = 0, to_version: int | None = None
    ) -> list[RecordedEvent]: ...


def discover_accounts(store: AccountSource, *, limit: int = 500, seed: int = 0) -> list[SimAccount]:
    """Accounts in `store` that are not closed, by id: at most `limit`, a seeded sample if more.

    Reads the stream list, then each chosen stream's first event (its currency) and
    last event (closed or frozen), never whole streams, so it is quick on big stores.
    """
    prefix = ACCOUNT.stream_id("")
    summaries: list[StreamSummary] = []
    after = ""
    while True:
        page = store.streams(prefix, after=after, limit=1000)
        summaries += page
        if len(page) < 1000:
            break
        after = page[-1].stream_id
    if len(summaries) > limit:
        # A seeded shuffle, walked until `limit` usable accounts are found.
        summaries = random.Random(seed).sample(summaries, len(summaries))
    found: list[SimAccount] = []
    for summary in summaries:
        if len(found) >= limit:
            break
        first = store.read_stream(summary.stream_id, to_version=1)
        if not first or first[0].type != "AccountOpened":
            continue
        last = store.read_stream(summary.stream_id, after_version=summary.version - 1)
        last_type = last[-1].type if last else ""
        if last_type == "AccountClosed":
            continue
        account_id = ACCOUNT.key_of(summary.stream_id)
        currency = str(first[0].data["currency"])
        found.append(SimAccount(account_id, currency, frozen=last_type == "AccountFrozen"))
    return sorted(found, key=_account_id)


def _account_id(account: SimAccount) -> str:
    return account.account_id


def traffic(seed: int, accounts: Sequence[SimAccount]) -> Iterator[tuple[str, Command]]:
    """An endless, deterministic mix of (actor, command) over `accounts`.

    Needs at least one account. Freezes are followed by an unfreeze 20 to 120
    commands later; accounts found frozen are unfrozen early on.
    """
    if not accounts:
        raise InvalidInput("the simulation needs at least one account")
    return _Traffic(seed, accounts).run()


class _Traffic:
    def __init__(self, seed: int, accounts: Sequence[SimAccount]) -> None:
        self.rng = random.Random(seed)
        self.accounts = list(accounts)
        self.by_currency: dict[str, list[SimAccount]] = {}
        for account in self.accounts:
            self.by_currency.setdefault(account.currency, []).append(account)
        self.frozen = {a.account_id for a in self.accounts if a.frozen}
        # (due step, account id) of unfreezes to send, earliest first
        self.unfreezes: list[tuple[int, str]] = [
            (self.rng.randrange(1, 30), a.account_id) for a in self.accounts if a.frozen
        ]
        self.unfreezes.sort()
        self.step = 0

    def run(self) -> Iterator[tuple[str, Command]]:
        while True:
            self.step += 1
            if self.unfreezes and self.unfreezes[0][0] <= self.step:
                _, account_id = self.unfreezes.pop(0)
                self.frozen.discard(account_id)
                reason = self.rng.choice(("customer identity confirmed", "new card issued"))
                yield "ops:dana", UnfreezeAccount(account_id=account_id, reason=reason)
                continue
            yield self._next()

    def _amount(self, account: SimAccount, euros: float) -> str:
        return format_amount(
            max(1, int(euros * MINOR_PER_EURO[account.currency])), account.currency
        )

    def _next(self) -> tuple[str, Command]:
        rng = self.rng
        account = rng.choice(self.accounts)
        r = rng.random()
        if r < 0.33:
            shop = (
                f"{rng.choice(MERCHANTS[account.currency])} {rng.choice(CITIES[account.currency])}"
            )
            amount = self._amount(account, rng.lognormvariate(3.3, 0.9))
            return "card-gateway", Withdraw(
                account_id=account.account_id, amount=amount, reference=f"card {shop}"
            )
        if r < 0.41:
            amount = self._amount(account, rng.choice((20, 50, 100, 200)))
            reference = f"ATM {rng.choice(CITIES[account.currency])}"
            return "atm-network", Withdraw(
                account_id=account.account_id, amount=amount, reference=reference
            )
        if r < 0.63:
            others = [a for a in self.by_currency[account.currency] if a != account]
            if others:
                target = rng.choice(others)
                actor = rng.choice(("mobile-app", "mobile-app", "online-banking"))
                return actor, Transfer(
                    from_account=account.account_id,
                    to_account=target.account_id,
                    amount=self._amount(account, rng.lognormvariate(4.0, 1.0)),
                    reference=rng.choice(("dinner", "rent share", "thanks!", "groceries")),
                )
        if r < 0.80 or r >= 0.95:
            actor = rng.choice(("clearing-house", "clearing-house", *TELLERS))
            return actor, Deposit(
                account_id=account.account_id,
                amount=self._amount(account, rng.lognormvariate(5.3, 1.0)),
                channel="branch" if actor in TELLERS else "transfer",
                reference="cash deposit" if actor in TELLERS else "incoming payment",
            )
        if r < 0.82 and account.account_id not in self.frozen:
            self.frozen.add(account.account_id)
            self.unfreezes.append((self.step + rng.randrange(20, 120), account.account_id))
            self.unfreezes.sort()
            actor = rng.choice(("fraud-monitor", "ops:dana"))
            reason = "unusual card activity" if actor == "fraud-monitor" else "KYC review"
            return actor, FreezeAccount(account_id=account.account_id, reason=reason)
        if r < 0.835:
            limit = self._amount(account, rng.choice((250, 500, 1000, 2000)))
            return "ops:erik", SetOverdraftLimit(account_id=account.account_id, limit=limit)
        if r < 0.90 or (r < 0.93 and len(self.by_currency) < 2):
            # far more than most balances: the overdraft rule usually refuses it
            amount = self._amount(account, rng.uniform(3_000, 50_000))
            actor = rng.choice(("atm-network", *TELLERS))
            return actor, Withdraw(account_id=account.account_id, amount=amount, reference="cash")
        if r < 0.93:
            currency = rng.choice([c for c in self.by_currency if c != account.currency])
            target = rng.choice(self.by_currency[currency])
            return "mobile-app", Transfer(
                from_account=account.account_id,
                to_account=target.account_id,
                amount=self._amount(account, 50),
                reference="holiday money",
            )
        return "online-banking", Transfer(
            from_account=account.account_id,
            to_account=account.account_id[:39] + str(rng.randrange(10)),
            amount=self._amount(account, 25),
            reference="invoice",
        )


@dataclass
class SimulationStats(simulation.SimulationStats):
    """What a ledger simulation did: the generic counts plus the accounts it used."""

    accounts: int = 0
    """Accounts the traffic used."""
    opened: int = 0
    """Accounts the simulation opened itself (in a store that had none)."""

    def to_json_dict(self) -> dict[str, Any]:
        return {**super().to_json_dict(), "accounts": self.accounts, "opened": self.opened}


def open_starter_accounts(bus: CommandBus, setup: Setup, seed: int) -> list[SimAccount]:
    """Open and fund a few accounts per currency (`sim-eur-1`...) for an empty store."""
    rng = random.Random(seed)
    accounts: list[SimAccount] = []
    for currency in CURRENCIES:
        opened, number = 0, 0
        while opened < STARTER_ACCOUNTS_PER_CURRENCY and number < 50:
            number += 1
            account_id = f"sim-{currency.lower()}-{number}"
            owner = f"{rng.choice(FIRST_NAMES[currency])} {rng.choice(LAST_NAMES[currency])}"
            teller = rng.choice(TELLERS)
            opening = OpenAccount(account_id=account_id, owner=owner, currency=currency)
            if setup.run(teller, opening).outcome != "ok":
                continue  # the id is taken (by a closed account): try the next one
            opened += 1
            accounts.append(SimAccount(account_id, currency))
            amount = int(rng.uniform(500, 3000) * MINOR_PER_EURO[currency])
            deposit = Deposit(
                account_id=account_id,
                amount=format_amount(amount, currency),
                channel="branch",
                reference="initial deposit",
            )
            setup.run(teller, deposit)
    return accounts


def run_simulation(
    bus: CommandBus,
    store: AccountSource,
    rate: float,
    duration: float | None,
    seed: int,
    pace: Callable[[float], None],
    *,
    monotonic: Callable[[], float],
    on_result: Callable[[SimulationStep], None] | None = None,
    stop: Callable[[], bool] | None = None,
    max_accounts: int = 500,
) -> SimulationStats:
    """Send `rate` commands a second for `duration` seconds through `bus`.

    Pacing and `stop` as in `domain.simulation.run_paced`. Accounts come
    from `store` (see `discover_accounts`); if it has none, a few are opened first
    (those commands are counted, but not paced).
    """
    check_pace(rate, duration)
    stats = SimulationStats()
    accounts = discover_accounts(store, limit=max_accounts, seed=seed)
    if not accounts:
        accounts = open_starter_accounts(bus, Setup(bus, stats, on_result), seed)
        stats.opened = len(accounts)
    if not accounts:
        raise InvalidInput("no account could be opened for the simulation")
    stats.accounts = len(accounts)
    run_paced(
        bus,
        traffic(seed, accounts),
        stats,
        rate,
        duration,
        pace=pace,
        monotonic=monotonic,
        on_result=on_result,
        stop=stop,
    )
    return stats
