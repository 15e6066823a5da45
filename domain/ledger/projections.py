"""The ledger's read models: five pure folds over its events (BRIEF §5).

Each projection implements `domain.projection.Projection`: `initial()`, then
`apply(state, event)` mutating the state in place and returning the keys of the rows
whose values changed (exactly those: the timeline's lineage and the cursor's
highlighting rely on it). Rows and `aux` hold JSON data only.

They are written for replay speed, since a full rebuild and every `state_at` run them
over up to millions of events: a branch on the event type, a handful of dict
operations, no per-event objects beyond the returned key tuple, no pydantic (stored
data was validated when it was written; the timeline upcasts old schema versions
before they get here).

Money is integer minor units; columns format it with the row's currency digits.
Events for an account that was never opened cannot be written by the handlers, but
an import could carry them: the folds then keep going (attributing the money to the
event's own currency) rather than crash, so the invariant in `ledger_totals` can show
what is wrong.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any, Final

from domain.clock import format_time, parse_time
from domain.clock_skew import SKEW_FLAG, describe_skew_row, initial_watch, observe, skew_flag_row
from domain.envelope import RecordedEvent
from domain.ledger.money import CURRENCY_DIGITS
from domain.projection import Column, Projection, ProjectionState, Row
from domain.refusals import RefusalTally
from domain.text import mixed_scripts

_NONE: Final[tuple[str, ...]] = ()
"""What `apply` returns when no row changed (shared, so it allocates nothing)."""

_DEPOSITED = "MoneyDeposited"
_WITHDRAWN = "MoneyWithdrawn"
_SENT = "TransferSent"
_RECEIVED = "TransferReceived"
_OPENED = "AccountOpened"
_FROZEN = "AccountFrozen"
_UNFROZEN = "AccountUnfrozen"
_LIMIT = "OverdraftLimitChanged"
_CLOSED = "AccountClosed"

LEDGER_EVENT_TYPES: Final = frozenset(
    {_DEPOSITED, _WITHDRAWN, _SENT, _RECEIVED, _OPENED, _FROZEN, _UNFROZEN, _LIMIT, _CLOSED}
)

_MOVES: Final = frozenset({_DEPOSITED, _WITHDRAWN, _SENT, _RECEIVED})

_BALANCE_MOVES: Final[Mapping[str, tuple[str, bool]]] = {
    _WITHDRAWN: ("account_id", False),
    _SENT: ("from_account", False),
    _RECEIVED: ("to_account", True),
    _DEPOSITED: ("account_id", True),
}
"""Money movements: (the field naming the account whose row moves, money comes in)."""

_ACCOUNT_STREAM = "account-"


# --- cell formatting -------------------------------------------------------------------


def format_minor(minor: int, currency: str) -> str:
    """Minor units as a grouped decimal for panels (`-1,234.56`; JPY `1,234`).

    An unknown currency (only possible in imported garbage) shows the raw integer.
    """
    digits = CURRENCY_DIGITS.get(currency)
    if digits is None:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**digits)
    if digits == 0:
        return f"{sign}{whole:,}"
    return f"{sign}{whole:,}.{fraction:0{digits}d}"


def _money(value: Any, row: Mapping[str, Any]) -> str:
    if value is None:
        return ""
    return format_minor(int(value), str(row.get("currency", "")))


def _time(value: Any, row: Mapping[str, Any]) -> str:
    # `2026-03-01T14:02:03.123456Z` -> `2026-03-01 14:02:03`: seconds are what a
    # person reads; the inspector shows the exact stored time.
    if not value:
        return ""
    text = str(value)
    return f"{text[:10]} {text[11:19]}"


def _text(value: Any, row: Mapping[str, Any]) -> str:
    return "" if value is None else str(value)


def _count(value: Any, row: Mapping[str, Any]) -> str:
    return "" if value is None else f"{int(value):,}"


def _look_alike(value: Any, row: Mapping[str, Any]) -> str:
    """`mixed scripts` for a name whose letters mix scripts (`domain.text.mixed_scripts`)."""
    return "mixed scripts" if value else ""


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


# --- daily_activity --------------------------------------------------------------------


class DailyActivity:
    """Per UTC day and currency: money deposited, withdrawn, transferred, and events.

    `transferred` counts each transfer once (its TransferSent); `events` counts every
    ledger event of that day on accounts of that currency, whatever its type.
    Row key: `2026-03-01 EUR`.
    """

    name = "daily_activity"
    title = "Daily activity"
    key_title = "day · currency"
    version = 1
    columns: Sequence[Column] = (
        Column("day", "Day", "date", _text),
        Column("currency", "Cur", "text", _text),
        Column("deposited", "Deposited", "money", _money),
        Column("withdrawn", "Withdrawn", "money", _money),
        Column("transferred", "Transferred", "money", _money),
        Column("events", "Events", "int", _count),
    )

    def initial(self) -> ProjectionState:
        """No days; `aux["currency"]` maps account -> currency, for events without one."""
        return ProjectionState(aux={"currency": {}})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns its day's row."""
        kind = event.type
        data = event.data
        currency = data.get("currency")
        if currency is None:
            if kind not in LEDGER_EVENT_TYPES:
                return _NONE
            currency = state.aux["currency"].get(data["account_id"])
            if currency is None:
                return _NONE
        elif kind == _OPENED:
            state.aux["currency"][data["account_id"]] = currency
        elif kind not in LEDGER_EVENT_TYPES:
            return _NONE
        day = event.recorded_at[:10]
        key = f"{day} {currency}"
        row = state.rows.get(key)
        if row is None:
            row = state.rows[key] = {
                "day": day,
                "currency": currency,
                "deposited": 0,
                "withdrawn": 0,
                "transferred": 0,
                "events": 0,
            }
        row["events"] += 1
        if kind == _DEPOSITED:
            row["deposited"] += data["amount"]
        elif kind == _WITHDRAWN:
            row["withdrawn"] += data["amount"]
        elif kind == _SENT:
            row["transferred"] += data["amount"]
        return (key,)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """Any account of the currency may touch a day: no stream fast path."""
        return None

    def lineage_span(self, row_key: str) -> tuple[str, str] | None:
        """The row's day, as [midnight, next midnight): it changes only then."""
        try:
            start = parse_time(row_key[:10])
        except ValueError:
            return None
        return format_time(start), format_time(start + timedelta(days=1))


# --- actor_activity --------------------------------------------------------------------


class ActorActivity:
    """Per actor: commands that recorded events, events, refused commands, first/last seen.

    A command's events are appended in one transaction, so they sit at consecutive
    positions: a command is counted when an event's `command_id` differs from the
    previous event's. Refusals are not events: the fold leaves `refusals` at 0 and
    the timeline (or the projector) overlays them with `merge_refusals`, counting the
    refusals recorded while the head was at or before the position read; they also
    widen first/last seen. An actor who was only ever refused gets a row then.
    """

    name = "actor_activity"
    title = "Actors"
    key_title = "actor"
    version = 2  # 2: the look_alike column
    columns: Sequence[Column] = (
        Column("actor", "Actor", "text", _text),
        Column("look_alike", "Look-alike", "bool", _look_alike),
        Column("commands", "Commands", "int", _count),
        Column("events", "Events", "int", _count),
        Column("refusals", "Refusals", "int", _count),
        Column("first_seen", "First seen", "time", _time),
        Column("last_seen", "Last seen", "time", _time),
    )

    def initial(self) -> ProjectionState:
        """No actors; `aux["last_command"]` is the command id of the previous event."""
        return ProjectionState(aux={"last_command": None})

    def apply(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """Fold one event; returns its actor's row."""
        metadata = event.metadata
        actor = metadata.get("actor", "")
        at = event.recorded_at
        row = state.rows.get(actor)
        if row is None:
            row = state.rows[actor] = {
                "actor": actor,
                "commands": 0,
                "events": 0,
                "refusals": 0,
                "first_seen": at,
                "last_seen": at,
                "look_alike": mixed_scripts(actor),
            }
        command_id = metadata.get("command_id")
        aux = state.aux
        if command_id != aux["last_command"]:
            aux["last_command"] = command_id
            row["commands"] += 1
        row["events"] += 1
        row["last_seen"] = at
        return (actor,)

    def merge_refusals(
        self, state: ProjectionState, tallies: Mapping[str, RefusalTally]
    ) -> ProjectionState:
        """`state` with refusal counts and times overlaid (a new state; rows copied)."""
        if not tallies:
            return state
        rows = dict(state.rows)
        for actor, tally in tallies.items():
            row = rows.get(actor)
            if row is None:
                rows[actor] = {
                    "actor": actor,
                    "commands": 0,
                    "events": 0,
                    "refusals": tally.count,
                    "first_seen": tally.first_at,
                    "last_seen": tally.last_at,
                    "look_alike": mixed_scripts(actor),
                }
            else:
                rows[actor] = {
                    **row,
                    "refusals": tally.count,
                    "first_seen": min(row["first_seen"], tally.first_at),
                    "last_seen": max(row["last_seen"], tally.last_at),
                }
        return ProjectionState(rows=rows, aux=state.aux)

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """An actor acts on any stream: no fast path."""
        return None


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


# --- ledger_totals ---------------------------------------------------------------------

HOLDING: Final = "holding"
IN_TRANSFER: Final = "in transfer"
BROKEN: Final = "broken"


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
        stale = self._close_pending(state, event) if aux["pending"] else _NONE
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
                if in_transit:
                    pending[currency] = event.metadata.get("command_id")
                elif pending:
                    pending.pop(currency, None)
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
            return _with(stale, currency) if stale else (currency,)
        if kind == _OPENED:
            data = event.data
            currency = data["currency"]
            aux["accounts"][data["account_id"]] = [currency, "open"]
            row = state.rows.get(currency) or self._row(state.rows, currency)
            row["open"] += 1
            return _with(stale, currency)
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
            return _with(stale, currency)
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
        return _with(_with(stale, currency), home)

    def _close_pending(self, state: ProjectionState, event: RecordedEvent) -> tuple[str, ...]:
        """A new command began: transfer halves still unmatched now break their currency."""
        command_id = event.metadata.get("command_id")
        pending = state.aux["pending"]
        stale = tuple(c for c, command in pending.items() if command != command_id)
        changed: list[str] = []
        for currency in stale:
            del pending[currency]
            row = state.rows[currency]
            verdict = _judge(row, False)
            if verdict != row["invariant"]:
                row["invariant"] = verdict
                changed.append(currency)
        return tuple(changed)

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
    in_transit = row["in_transit"]
    if row["balances"] + in_transit != row["deposited"] - row["withdrawn"]:
        return BROKEN
    if in_transit:
        return IN_TRANSFER if in_command else BROKEN
    return HOLDING


def _with(keys: tuple[str, ...], key: str) -> tuple[str, ...]:
    if not keys:
        return (key,)
    return keys if key in keys else (*keys, key)


def ledger_projections(
    *,
    large_amounts: Mapping[str, int] | None = None,
    unfreeze_window: timedelta = DEFAULT_UNFREEZE_WINDOW,
) -> tuple[Projection, ...]:
    """The five ledger projections, with audit settings other than the defaults."""
    return (
        AccountBalances(),
        DailyActivity(),
        ActorActivity(),
        AuditFlags(large_amounts, unfreeze_window),
        LedgerTotals(),
    )


LEDGER_PROJECTIONS: Final[tuple[Projection, ...]] = ledger_projections()
"""The ledger's read models with the default audit settings, in panel order."""
