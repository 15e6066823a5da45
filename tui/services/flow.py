"""The CQRS flow of one command, stage by stage, as the flow view shows it.

command (type, fields, actor) → decision (the handler; accepted, or refused and why)
→ events appended (positions, types, streams) → projector (checkpoint, lag) → read
models (which rows of which projection changed, before → after).

Everything here comes from the store, so a command from the form and one from another
process (`simulate` in a second terminal) look the same. A `CommandFlow` holds the facts
of one command, which never change once recorded; `FlowProgress` is where the read
side stands now; `stages` puts the two together. Textual-free; blocking calls go
through `Flows`, from workers.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from domain.description import DomainDescription
from domain.envelope import RecordedEvent, Refusal
from domain.errors import DomainError
from tui.services.calls import InFlight, blocking
from tui.services.frames import RowDiff
from tui.services.queries import Queries

if TYPE_CHECKING:
    from tui.services.types import AppStore

HISTORY = 20
"""How many recent flows the flow view can step back through."""
SCAN_EVENTS = 400
"""How far back from the head the history looks for commands (most append 1-3 events each)."""

StageState = Literal["done", "refused", "waiting", "skipped"]
"""`done` and `refused` are lit (completed); `waiting` is not yet; `skipped` never will be."""
EVENTS_LISTED = 6
"""Events listed by the "events appended" stage (the rest are counted)."""
STAGES = ("command", "decision", "events appended", "projector", "read models")


@dataclass(frozen=True, order=True)
class FlowKey:
    """One command on the timeline; ordered by when it happened.

    An accepted command sorts by its last event; a refusal by the head when it was
    refused (`at`) and after any event there, so `(at, 1, refusal id)`.
    """

    at: int
    refused: int = 0
    """0: accepted; 1: refused."""
    refusal_id: int = 0
    command_id: str = field(default="", compare=False)


@dataclass(frozen=True)
class CommandFlow:
    """What one command was, what was decided, and what it recorded (never changes)."""

    key: FlowKey
    command_type: str
    fields: Mapping[str, Any]
    actor: str
    command_id: str
    recorded_at: str
    handler: str
    reason: str = ""
    """Why it was refused ("" when accepted)."""
    code: str = ""
    events: tuple[RecordedEvent, ...] = ()
    changes: Mapping[str, list[RowDiff]] = field(default_factory=dict)
    """Projection name -> the rows the command's events changed (before → after)."""
    readable: Mapping[str, Any] = field(default_factory=dict)
    """`fields` read by the one rule (money with its currency), for display."""

    @property
    def accepted(self) -> bool:
        return not self.key.refused

    @property
    def last(self) -> int:
        """The last position it appended (0 when refused)."""
        return self.events[-1].position if self.events else 0


@dataclass(frozen=True)
class FlowProgress:
    """Where the read side stands now, as the main screen last saw it."""

    head: int
    checkpoint: int | None
    """The projector's checkpoint (None: no projector, the database is read-only)."""
    shown: int | None = None
    """The position the live panels show (None: not live, or not yet known)."""
    delay_ms: int = 0


@dataclass(frozen=True)
class Stage:
    """One step of the pipeline, lit (`done`) when it has completed."""

    name: str
    state: StageState
    summary: str
    details: tuple[str, ...] = ()
    """More lines (the events appended), each drawn on its own line."""


def stages(flow: CommandFlow, progress: FlowProgress) -> list[Stage]:
    """The five stages of `flow`, given where the read side stands.

    A stage is done only when every stage before it is (they light up in order).
    """
    fields = ", ".join(f"{k}={v}" for k, v in (flow.readable or flow.fields).items())
    found = [
        Stage("command", "done", f"{flow.command_type}({fields}) by {flow.actor}"),
    ]
    handler = f"handler {flow.handler}()"
    if not flow.accepted:
        code = f" ({flow.code})" if flow.code not in ("", "refused") else ""
        found.append(Stage("decision", "refused", f"{handler}: refused{code}: {flow.reason}"))
        found += [
            Stage("events appended", "skipped", "nothing appended"),
            Stage("projector", "skipped", "nothing to fold"),
            Stage("read models", "skipped", "unchanged; the refusal is kept for the audit"),
        ]
        return found
    found.append(Stage("decision", "done", f"{handler}: accepted"))
    count = f"{len(flow.events)} event(s)"
    found.append(Stage("events appended", "done", count, _events_listed(flow)))
    checkpoint = progress.checkpoint
    if checkpoint is None:
        found.append(Stage("projector", "done", "none (read-only): the timeline replays instead"))
        found.append(Stage("read models", "done", _changed_summary(flow)))
        return found
    lag = max(0, progress.head - checkpoint)
    where = f"checkpoint #{checkpoint:,}, {lag:,} behind"
    if progress.delay_ms:
        where += f" (delay {progress.delay_ms:,} ms)"
    projected = checkpoint >= flow.last
    found.append(Stage("projector", "done" if projected else "waiting", where))
    arrived = projected and (progress.shown is None or progress.shown >= flow.last)
    summary = _changed_summary(flow) if arrived else "updating…"
    found.append(Stage("read models", "done" if arrived else "waiting", summary))
    return found


def _events_listed(flow: CommandFlow) -> tuple[str, ...]:
    """One line an event: `#601 TransferSent on account-a (v3)`."""
    lines = [
        f"#{e.position:,} {e.type} on {e.stream_id} (v{e.version})"
        for e in flow.events[:EVENTS_LISTED]
    ]
    if len(flow.events) > EVENTS_LISTED:
        lines.append(f"… and {len(flow.events) - EVENTS_LISTED:,} more")
    return tuple(lines)


def _changed_summary(flow: CommandFlow) -> str:
    rows = sum(len(diffs) for diffs in flow.changes.values())
    return f"{rows} row(s) changed in {len(flow.changes)} projection(s)"


class Flows:
    """Finds commands on the timeline and reads their flows. Blocking; call from workers."""

    def __init__(
        self, store: AppStore, domain: DomainDescription, queries: Queries, calls: InFlight
    ) -> None:
        self.store = store
        self.domain = domain
        self.queries = queries
        self.calls = calls
        self._cache: dict[FlowKey, CommandFlow] = {}

    @blocking
    def recent(self, limit: int = HISTORY) -> list[FlowKey]:
        """The latest `limit` commands, accepted or refused, newest first."""
        head = self.store.head().position
        keys: dict[str, FlowKey] = {}
        for event in reversed(self.store.read_all(after=max(0, head - SCAN_EVENTS), to=head)):
            command_id = str(event.metadata.get("command_id", ""))
            if command_id not in keys:
                keys[command_id] = FlowKey(event.position, command_id=command_id)
            if len(keys) >= limit:
                break
        refused = [
            FlowKey(r.at_position, 1, r.id, r.command_id) for r in self.store.refusals(limit=limit)
        ]
        return sorted([*keys.values(), *refused], reverse=True)[:limit]

    @blocking
    def at(self, position: int) -> FlowKey | None:
        """The command that recorded the event at `position` (None at 0 or past the head)."""
        event = self.queries.event(position)
        if event is None:
            return None
        return FlowKey(position, command_id=str(event.metadata.get("command_id", "")))

    @blocking
    def flow(self, key: FlowKey) -> CommandFlow:
        """The command `key` names, its decision, events and read-model changes (cached:
        what was recorded never changes)."""
        cached = self._cache.get(key)
        if cached is None:
            cached = self._read_refusal(key) if key.refused else self._read_accepted(key)
            self._cache[key] = cached
        return cached

    def _handler(self, command_type: str) -> str:
        try:
            handler = self.domain.model.handlers[self.domain.model.command_model(command_type)]
        except DomainError:
            return "no handler in this domain"
        return str(getattr(handler, "__name__", type(handler).__name__))

    def _read_refusal(self, key: FlowKey) -> CommandFlow:
        found: Refusal | None = next(
            (
                r
                for r in self.store.refusals(to_position=key.at, limit=50)
                if r.id == key.refusal_id
            ),
            None,
        )
        if found is None:
            raise DomainError(f"refusal {key.refusal_id} is not in this database")
        return CommandFlow(
            key=key,
            command_type=found.command_type,
            fields=found.command,
            actor=found.actor,
            command_id=found.command_id,
            recorded_at=found.recorded_at,
            handler=self._handler(found.command_type),
            reason=found.reason,
            code=found.code,
            readable=self.queries.readable_command(found.command, found.at_position),
        )

    def _read_accepted(self, key: FlowKey) -> CommandFlow:
        positions = self.store.positions_by_command(key.command_id) if key.command_id else []
        events = tuple(self.store.events_at(positions or [key.at]))
        if not events:
            raise DomainError(f"no event at #{key.at:,}")
        first = events[0]
        payload = self.store.command_payload(first.metadata.get("command_id", ""))
        command_type = str(first.metadata.get("command_type", "")) or "?"
        fields: Mapping[str, Any] = payload[1] if payload is not None else {}
        diff = self.queries.diff(events[0].position - 1, events[-1].position)
        return CommandFlow(
            key=FlowKey(events[-1].position, command_id=key.command_id),
            command_type=command_type,
            fields=fields,
            actor=first.actor,
            command_id=key.command_id,
            recorded_at=first.recorded_at,
            handler=self._handler(command_type),
            events=events,
            changes={name: rows for name, rows in diff.rows.items() if rows},
            readable=self.queries.readable_command(fields, events[0].position - 1),
        )
