"""`account_balances`: one row per account."""

from __future__ import annotations

from collections.abc import Sequence

from domain.envelope import RecordedEvent
from domain.ledger.projections.common import (
    _ACCOUNT_STREAM,
    _BALANCE_MOVES,
    _FROZEN,
    _LIMIT,
    _NONE,
    _OPENED,
    _UNFROZEN,
    LEDGER_EVENT_TYPES,
    _count,
    _money,
    _text,
    _time,
)
from domain.projection import Column, ProjectionState, Row

# --- account_balances ------------------------------------------------------------------


class AccountBalances:
    """One row per account: owner, currency, balance, limit, status and last activity."""

    name = "account_balances"
    title = "Balances"
    key_title = "account"
    version = 1
    columns: Sequence[Column] = (
        Column("account_id", "Account", "text", _text),
        Column("owner", "Owner", "text", _text),
        Column("currency", "Cur", "text", _text),
        Column("balance", "Balance", "money", _money),
        Column("overdraft_limit", "Overdraft", "money", _money),
        Column("status", "Status", "status", _text),
        Column("version", "Ver", "int", _count),
        Column("last_activity", "Last activity", "time", _time),
    )

    def initial(self) -> ProjectionState:
        """No accounts."""
        return ProjectionState()

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the account it touched."""
        kind = event.type
        data = event.data
        move = _BALANCE_MOVES.get(kind)
        if move is not None:
            key = data[move[0]]
            delta = data["amount"] if move[1] else -data["amount"]
        elif kind == _OPENED:
            key = data["account_id"]
            state.rows[key] = {
                "account_id": key,
                "owner": data["owner"],
                "currency": data["currency"],
                "balance": 0,
                "overdraft_limit": data["overdraft_limit"],
                "status": "open",
                "version": event.version,
                "last_activity": event.recorded_at,
            }
            return (key,)
        else:
            if kind not in LEDGER_EVENT_TYPES:
                return _NONE
            key = data["account_id"]
            row = state.rows.get(key)
            if row is None:
                return _NONE
            if kind == _FROZEN:
                row["status"] = "frozen"
            elif kind == _UNFROZEN:
                row["status"] = "open"
            elif kind == _LIMIT:
                row["overdraft_limit"] = data["new_limit"]
            else:
                row["status"] = "closed"
            row["version"] = event.version
            row["last_activity"] = event.recorded_at
            return (key,)
        row = state.rows.get(key)
        if row is None:
            row = state.rows[key] = _unopened_account(key, data["currency"])
        row["balance"] += delta
        row["version"] = event.version
        row["last_activity"] = event.recorded_at
        return (key,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """An account's row depends on its own stream only."""
        return (_ACCOUNT_STREAM + row_key,)


def _unopened_account(key: str, currency: str) -> Row:
    return {
        "account_id": key,
        "owner": "",
        "currency": currency,
        "balance": 0,
        "overdraft_limit": 0,
        "status": "unopened",
        "version": 0,
        "last_activity": "",
    }
