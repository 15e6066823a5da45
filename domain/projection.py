"""Projections: pure folds of recorded events into tables a UI can render generically.

One definition serves the live read model, the past (`state_at`) and diffs. A
projection's state is a `ProjectionState`: visible `rows` keyed by a row key, plus
`aux`, bookkeeping the fold needs but nobody displays. Both hold only JSON data
(str, int, bool, None, lists, dicts), so a state is deterministic and serialisable.

`apply` mutates the state in place and returns the keys of the rows it changed.
Mutation is deliberate: replaying a million events must not copy a table per event.
Whoever needs an independent copy (snapshots, the diff's "before") calls `copy()`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal, Protocol, runtime_checkable

from domain.envelope import RecordedEvent
from domain.errors import InvalidInput
from domain.text import escape

ColumnKind = Literal["text", "int", "money", "time", "date", "bool", "status"]
Row = dict[str, Any]

KEY_PRIORITY = 5
"""The priority of a row key shown as a column: it names the row, so it stays."""
KIND_PRIORITY: dict[ColumnKind, int] = {
    "status": 4,
    "money": 3,
    "int": 3,
    "time": 2,
    "date": 2,
    "bool": 2,
    "text": 1,
}
"""By default a narrow table hides text first, then times, then numbers, then statuses."""


def _plain(value: Any, row: Mapping[str, Any]) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(_plain(item, row) for item in value)
    return str(value)


@dataclass(frozen=True)
class Column:
    """One displayed column: the row field, its title, its kind and how to show a value.

    `formatter(value, row)` lets a domain format e.g. money with the row's currency,
    so the UI needs no domain knowledge. Numeric kinds are right-aligned by UIs.
    """

    name: str
    title: str
    kind: ColumnKind = "text"
    formatter: Callable[[Any, Mapping[str, Any]], str] = _plain
    priority: int | None = None
    """How much the column matters when room is short (higher stays longer); None means
    by kind (`KIND_PRIORITY`)."""

    def format(self, row: Mapping[str, Any]) -> str:
        """The cell text for this column in `row`, escaped (`domain.text.escape`).

        Rows hold what the store holds, so this is where every UI's cells are made safe.
        """
        return escape(self.formatter(row.get(self.name), row))

    @property
    def numeric(self) -> bool:
        return self.kind in ("int", "money")

    @property
    def rank(self) -> int:
        """The column's priority: its own, or its kind's."""
        return self.priority if self.priority is not None else KIND_PRIORITY[self.kind]


@dataclass
class ProjectionState:
    """The state of one projection: rows by key, plus undisplayed bookkeeping."""

    rows: dict[str, Row] = field(default_factory=dict)
    aux: dict[str, Any] = field(default_factory=dict)

    def copy(self) -> ProjectionState:
        """An independent deep copy (rows and aux hold only JSON data)."""
        return ProjectionState(
            rows={k: dict(v) for k, v in self.rows.items()}, aux=copy_json(self.aux)
        )

    def to_json_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "aux": self.aux}

    @classmethod
    def from_json_dict(cls, data: Mapping[str, Any]) -> ProjectionState:
        return cls(rows=dict(data.get("rows", {})), aux=dict(data.get("aux", {})))


def copy_json(value: Any) -> Any:
    """An independent copy of JSON data: dicts and lists copied all the way down, the
    scalars in them shared (they are immutable), with no call per scalar (an aux map
    of 3,000 `[currency, status]` pairs copies several times faster that way)."""
    if isinstance(value, dict):
        return {k: copy_json(v) if isinstance(v, dict | list) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, dict | list) else v for v in value]
    return value


class Projection(Protocol):
    """A pure fold with a description of its columns."""

    name: str
    """Stable identifier (`account_balances`), used in the CLI and in stored tables."""
    title: str
    """What a panel's tab shows."""
    key_title: str
    """What the row key means (`account`, `day · currency`)."""
    columns: Sequence[Column]

    def initial(self) -> ProjectionState:
        """The state before any event."""
        ...

    def apply(self, state: ProjectionState, event: RecordedEvent) -> Iterable[str]:
        """Fold one event into `state` in place; return the keys of the rows it changed."""
        ...

    def lineage_streams(self, row_key: str) -> Sequence[str] | None:
        """The streams whose events can touch `row_key`, if known (lets lineage read
        only those streams); None means any event may, so lineage scans everything."""
        ...


EVENT_FIELDS: frozenset[str] = frozenset(
    ("position", "event_id", "stream_id", "stream_type", "version", "type",
     "schema_version", "data", "metadata", "recorded_at", "prev_hash", "hash")
)  # fmt: skip
"""Every field of a `RecordedEvent`: what a projection that declares nothing may read."""


@dataclass(frozen=True)
class EventReads:
    """What a projection's `apply` reads of an event, so a rebuild can read no more.

    A domain declares them by projection name (`DomainDescription.event_reads`), apart
    from the projections' modules, whose source is part of their stored identity.
    `fields` names the `RecordedEvent` attributes `apply` (and what it calls) reads;
    `upcast` names the event types whose upcasting changes a value it reads (an
    upcaster that only adds a field the fold never looks at need not run for it; "*"
    means every type). `tests/integration/test_fused_rebuild.py` holds every bundled
    projection to its declaration: its rows must be the same with every other field
    blanked and the other upcasts skipped.
    """

    fields: frozenset[str]
    upcast: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        unknown = self.fields - EVENT_FIELDS
        if unknown:
            raise InvalidInput(f"not fields of a recorded event: {', '.join(sorted(unknown))}")


ALL_EVENT_READS: Final = EventReads(EVENT_FIELDS, frozenset(["*"]))
"""What a projection without a declaration is taken to read: everything, upcast ("*")."""


def combined_reads(
    projections: Sequence[Projection], declared: Mapping[str, EventReads]
) -> EventReads:
    """What folding all of `projections` reads of an event: the union of their
    declarations (`declared`, by projection name); one without a declaration reads
    everything."""
    fields: set[str] = set()
    upcast: set[str] = set()
    for projection in projections:
        reads = declared.get(projection.name, ALL_EVENT_READS)
        fields |= reads.fields
        upcast |= reads.upcast
    return EventReads(frozenset(fields), frozenset(upcast))


@runtime_checkable
class SpansLineage(Protocol):
    """An optional ability of a projection: knowing when a row can change at all."""

    def lineage_span(self, row_key: str) -> tuple[str, str] | None:
        """(from, to) recorded times (ISO, `to` exclusive; "" for open) outside of which
        no event touches `row_key`; None when unknown. Lineage then replays that window."""
        ...


StateMap = dict[str, ProjectionState]
"""The state of every projection of a domain, by projection name."""


def projection_named(projections: Mapping[str, Projection], name: str) -> Projection:
    """The projection called `name` (`projections` by name); unknown names list the known."""
    try:
        return projections[name]
    except KeyError:
        known = ", ".join(projections)
        raise InvalidInput(f"unknown projection {name!r}; known projections: {known}") from None


def initial_states(projections: Sequence[Projection]) -> StateMap:
    return {p.name: p.initial() for p in projections}


def fold(
    projections: Sequence[Projection],
    events: Iterable[RecordedEvent],
    states: StateMap | None = None,
) -> StateMap:
    """Fold `events` into `states` (fresh ones by default) and return them."""
    states = states if states is not None else initial_states(projections)
    pairs = [(p.apply, states[p.name]) for p in projections]
    for event in events:
        for apply, state in pairs:
            apply(state, event)
    return states
