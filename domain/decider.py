"""A domain decided in memory, for writing long demo histories quickly and by the rules.

`InMemoryDecider` is what the command bus would be without a store: it runs commands
through a domain's real handlers (it is their `Context`), folds the events with the
real aggregates, and records `PendingEvent`s and `Refusal`s in order, with versions,
metadata and ids drawn as the bus draws them (command id, then the handler's ids,
then one per event). So a history it writes can be replayed through the real bus,
handed the same ids and times, and give the very same events: demo tests do that.

Nothing here knows a domain: `domain.inventory.demo` uses it as is, and the ledger's
`DemoLedger` adds its shortcuts on top.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any, TypeVar, cast

from domain.envelope import PendingEvent, Refusal
from domain.errors import RuleRefused
from domain.messages import Command, Event
from domain.model import AggregateType, DomainModel, Emit

S = TypeVar("S")
C = TypeVar("C", bound=Command)


def uuid4_from(rng: random.Random) -> str:
    """A version-4 UUID drawn from `rng` (twice as fast as building a `uuid.UUID`)."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64) & ~(0xC000 << 48)) | (0x4000 << 64) | (0x8000 << 48)
    text = f"{bits:032x}"
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def trusted(model: type[C], fields: dict[str, Any]) -> C:
    """`model` built without re-validating `fields`, which must be valid by construction.

    `fields` must name every field with the value validation would give it, so that
    it equals `command.payload()`. Demo generators use it for values they minted.
    It does what pydantic's `model_construct` does for a model without defaults left
    unset, private attributes or extras, in a third of the time (demos build millions).
    """
    command = model.__new__(model)
    _set(command, "__dict__", dict(fields))
    _set(command, "__pydantic_fields_set__", set(fields))
    _set(command, "__pydantic_extra__", None)
    _set(command, "__pydantic_private__", None)
    return command


_set = object.__setattr__


def event_metadata(
    actor: str, command_id: str, command_type: str, correlation_id: str, causation_id: str
) -> dict[str, Any]:
    """The per-event metadata, as `Metadata.event_metadata` writes it."""
    return {
        "actor": actor,
        "command_id": command_id,
        "command_type": command_type,
        "correlation_id": correlation_id or command_id,
        "causation_id": causation_id or command_id,
    }


class InMemoryDecider:
    """A domain's write side over in-memory states, recording into `out`.

    `recorded_at` is the time stamped on what is recorded next; the caller moves it.
    Aggregate states must be immutable (as `AggregateType` requires), so `states` can
    be read by the caller between commands.
    """

    def __init__(self, model: DomainModel, ids: random.Random) -> None:
        self.model = model
        self.states: dict[str, Any] = {}
        """The latest state per stream id."""
        self.versions: dict[str, int] = {}
        self.out: list[PendingEvent | Refusal] = []
        self.position = 0
        """How many events were recorded: the head position in an empty store."""
        self.recorded_at = ""
        self._ids = ids

    # -- the handlers' Context ---------------------------------------------------------
    def load(self, aggregate: AggregateType[S], key: str) -> S:
        """The aggregate's current state (its initial state when it has no events)."""
        state = self.states.get(aggregate.stream_id(key))
        return aggregate.initial() if state is None else cast(S, state)

    def now(self) -> str:
        return self.recorded_at

    def new_id(self) -> str:
        return uuid4_from(self._ids)

    def record_id(self) -> str:
        """The id of a command or an event this decider records (drawn from its ids)."""
        return uuid4_from(self._ids)

    # -- deciding ----------------------------------------------------------------------
    def execute(
        self,
        actor: str,
        command: Command,
        correlation_id: str = "",
        causation_id: str = "",
        payload: dict[str, Any] | None = None,
    ) -> str | None:
        """Decide `command` with its real handler; its command id, or None if refused.

        `payload` is `command.payload()` when the caller already has it.
        """
        if payload is None:
            payload = command.payload()
        command_id = self.record_id()
        try:
            emits = self.model.handlers[type(command)](command, self)
        except RuleRefused as refused:
            self.out.append(
                Refusal(
                    recorded_at=self.recorded_at,
                    actor=actor,
                    command_id=command_id,
                    command_type=command.type_name,
                    command=payload,
                    reason=refused.message,
                    code=refused.code,
                    at_position=self.position,
                )
            )
            return None
        metadata = event_metadata(
            actor, command_id, command.type_name, correlation_id, causation_id
        )
        # The bus draws every event id (in emit order) before it appends, grouped by
        # stream; drawing them first keeps a replay's ids in step with these.
        # The bus draws every event id (in emit order) before it appends, grouped by
        # stream; drawing them first keeps a replay's ids in step with these.
        kept: dict[str, Any] | None = payload
        if len(emits) == 1:  # most commands: no grouping, one id
            changes = self._one(emits[0], [self.record_id()])
        else:
            changes = self._fold(emits, [self.record_id() for _ in emits])
        versions, out, recorded_at = self.versions, self.out, self.recorded_at
        for stream_id, stream_type, event, state, event_id in changes:
            version = versions.get(stream_id, 0) + 1
            versions[stream_id] = version
            self._keep(stream_id, state)
            out.append(
                PendingEvent(
                    event_id,
                    stream_id,
                    stream_type,
                    version,
                    event.type_name,
                    event_data(event),
                    metadata,
                    recorded_at,
                    event.schema_version,
                    kept,
                )
            )
            kept = None  # the command is kept once, on its first event
            self.position += 1
        return command_id

    def _keep(self, stream_id: str, state: Any) -> None:
        """Record a stream's state after one of its events (a subclass may mirror it)."""
        self.states[stream_id] = state

    def _one(self, emit: Emit, event_ids: list[str]) -> list[tuple[str, str, Event, Any, str]]:
        """`_fold` for a single event (most commands), without the grouping."""
        aggregate = emit.aggregate
        stream_id = aggregate.stream_id(emit.key)
        state = aggregate.evolve(self.load(aggregate, emit.key), emit.event)
        return [(stream_id, aggregate.stream_type, emit.event, state, event_ids[0])]

    def _fold(
        self, emits: Sequence[Emit], event_ids: list[str]
    ) -> list[tuple[str, str, Event, Any, str]]:
        """The events in the bus's append order (grouped by stream, first seen first),
        each with its stream's state after it and its event id. Changes nothing."""
        grouped: dict[str, list[tuple[Emit, str]]] = {}
        for emit, event_id in zip(emits, event_ids, strict=True):
            grouped.setdefault(emit.aggregate.stream_id(emit.key), []).append((emit, event_id))
        changes: list[tuple[str, str, Event, Any, str]] = []
        for stream_id, group in grouped.items():
            aggregate = group[0][0].aggregate
            state = self.load(aggregate, group[0][0].key)
            for emit, event_id in group:
                state = aggregate.evolve(state, emit.event)
                changes.append((stream_id, aggregate.stream_type, emit.event, state, event_id))
        return changes


_PLAIN_TYPES = frozenset((str, int, bool))


def event_data(event: Event) -> dict[str, Any]:
    """The event's JSON payload, fast, for events whose fields are all str, int or bool.

    Their `__dict__` is their payload; `payload()` (a pydantic `model_dump`) costs
    several times as much. Other field types take the slow, exact path.
    """
    data = dict(event.__dict__)
    if _PLAIN_TYPES.issuperset(map(type, data.values())):  # the test loops in C
        return data
    return event.payload()
