"""`ledger_totals`: per currency sums and the money invariant."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from domain.envelope import RecordedEvent
from domain.ledger.projections.common import (
    _CLOSED,
    _DEPOSITED,
    _FROZEN,
    _MOVES,
    _NONE,
    _OPENED,
    _SENT,
    _UNFROZEN,
    _WITHDRAWN,
    _count,
    _money,
    _text,
)
from domain.paired_moves import BROKEN, HOLDING, close_pending, note_half, verdict, with_key
from domain.projection import Column, ProjectionState, Row

# --- ledger_totals ---------------------------------------------------------------------

IN_TRANSFER: Final = "in transfer"


class LedgerTotals:
    """Per currency: sum of balances, deposited, withdrawn, accounts by status, invariant.

    `balances` sums account balances by each *account's* currency (from its
    AccountOpened), while `deposited`, `withdrawn` and `in_transit` (transfers sent
    minus received) use each *event's* currency. The invariant is
    `balances + in_transit == deposited - withdrawn` with `in_transit == 0`:
    transfers net to zero within a currency, so the sum of balances is what came in
    minus what went out.

    `invariant` reads `holding`; `in transfer` between the two halves of one
    transfer (they are consecutive positions of one command, and time travel can
    stop between them); `broken` when the sums disagree, or a transfer half stays
    unmatched after its command's events end.
    """

    name = "ledger_totals"
    title = "Totals"
    key_title = "currency"
    version = 1
    columns: Sequence[Column] = (
        Column("currency", "Cur", "text", _text),
        Column("balances", "Sum of balances", "money", _money),
        Column("deposited", "Deposited", "money", _money),
        Column("withdrawn", "Withdrawn", "money", _money),
        Column("in_transit", "In transit", "money", _money),
        Column("open", "Open", "int", _count),
        Column("frozen", "Frozen", "int", _count),
        Column("closed", "Closed", "int", _count),
        Column("invariant", "Invariant", "status", _text),
    )

    def initial(self) -> ProjectionState:
        """No currencies; aux: each account's [currency, status], and unmatched halves."""
        return ProjectionState(aux={"accounts": {}, "pending": {}})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the currencies whose rows changed."""
        kind = event.type
        aux = state.aux
        stale = close_pending(state, event, _judge) if aux["pending"] else _NONE
        if kind in _MOVES:
            data = event.data
            currency = data["currency"]
            rows = state.rows
            row = rows.get(currency) or self._row(rows, currency)
            amount = data["amount"]
            pending = aux["pending"]
            if kind == _DEPOSITED:
                account = data["account_id"]
                row["deposited"] += amount
            elif kind == _WITHDRAWN:
                account = data["account_id"]
                row["withdrawn"] += amount
                amount = -amount
            else:
                if kind == _SENT:
                    account = data["from_account"]
                    in_transit = row["in_transit"] + amount
                    amount = -amount
                else:
                    account = data["to_account"]
                    in_transit = row["in_transit"] - amount
                row["in_transit"] = in_transit
                note_half(pending, currency, in_transit, event)
            known = aux["accounts"].get(account)
            if known is not None and known[0] != currency:
                return self._move_across(state, known[0], currency, amount, stale)
            balances = row["balances"] + amount
            row["balances"] = balances
            # _judge, inlined: this line runs for most events of a replay.
            in_transit = row["in_transit"]
            if balances + in_transit != row["deposited"] - row["withdrawn"]:
                row["invariant"] = BROKEN
            elif in_transit:
                row["invariant"] = IN_TRANSFER if currency in pending else BROKEN
            else:
                row["invariant"] = HOLDING
            return with_key(stale, currency) if stale else (currency,)
        if kind == _OPENED:
            data = event.data
            currency = data["currency"]
            aux["accounts"][data["account_id"]] = [currency, "open"]
            row = state.rows.get(currency) or self._row(state.rows, currency)
            row["open"] += 1
            return with_key(stale, currency)
        if kind in (_FROZEN, _UNFROZEN, _CLOSED):
            known = aux["accounts"].get(event.data["account_id"])
            if known is None:
                return stale
            currency, status = known
            new_status = "frozen" if kind == _FROZEN else "open" if kind == _UNFROZEN else "closed"
            if new_status == status:
                return stale
            known[1] = new_status
            row = state.rows[currency]
            row[status] -= 1
            row[new_status] += 1
            return with_key(stale, currency)
        return stale

    def _move_across(
        self, state: ProjectionState, home: str, currency: str, amount: int, stale: tuple[str, ...]
    ) -> tuple[str, ...]:
        """Money in `currency` moved on an account held in `home`. Only imported data can
        do that; the balance goes to `home`, so both currencies' invariants break."""
        pending = state.aux["pending"]
        row = state.rows[currency]
        other = state.rows.get(home) or self._row(state.rows, home)
        other["balances"] += amount
        other["invariant"] = _judge(other, home in pending)
        row["invariant"] = _judge(row, currency in pending)
        return with_key(with_key(stale, currency), home)

    @staticmethod
    def _row(rows: dict[str, Row], currency: str) -> Row:
        row = rows[currency] = {
            "currency": currency,
            "balances": 0,
            "deposited": 0,
            "withdrawn": 0,
            "in_transit": 0,
            "open": 0,
            "frozen": 0,
            "closed": 0,
            "invariant": HOLDING,
        }
        return row

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """Every account of the currency touches it: no fast path."""
        return None


def _judge(row: Row, in_command: bool) -> str:
    expected = row["deposited"] - row["withdrawn"]
    return verdict(row["balances"], expected, row["in_transit"], in_command, IN_TRANSFER)
