"""`state --at P` equals an independent fold of `log --json --to P` (issue 3's acceptance).

The fold below is written from BRIEF §5 alone, apart from `domain/ledger/projections.py`,
so a shared misreading cannot make both sides agree.
"""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from cli_support import Cli


def independent_balances(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    accounts: dict[str, dict[str, Any]] = {}
    for e in events:
        d, kind = e["data"], e["type"]
        if kind == "AccountOpened":
            accounts[d["account_id"]] = {
                "account_id": d["account_id"],
                "owner": d["owner"],
                "currency": d["currency"],
                "balance": 0,
                "overdraft_limit": d["overdraft_limit"],
                "status": "open",
                "version": 0,
            }
        account_id = e["stream_id"].removeprefix("account-")
        row = accounts[account_id]
        row["version"] = e["version"]
        row["last_activity"] = e["recorded_at"]
        if kind == "MoneyDeposited" or kind == "TransferReceived":
            row["balance"] += d["amount"]
        elif kind == "MoneyWithdrawn" or kind == "TransferSent":
            row["balance"] -= d["amount"]
        elif kind == "AccountFrozen":
            row["status"] = "frozen"
        elif kind == "AccountUnfrozen":
            row["status"] = "open"
        elif kind == "AccountClosed":
            row["status"] = "closed"
        elif kind == "OverdraftLimitChanged":
            row["overdraft_limit"] = d["new_limit"]
    return accounts


@pytest.fixture
def demo_db(cli: Cli, db: Path) -> Path:
    r = cli("demo", "--events", "6000", "--seed", "7", "--no-open")
    assert r.code == 0, r.err
    return db


def test_state_at_random_points_equals_an_independent_fold(cli: Cli, demo_db: Path) -> None:
    everything = cli("log", "--json").lines()
    assert len(everything) == 6000
    rng = random.Random(7)
    for position in [0, 1, 6000, *rng.sample(range(2, 6000), 6)]:
        r = cli("state", "--at", str(position), "--projection", "account_balances", "--json")
        assert r.code == 0, r.err
        shown = json.loads(r.out)
        upto = cli("log", "--json", "--to", str(position)).lines() if position else []
        expected = independent_balances(upto)
        assert {k: {f: v[f] for f in expected[k]} for k, v in shown.items()} == expected
