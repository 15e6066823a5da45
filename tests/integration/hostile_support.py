"""A ledger holding hostile text, written past every entry check, as an attacker would.

The bus refuses control, bidi and invisible characters, so these events go in through
the store's own append (no command validation), and the tampered stream id through
`sqlite3` after dropping the append-only triggers. Shared by
`test_untrusted_output.py` and the app's `tests/tui/test_untrusted_text.py`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from domain.bus import CommandBus
from domain.clock import SequentialIds
from domain.envelope import Metadata, NewEvent, StreamAppend
from domain.ledger import LEDGER
from store.sqlite import SqliteEventStore

OSC52 = "evil\x1b]52;c;aGk=\x07\x1b[2J"
"""Sets the reader's clipboard (OSC 52), then clears the screen."""
FORGED_LINE = "ann\n        99  2026-01-01 00:00:00  account-x  MoneyDeposited  boss  fake"
"""A newline, then what looks like a whole `log` line."""
BIDI = "mallory\u202etxt.exe"
"""A right-to-left override: the reader would see the end reversed."""
MARKUP = "[bold red]PAID[/]"
"""Rich markup: shown literally, never drawn."""
CARRIAGE_RETURN = "\r chain ok: 99 events verified"
"""Stored in a stream id by the tamper: returns the cursor and paints a fake verdict."""
RAW = ("\x1b", "\x07", "\u202e", "\r")
"""Characters that must never reach a terminal raw."""
SHOWN = ("evil\\x1b]52;c;aGk=\\x07\\x1b[2J", "ann\\x0a", "mallory\\u202etxt.exe", MARKUP)
"""How `domain.text.escape` shows the hostile strings."""


def build_hostile_ledger(db: Path) -> None:
    """An honest account `acc-1`, then hostile owners, references and actors on `acc-2`."""
    store = SqliteEventStore.init(db, domain="ledger", synchronous="OFF")
    try:
        bus = CommandBus(store, LEDGER, ids=SequentialIds("setup"))
        bus.execute_fields(
            "open_account", {"account_id": "acc-1", "owner": "Ann", "currency": "EUR"}, actor="ann"
        )
        opened = NewEvent(
            "AccountOpened",
            {"account_id": "acc-2", "owner": MARKUP, "currency": "EUR", "overdraft_limit": 0},
            event_id="hostile-1",
        )
        _append(store, "acc-2", 0, opened, OSC52, "hostile-c1")
        deposit = {
            "account_id": "acc-2",
            "amount": 500,
            "currency": "EUR",
            "reference": BIDI + " " + OSC52,
            "channel": "branch",
        }
        _append(store, "acc-2", 1, NewEvent("MoneyDeposited", deposit, 2, "h-2"), FORGED_LINE, "c2")
        withdraw = {"account_id": "acc-2", "amount": 100, "currency": "EUR", "reference": MARKUP}
        _append(store, "acc-2", 2, NewEvent("MoneyWithdrawn", withdraw, 1, "h-3"), BIDI, "c3")
        # A look-alike: a Cyrillic "a" (U+0430), then Latin "nn".
        deposit = {**deposit, "reference": "look-alike", "amount": 1}
        _append(
            store,
            "acc-1",
            1,
            NewEvent("MoneyDeposited", deposit | {"account_id": "acc-1"}, 2, "h-4"),
            "\u0430nn",
            "c4",
        )
    finally:
        store.close()


def _append(
    store: SqliteEventStore, account: str, version: int, event: NewEvent, actor: str, command: str
) -> None:
    metadata = Metadata(actor=actor, command_id=command, command_type="hostile")
    store.append([StreamAppend(f"account-{account}", "account", version, (event,))], metadata)


def tamper_stream_id(db: Path, position: int) -> None:
    """Rewrite one event's stream id to hold a carriage return and a fake verdict."""
    conn = sqlite3.connect(db, isolation_level=None)
    try:
        (trigger,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = 'events_no_update'"
        ).fetchone()
        conn.execute("DROP TRIGGER events_no_update")
        conn.execute(
            "UPDATE events SET stream_id = stream_id || ? WHERE position = ?",
            (CARRIAGE_RETURN, position),
        )
        conn.execute(trigger)  # an attacker covers the tracks: only the chain tells
    finally:
        conn.close()
