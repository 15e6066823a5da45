"""How one event reads, in the app and the CLI: its summary line and its readable payload.

Some payloads leave out what reading them needs: the ledger's `OverdraftLimitChanged`
names no currency, because its account fixed one when it was opened. The domain says
which events and which fields (`DomainDescription.context_fields`); here the stream is
folded up to just before the event by the one timeline engine (`Timeline.aggregate_at`)
and those fields of its state are handed to the domain's formatting. Events never
change, so the state before an event is cached by (stream, version).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import asdict, is_dataclass
from typing import TYPE_CHECKING, Any

from domain.description import DomainDescription
from domain.envelope import RecordedEvent
from domain.errors import InvalidInput

if TYPE_CHECKING:
    from domain.timeline import Timeline

STATES_KEPT = 1024
"""States before an event kept for reuse (an account's limit changes, paged through)."""


def state_dict(state: Any) -> dict[str, Any]:
    """An aggregate state as plain data, whatever its shape."""
    if is_dataclass(state) and not isinstance(state, type):
        return asdict(state)
    dump = getattr(state, "model_dump", None)
    if dump is not None:
        result: dict[str, Any] = dump(mode="json")
        return result
    if isinstance(state, Mapping):
        return dict(state)
    return {"state": repr(state)}


class EventReading:
    """An event's summary and readable payload, with the context its payload leaves out."""

    def __init__(self, timeline: Timeline, domain: DomainDescription) -> None:
        self.timeline = timeline
        self.domain = domain
        self._state_before = functools.lru_cache(maxsize=STATES_KEPT)(self._fold_before)

    def context(
        self, event: RecordedEvent, before: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """The fields `event` is read with that its payload lacks ({} for most events).

        `before` is its aggregate's state just before it, when the caller has it (aggregate
        history does); otherwise the stream is folded up to there (blocking: a worker's).
        """
        wanted = self.domain.context_fields.get(event.type)
        if not wanted:
            return {}
        state = before if before is not None else self._state_before(event.stream_id, event.version)
        return {name: state[name] for name in wanted if state.get(name) not in (None, "")}

    def summary(self, event: RecordedEvent, before: Mapping[str, Any] | None = None) -> str:
        """The domain's one-line summary of `event`, read in its context."""
        return self.domain.summary(event, self.context(event, before))

    def readable_payload(self, event: RecordedEvent) -> dict[str, Any]:
        """`event`'s payload with numbers written by the one rule (money with its unit)."""
        return self.domain.readable_payload(event.data, self.context(event))

    def readable_command(self, fields: Mapping[str, Any], at_position: int) -> dict[str, Any]:
        """A command's fields as typed, read by the one rule: its money with the
        currency it names, or its account's as of `at_position` (blocking)."""
        context: dict[str, Any] = {}
        for name, (aggregate, wanted) in self.domain.command_context.items():
            key = fields.get(name)
            if not isinstance(key, str) or not key or all(f in fields for f in wanted):
                continue
            try:
                at = self.timeline.aggregate_at(
                    self.domain.model, aggregate.stream_id(key), position=at_position
                )
            except (InvalidInput, KeyError, TypeError, ValueError):
                continue  # no such aggregate (often why it was refused)
            state = state_dict(at.state)
            context |= {f: state[f] for f in wanted if state.get(f) not in (None, "", 0)}
            if context:
                break
        return self.domain.readable_payload(fields, context)

    def _fold_before(self, stream_id: str, version: int) -> dict[str, Any]:
        try:
            at = self.timeline.aggregate_at(self.domain.model, stream_id, version - 1)
        except (InvalidInput, KeyError, TypeError, ValueError):
            return {}  # an odd stream (imported garbage): read the event alone
        return state_dict(at.state)
