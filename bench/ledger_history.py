"""A fast generator of valid ledger histories for benchmarks (no bus, no pydantic).

It keeps just enough account state to obey the ledger's rules (open before use,
frozen accounts move nothing, funds within the overdraft limit, same-currency
transfers, close only at zero), so every projection sees realistic, valid events.
The demo generator (`domain/ledger/demo.py`) makes prettier data; this one is
about volume and speed, and its shape is tunable from the command line.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from domain.clock import format_time
from domain.envelope import PendingEvent

CURRENCIES = ("EUR", "EUR", "EUR", "USD", "USD", "GBP", "CHF", "JPY")
ACTORS = (*tuple(f"clerk-{i:02d}" for i in range(12)), "batch", "api", "auditor")


@dataclass
class _Account:
    id: str
    currency: str
    balance: int = 0
    limit: int = 0
    version: int = 0
    status: str = "open"


def ledger_history(
    events: int,
    *,
    accounts: int = 5_000,
    seed: int = 7,
    start: str = "2026-01-01T08:00:00.000000Z",
    mean_gap_ms: int = 2_000,
) -> Iterator[PendingEvent]:
    """`events` valid ledger events (a transfer is two), over about `accounts` accounts."""
    rng = random.Random(seed)
    moment = datetime.fromisoformat(start.replace("Z", "+00:00")).astimezone(UTC)
    live: list[_Account] = []
    by_currency: dict[str, list[_Account]] = {}
    made = 0
    opened = 0
    command = 0

    def emit(
        account: _Account,
        kind: str,
        data: dict[str, object],
        actor: str,
        cid: str,
        ctype: str,
        at: str,
    ) -> PendingEvent:
        account.version += 1
        return PendingEvent(
            event_id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            stream_id=f"account-{account.id}",
            stream_type="account",
            version=account.version,
            type=kind,
            data=data,
            metadata={
                "actor": actor,
                "command_id": cid,
                "command_type": ctype,
                "correlation_id": cid,
                "causation_id": cid,
            },
            recorded_at=at,
        )

    while made < events:
        moment += timedelta(milliseconds=rng.expovariate(1 / mean_gap_ms))
        at = format_time(moment)
        actor = rng.choice(ACTORS)
        command += 1
        cid = f"cmd-{command:08d}"
        roll = rng.random()
        if opened < accounts and (len(live) < 20 or roll < accounts / max(events, 1) * 1.2):
            opened += 1
            currency = rng.choice(CURRENCIES)
            account = _Account(f"acc-{opened:06d}", currency, limit=rng.choice((0, 0, 50_000)))
            live.append(account)
            by_currency.setdefault(currency, []).append(account)
            yield emit(
                account,
                "AccountOpened",
                {
                    "account_id": account.id,
                    "owner": f"Owner {opened}",
                    "currency": currency,
                    "overdraft_limit": account.limit,
                },
                actor,
                cid,
                "open_account",
                at,
            )
            made += 1
            continue
        account = rng.choice(live)
        scale = 100 if account.currency == "JPY" else 1
        if account.status == "closed":
            continue
        if account.status == "frozen":
            if roll < 0.5:
                account.status = "open"
                yield emit(
                    account,
                    "AccountUnfrozen",
                    {"account_id": account.id, "reason": "cleared"},
                    actor,
                    cid,
                    "unfreeze_account",
                    at,
                )
                made += 1
            continue
        if roll < 0.40:
            amount = int(rng.lognormvariate(9, 1.6)) * scale + 1
            account.balance += amount
            yield emit(
                account,
                "MoneyDeposited",
                {
                    "account_id": account.id,
                    "amount": amount,
                    "currency": account.currency,
                    "reference": "salary",
                },
                actor,
                cid,
                "deposit",
                at,
            )
            made += 1
        elif roll < 0.70:
            amount = int(rng.lognormvariate(8, 1.5)) * scale + 1
            if account.balance - amount < -account.limit:
                continue
            account.balance -= amount
            yield emit(
                account,
                "MoneyWithdrawn",
                {
                    "account_id": account.id,
                    "amount": amount,
                    "currency": account.currency,
                    "reference": "atm",
                },
                actor,
                cid,
                "withdraw",
                at,
            )
            made += 1
        elif roll < 0.97:
            target = rng.choice(by_currency[account.currency])
            amount = int(rng.lognormvariate(8, 1.5)) * scale + 1
            if (
                target is account
                or target.status != "open"
                or account.balance - amount < -account.limit
            ):
                continue
            account.balance -= amount
            target.balance += amount
            tid = f"t-{command:08d}"
            fields = {
                "transfer_id": tid,
                "from_account": account.id,
                "to_account": target.id,
                "amount": amount,
                "currency": account.currency,
                "reference": "rent",
            }
            yield emit(account, "TransferSent", fields, actor, cid, "transfer", at)
            yield emit(target, "TransferReceived", dict(fields), actor, cid, "transfer", at)
            made += 2
        elif roll < 0.985:
            account.status = "frozen"
            yield emit(
                account,
                "AccountFrozen",
                {"account_id": account.id, "reason": "fraud check"},
                actor,
                cid,
                "freeze_account",
                at,
            )
            made += 1
        elif roll < 0.995:
            new = rng.choice((0, 50_000, 100_000)) * scale
            if new == account.limit or new < -account.balance:
                continue
            yield emit(
                account,
                "OverdraftLimitChanged",
                {"account_id": account.id, "old_limit": account.limit, "new_limit": new},
                actor,
                cid,
                "set_overdraft_limit",
                at,
            )
            account.limit = new
            made += 1
        elif account.balance == 0:
            account.status = "closed"
            yield emit(
                account,
                "AccountClosed",
                {"account_id": account.id, "reason": "customer left"},
                actor,
                cid,
                "close_account",
                at,
            )
            made += 1
