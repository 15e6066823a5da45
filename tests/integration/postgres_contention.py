"""Writer processes on shared accounts and a follower, on one PostgreSQL database.

Used by `test_postgres_concurrency.py`. Run as a script it plays one part:

    python postgres_contention.py writer URL INDEX COMMANDS SEED
    python postgres_contention.py follower URL

Each waits for a line on stdin before it starts (so all start together). The follower
records every position it reads, in order, and stops when it reads a second line and
has caught up with the head.
"""

from __future__ import annotations

import json
import random
import select
import sys
from typing import Any

from reliability_support import ACCOUNTS, OPENING_FUNDS, random_command

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.errors import ConcurrencyConflict, DomainError, RuleRefused
from domain.ledger.description import LEDGER_DOMAIN
from store.postgres.store import PostgresEventStore


def create_ledger(url: str) -> None:
    """Set up `url` with the shared accounts opened and funded (as the SQLite suites do)."""
    store = PostgresEventStore(url, create=True, domain="ledger")
    try:
        bus = CommandBus(store, LEDGER_DOMAIN.model, ids=SequentialIds("setup"))
        for n, (account, currency) in enumerate(ACCOUNTS.items()):
            fields = {"account_id": account, "owner": f"Owner {account}", "currency": currency}
            bus.execute_fields("open_account", fields, actor="setup", command_id=f"setup-o{n}")
            bus.execute_fields(
                "deposit",
                {"account_id": account, "amount": OPENING_FUNDS},
                actor="setup",
                command_id=f"setup-d{n}",
            )
    finally:
        store.close()


def _writer(url: str, index: int, commands: int, seed: int) -> None:
    store = PostgresEventStore(url)
    bus = CommandBus(store, LEDGER_DOMAIN.model, ids=SequentialIds(f"w{index}"))
    rng = random.Random(seed)
    result: dict[str, Any] = {"ok": 0, "refused": 0, "exhausted": 0, "acked": {}, "errors": []}
    print("ready", flush=True)
    sys.stdin.readline()
    for n in range(commands):
        kind, fields = random_command(rng)
        command_id = f"w{index}-{n}"
        try:
            appended = bus.execute_fields(kind, fields, actor=f"w{index}", command_id=command_id)
        except RuleRefused:
            result["refused"] += 1
        except ConcurrencyConflict:
            result["exhausted"] += 1
        except DomainError as exc:  # would reach a user: the test fails on any
            result["errors"].append(f"{command_id}: {exc}")
        else:
            result["ok"] += 1
            result["acked"][command_id] = list(appended.positions)
    store.close()
    print(json.dumps(result), flush=True)


def _follower(url: str) -> None:
    store = PostgresEventStore(url, read_only=True)
    seen: list[int] = []
    skips: list[tuple[int, int]] = []
    last = store.head().position
    token = store.data_version()
    print("ready", flush=True)
    sys.stdin.readline()
    stopping = False
    while True:
        events = store.read_all(after=last, limit=1000)
        for event in events:
            if event.position != last + 1:
                skips.append((last, event.position))
            seen.append(event.position)
            last = event.position
        if events:
            continue
        if stopping and last >= store.head().position:
            break
        if not stopping and select.select([sys.stdin], [], [], 0)[0]:
            sys.stdin.readline()
            stopping = True
            continue
        token = store.wait_for_change(token, 0.2)
    store.close()
    print(json.dumps({"seen": seen, "skips": skips}), flush=True)


if __name__ == "__main__":
    role, url, *rest = sys.argv[1:]
    if role == "writer":
        _writer(url, int(rest[0]), int(rest[1]), int(rest[2]))
    else:
        _follower(url)
