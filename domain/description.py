"""The one object the app and the CLI know a domain by.

Everything domain-specific reaches `tui/` through a `DomainDescription`: the write
side (commands, handlers, events, aggregates), the projections with their column
descriptions, demo data and simulated traffic. A second domain needs no change in
`tui/` or `store/`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from domain.envelope import RecordedEvent, Refusal
from domain.model import AggregateType, DomainModel
from domain.projection import Column, EventReads, Projection, projection_named

if TYPE_CHECKING:
    from domain.history_check import CommandFields
    from domain.store_records import PendingEvent

DemoGenerator = Callable[[int, int], Iterator["PendingEvent | Refusal"]]
"""`generate(events, seed)`: a deterministic history, in order."""


@dataclass(frozen=True)
class DomainDescription:
    """A domain as eventscope sees it."""

    name: str
    title: str
    model: DomainModel
    projections: Sequence[Projection]
    demo: DemoGenerator | None = None
    simulate: Callable[..., Any] | None = None
    """`simulate(bus, store, rate, duration, seed, pace, monotonic=..., on_result=...,
    stop=...)`: live traffic, paced by the caller's `pace(seconds)` (see
    `domain.simulation.run_paced`)."""
    summarize: Callable[[RecordedEvent], str] | None = None
    """One short human line for an event (`+100.00 EUR to a1`); logs and lists show it."""
    command_fields: CommandFields | None = None
    """How `import` checks a history by this domain's rules: the fields of the command
    that recorded a group of events (`domain.history_check`). The real handler decides
    that command on the states so far and must emit exactly the recorded events.
    `domain.history_check.same_named_fields` suits commands named like their events.
    Without it, imports without command records are only checked event by event."""
    fields: Sequence[Column] = ()
    """How payload and aggregate fields read (title, kind, formatter), by `Column.name`:
    aggregate history, the inspector and the CLI format values by them, as panels do
    by their columns. A field not described reads as plain text under its own name."""
    event_reads: Mapping[str, EventReads] = dataclasses.field(default_factory=dict)
    """What each projection (by name) reads of an event (`domain.projection.EventReads`),
    so a rebuild selects, decodes and upcasts no more; one not named reads everything."""
    context_fields: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Event types whose payload leaves out what reading it needs, and the fields of
    their aggregate's state (just before the event) that supply it: the ledger's
    `OverdraftLimitChanged` carries no currency, its account does. Whoever shows the
    event (`tui/services/event_context.py`) folds the stream with the one timeline
    engine and passes those fields as `context` to `summary` and `readable_payload`."""
    command_context: Mapping[str, tuple[AggregateType[Any], tuple[str, ...]]] = dataclasses.field(
        default_factory=dict
    )
    """Command fields naming an aggregate whose state supplies what reading the other
    fields needs, and which fields of it: the ledger's `account_id` gives its account's
    `currency`, so a refused `amount` typed `1047.76` reads `1,047.76 EUR`
    (`tui/services/event_context.py` folds the stream as of the refusal)."""
    value_text: Callable[[str, Any, Mapping[str, Any]], str | None] | None = None
    """`value_text(field, value, row)`: a payload value as a person reads it whole, its
    unit included (the ledger: `1,441.36 EUR`), or None to leave it to `fields`."""

    def field(self, name: str) -> Column:
        """The description of payload or aggregate field `name` (a plain one if none)."""
        for column in self.fields:
            if column.name == name:
                return column
        return Column(name, name.replace("_", " ").capitalize())

    def summary(self, event: RecordedEvent, context: Mapping[str, Any] | None = None) -> str:
        """The domain's one-line summary of `event`, or its data as key=value pairs.

        `context` (see `context_fields`) is read under the event's own data, which wins.
        """
        if context:
            event = replace(event, data={**context, **event.data})
        if self.summarize is not None:
            try:
                return self.summarize(event)
            except (KeyError, TypeError, ValueError):
                pass  # an old or odd payload: fall back to the raw fields below
        return " ".join(f"{k}={v}" for k, v in event.data.items() if v not in ("", None))

    def readable_payload(
        self, data: Mapping[str, Any], context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """`data` with every number written by the one rule: money with its unit
        (`"amount": "1,441.36 EUR"`, also when typed as text in a command: `"1047.76"`),
        counts grouped; text and the rest as stored.

        Only for reading: the stored payload is what the hash covers and stays as it is.
        """
        row = {**(context or {}), **data}
        readable: dict[str, Any] = {}
        for name, value in data.items():
            readable[name] = value
            if isinstance(value, str) and self.value_text is not None:
                readable[name] = self.value_text(name, value, row) or value
            if not isinstance(value, int) or isinstance(value, bool):
                continue
            text = self.value_text(name, value, row) if self.value_text is not None else None
            if text is None and self.field(name).numeric:
                text = self.field(name).format(row)
            if text is not None:
                readable[name] = text
        return readable

    def projection(self, name: str) -> Projection:
        """The projection called `name`; unknown names list the known ones."""
        return projection_named({p.name: p for p in self.projections}, name)
