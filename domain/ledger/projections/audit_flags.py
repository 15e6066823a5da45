"""`audit_flags`: events an auditor should look at."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from domain.clock import format_time, parse_time
from domain.clock_skew import SKEW_FLAG, describe_skew_row, initial_watch, observe, skew_flag_row
from domain.envelope import RecordedEvent
from domain.ledger.projections.common import (
    _ACCOUNT_STREAM,
    _BALANCE_MOVES,
    _CLOSED,
    _DEPOSITED,
    _FROZEN,
    _NONE,
    _RECEIVED,
    _SENT,
    _UNFROZEN,
    _WITHDRAWN,
    _money,
    _text,
    _time,
    format_minor,
)
from domain.projection import Column, ProjectionState

# --- audit_flags -----------------------------------------------------------------------

DEFAULT_LARGE_AMOUNTS: Final[Mapping[str, int]] = {
    "EUR": 1_000_000,
    "USD": 1_000_000,
    "GBP": 1_000_000,
    "CHF": 1_000_000,
    "JPY": 1_500_000,
}
"""Large-transaction thresholds in minor units: 10,000.00 in the 2-digit currencies and
¥1,500,000 (about the same value); an amount at or over its currency's is flagged."""

DEFAULT_UNFREEZE_WINDOW: Final = timedelta(hours=1)
"""How long after an unfreeze a money movement on that account counts as "just after"."""

_MOVE_WORDS: Final[Mapping[str, str]] = {
    _DEPOSITED: "deposit",
    _WITHDRAWN: "withdrawal",
    _SENT: "transfer out",
    _RECEIVED: "transfer in",
}


def _flag_detail(value: Any, row: Mapping[str, Any]) -> str:
    """Words for a flag's facts (the row has no `detail` field; see `AuditFlags._flag`)."""
    flag = row.get("flag")
    currency = str(row.get("currency", ""))
    move = row.get("move", "")
    if flag == "large" and "threshold" in row:
        return f"{move} at or over {format_minor(row['threshold'], currency)} {currency}"
    if flag == "overdraft" and "before" in row:
        before = format_minor(row["before"], currency)
        return f"{move} took the balance {before} → {format_minor(row['after'], currency)}"
    if flag == "after_unfreeze" and "unfrozen_at" in row:
        return f"{move} soon after the unfreeze at #{row['unfrozen_at']}"
    if flag == SKEW_FLAG:
        return describe_skew_row(row)
    return ""


class AuditFlags:
    """Events an auditor should look at, one row per flag; flags never change once raised.

    - `large`: a deposit, withdrawal or transfer (flagged once, on its TransferSent)
      of at least the currency's threshold (`large_amounts`, minor units).
    - `overdraft`: a withdrawal or outgoing transfer that takes a balance from zero
      or more to below zero.
    - `after_unfreeze`: any money movement on an account (in or out) recorded within
      `unfreeze_window` (default one hour) of its `AccountUnfrozen`. "Just after" is
      measured in recorded time, not events, because that is what an auditor asks:
      "what moved in the hour after we lifted the freeze?".
    - `clock_skew`: an event whose recorded time its neighbours contradict (its
      writer's clock ran ahead or behind; `domain.clock_skew`), raised W events later.

    Row key: `<position, 10 digits>:<flag>:<account>`, so rows sort by time and the
    key names the account whose stream holds all the flag depends on. Rows hold
    facts, not prose: `move` (deposit, withdrawal, transfer out/in), `amount`,
    `currency`, and `threshold` (large), `before`/`after` balances (overdraft) or
    `unfrozen_at`, the unfreeze's position (after_unfreeze); the Detail column words
    them.
    """

    name = "audit_flags"
    title = "Audit flags"
    key_title = "position:flag:account"
    columns: Sequence[Column] = (
        Column("position", "#", "int", _text),
        Column("at", "At", "time", _time),
        Column("flag", "Flag", "status", _text),
        Column("account_id", "Account", "text", _text),
        Column("amount", "Amount", "money", _money),
        Column("currency", "Cur", "text", _text),
        Column("detail", "Detail", "text", _flag_detail),
    )

    def __init__(
        self,
        large_amounts: Mapping[str, int] | None = None,
        unfreeze_window: timedelta = DEFAULT_UNFREEZE_WINDOW,
    ) -> None:
        self.large_amounts = dict(DEFAULT_LARGE_AMOUNTS if large_amounts is None else large_amounts)
        self.unfreeze_window = unfreeze_window
        # The settings change what the fold produces, so they are part of its version:
        # snapshots taken with other thresholds are not reused.
        window = int(unfreeze_window.total_seconds() * 1_000_000)
        limits = ",".join(f"{c}={a}" for c, a in sorted(self.large_amounts.items()))
        self.version = f"2;large={limits};unfreeze_us={window}"

    def initial(self) -> ProjectionState:
        """No flags; aux keeps each account's balance, open post-unfreeze windows and
        the recent times the clock-skew rule compares."""
        return ProjectionState(aux={"balance": {}, "unfrozen": {}, "clock": initial_watch()})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns the keys of the flags it raised (usually none)."""
        raised = self._apply_money(state, event)
        skew = observe(state.aux["clock"], event.position, event.recorded_at)
        if skew is None:
            return raised
        key, row = skew_flag_row(skew)
        state.rows[key] = row
        return (*raised, key)

    def _apply_money(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        kind = event.type
        data = event.data
        move = _BALANCE_MOVES.get(kind)
        if move is not None:
            account = data[move[0]]
            amount = data["amount"]
            delta = amount if move[1] else -amount
        elif kind == _UNFROZEN:
            until = format_time(parse_time(event.recorded_at) + self.unfreeze_window)
            state.aux["unfrozen"][data["account_id"]] = [event.position, until]
            return _NONE
        elif kind in (_FROZEN, _CLOSED):
            state.aux["unfrozen"].pop(data["account_id"], None)
            return _NONE
        else:
            return _NONE
        aux = state.aux
        balances = aux["balance"]
        before = balances.get(account, 0)
        after = before + delta
        balances[account] = after
        raised: list[str] | None = None
        currency = data["currency"]
        if kind != _RECEIVED:
            threshold = self.large_amounts.get(currency)
            if threshold is not None and amount >= threshold:
                key = self._flag(
                    state, event, "large", account, amount, currency, threshold=threshold
                )
                raised = [key]
        if after < 0 <= before:
            key = self._flag(
                state, event, "overdraft", account, amount, currency, before=before, after=after
            )
            raised = [key] if raised is None else [*raised, key]
        unfrozen = aux["unfrozen"]
        if unfrozen:
            window = unfrozen.get(account)
            if window is not None:
                if event.recorded_at <= window[1]:
                    key = self._flag(
                        state,
                        event,
                        "after_unfreeze",
                        account,
                        amount,
                        currency,
                        unfrozen_at=window[0],
                    )
                    raised = [key] if raised is None else [*raised, key]
                else:
                    del unfrozen[account]
        return _NONE if raised is None else tuple(raised)

    @staticmethod
    def _flag(
        state: ProjectionState,
        event: RecordedEvent,
        flag: str,
        account: str,
        amount: int,
        currency: str,
        **facts: Any,
    ) -> str:
        """Raise one flag. Its facts are numbers, and the Detail column words them, so
        rows stay small (flags are the bulk of a late snapshot)."""
        key = f"{event.position:010d}:{flag}:{account}"
        state.rows[key] = {
            "position": event.position,
            "at": event.recorded_at,
            "flag": flag,
            "account_id": account,
            "move": _MOVE_WORDS[event.type],
            "amount": amount,
            "currency": currency,
            **facts,
        }
        return key

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """A flag depends only on its account's stream (balance and unfreezes)."""
        parts = row_key.split(":", 2)
        if len(parts) != 3 or not parts[2]:  # a clock-skew flag depends on every stream
            return None
        return (_ACCOUNT_STREAM + parts[2],)
