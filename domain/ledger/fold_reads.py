"""What each ledger projection reads of an event (`domain.projection.EventReads`).

Kept apart from `domain/ledger/projections/`, whose source is part of the projections'
stored identity (snapshot keys, the read models' fingerprint). No ledger fold reads a
deposit's `channel`, the one field an upcaster adds, so none needs an upcast.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from domain.projection import EventReads

LEDGER_EVENT_READS: Final[Mapping[str, EventReads]] = {
    "account_balances": EventReads(frozenset({"type", "data", "version", "recorded_at"})),
    "daily_activity": EventReads(frozenset({"type", "data", "recorded_at"})),
    "actor_activity": EventReads(frozenset({"metadata", "recorded_at"})),
    "audit_flags": EventReads(frozenset({"type", "data", "position", "recorded_at"})),
    "ledger_totals": EventReads(frozenset({"type", "data", "metadata"})),
}
"""By projection name: the fields each fold reads (`metadata` for actors and command
ids, `position` for the keys of flags)."""
