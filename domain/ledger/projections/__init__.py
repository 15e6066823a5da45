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

from collections.abc import Mapping
from datetime import timedelta
from typing import Final

from domain.ledger.projections.account_balances import AccountBalances
from domain.ledger.projections.actor_activity import ActorActivity
from domain.ledger.projections.audit_flags import (
    DEFAULT_LARGE_AMOUNTS,
    DEFAULT_UNFREEZE_WINDOW,
    AuditFlags,
)
from domain.ledger.projections.common import LEDGER_EVENT_TYPES, format_minor
from domain.ledger.projections.daily_activity import DailyActivity
from domain.ledger.projections.totals import IN_TRANSFER, LedgerTotals
from domain.paired_moves import BROKEN, HOLDING
from domain.projection import Projection

__all__ = [
    "BROKEN",
    "DEFAULT_LARGE_AMOUNTS",
    "DEFAULT_UNFREEZE_WINDOW",
    "HOLDING",
    "IN_TRANSFER",
    "LEDGER_EVENT_TYPES",
    "LEDGER_PROJECTIONS",
    "AccountBalances",
    "ActorActivity",
    "AuditFlags",
    "DailyActivity",
    "LedgerTotals",
    "format_minor",
    "ledger_projections",
]


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
