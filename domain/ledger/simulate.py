"""Live traffic for `eventscope simulate`: several actors sending ledger commands.

`traffic(seed, accounts)` is an endless, deterministic stream of (actor, command)
pairs: card payments, ATM withdrawals, transfers, deposits, now and then a freeze
(undone a little later) or a new overdraft limit, and attempts the rules refuse
(overdrafts beyond the limit, transfers across currencies or to unknown accounts).
It does not know the balances, so the real rules decide, as they would live.

`run_simulation` runs that stream through the real `CommandBus` at a steady rate,
finding the accounts to use in the store (and opening a few if there are none).
Time is injected (`clock_sleep`, `monotonic`) so tests need no real waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from domain.bus import CommandBus
from domain.envelope import AppendResult, RecordedEvent, StreamSummary
from domain.errors import ConcurrencyConflict, InvalidInput, RuleRefused
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
from domain.ledger.demo import MINOR_PER_EURO, TELLERS
from domain.ledger.demo_names import CITIES, FIRST_NAMES, LAST_NAMES, MERCHANTS
from domain.ledger.money import CURRENCIES, format_amount
from domain.messages import Command

Outcome = Literal["ok", "refused", "conflict", "invalid"]

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


@dataclass(frozen=True, slots=True)
class SimulationStep:
    """One command the simulation sent and what became of it."""

    index: int
    """0, 1, 2... for paced commands; negative for the setup that opened accounts."""
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
    """What a simulation did, by outcome."""

    ok: int = 0
    refused: int = 0
    conflicts: int = 0
    invalid: int = 0
    events: int = 0
    """Events recorded by the commands that succeeded."""
    accounts: int = 0
    """Accounts the traffic used."""
    opened: int = 0
    """Accounts the simulation opened itself (in a store that had none)."""
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
            "accounts": self.accounts,
            "opened": self.opened,
            "elapsed": round(self.elapsed, 3),
            "by_type": dict(sorted(self.by_type.items())),
        }


def send(bus: CommandBus, index: int, actor: str, command: Command) -> SimulationStep:
    """Run one command through the bus and say what became of it.

    Refusals are recorded by the bus itself. A conflict is what is left after the
    bus's own retries (another writer kept changing the same account).
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


def open_starter_accounts(
    bus: CommandBus, seed: int, on_result: Callable[[SimulationStep], None] | None = None
) -> tuple[list[SimAccount], list[SimulationStep]]:
    """Open and fund a few accounts per currency (`sim-eur-1`...) for an empty store."""
    rng = random.Random(seed)
    accounts: list[SimAccount] = []
    steps: list[SimulationStep] = []

    def run(actor: str, command: Command) -> SimulationStep:
        step = send(bus, -1 - len(steps), actor, command)
        steps.append(step)
        if on_result is not None:
            on_result(step)
        return step

    for currency in CURRENCIES:
        opened, number = 0, 0
        while opened < STARTER_ACCOUNTS_PER_CURRENCY and number < 50:
            number += 1
            account_id = f"sim-{currency.lower()}-{number}"
            owner = f"{rng.choice(FIRST_NAMES[currency])} {rng.choice(LAST_NAMES[currency])}"
            teller = rng.choice(TELLERS)
            opening = OpenAccount(account_id=account_id, owner=owner, currency=currency)
            if run(teller, opening).outcome != "ok":
                continue  # the id is taken (by a closed account): try the next one
            opened += 1
            account = SimAccount(account_id, currency)
            accounts.append(account)
            amount = int(rng.uniform(500, 3000) * MINOR_PER_EURO[currency])
            deposit = Deposit(
                account_id=account_id,
                amount=format_amount(amount, currency),
                channel="branch",
                reference="initial deposit",
            )
            run(teller, deposit)
    return accounts, steps


def run_simulation(
    bus: CommandBus,
    store: AccountSource,
    rate: float,
    duration: float | None,
    seed: int,
    clock_sleep: Callable[[float], None] = time.sleep,
    *,
    monotonic: Callable[[], float] = time.monotonic,
    on_result: Callable[[SimulationStep], None] | None = None,
    stop: Callable[[], bool] | None = None,
    max_accounts: int = 500,
) -> SimulationStats:
    """Send `rate` commands a second for `duration` seconds through `bus`.

    `duration` None runs until `stop()` returns True or the user presses Ctrl+C
    (KeyboardInterrupt ends the run and the stats so far are returned). Command i
    is due `i / rate` seconds after the start; the run sleeps until then, and does
    not sleep when it is late, so a slow store lowers the rate rather than piling
    up. Accounts come from `store` (see `discover_accounts`); if it has none, a few
    are opened first (those commands are counted, but not paced).
    """
    if not rate > 0:
        raise InvalidInput(f"rate must be more than 0 commands a second, got {rate}")
    if duration is not None and not duration >= 0:
        raise InvalidInput(f"duration must be 0 or more seconds, got {duration}")
    stats = SimulationStats()
    accounts = discover_accounts(store, limit=max_accounts, seed=seed)
    if not accounts:
        accounts, steps = open_starter_accounts(bus, seed, on_result)
        for step in steps:
            stats.add(step)
        stats.opened = len(accounts)
    if not accounts:
        raise InvalidInput("no account could be opened for the simulation")
    stats.accounts = len(accounts)
    total = None if duration is None else int(rate * duration)
    started = monotonic()
    try:
        for index, (actor, command) in enumerate(traffic(seed, accounts)):
            if (total is not None and index >= total) or (stop is not None and stop()):
                break
            wait = started + index / rate - monotonic()
            if wait > 0:
                clock_sleep(wait)
            step = send(bus, index, actor, command)
            stats.add(step)
            if on_result is not None:
                on_result(step)
    except KeyboardInterrupt:
        pass  # Ctrl+C is how an open-ended simulation ends: report what it did
    stats.elapsed = monotonic() - started
    return stats
