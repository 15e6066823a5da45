"""`daily_activity`: per UTC day and currency."""

from __future__ import annotations

from collections.abc import Sequence

from domain.clock import day_span
from domain.envelope import RecordedEvent
from domain.ledger.projections.common import (
    _DEPOSITED,
    _NONE,
    _OPENED,
    _SENT,
    _WITHDRAWN,
    LEDGER_EVENT_TYPES,
    _count,
    _money,
    _text,
)
from domain.projection import Column, ProjectionState

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
        return day_span(row_key)
