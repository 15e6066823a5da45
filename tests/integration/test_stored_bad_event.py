"""A stored event whose data or metadata no longer validates never breaks the CLI.

The event is written with a valid hash chain (the store's own bulk path), so `verify`
passes; `log` flags the bad fields; `state`, `diff`, `project` and `rebuild` stop at
it with one line naming the position; nothing prints a traceback.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli
from history_support import HistoryWriter

from domain.ledger.description import LEDGER_DOMAIN
from store.sqlite import SqliteEventStore

BAD_METADATA = {"actor": ["ann", "bob"]}
BAD_DATA = {
    "account_id": "a1",
    "amount": "lots",
    "currency": "EUR",
    "reference": "",
    "channel": "branch",
}


@pytest.fixture
def bad_db(tmp_path: Path) -> Path:
    w = HistoryWriter(LEDGER_DOMAIN)
    w.run("open_account", account_id="a1", owner="Ann", currency="EUR", overdraft_limit="0")
    w.run("deposit", account_id="a1", amount="100.00")
    w.forge("account-a1", "MoneyDeposited", BAD_DATA, "deposit", metadata=BAD_METADATA)
    w.run("deposit", account_id="a1", amount="1.00")
    db = tmp_path / "bad.db"
    with SqliteEventStore.init(db, domain="ledger", synchronous="OFF") as store:
        store.append_bulk(w.decider.out)
    return db


def test_verify_and_log_go_on_and_log_flags_the_bad_fields(cli: Cli, bad_db: Path) -> None:
    verified = cli("verify", db_path=bad_db)
    assert verified.code == 0 and "4 events verified" in verified.out
    log = cli("log", db_path=bad_db)
    assert log.code == 0, log.err
    lines = log.out.splitlines()
    assert len(lines) == 4
    assert "BAD STORED EVENT" in lines[2]
    assert "metadata.actor must be text, not a JSON list" in lines[2]
    assert "invalid MoneyDeposited: amount" in lines[2]
    assert all("BAD STORED EVENT" not in line for line in (lines[0], lines[1], lines[3]))


@pytest.mark.parametrize(
    "args",
    [("state",), ("state", "--json"), ("diff", "1", "4"), ("project",), ("rebuild",)],
    ids=" ".join,
)
def test_folding_stops_at_the_bad_event_with_one_line(
    cli: Cli, bad_db: Path, args: tuple[str, ...]
) -> None:
    r = cli(*args, db_path=bad_db)
    assert r.code == 1, (r.out, r.err)
    assert "Traceback" not in r.err and len(r.err.strip().splitlines()) == 1
    assert "event #3 (MoneyDeposited)" in r.err and "stops at #2" in r.err


def test_state_before_the_bad_event_still_works(cli: Cli, bad_db: Path) -> None:
    r = cli("state", "--at", "2", "--json", db_path=bad_db)
    assert r.code == 0 and '"balance":10000' in r.out
