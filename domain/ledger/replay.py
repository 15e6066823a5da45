"""How an import rebuilds a ledger command from the events it recorded.

`domain.history_check` then lets the real handler decide that command on the states
so far and compares what it emits with what was recorded, so no rule is written here:
this only undoes the handlers' conversions (minor units back to decimal text, the
overdraft limit's new value, a transfer's two halves into one command).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain.ledger.account import ACCOUNT
from domain.ledger.events import UNKNOWN_CHANNEL
from domain.ledger.money import format_amount
from domain.messages import Command, Event
from domain.model import Context

_AMOUNTS = {"amount": "amount", "overdraft_limit": "overdraft_limit", "limit": "new_limit"}
"""Command field -> the event field holding it in minor units."""


def command_fields(command: type[Command], events: Sequence[Event], ctx: Context) -> dict[str, Any]:
    """The fields of the ledger command that recorded `events` (see the module doc).

    Amounts are written in the account's currency (the event's when the account was
    never opened), so a deposit recorded in another currency shows as exactly that.
    """
    # Imported here: only an import replays history; `exec` loads no history check.
    from domain.history_check import same_named_fields

    fields = same_named_fields(command, events, ctx)
    first = events[0]
    account_id = getattr(first, "account_id", None) or getattr(first, "from_account", "")
    currency = ctx.load(ACCOUNT, str(account_id)).currency or str(getattr(first, "currency", ""))
    for name, source in _AMOUNTS.items():
        if name not in command.model_fields:
            continue
        minor = getattr(first, source, None)
        if isinstance(minor, int):
            fields[name] = format_amount(minor, currency) if currency else str(minor)
    if fields.get("channel") == UNKNOWN_CHANNEL:
        # Deposits before v2 recorded no channel; the comparison skips fields the
        # stored event never had, so any valid channel stands in for it.
        del fields["channel"]
    return fields
