"""One human line per ledger event, for the log and the app's lists."""

from __future__ import annotations

from domain.cells import grouped_decimal
from domain.envelope import RecordedEvent
from domain.ledger.events import UNKNOWN_CHANNEL
from domain.ledger.money import money_text


def _ref(data: dict[str, object]) -> str:
    reference = data.get("reference")
    return f" · {reference}" if reference else ""


def _via(data: dict[str, object]) -> str:
    # A v1 deposit as stored has no channel, an upcast one `unknown`: neither says anything.
    channel = data.get("channel")
    return f" via {channel}" if channel and channel != UNKNOWN_CHANNEL else ""


def _limit(minor: int, currency: str) -> str:
    if currency:
        return money_text(minor, currency)
    return f"{grouped_decimal(minor)} minor units"


def summarize(event: RecordedEvent) -> str:
    """`+100.00 EUR to a1 via payroll · salary`, `25.50 EUR a1 → a2`, `froze a1: fraud`...

    Works on stored data at any schema version (the log shows events as stored).
    """
    d = event.data
    kind = event.type
    if kind == "AccountOpened":
        limit = money_text(int(d["overdraft_limit"]), str(d["currency"]))
        return f"opened {d['account_id']} for {d['owner']} ({d['currency']}, overdraft {limit})"
    if kind == "MoneyDeposited":
        money = money_text(int(d["amount"]), str(d["currency"]), signed=True)
        return f"{money} to {d['account_id']}{_via(d)}{_ref(d)}"
    if kind == "MoneyWithdrawn":
        money = money_text(-int(d["amount"]), str(d["currency"]))
        return f"{money} from {d['account_id']}{_ref(d)}"
    if kind in ("TransferSent", "TransferReceived"):
        money = money_text(int(d["amount"]), str(d["currency"]))
        return f"{money} {d['from_account']} → {d['to_account']}{_ref(d)}"
    if kind == "AccountFrozen":
        return f"froze {d['account_id']}: {d['reason']}"
    if kind == "AccountUnfrozen":
        return f"unfroze {d['account_id']}: {d['reason']}"
    if kind == "OverdraftLimitChanged":
        # The event carries no currency: readers pass its account's as context
        # (`CONTEXT_FIELDS`); read alone, the limits are grouped minor units.
        currency = str(d.get("currency", ""))
        old = _limit(int(d["old_limit"]), currency)
        return f"overdraft of {d['account_id']}: {old} → {_limit(int(d['new_limit']), currency)}"
    if kind == "AccountClosed":
        return f"closed {d['account_id']}: {d['reason']}"
    raise ValueError(f"unknown ledger event {kind}")
