"""Replay a recorded history through a domain's own rules, refusing what they forbid.

An import must not accept a history the domain could not have produced: a withdrawal
beyond the overdraft, a deposit into a closed account, half a transfer. Nothing here
writes those rules a second time. Each command's events (grouped by command id, as the
bus appends them) are turned back into the command, which the domain's real handler
decides on the states folded so far (through `InMemoryDecider`, the bus without a
store); the events it emits must be the events recorded, stream by stream and field by
field. A refusal, or any difference, refuses the history and says which rule or field.

The command is the one recorded in the commands table when the export carries it, or
else rebuilt from its events by the domain's `command_fields` hook
(`DomainDescription.command_fields`). A domain without that hook gets the checks that
need no rules: every event validates with its model, every metadata field is text.
Pure: no IO, nothing stored.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from pydantic import ValidationError

from domain.decider import event_data
from domain.envelope import PendingEvent, RecordedEvent, Refusal
from domain.errors import DomainError, InvalidInput
from domain.history_compare import (
    json_kind,
    listing,
    recorded_as_emitted,
    same_types,
    short_value,
)
from domain.messages import Command, Event
from domain.model import Context, DomainModel
from domain.replay_decider import ReplayDecider, id_places
from domain.text import TEXT_ONLY, UnsafeText, checked_text, plain_texts

CommandFields = Callable[[type[Command], Sequence[Event], Context], dict[str, Any]]
"""`fields(command_model, events, ctx)`: the fields of the command that recorded
`events` (decoded to their current models), for `DomainModel.parse_command`. `ctx`
loads the aggregates as they were before the command (e.g. an account's currency)."""

METADATA_FIELDS = ("actor", "command_id", "command_type", "correlation_id", "causation_id")
"""What the bus writes on every event; each must be non-empty, safe text."""

METADATA_MAX_LENGTH = 200


class HistoryRefused(InvalidInput):
    """The history breaks a rule; `index` is the offending event's (0-based, this check)."""

    def __init__(self, detail: str, index: int) -> None:
        super().__init__(detail)
        self.detail = detail
        self.index = index


_metadata_values = operator.itemgetter(*METADATA_FIELDS)


def metadata_is_text(metadata: Any) -> bool:
    """True when every bus field is present and text: the fast check for hot loops (the
    loop runs in C: the types of the fields' values must all be `str`)."""
    if type(metadata) is not dict:
        return False
    return TEXT_ONLY.issuperset(map(type, map(metadata.get, METADATA_FIELDS)))


def check_metadata(metadata: Mapping[str, Any], known: Container[str] = ()) -> None:
    """Refuse metadata whose bus fields are missing, not text, empty or unsafe.

    Values in `known` were accepted before (by this check, for any of the fields: the
    rule is the same for each) and are not checked again.
    """
    passed: list[str] = []  # ids repeat across fields (a command id is its correlation id)
    for name in METADATA_FIELDS:
        if name not in metadata:
            raise InvalidInput(f"metadata.{name} is missing")
        value = metadata[name]
        if not isinstance(value, str):
            raise InvalidInput(f"metadata.{name} must be text, not {json_kind(value)}")
        if value in known or value in passed:
            continue
        try:
            checked_text(value, field=f"metadata.{name}", max_length=METADATA_MAX_LENGTH)
        except UnsafeText as exc:
            raise InvalidInput(str(exc)) from None
        passed.append(value)


def decode_event(model: DomainModel, event: RecordedEvent) -> Event:
    """The event as its current model (upcast first); InvalidInput names the field."""
    try:
        return model.catalog.decode(event.type, event.schema_version, event.data)
    except ValidationError as exc:
        raise InvalidInput(f"{event.type} data does not validate: {_first_error(exc)}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise InvalidInput(f"{event.type} data does not validate: {exc}") from None


def same_named_fields(
    command: type[Command], events: Sequence[Event], ctx: Context | None = None
) -> dict[str, Any]:
    """Each field of `command` taken from the last of `events` with a field of that name.

    Enough for a domain whose commands name their fields as their events do (the
    inventory, the to-do example); a field no event has is left to its default.
    """
    fields: dict[str, Any] = {}
    for name in command.model_fields:
        for event in reversed(events):
            if name in type(event).model_fields:
                fields[name] = getattr(event, name)
                break
    return fields


@dataclass(slots=True)
class _Group:
    command_id: str
    events: list[RecordedEvent] = field(default_factory=list)
    decoded: list[Event] = field(default_factory=list)
    indexes: list[int] = field(default_factory=list)
    payload: dict[str, Any] | None = None


_SAFE_TEXTS_KEPT = 1 << 16
"""How many metadata values `HistoryCheck` remembers as checked (then it starts over)."""


class HistoryCheck:
    """Checks a history event by event; raises `HistoryRefused` at the first impossible one.

    Call `absorb` for events already stored (folded, not checked), then `offer` for each
    imported event in order (with the command payload on a command's first event when
    known), then `finish`.
    """

    def __init__(self, model: DomainModel, command_fields: CommandFields | None) -> None:
        self.model = model
        self.command_fields = command_fields
        self._decider = ReplayDecider(model)
        self._group: _Group | None = None
        self._count = 0
        self._id_places: dict[str, tuple[tuple[int, str], ...]] = {}
        """Per command type, where its handler put the ids it drew (learned once)."""
        self._stream_prefixes: dict[str, str] = {}
        """Per stream type, how its stream ids must start (its aggregate's type and -)."""
        self._safe_texts: set[str] = set()
        """Metadata values `check_metadata` accepted: actors, command types and a
        command's ids repeat on every event, and a value's verdict never changes."""

    # -- folding what is already stored ------------------------------------------------
    def absorb(self, event: RecordedEvent) -> None:
        """Fold an event already stored (raises InvalidInput if it does not decode)."""
        self._fold(event, decode_event(self.model, event))

    def _fold(self, event: RecordedEvent, decoded: Event) -> None:
        decider = self._decider
        aggregate = self.model.aggregate_for(event.stream_type)
        state = decider.states.get(event.stream_id)
        if state is None:
            state = aggregate.initial()
        try:
            decider.states[event.stream_id] = aggregate.evolve(state, decoded)
        except (TypeError, ValueError) as exc:
            raise InvalidInput(f"{event.type} cannot be applied: {exc}") from None
        decider.versions[event.stream_id] = event.version
        decider.position = event.position

    # -- checking an import --------------------------------------------------------------
    def offer(self, event: RecordedEvent, payload: dict[str, Any] | None = None) -> None:
        """Check `event`'s shape now and its command's rules once the command is complete.

        Its data is validated with its model when its command is decided (or sooner,
        when a check fails: see `decode_offered`); an event recorded exactly as the
        handler emits it needs no second validation.
        """
        index = self._count
        self._count += 1
        group = self._group
        try:
            # A command's later events repeat its first one's metadata, checked already.
            if group is None or event.metadata != group.events[0].metadata:
                self._check_metadata(event.metadata)
        except InvalidInput as exc:
            self.decode_offered()
            raise HistoryRefused(exc.message, index) from None
        try:
            prefix = self._stream_prefixes.get(event.stream_type)
            if prefix is None or not event.stream_id.startswith(prefix):
                self._check_stream(event)  # (learns the prefix, or refuses)
            self._join(event, payload, index)
        except InvalidInput as exc:
            # Where a check of each event in turn would have failed first: an earlier
            # event's data, then this one's (its shape is checked before the command
            # before it is decided), then the refusal itself, at the line it names: a
            # command decided when this event arrived is refused at its own first event.
            self.decode_offered()
            self._decode_at(event, index)
            if isinstance(exc, HistoryRefused):
                raise
            raise HistoryRefused(exc.message, index) from None

    def decode_offered(self) -> None:
        """Validate the data of the events offered since the last decided command;
        `HistoryRefused` names the first that does not validate. Call it before
        refusing one of them for another reason (e.g. the chain), so that the refusal
        is the one a check of each event in turn would have met first."""
        if self._group is not None:
            self._decoded(self._group)

    def _join(self, event: RecordedEvent, payload: dict[str, Any] | None, index: int) -> None:
        """Add `event` to its command's group, deciding the previous command first."""
        command_id = event.metadata["command_id"]
        group = self._group
        if group is not None and group.command_id != command_id:
            self._decide(group)
            group = None
        if group is None:
            group = self._group = _Group(command_id, [], [], [], payload)
        elif event.metadata != (first := group.events[0].metadata):
            for name in METADATA_FIELDS:
                if event.metadata[name] != first[name]:
                    raise HistoryRefused(
                        f"metadata.{name} differs from the first event of command "
                        f"{command_id}; one command's events share their metadata",
                        index,
                    )
        group.events.append(event)
        group.indexes.append(index)

    def finish(self) -> None:
        """Decide the last command; call once all events were offered."""
        if self._group is not None:
            self._decide(self._group)
            self._group = None

    def _check_metadata(self, metadata: dict[str, Any]) -> None:
        """`check_metadata`, run once per distinct value (the same rule, remembered)."""
        safe = self._safe_texts
        if type(metadata) is dict:
            # `metadata_is_text` and the values in one pass (() when one is missing).
            try:
                values: tuple[Any, ...] = _metadata_values(metadata)
            except KeyError:
                values = ()
            if (
                values
                and TEXT_ONLY.issuperset(map(type, values))
                and (plain_texts(values, METADATA_MAX_LENGTH) or safe.issuperset(values))
            ):
                return
        check_metadata(metadata, safe)
        if len(safe) >= _SAFE_TEXTS_KEPT:
            safe.clear()
        safe.update(map(metadata.__getitem__, METADATA_FIELDS))

    def _check_stream(self, event: RecordedEvent) -> None:
        prefix = self._stream_prefixes.get(event.stream_type)
        if prefix is None:
            aggregate = self.model.aggregate_for(event.stream_type)  # or InvalidInput
            prefix = self._stream_prefixes[event.stream_type] = f"{aggregate.stream_type}-"
        if not event.stream_id.startswith(prefix):
            aggregate = self.model.aggregate_for(event.stream_type)
            raise InvalidInput(
                f"stream {event.stream_id} is not a {aggregate.stream_type} stream "
                f"(its id must start with {aggregate.stream_type}-)"
            )

    def _decoded(self, group: _Group) -> list[Event]:
        """The group's events as their current models (each validated, upcast first)."""
        if len(group.decoded) != len(group.events):
            group.decoded = [
                self._decode_at(event, at)
                for event, at in zip(group.events, group.indexes, strict=True)
            ]
        return group.decoded

    def _decode_at(self, event: RecordedEvent, index: int) -> Event:
        try:
            return decode_event(self.model, event)
        except InvalidInput as exc:
            raise HistoryRefused(exc.message, index) from None

    def _decide(self, group: _Group) -> None:
        try:
            self._decide_group(group)
        except HistoryRefused:
            # A recorded event that does not validate is named before any rule it breaks.
            self._decoded(group)
            raise

    def _decide_group(self, group: _Group) -> None:
        first = group.events[0]
        index = group.indexes[0]
        command_type = first.metadata["command_type"]
        command = self._command(group, command_type, index)
        if command is None:
            for event, decoded, at in zip(
                group.events, self._decoded(group), group.indexes, strict=True
            ):
                self._fold_checked(event, decoded, at)
            return
        decider = self._decider
        decider.recorded_at = first.recorded_at
        decider.minted.clear()
        decider.out.clear()
        guess = self._guess(group, command_type) if command_type in self._id_places else None
        if guess is not None and self._decided_as_guessed(group, command, guess):
            return
        # Taken after the guess: one that held returned above, and one that failed was
        # undone (`rewind`), so these are still the states before the command.
        before = {e.stream_id: decider.states.get(e.stream_id) for e in group.events}
        try:
            # The recorded payload stands for `command.payload()`: the replay keeps neither.
            accepted = decider.execute(first.actor, command, payload=group.payload)
        except (DomainError, ValueError, TypeError) as exc:
            raise HistoryRefused(f"{command_type} refused by the rules: {exc}", index) from None
        if accepted is None:
            refusal = decider.out[-1]
            assert isinstance(refusal, Refusal)
            raise HistoryRefused(
                f"{command_type} on {first.stream_id} refused by the rules: {refusal.reason}",
                index,
            )
        # Accepted: `out` holds this command's events alone (a refusal is all it holds).
        emitted = cast(list[PendingEvent], decider.out)
        if not decider.minted and recorded_as_emitted(group.events, emitted):
            # The very rows the bus would write for this command: the data validated when
            # the handler built it, and the decider's states are the recorded fold.
            for event in group.events:
                decider.versions[event.stream_id] = event.version
            decider.position = group.events[-1].position
            decider.out.clear()
            return
        self._decoded(group)
        self._compare(group, command_type, emitted)
        if decider.minted and command_type not in self._id_places:
            self._id_places[command_type] = id_places(decider.minted, emitted)
        # Fold the recorded events (not the emitted ones, whose minted ids are stand-ins).
        for stream_id, state in before.items():
            if state is None:
                decider.states.pop(stream_id, None)
            else:
                decider.states[stream_id] = state
        for event, decoded, at in zip(group.events, group.decoded, group.indexes, strict=True):
            self._fold_checked(event, decoded, at)
        decider.out.clear()

    def _guess(self, group: _Group, command_type: str) -> list[str] | None:
        """The ids the file recorded where this command type's handler put the ids it
        drew last time (e.g. a transfer's id), or None when there is nothing to guess."""
        places = self._id_places.get(command_type)
        if not places:
            return None
        events = group.events
        guess: list[str] = []
        for at, name in places:
            value = events[at].data.get(name) if at < len(events) else None
            if type(value) is not str or not value or value.startswith("\0"):
                return None
            guess.append(value)
        return guess

    def _decided_as_guessed(self, group: _Group, command: Command, guess: list[str]) -> bool:
        """Decide the command with the handler drawing the `guess`ed ids: True when it
        emits exactly the recorded events (a history the bus could have written, with
        those ids drawn), else False with the command undone (it is decided again with
        stand-in ids, as a command without a guess is)."""
        decider = self._decider
        position = decider.position
        decider.guessed[:] = guess
        decider.undo = {}
        try:
            accepted = decider.execute(group.events[0].actor, command, payload=group.payload)
        except (DomainError, ValueError, TypeError):
            accepted = None
        emitted = cast(list[PendingEvent], decider.out)  # as in `_decide_group`
        if (
            accepted is not None
            and not decider.minted
            and not decider.guessed
            and recorded_as_emitted(group.events, emitted)
        ):
            decider.undo = None
            for event in group.events:
                decider.versions[event.stream_id] = event.version
            decider.position = group.events[-1].position
            decider.out.clear()
            return True
        decider.rewind(position)
        self._id_places[group.events[0].metadata["command_type"]] = ()  # stop guessing
        return False

    def _fold_checked(self, event: RecordedEvent, decoded: Event, index: int) -> None:
        try:
            self._fold(event, decoded)
        except InvalidInput as exc:
            raise HistoryRefused(exc.message, index) from None

    def _command(self, group: _Group, command_type: str, index: int) -> Command | None:
        try:
            if group.payload is not None:
                return self.model.parse_command(command_type, group.payload)
            if self.command_fields is None:
                return None
            model = self.model.command_model(command_type)
            fields = self.command_fields(model, self._decoded(group), self._decider)
            return self.model.parse_command(command_type, fields)
        except ValidationError as exc:
            raise HistoryRefused(
                f"{command_type}: the command does not validate: {_first_error(exc)}", index
            ) from None
        except (DomainError, ValueError, TypeError, KeyError) as exc:
            raise HistoryRefused(f"{command_type}: {exc}", index) from None

    def _compare(self, group: _Group, command_type: str, emitted: list[PendingEvent]) -> None:
        recorded = group.events
        if len(emitted) != len(recorded):
            raise HistoryRefused(
                f"{command_type} records {listing(recorded)} but the rules give {listing(emitted)}",
                group.indexes[0],
            )
        bound: dict[str, Any] = {}
        for mine, theirs, decoded, at in zip(
            emitted, recorded, group.decoded, group.indexes, strict=True
        ):
            if (mine.stream_id, mine.type) != (theirs.stream_id, theirs.type):
                raise HistoryRefused(
                    f"{command_type} records {theirs.type} on {theirs.stream_id} where the "
                    f"rules give {mine.type} on {mine.stream_id}",
                    at,
                )
            if mine.stream_type != theirs.stream_type:
                raise HistoryRefused(
                    f"stream {theirs.stream_id} has stream type {theirs.stream_type}, "
                    f"not {mine.stream_type}",
                    at,
                )
            # The recorded JSON itself (upcast when older) is compared, type for type:
            # the model's validation may be lax ("100" for 100, padding stripped), and
            # what was recorded must be what the handler emits. A field the file left
            # out is compared as the model fills it in (its default).
            actual = event_data(decoded)
            lifted = theirs.schema_version != mine.schema_version
            raw = (
                self.model.catalog.upcast(theirs.type, theirs.schema_version, theirs.data)
                if lifted
                else theirs.data
            )
            for name, expected in mine.data.items():
                if lifted and name not in theirs.data:
                    continue  # added by an upcaster: the stored event never recorded it
                value = raw[name] if name in raw else actual.get(name)
                if isinstance(expected, str) and expected.startswith("\0replay-id-"):
                    if bound.setdefault(expected, value) == value:
                        continue
                    expected = bound[expected]
                if value != expected or not same_types(value, expected):
                    raise HistoryRefused(
                        f"{theirs.type} on {theirs.stream_id}: {name} is {short_value(value)} "
                        f"but the rules give {short_value(expected)}",
                        at,
                    )


class OpenCommand(HistoryCheck):
    """The load's stand-in for `HistoryCheck` while a replay child reads and replays an
    import (`store.transfer.replay_process`): it keeps the events of the command being
    loaded, the group a `HistoryCheck` holds open, by the same rule (`_join`), for
    `decode_offered`; and it checks and decides nothing, as the child already has."""

    def __init__(self, model: DomainModel) -> None:
        super().__init__(model, None)

    def offer(self, event: RecordedEvent, payload: dict[str, Any] | None = None) -> None:
        index = self._count
        self._count += 1
        self._join(event, payload, index)

    def _decide(self, group: _Group) -> None:
        """Nothing: the child decided each command before it sent its events."""


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "value"
    return f"{where}: {error.get('msg', 'invalid')}"
