"""The command bus: load, decide, append with expected versions, retry on conflict."""

from __future__ import annotations

from collections import OrderedDict
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from domain.clock import Clock, IdSource, SystemClock, UuidSource
from domain.envelope import AppendResult, Metadata, NewEvent, Refusal, StreamAppend
from domain.errors import ConcurrencyConflict, InvalidInput, RuleRefused
from domain.messages import Command
from domain.model import AggregateType, DomainModel, Emit
from domain.text import UnsafeText, checked_text

if TYPE_CHECKING:
    from domain.ports import EventStore

ACTOR_MAX = 100
COMMAND_ID_MAX = 200
STREAM_ID_MAX = 200
"""Longest actor, caller-chosen command id and stream id, in characters."""


@lru_cache(maxsize=4096)
def _entered(value: str, field: str, max_length: int) -> str:
    """`checked_text` for what a caller names a command by: InvalidInput (exit 2) if unsafe.

    Every command checks its actor and each stream id it writes, mostly the same few
    texts: the answer for a text seen before is remembered (a refusal is not: it is
    raised again each time).
    """
    try:
        return checked_text(value, field=field, max_length=max_length)
    except UnsafeText as exc:
        raise InvalidInput(str(exc)) from None


def checked_actor(actor: str) -> str:
    """`actor` NFC-normalised, or InvalidInput if it is blank, too long or unsafe."""
    if not actor.strip():
        raise InvalidInput("actor must not be empty; pass --actor NAME")
    return _entered(actor, "actor", ACTOR_MAX)


S = TypeVar("S")


class AggregateCache:
    """Recently used aggregate states by stream, so a load reads only the stream's tail.

    Safe with other writers: every load still asks the store for events after the
    cached version, and the append's expected-version check catches any race.
    """

    def __init__(self, size: int = 4096) -> None:
        self._size = size
        self._entries: OrderedDict[str, tuple[int, Any]] = OrderedDict()

    def get(self, stream_id: str) -> tuple[int, Any] | None:
        entry = self._entries.get(stream_id)
        if entry is not None:
            self._entries.move_to_end(stream_id)
        return entry

    def put(self, stream_id: str, version: int, state: Any) -> None:
        self._entries[stream_id] = (version, state)
        self._entries.move_to_end(stream_id)
        while len(self._entries) > self._size:
            self._entries.popitem(last=False)

    def forget(self, stream_id: str) -> None:
        self._entries.pop(stream_id, None)


@dataclass
class _Decision:
    """The handler's view of the world during one attempt: what it loaded, at which version."""

    bus: CommandBus
    trust_cache: bool = True
    """Use a cached state without asking the store for a newer tail (first attempt)."""
    loaded: dict[str, tuple[AggregateType[Any], int, Any]] = field(default_factory=dict)

    def load(self, aggregate: AggregateType[S], key: str) -> S:
        stream_id = aggregate.stream_id(key)
        if stream_id in self.loaded:
            state: S = self.loaded[stream_id][2]
            return state
        version, state = self.bus.load(aggregate, key, use_cache_as_is=self.trust_cache)
        self.loaded[stream_id] = (aggregate, version, state)
        return state

    def stale_streams(self) -> list[str]:
        """Streams that moved on since they were loaded from the cache (now forgotten)."""
        if not self.trust_cache:
            return []
        stale = [
            stream_id
            for stream_id, (_, version, _) in self.loaded.items()
            if self.bus.store.stream_version(stream_id) != version
        ]
        for stream_id in stale:
            self.bus.cache.forget(stream_id)
        return stale

    def now(self) -> str:
        return self.bus.clock.now()

    def new_id(self) -> str:
        return self.bus.ids.new_id()


class CommandBus:
    """Runs commands of one domain against one store."""

    def __init__(
        self,
        store: EventStore,
        model: DomainModel,
        *,
        clock: Clock | None = None,
        ids: IdSource | None = None,
        max_retries: int = 5,
        cache: AggregateCache | None = None,
        exclusive_after: int = 1,
    ) -> None:
        self.store = store
        self.model = model
        self.clock = clock or SystemClock()
        self.ids = ids or UuidSource()
        self.max_retries = max_retries
        self.exclusive_after = exclusive_after
        """Conflicts after which a command is decided under the store's append lock
        (`EventWriter.exclusive_appends`); above `max_retries`: never."""
        self.cache = cache or AggregateCache()

    def load(
        self, aggregate: AggregateType[S], key: str, *, use_cache_as_is: bool = False
    ) -> tuple[int, S]:
        """The aggregate's (version, state), reading only what the cache lacks.

        With `use_cache_as_is`, a cached state is used without asking the store for
        a newer tail: optimistic, since the append's expected-version check catches
        another writer (a conflict, retried with fresh state) and a refusal is
        re-checked before it is recorded. That saves a query on every command.
        """
        stream_id = aggregate.stream_id(key)
        cached = self.cache.get(stream_id)
        if cached is not None and use_cache_as_is:
            cached_version, cached_state = cached
            return cached_version, cached_state
        version, state = cached if cached is not None else (0, aggregate.initial())
        catalog = self.model.catalog
        for recorded in self.store.read_stream(stream_id, after_version=version):
            event = catalog.decode(recorded.type, recorded.schema_version, recorded.data)
            state = aggregate.evolve(state, event)
            version = recorded.version
        self.cache.put(stream_id, version, state)
        return version, state

    def execute_fields(
        self, type_name: str, fields: dict[str, Any], *, actor: str, command_id: str | None = None
    ) -> AppendResult:
        """Validate raw fields as the named command, then execute it."""
        command = self.model.parse_command(type_name, fields)
        return self.execute(command, actor=actor, command_id=command_id)

    def execute(
        self,
        command: Command,
        *,
        actor: str,
        command_id: str | None = None,
        correlation_id: str = "",
        causation_id: str = "",
    ) -> AppendResult:
        """Run `command`: record its events, or raise (and record) why it was refused."""
        actor = checked_actor(actor)
        payload = command.payload()
        if command_id:
            command_id = _entered(command_id, "command id", COMMAND_ID_MAX)
            # Only a caller-chosen id can have been seen before; the store's append
            # would catch a replay anyway, but this returns it without deciding again.
            earlier = self._earlier_result(command, payload, command_id)
            if earlier is not None:
                return earlier
        else:
            command_id = self.ids.new_id()
        metadata = Metadata(
            actor=actor,
            command_id=command_id,
            command_type=command.type_name,
            correlation_id=correlation_id,
            causation_id=causation_id,
            command=payload,
        )
        handler = self.model.handlers[type(command)]
        conflicts = 0
        trusted = True  # the first decision may use cached states as they are
        while True:
            # After a conflict, decide again under the store's append lock: nobody can
            # move a stream between the read and the write, so that attempt cannot be
            # overtaken (progress however many writers share the streams).
            exclusive = conflicts >= self.exclusive_after
            with self.store.exclusive_appends() if exclusive else nullcontext():
                outcome = self._attempt(command, handler, metadata, trusted and not exclusive)
            trusted = False
            if isinstance(outcome, AppendResult):
                return outcome
            if isinstance(outcome, RuleRefused):
                raise outcome  # recorded; raised here, after the block committed it
            if outcome is None:
                continue  # a refusal decided on a stale cache: decide again, fresh
            if conflicts == self.max_retries:
                raise outcome
            conflicts += 1

    def _attempt(
        self, command: Command, handler: Any, metadata: Metadata, trusted: bool
    ) -> AppendResult | RuleRefused | ConcurrencyConflict | None:
        """One decision and its append: the result, the refusal (recorded), the conflict
        met, or None when a refusal rested on a cached state another writer had moved."""
        decision = _Decision(self, trust_cache=trusted)
        try:
            emits = handler(command, decision)
        except RuleRefused as refused:
            if decision.stale_streams():
                # The cached state was behind another writer: decide again on
                # fresh state rather than record a refusal that may not hold.
                return None
            self.store.record_refusal(
                Refusal(
                    recorded_at=self.clock.now(),
                    actor=metadata.actor,
                    command_id=metadata.command_id,
                    command_type=metadata.command_type,
                    command=metadata.command,
                    reason=refused.message,
                    code=refused.code,
                )
            )
            return refused
        appends = self._appends(decision, emits)
        try:
            result = self.store.append(appends, metadata)
        except ConcurrencyConflict as conflict:
            # The cached states stay: history is immutable, so the next attempt
            # reads only the events after them. Forgetting them made every retry
            # replay whole hot streams, widening the window for the next conflict
            # (on six shared accounts, 8 writers x 1000 commands: 49-133 commands
            # exhausted their retries, 1-2 without). Only a store behind the cache
            # (history cut or replaced) means the cache cannot be trusted.
            if conflict.actual < conflict.expected:
                self.cache.forget(conflict.stream_id)
            return conflict
        self._remember(decision, emits, result)
        return result

    def _earlier_result(
        self, command: Command, payload: dict[str, Any], command_id: str
    ) -> AppendResult | None:
        earlier = self.store.find_command(command_id)
        if earlier is None:
            return None
        recorded = self.store.command_payload(command_id)
        if recorded is not None and recorded != (command.type_name, payload):
            raise InvalidInput(
                f"command id {command_id} was already used for a different command "
                f"({recorded[0]}); use a new --command-id"
            )
        return earlier

    def _appends(self, decision: _Decision, emits: list[Emit] | Any) -> list[StreamAppend]:
        grouped: dict[str, list[NewEvent]] = {}
        for emit in emits:
            stream_id = emit.aggregate.stream_id(emit.key)
            if _entered(stream_id, "stream id", STREAM_ID_MAX) != stream_id:
                raise InvalidInput(f"stream id {stream_id} is not in NFC form; write it so")
            if stream_id not in decision.loaded:
                raise AssertionError(f"handler emitted to {stream_id} without loading it first")
            event = emit.event
            grouped.setdefault(stream_id, []).append(
                NewEvent(
                    type=event.type_name,
                    data=event.payload(),
                    schema_version=event.schema_version,
                    event_id=self.ids.new_id(),
                )
            )
        appends = []
        # Every stream the decision read is checked, not only those it writes: a rule
        # that relied on a stream another writer has since changed must be decided again.
        for stream_id, (aggregate, version, _) in decision.loaded.items():
            appends.append(
                StreamAppend(
                    stream_id=stream_id,
                    stream_type=aggregate.stream_type,
                    expected_version=version,
                    events=tuple(grouped.get(stream_id, ())),
                )
            )
        return appends

    def _remember(self, decision: _Decision, emits: Any, result: AppendResult) -> None:
        """Fold what was just appended into the cache, so the next load reads nothing."""
        if result.duplicate:
            return
        states = {sid: (agg, ver, st) for sid, (agg, ver, st) in decision.loaded.items()}
        for emit in emits:
            stream_id = emit.aggregate.stream_id(emit.key)
            aggregate, version, state = states[stream_id]
            states[stream_id] = (aggregate, version + 1, aggregate.evolve(state, emit.event))
        for stream_id, (_, version, state) in states.items():
            self.cache.put(stream_id, version, state)
