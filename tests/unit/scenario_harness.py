"""given / when / then for any domain's rules: real handlers, no bus, no store.

`Scenario` knows no domain: it is built with a `DomainModel` and a `place` function
saying which aggregate and key an event belongs to (`ledger_harness`,
`inventory_harness`). `given` folds events into states with the real aggregates;
`when` runs the real handler against a Context serving those states (deterministic
clock and ids); `then` compares the emitted events, each on the stream it should land
on. A successful `when` folds its events in too, so scenarios chain and can inspect
`state(aggregate, key)`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from domain.clock import SequentialIds, StepClock
from domain.errors import DomainError
from domain.messages import Command, Event
from domain.model import AggregateType, DomainModel, Emit

S = TypeVar("S")

Place = Callable[[Event], tuple[AggregateType[Any], str]]
"""Which aggregate, and which key of it, an event is recorded on."""


class _GivenContext:
    """A handler's Context over in-memory states; remembers which streams were loaded."""

    def __init__(self, scenario: Scenario) -> None:
        self._scenario = scenario
        self.loaded: set[str] = set()

    def load(self, aggregate: AggregateType[S], key: str) -> S:
        stream_id = aggregate.stream_id(key)
        self.loaded.add(stream_id)
        state: S = self._scenario.states.get(stream_id, aggregate.initial())
        return state

    def now(self) -> str:
        return self._scenario.clock.now()

    def new_id(self) -> str:
        return self._scenario.ids.new_id()


class Scenario:
    """One given/when/then run of any domain's rules."""

    def __init__(self, model: DomainModel, place: Place, id_prefix: str = "id") -> None:
        self.model = model
        self.place = place
        self.states: dict[str, Any] = {}
        self.clock = StepClock()
        self.ids = SequentialIds(id_prefix)
        self.emitted: list[Emit] | None = None
        self.error: DomainError | None = None
        self.loaded: set[str] = set()
        """The streams the last `when` loaded."""

    def given(self, *events: Event) -> Scenario:
        """Fold `events`, in order, into the states of the aggregates they belong to."""
        for event in events:
            aggregate, key = self.place(event)
            self._fold(aggregate, key, event)
        return self

    def when(self, command: Command) -> Scenario:
        """Run the command's real handler; keep its events or the DomainError it raised."""
        self.emitted, self.error = None, None
        ctx = _GivenContext(self)
        try:
            emits = list(self.model.handlers[type(command)](command, ctx))
        except DomainError as exc:
            self.error = exc
            self.loaded = ctx.loaded
            return self
        self.loaded = ctx.loaded
        for emit in emits:
            stream_id = emit.aggregate.stream_id(emit.key)
            # The bus refuses the same: it needs a loaded version to append against.
            assert stream_id in ctx.loaded, f"handler emitted to {stream_id} without loading it"
            self._fold(emit.aggregate, emit.key, emit.event)
        self.emitted = emits
        return self

    def when_fields(self, type_name: str, fields: dict[str, Any]) -> Scenario:
        """Validate raw fields as a form or the CLI would, then run the command."""
        self.emitted, self.error = None, None
        try:
            command = self.model.parse_command(type_name, fields)
        except DomainError as exc:
            self.error = exc
            return self
        return self.when(command)

    def then(self, *expected: Event) -> Scenario:
        """Assert the handler emitted exactly `expected`, in order, each on its stream."""
        assert self.error is None, f"expected events, but it was refused: {self.error!r}"
        assert self.emitted is not None, "call when() first"
        actual = [(e.aggregate.stream_type, e.key, e.event) for e in self.emitted]
        wanted = [(a.stream_type, k, e) for e in expected for a, k in [self.place(e)]]
        assert actual == wanted
        return self

    def then_refused(self, error: type[DomainError], match: str) -> DomainError:
        """Assert the command failed with `error` (exactly that class) matching `match`."""
        assert self.emitted is None, f"expected {error.__name__}, got events {self.emitted!r}"
        assert self.error is not None, "call when() first"
        assert type(self.error) is error, f"expected {error.__name__}, got {self.error!r}"
        message = self.error.message
        assert re.search(match, message), f"{match!r} not found in {message!r}"
        assert "\n" not in message, "error messages are one line"
        return self.error

    def state(self, aggregate: AggregateType[S], key: str) -> S:
        """The aggregate's state after everything given and done so far."""
        state: S = self.states.get(aggregate.stream_id(key), aggregate.initial())
        return state

    def _fold(self, aggregate: AggregateType[Any], key: str, event: Event) -> None:
        stream_id = aggregate.stream_id(key)
        state = self.states.get(stream_id, aggregate.initial())
        self.states[stream_id] = aggregate.evolve(state, event)
