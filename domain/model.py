"""How a domain is described to the kernel: aggregates, the event catalog, handlers.

A handler is a plain function `handler(command, ctx) -> list[Emit]`: it loads the
aggregates it needs through `ctx`, checks the rules (raising `RuleRefused`), and
returns the events to record. The bus turns that into one atomic append.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from domain.errors import InvalidInput
from domain.messages import Command, Event, parse_message
from domain.upcasting import UpcasterRegistry

S = TypeVar("S")


@dataclass(frozen=True)
class AggregateType(Generic[S]):
    """A kind of aggregate: its stream naming and its fold. States must be immutable."""

    stream_type: str
    initial: Callable[[], S]
    evolve: Callable[[S, Event], S]

    def stream_id(self, key: str) -> str:
        """The stream holding aggregate `key` (`account-a1`)."""
        return f"{self.stream_type}-{key}"

    def key_of(self, stream_id: str) -> str:
        return stream_id.removeprefix(f"{self.stream_type}-")


@dataclass(frozen=True)
class Emit:
    """An event a handler wants recorded on aggregate `key` of `aggregate`."""

    aggregate: AggregateType[Any]
    key: str
    event: Event


class Context(Protocol):
    """What a handler may use: loading aggregates, the clock and fresh ids."""

    def load(self, aggregate: AggregateType[S], key: str) -> S: ...

    def now(self) -> str: ...

    def new_id(self) -> str: ...


Handler = Callable[[Any, Context], Sequence[Emit]]


class EventCatalog:
    """Event types by stable name, with their upcasters."""

    def __init__(self, events: Sequence[type[Event]], upcasters: UpcasterRegistry | None = None):
        self.types: dict[str, type[Event]] = {}
        for event in events:
            if not event.type_name:
                raise ValueError(f"{event.__name__} has no type_name")
            if event.type_name in self.types:
                raise ValueError(f"two event types are named {event.type_name}")
            self.types[event.type_name] = event
        self.upcasters = upcasters or UpcasterRegistry()

    def current_version(self, type_name: str) -> int:
        return self.model(type_name).schema_version

    def model(self, type_name: str) -> type[Event]:
        try:
            return self.types[type_name]
        except KeyError:
            raise InvalidInput(f"unknown event type {type_name!r}") from None

    def upcast(self, type_name: str, schema_version: int, data: dict[str, Any]) -> dict[str, Any]:
        """`data` lifted to the current schema version of `type_name` (as a dict)."""
        target = self.current_version(type_name)
        if schema_version == target:
            return data
        return self.upcasters.upcast(type_name, schema_version, target, data)

    def decode(self, type_name: str, schema_version: int, data: dict[str, Any]) -> Event:
        """The stored event as its current, validated model."""
        model = self.model(type_name)
        return parse_message(model, self.upcast(type_name, schema_version, data))


@dataclass(frozen=True)
class DomainModel:
    """The write side of one domain: its commands, handlers, events and aggregates."""

    name: str
    commands: Sequence[type[Command]]
    handlers: Mapping[type[Command], Handler]
    catalog: EventCatalog
    aggregates: Sequence[AggregateType[Any]]
    command_by_name: dict[str, type[Command]] = field(init=False)

    def __post_init__(self) -> None:
        by_name = {c.type_name: c for c in self.commands}
        object.__setattr__(self, "command_by_name", by_name)
        missing = [c.type_name for c in self.commands if c not in self.handlers]
        if missing:
            raise ValueError(f"commands without a handler: {', '.join(missing)}")

    def command_model(self, type_name: str) -> type[Command]:
        try:
            return self.command_by_name[type_name]
        except KeyError:
            known = ", ".join(sorted(self.command_by_name))
            raise InvalidInput(f"unknown command {type_name!r}; known commands: {known}") from None

    def parse_command(self, type_name: str, fields: dict[str, Any]) -> Command:
        """Validate raw fields (from a form or the CLI) as the named command."""
        return parse_message(self.command_model(type_name), fields)

    def aggregate_for(self, stream_type: str) -> AggregateType[Any]:
        for aggregate in self.aggregates:
            if aggregate.stream_type == stream_type:
                return aggregate
        raise InvalidInput(f"no aggregate has stream type {stream_type!r}")
