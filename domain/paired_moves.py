"""Two-stream moves in an invariant projection: the pending half of a transfer or move.

A ledger transfer and an inventory move each write two events, one per stream (sent
then received; moved out then moved in), at consecutive positions of one command.
Between them, time travel can stop with something in transit: the invariant then
reads "in transfer" (or "moving") rather than broken, as long as the command that
began it is still the one writing. `pending` (in the projection's aux) maps a row key
with something in transit to that command's id; once a later command begins, a half
still unmatched breaks its row (`close_pending`).

The projections that use this (`ledger_totals`, `stock_invariant`) bump their
`version` when it changes: their snapshot key hashes only their own package.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from domain.envelope import RecordedEvent
from domain.projection import ProjectionState, Row

NO_CHANGE: Final[tuple[str, ...]] = ()
"""What `apply` returns when no row changed (shared, so it allocates nothing)."""

HOLDING: Final = "holding"
BROKEN: Final = "broken"

Judge = Callable[[Row, bool], str]
"""A row's invariant verdict, given whether its in-transit amount is still mid-command."""


def verdict(held: int, expected: int, in_transit: int, in_command: bool, moving: str) -> str:
    """A row's invariant: `held + in_transit == expected`, with nothing in transit
    except between the halves of the command still writing (then `moving`)."""
    if held + in_transit != expected:
        return BROKEN
    if in_transit:
        return moving if in_command else BROKEN
    return HOLDING


def note_half(pending: dict[str, Any], key: str, in_transit: int, event: RecordedEvent) -> None:
    """After one half of a move on `key`'s row: wait for the other half while something
    is in transit, under the command that moved it."""
    if in_transit:
        pending[key] = event.metadata.get("command_id")
    elif pending:
        pending.pop(key, None)


def close_pending(state: ProjectionState, event: RecordedEvent, judge: Judge) -> tuple[str, ...]:
    """A new command began: halves still unmatched now break their rows. Returns the
    keys whose verdict changed."""
    command_id = event.metadata.get("command_id")
    pending = state.aux["pending"]
    stale = [key for key, command in pending.items() if command != command_id]
    changed: list[str] = []
    for key in stale:
        del pending[key]
        row = state.rows[key]
        verdict = judge(row, False)
        if verdict != row["invariant"]:
            row["invariant"] = verdict
            changed.append(key)
    return tuple(changed)


def with_key(keys: tuple[str, ...], key: str) -> tuple[str, ...]:
    """`keys` and `key`, each once (changed-row keys as `apply` returns them)."""
    if not keys:
        return (key,)
    return keys if key in keys else (*keys, key)
